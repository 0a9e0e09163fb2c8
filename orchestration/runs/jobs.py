"""Runs: the daily job, and a sensor that turns new landing files into micro-batch runs.

Both run in one process (in_process_executor) and the instance queues runs one at a time
(.dagster_home/dagster.yaml), so one DuckDB file never has two writers."""


import hashlib
import json

import dagster as dg

from orchestration import config
from orchestration.ingest.assets import raw_key
from orchestration.ingest.landing import ready_snapshot

pipeline_job = dg.define_asset_job(
    "tianwen_pipeline",
    selection=dg.AssetSelection.all(),
    executor_def=dg.in_process_executor,
    description="Everything: ingest every source, then dbt build (staging, identity, marts).",
)

daily_schedule = dg.ScheduleDefinition(
    name="tianwen_daily", job=pipeline_job, cron_schedule="0 3 * * *",
    execution_timezone="Asia/Shanghai",
    description="The full pipeline every day at 03:00 Asia/Shanghai.",
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
           default_status=dg.DefaultSensorStatus.STOPPED)
def landing_sensor(context: dg.SensorEvaluationContext):
    """New or changed batch files in CDP_LANDING_DIR: ingest those sources and everything
    downstream of them; nothing else runs."""
    before = json.loads(context.cursor) if context.cursor else {}
    now = landing_snapshot()
    sources = touched_sources(before, now)
    if not sources:
        return dg.SkipReason("no new landing files")
    # seeds are cheap and the models' unit tests read them: always part of the run
    selection = (dg.AssetSelection.assets(*(raw_key(s) for s in sorted(sources))).downstream()
                 | dg.AssetSelection.groups("seeds"))
    context.update_cursor(json.dumps(now, sort_keys=True))
    keys = selection.resolve(context.repository_def.asset_graph)
    digest = hashlib.sha256(json.dumps(now, sort_keys=True).encode()).hexdigest()[:16]
    return dg.RunRequest(run_key=f"landing-{digest}",
                         asset_selection=sorted(keys, key=lambda k: k.to_user_string()),
                         tags={"tianwen/sources": ",".join(sorted(sources))})
