"""Dagster asset checks that run the Great Expectations suites listed in
expectations/_checks.yml. Adding a check is adding a suite file and a line there."""


import re

import dagster as dg
import yaml

from orchestration import config
from orchestration.engines.dialect import epoch_seconds, regexp_like
from orchestration.ingest.contract import load_contract
from orchestration.observability.alerts import send_alert
from orchestration.quality.gx_runner import SUITES_DIR, validate

REGISTRY = SUITES_DIR / "_checks.yml"


# Days on a calendar of 31-day months: exact enough to tell "a day ahead of the load" from
# "a year ahead", and computed alike on both engines without a cast that could fail.
_LOADED_DAY = ("((extract(year from _loaded_at) * 12 + extract(month from _loaded_at)) * 31"
               " + extract(day from _loaded_at))")


def _days_after_load(col: str, target: str) -> str:
    iso_day = (f"((cast(substring({col}, 1, 4) as integer) * 12"
               f" + cast(substring({col}, 6, 2) as integer)) * 31"
               f" + cast(substring({col}, 9, 2) as integer))")
    is_iso = regexp_like(target, col, "^[0-9]{4}-[0-9]{2}-[0-9]{2}")
    is_epoch_ms = regexp_like(target, col, "^[0-9]{12,13}$")
    return (f"case when {is_iso} then {iso_day} - {_LOADED_DAY}"
            f" when {is_epoch_ms} then floor(cast({col} as bigint) / 86400000.0)"
            f" - floor({epoch_seconds(target, '_loaded_at')} / 86400) end as {col}__days_after_load")


def latest_batch_sql(source: str, target: str) -> str:
    """The newest batch of a raw source, parsed lines only, with typed helper columns:
    <timestamp>__days_after_load (positive: later than the load, so suites bound time
    relative to the load, never by a calendar year) and <decimal>__number."""
    from orchestration.dbt.project import source_relation

    spec = load_contract()[source]
    helpers = []
    for col, c in spec.columns.items():
        if c.get("type") == "timestamp":
            helpers.append(_days_after_load(col, target))
        elif c.get("type") == "decimal":
            helpers.append(f"case when {regexp_like(target, col, '^-?[0-9]+([.][0-9]+)?$')}"
                           f" then cast({col} as decimal(18, 2)) end as {col}__number")
    cols = ", ".join([*spec.columns, *helpers])
    table = source_relation(source)
    return (f"select {cols} from {table} where _load_error is null and _batch_id ="
            f" (select max(_batch_id) from {table})")


def rows_sql(rows: str) -> str:
    """A registry query with {{ relation('name') }} placeholders resolved from the dbt project."""
    from orchestration.dbt.project import relation

    return re.sub(r"\{\{\s*relation\('([^']+)'\)\s*\}\}", lambda m: relation(m.group(1)), rows)


def _check(entry: dict) -> dg.AssetChecksDefinition:
    key = dg.AssetKey(entry["asset"].split("/"))
    suite = entry["suite"]
    rows = entry["rows"]

    @dg.asset_check(asset=key, name=f"gx_{suite}", blocking=entry.get("blocking", False),
                    description=f"Great Expectations suite expectations/{suite}.json")
    def _run(context: dg.AssetCheckExecutionContext) -> dg.AssetCheckResult:
        sql = latest_batch_sql(key.path[-1], config.target()) if rows == "latest_batch" else rows_sql(rows)
        if rows == "latest_batch" and not _has_rows(sql):
            # a source that has delivered nothing yet (or only unparseable lines, which
            # staging quarantines) has no batch to judge: it must not stop the other sources
            return dg.AssetCheckResult(passed=True, metadata={
                "evaluated_expectations": 0, "note": "no parsed batch loaded yet"})
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


def _has_rows(sql: str) -> bool:
    from orchestration import pipeline

    return pipeline.query(config.target(), f"select count(*) from ({sql}) as batch")[0][0] > 0


def load_registry() -> list[dict]:
    return yaml.safe_load(REGISTRY.read_text())["checks"]


quality_checks = [_check(entry) for entry in load_registry()]
