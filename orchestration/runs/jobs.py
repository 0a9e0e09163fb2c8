"""Runs: the daily job, and a sensor that turns new landing files into micro-batch runs.

Every job runs in one process (in_process_executor, also the code location's default, so the
UI's "Materialize all" too) and the instance queues runs one at a time
(.dagster_home/dagster.yaml), so one DuckDB file never has two writers.

In a new Dagster instance the daily schedule starts running (CDP_SCHEDULE=off starts it
stopped) and the landing sensor starts stopped (CDP_LANDING_SENSOR=on starts it); either can
be switched in the UI (Automation) or with `dagster schedule|sensor start|stop <name> -m orchestration.definitions`."""


import hashlib
import json

import dagster as dg

from orchestration import config
from orchestration.ingest.assets import raw_key
from orchestration.ingest.landing import ready_snapshot
from orchestration.observability.lineage import LEDGER_KEY

# channel syncs (activation/<sync>) run on their own triggers, never as a rebuild's side effect;
# erasure runs in its own job (below)
ERASURE = dg.AssetSelection.assets(["privacy", "erased_identifiers"], ["privacy", "erasure_outcomes"],
                                   ["privacy", "erasure_deletions"])
PIPELINE_SELECTION = dg.AssetSelection.all() - dg.AssetSelection.key_prefixes(["activation"]) - ERASURE

pipeline_job = dg.define_asset_job(
    "tianwen_pipeline",
    selection=PIPELINE_SELECTION,
    executor_def=dg.in_process_executor,
    description="Everything, in dependency order: ingest every source, then dbt build (staging, "
                "identity, marts) and every asset added to the code location later.",
)


def _status(on: bool) -> dg.DefaultScheduleStatus:
    return dg.DefaultScheduleStatus.RUNNING if on else dg.DefaultScheduleStatus.STOPPED


daily_schedule = dg.ScheduleDefinition(
    name="tianwen_daily", job=pipeline_job, cron_schedule="0 3 * * *",
    execution_timezone="Asia/Shanghai",
    default_status=_status(config.schedule_on()),
    description="The full pipeline every day at 03:00 Asia/Shanghai. Starts running in a new "
                "instance (CDP_SCHEDULE=off: stopped); the marts' freshness policy (26 hours) "
                "expects it.",
)

erasure_job = dg.define_asset_job(
    "tianwen_erasure",
    selection=ERASURE.downstream().materializable() - dg.AssetSelection.key_prefixes(["activation"]),
    executor_def=dg.in_process_executor,
    description="Erasure (docs/privacy.md): carry out the pending requests, then rebuild everything "
                "downstream of the suppression list (the base models delete the erased people's raw "
                "rows first) and publish a new serving copy; the erasure_deadline check follows.",
)

erasure_schedule = dg.ScheduleDefinition(
    name="tianwen_erasure", job=erasure_job, cron_schedule="0 2 * * *",
    execution_timezone="Asia/Shanghai",
    default_status=_status(config.schedule_on()),
    description="Erasure requests every day at 02:00 Asia/Shanghai, before the daily pipeline (it "
                "reads the requests the last build staged). On demand: `tianwen erase`.",
)

micro_batch_job = dg.define_asset_job(
    "tianwen_micro_batch", executor_def=dg.in_process_executor,
    description="Ingest the touched sources and build what depends on them (sensor runs).",
)


def landing_snapshot() -> dict[str, list]:
    """Ready batch files (settled, done marker present if required): path -> [size, mtime]."""
    return ready_snapshot(config.landing_dir())


def touched_sources(before: dict, now: dict) -> set[str]:
    return {name.split("/")[0] for name, sig in now.items() if before.get(name) != sig}


@dg.sensor(job=micro_batch_job, minimum_interval_seconds=30,
           default_status=dg.DefaultSensorStatus.RUNNING if config.landing_sensor_on()
           else dg.DefaultSensorStatus.STOPPED)
def landing_sensor(context: dg.SensorEvaluationContext):
    """New or changed batch files in CDP_LANDING_DIR: ingest those sources and everything
    downstream of them; nothing else runs. Starts stopped (CDP_LANDING_SENSOR=on: running)."""
    before = json.loads(context.cursor) if context.cursor else {}
    now = landing_snapshot()
    sources = touched_sources(before, now)
    if not sources:
        return dg.SkipReason("no new landing files")
    # what reads the touched sources, and what follows from it; the ledger (every load's final
    # account) comes along, but not through it: every dbt entry point waits for the ledger, and
    # an untouched source's models have nothing new to build. Seeds are cheap and the models'
    # unit tests read them: always part of the run.
    touched = dg.AssetSelection.assets(*(raw_key(s) for s in sorted(sources)))
    ledger = dg.AssetSelection.assets(LEDGER_KEY)
    selection = (touched | ledger | (touched.downstream(depth=1, include_self=False) - ledger).downstream()
                 | dg.AssetSelection.groups("reference")) - dg.AssetSelection.key_prefixes(["activation"])
    context.update_cursor(json.dumps(now, sort_keys=True))
    graph = context.repository_def.asset_graph
    # the landing folders are observed external assets, not materialised
    keys = {k for k in selection.resolve(graph) if graph.get(k).is_materializable}
    digest = hashlib.sha256(json.dumps(now, sort_keys=True).encode()).hexdigest()[:16]
    return dg.RunRequest(run_key=f"landing-{digest}",
                         asset_selection=sorted(keys, key=lambda k: k.to_user_string()),
                         tags={"tianwen/sources": ",".join(sorted(sources))})
