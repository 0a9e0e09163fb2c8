"""The Tianwen code location: one lineage graph from landing files to the marts.

Each concern lives in its own module; this file only puts them together."""

from __future__ import annotations

import dagster as dg

from orchestration.dbt.assets import dbt_resource, tianwen_dbt
from orchestration.ingest.assets import ingestion_assets
from orchestration.ml.assets import ml_assets
from orchestration.observability.alerts import alert_on_run_failure
from orchestration.quality.checks import quality_checks
from orchestration.runs.jobs import daily_schedule, landing_sensor, micro_batch_job, pipeline_job

defs = dg.Definitions(
    assets=[*ingestion_assets, tianwen_dbt, *ml_assets],
    asset_checks=quality_checks,
    jobs=[pipeline_job, micro_batch_job],
    schedules=[daily_schedule],
    sensors=[landing_sensor, alert_on_run_failure],
    resources={"dbt": dbt_resource()},
)
