"""One ingestion asset per landing source: new batch files of that source into raw.<source>."""


import dagster as dg

from orchestration import config, pipeline
from orchestration.ingest.contract import load_contract


def raw_key(source: str) -> dg.AssetKey:
    return dg.AssetKey(["raw", source])


def _ingestion_asset(name: str, description: str) -> dg.AssetsDefinition:
    @dg.asset(key=raw_key(name), group_name="landing", kinds={"python", "duckdb"},
              description=f"Loads new batch files of landing/{name}/ into raw.{name}. "
                          f"{description}")
    def _ingest(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
        report = pipeline.load(config.landing_dir(), config.target(), quiet=True,
                               sources={name})
        for f in report.files:
            if f.status == "failed":
                context.log.warning(f"{f.file}: not loaded ({f.error})")
        loaded = [f for f in report.files if f.status == "loaded"]
        return dg.MaterializeResult(metadata={
            "dagster/row_count": dg.MetadataValue.int(report.rows),
            "files_loaded": dg.MetadataValue.int(len(loaded)),
            "files_skipped": dg.MetadataValue.int(report.count("skipped")),
            "files_failed": dg.MetadataValue.int(report.count("failed")),
            "malformed_rows": dg.MetadataValue.int(sum(f.malformed for f in loaded)),
            "batches": dg.MetadataValue.text(", ".join(sorted({f.file for f in loaded})) or "none"),
        })

    return _ingest


ingestion_assets = [_ingestion_asset(name, s.description) for name, s in load_contract().items()]
