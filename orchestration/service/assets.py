"""The serving copy as a Dagster asset, downstream of the marts it copies: it runs only when
they built, so the API moves to a new copy after each successful build and never to a failed one."""

import dagster as dg

from orchestration import config
from orchestration.service.publish import SOURCES, publish

MARTS = sorted({model for model, _ in SOURCES.values()})


@dg.asset(key=dg.AssetKey(["service", "serving_store"]), group_name="service", kinds={"python", "duckdb"},
          deps=[dg.AssetKey([m]) for m in MARTS])
def serving_store(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    """An indexed DuckDB copy of the profile, tag, segment, identity and merge marts (erased
    people left out), published atomically for the data service (docs/data-service.md)."""
    done = publish(config.target())
    context.log.info(f"published serving copy {done.build_id}")
    return dg.MaterializeResult(metadata={
        "build_id": dg.MetadataValue.text(done.build_id),
        "path": dg.MetadataValue.path(str(done.path)),
        "dagster/row_count": dg.MetadataValue.int(done.customers),
        "identifiers": dg.MetadataValue.int(done.identities),
        "segments": dg.MetadataValue.int(done.segments),
        "erased_left_out": dg.MetadataValue.int(done.erased),
    })


service_assets = [serving_store]
