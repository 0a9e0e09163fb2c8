"""Every dbt model, seed and snapshot as a Dagster asset; dbt tests as asset checks.

dbt sources map to the ingestion assets (`raw/<source>`), so the lineage runs from landing
files to the marts in one graph. Marts carry a freshness policy. After `dbt build`, the
assets that summarise a run get numeric metadata (rows, quarantined rows, customers, merges,
largest component, rounds) that the Dagster UI plots over time."""


import os
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, dbt_assets

from orchestration import config
from orchestration.dbt.project import dbt_project
from orchestration.dbt.runner import dbt_executable
from orchestration.observability import metrics

# dbt runs as a subprocess of Dagster: it inherits these (telemetry off, resolved paths).
os.environ.update(config.dbt_env())

MART_FRESHNESS = dg.FreshnessPolicy.time_window(fail_window=timedelta(hours=26),
                                                warn_window=timedelta(hours=25))


class TianwenTranslator(DagsterDbtTranslator):
    def get_asset_key(self, props: Mapping[str, Any]) -> dg.AssetKey:
        if props["resource_type"] == "source":
            if (props.get("meta") or {}).get("dagster", {}).get("asset_key"):
                return super().get_asset_key(props)  # written by a Python asset (ml/*)
            return dg.AssetKey(["raw", props["identifier"]])
        return dg.AssetKey([props["name"]])

    def get_group_name(self, props: Mapping[str, Any]) -> str | None:
        if props["resource_type"] == "source":
            return "landing"
        if props["resource_type"] in ("seed", "snapshot"):
            return props["resource_type"] + "s"
        return props["fqn"][1] if len(props["fqn"]) > 2 else "dbt"

    def get_asset_spec(self, manifest, unique_id, project) -> dg.AssetSpec:
        spec = super().get_asset_spec(manifest, unique_id, project)
        props = self.get_resource_props(manifest, unique_id)
        if props["resource_type"] == "model" and props["fqn"][1] == "marts":
            spec = spec.replace_attributes(freshness_policy=MART_FRESHNESS)
        return spec


translator = TianwenTranslator()


@dbt_assets(manifest=dbt_project.manifest_path, dagster_dbt_translator=translator,
            project=dbt_project, name="tianwen_dbt")
def tianwen_dbt(context: dg.AssetExecutionContext, dbt: DbtCliResource):
    keys_by_output = context.assets_def.keys_by_output_name
    held = []
    for event in dbt.cli(["build"], context=context).stream():
        if isinstance(event, dg.Output):
            key = keys_by_output.get(event.output_name)
        else:
            key = getattr(event, "asset_key", None)
        if held or (key is not None and key.path[-1] in metrics.MODELS):
            # The warehouse is dbt's until it exits: read it after. Everything after a held
            # event waits too, so assets are still yielded in dependency order.
            held.append((key, event))
        else:
            yield event
    extra = metrics.collect(config.target()) if held else {}
    for key, event in held:
        if isinstance(event, dg.Output) and key is not None and key.path[-1] in extra:
            event = event.with_metadata({**event.metadata, **extra[key.path[-1]]})
        yield event


def dbt_resource() -> DbtCliResource:
    return DbtCliResource(project_dir=dbt_project, profiles_dir=str(config.PROJECT_DIR),
                          target=config.target(), dbt_executable=dbt_executable())
