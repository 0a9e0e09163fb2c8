"""The Tianwen code location: one lineage graph from landing files to the marts.

Each concern lives in its own module; this file only puts them together. Every job, and the
UI's "Materialize all", runs in one process: steps that each opened the DuckDB file from
their own process would fight over its single-writer lock. Import
`orchestration.dbt.project.prepare()` first on a fresh clone (`make manifest`)."""

from __future__ import annotations

import dagster as dg

from orchestration.activation.assets import activation_assets, activation_automation
from orchestration.dbt.assets import dbt_resource, tianwen_dbt
from orchestration.ingest.assets import ingestion_assets, load_ledger
from orchestration.ml.assets import ml_assets
from orchestration.observability.alerts import alert_on_run_failure
from orchestration.observability.lineage import GROUPS, as_raw_layer, landing_specs
from orchestration.privacy.assets import privacy_assets, privacy_checks
from orchestration.quality.checks import quality_checks
from orchestration.runs.jobs import (
    daily_schedule,
    erasure_job,
    erasure_schedule,
    landing_sensor,
    micro_batch_job,
    pipeline_job,
)
from orchestration.service.assets import service_assets

defs = dg.Definitions(
    assets=[*landing_specs(), *as_raw_layer(ingestion_assets), load_ledger, tianwen_dbt, *ml_assets,
            *activation_assets, *service_assets, *privacy_assets],
    asset_checks=[*quality_checks, *privacy_checks],
    jobs=[pipeline_job, micro_batch_job, erasure_job],
    schedules=[daily_schedule, erasure_schedule],
    sensors=[landing_sensor, alert_on_run_failure, activation_automation],
    resources={"dbt": dbt_resource()},
    executor=dg.in_process_executor,
    metadata={f"group/{name}": text for name, text in GROUPS.items()},
)
