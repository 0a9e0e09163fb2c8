"""One ingestion asset per landing source: new batch files of that source into raw.<source>.

Each materialisation carries an `all_landing_files_loaded` check (severity WARN): a file that
was rejected or is still being written marks the run with a warning and raises an alert,
while the files that did load flow on downstream. Malformed lines are counted in the metadata
and quarantined by staging (the blocking checks judge those)."""


import dagster as dg

from orchestration import config, pipeline
from orchestration.ingest.contract import load_contract
from orchestration.observability.alerts import send_alert
from orchestration.observability.lineage import LEDGER_KEY

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
        problems = _problems(report)
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
                "not_loaded": dg.MetadataValue.text(report.summary()),
                "batches": dg.MetadataValue.text(
                    ", ".join(sorted({f.file for f in loaded})) or "none"),
            },
            check_results=[dg.AssetCheckResult(
                check_name=CHECK, passed=not problems,
                severity=dg.AssetCheckSeverity.WARN,
                metadata={"problems": dg.MetadataValue.text("\n".join(problems) or "none")})],
        )

    return _ingest


def _problems(report) -> list[str]:
    return [f"{f.file}: {f.status}: {f.error}" for f in report.files
            if f.status in ("failed", "pending", "rejected")]


@dg.asset(key=LEDGER_KEY, group_name="raw", kinds={"python", "table"},
          deps=[raw_key(name) for name in load_contract()],
          description="One row per landing file version the loader has loaded: checksum, size, "
                      "records counted in the file and rows parsed. A file in the ledger is never "
                      "loaded twice; source_reconciliation compares it with the raw tables. "
                      "Materialising it is the run's final account of the landing folder: it loads "
                      "whatever arrived after the source assets ran and lists every entry that "
                      "belongs to no source in raw._load_errors.",
          check_specs=[dg.AssetCheckSpec(
              CHECK, asset=LEDGER_KEY,
              description="Every entry under the landing folder loaded (else see "
                          "raw._load_errors).")])
def load_ledger(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    report = pipeline.load(config.landing_dir(), config.target(), quiet=True)
    problems = _problems(report)
    stray = [f"{f.file}: {f.error}" for f in report.files if f.source is None]
    if stray:  # the source assets already alerted about their own files
        send_alert("landing entries outside any source folder", stray, logger=context.log)
    return dg.MaterializeResult(
        metadata={
            "files_loaded_now": dg.MetadataValue.int(report.count("loaded")),
            "files_skipped": dg.MetadataValue.int(report.count("skipped")),
            "entries_not_loaded": dg.MetadataValue.int(report.not_loaded),
            "exit_code": dg.MetadataValue.int(report.exit_code()),
            "not_loaded": dg.MetadataValue.text(report.summary()),
        },
        check_results=[dg.AssetCheckResult(
            check_name=CHECK, passed=not problems, severity=dg.AssetCheckSeverity.WARN,
            metadata={"problems": dg.MetadataValue.text("\n".join(problems) or "none")})],
    )


ingestion_assets = [_ingestion_asset(name, s.description) for name, s in load_contract().items()]
