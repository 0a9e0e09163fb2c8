"""One ingestion asset per landing source: new batch files of that source into raw.<source>.

Each materialisation carries an `all_landing_files_loaded` check (severity WARN): a file that
was rejected or is still being written marks the run with a warning and raises an alert,
while the files that did load flow on downstream. Malformed lines are counted in the metadata
and quarantined by staging (the blocking checks judge those)."""


import dagster as dg

from orchestration import config, pipeline
from orchestration.ingest.contract import load_contract
from orchestration.observability.alerts import send_alert

CHECK = "all_landing_files_loaded"


def raw_key(source: str) -> dg.AssetKey:
    return dg.AssetKey(["raw", source])


def _ingestion_asset(name: str, description: str) -> dg.AssetsDefinition:
    @dg.asset(key=raw_key(name), group_name="landing", kinds={"python", "duckdb"},
              description=f"Loads new batch files of landing/{name}/ into raw.{name}. "
                          f"{description}",
              check_specs=[dg.AssetCheckSpec(
                  CHECK, asset=raw_key(name),
                  description="Every landing file of the source loaded (else see "
                              "raw._load_errors).")])
    def _ingest(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
        report = pipeline.load(config.landing_dir(), config.target(), quiet=True,
                               sources={name})
        problems = [f"{f.file}: {f.status}: {f.error}" for f in report.files
                    if f.status in ("failed", "pending", "rejected")]
        for problem in problems:
            context.log.warning(problem)
        if problems:
            send_alert(f"landing files of {name} not fully loaded", problems, logger=context.log)
        loaded = [f for f in report.files if f.status == "loaded"]
        return dg.MaterializeResult(
            metadata={
                "dagster/row_count": dg.MetadataValue.int(report.rows),
                "files_loaded": dg.MetadataValue.int(len(loaded)),
                "files_skipped": dg.MetadataValue.int(report.count("skipped")),
                "files_failed": dg.MetadataValue.int(report.count("failed")),
                "files_pending": dg.MetadataValue.int(report.count("pending")),
                "entries_rejected": dg.MetadataValue.int(report.count("rejected")),
                "malformed_rows": dg.MetadataValue.int(sum(f.malformed for f in loaded)),
                "exit_code": dg.MetadataValue.int(report.exit_code()),
                "batches": dg.MetadataValue.text(
                    ", ".join(sorted({f.file for f in loaded})) or "none"),
            },
            check_results=[dg.AssetCheckResult(
                check_name=CHECK, passed=not problems,
                severity=dg.AssetCheckSeverity.WARN,
                metadata={"problems": dg.MetadataValue.text("\n".join(problems) or "none")})],
        )

    return _ingest


ingestion_assets = [_ingestion_asset(name, s.description) for name, s in load_contract().items()]
