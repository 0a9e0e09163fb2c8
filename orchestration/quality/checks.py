"""Dagster asset checks that run the Great Expectations suites listed in
expectations/_checks.yml. Adding a check is adding a suite file and a line there."""


import dagster as dg
import yaml

from orchestration import config
from orchestration.ingest.contract import load_contract
from orchestration.observability.alerts import send_alert
from orchestration.quality.gx_runner import SUITES_DIR, validate

REGISTRY = SUITES_DIR / "_checks.yml"


def latest_batch_sql(source: str) -> str:
    """The newest batch of raw.<source>, parsed lines only, with typed helper columns."""
    spec = load_contract()[source]
    helpers = []
    for col, c in spec.columns.items():
        if c.get("type") == "timestamp":
            helpers.append(
                f"case when {col} ~ '^[0-9]{{4}}-' then cast(substring({col}, 1, 4) as integer)"
                f" when {col} ~ '^[0-9]{{12,13}}$' then 1970 + cast(floor(cast({col} as bigint)"
                f" / 31556952000.0) as integer) end as {col}__year")
        elif c.get("type") == "decimal":
            helpers.append(f"case when {col} ~ '^-?[0-9]+([.][0-9]+)?$' then cast({col} as"
                           f" decimal(18, 2)) end as {col}__number")
    cols = ", ".join([*spec.columns, *helpers])
    return (f"select {cols} from raw.{source} where _load_error is null and _batch_id ="
            f" (select max(_batch_id) from raw.{source})")


def _check(entry: dict) -> dg.AssetChecksDefinition:
    key = dg.AssetKey(entry["asset"].split("/"))
    suite = entry["suite"]
    rows = entry["rows"]

    @dg.asset_check(asset=key, name=f"gx_{suite}", blocking=entry.get("blocking", False),
                    description=f"Great Expectations suite expectations/{suite}.json")
    def _run(context: dg.AssetCheckExecutionContext) -> dg.AssetCheckResult:
        sql = latest_batch_sql(key.path[-1]) if rows == "latest_batch" else rows
        result = validate(suite, sql, config.target())
        if not result.success:
            send_alert(f"Great Expectations suite {suite} failed on {key.to_user_string()}",
                       result.failed, logger=context.log)
        return dg.AssetCheckResult(
            passed=result.success,
            severity=dg.AssetCheckSeverity.ERROR,
            metadata={"evaluated_expectations": result.evaluated,
                      "failed_expectations": dg.MetadataValue.json(result.failed),
                      "data_docs": dg.MetadataValue.path(str(result.docs or ""))})

    return _run


def load_registry() -> list[dict]:
    return yaml.safe_load(REGISTRY.read_text())["checks"]


quality_checks = [_check(entry) for entry in load_registry()]
