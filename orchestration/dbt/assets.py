"""Every dbt model, seed and snapshot as a Dagster asset; dbt tests as asset checks.

dbt sources map to the ingestion assets (`raw/<source>`), so the lineage runs from landing
files to the marts in one graph. Groups read as the layers: `staging` for every staging and
base model, then one group per area of intermediate models and marts (identity,
data_quality, and any area added later), `reference` for seeds; the snapshot joins its
model's area. Marts carry a freshness policy. After `dbt build`, the assets that summarise
a run get numeric metadata (rows, quarantined rows, customers, merges, largest component,
rounds) that the Dagster UI plots over time.

The decorator reads the manifest when this module is imported; nothing runs dbt here
(`orchestration.dbt.project.prepare()` parses it first)."""


from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, dbt_assets

from orchestration import config
from orchestration.dbt import project
from orchestration.dbt.runner import PRODUCTION_BUILD, dbt_environment, dbt_executable, hand_over
from orchestration.ml.assets import KEYS as ML_KEYS
from orchestration.observability import metrics
from orchestration.observability.lineage import LEDGER_KEY, RETENTION_LOG_KEY
from orchestration.privacy.assets import ERASURE_KEY

# every base model: the pre-hook acts on those with identifiers, and the erasure requests' raw
# rows are deleted by the erasure step itself
_ERASED_BASES = {spec["base"] for spec in project.project_vars()["tianwen_sources"].values()}
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
        declared = (props.get("config", {}).get("meta") or {}).get("dagster", {}).get("group")
        if declared:  # `meta: {dagster: {group: ...}}` in YAML, as dagster-dbt documents
            return declared
        if props["resource_type"] == "source":
            return "raw"
        if props["resource_type"] == "seed":
            return "reference"
        if props["resource_type"] == "snapshot":
            return "identity"  # unless its YAML declares another group
        layer = props["fqn"][1] if len(props["fqn"]) > 2 else "dbt"
        if layer in ("intermediate", "marts") and len(props["fqn"]) > 3:
            return props["fqn"][2]  # the area: identity, data_quality, profiles, ...
        return layer

    def get_asset_spec(self, manifest, unique_id, project) -> dg.AssetSpec:
        spec = super().get_asset_spec(manifest, unique_id, project)
        props = self.get_resource_props(manifest, unique_id)
        # a freshness policy only where a schedule keeps the marts fresh
        if props["resource_type"] == "model" and props["fqn"][1] == "marts" and config.schedule_on():
            spec = spec.replace_attributes(freshness_policy=MART_FRESHNESS)
        # a base model's pre-hook deletes the raw rows the erasure suppression list names
        # (macros/privacy/erasure.sql): a hook is no dbt dependency, so the lineage gets it here
        waits_for = [ERASURE_KEY] if props["resource_type"] == "model" and props["name"] in _ERASED_BASES else []
        # dbt's entry points (seeds, and nodes that read only sources) wait for the Python steps
        # that prepare a run's inputs: the load ledger (the final account of the landing folder,
        # which loads late files) and, for models, erasure (which deletes from the tables they
        # read). Dagster splits a dbt asset into one step per "colour" of the graph, and a node
        # downstream of such a step got a later colour than one that was not: with every entry
        # point after them, everything up to the predictive tags is one dbt step (one ~10 s
        # dbt start-up instead of three).
        if self._is_entry_point(manifest, props):
            waits_for += [LEDGER_KEY] + ([ERASURE_KEY] if props["resource_type"] != "seed" else [])
        if waits_for:
            spec = spec.merge_attributes(deps=sorted(set(waits_for) - {dep.asset_key for dep in spec.deps},
                                                     key=lambda key: key.to_user_string()))
        # the retention log is written inside this dbt step (the base models' pre-hook), before
        # the reconciliation reads it (dbt orders it after those base models): the lineage keeps
        # the writers' edge only, as a dbt -> external -> dbt path would split the step too
        if any(dep.asset_key == RETENTION_LOG_KEY for dep in spec.deps):
            spec = spec.replace_attributes(
                deps=[dep for dep in spec.deps if dep.asset_key != RETENTION_LOG_KEY])
        return spec

    def _is_entry_point(self, manifest, props: Mapping[str, Any]) -> bool:
        """A seed, or a node that reads only sources, none of them the predictive tags' tables
        (the marts over those already come after the first step, and their lineage shows it)."""
        parents = (props.get("depends_on") or {}).get("nodes") or []
        if props["resource_type"] not in ("model", "seed", "snapshot") or not all(
                parent.startswith("source.") for parent in parents):
            return False
        keys = [self.get_asset_key(self.get_resource_props(manifest, parent)) for parent in parents]
        return not set(keys) & set(ML_KEYS.values())


translator = TianwenTranslator()


@dbt_assets(manifest=project.require_manifest(), dagster_dbt_translator=translator,
            project=project.dbt_project(), name="tianwen_dbt")
def tianwen_dbt(context: dg.AssetExecutionContext, dbt: DbtCliResource):
    keys_by_output = context.assets_def.keys_by_output_name
    held = []
    # the target is read when the run starts (CDP_TARGET), not when the code location loads;
    # dbt writes to the project's own target folder (as the CLI does), not a new one per run
    # a run split around a Python asset (the predictive tags) builds dbt in several steps: a
    # test runs in the step that builds the last of its parents, never before they all exist
    # no JSON artifacts: the results reach Dagster as events, and dbt would otherwise write its
    # 2 MB manifest twice per step, about 2 s of each (`tianwen build` still writes them)
    args = [*PRODUCTION_BUILD, "--target", config.target(), "--indirect-selection", "buildable",
            "--no-write-json"]
    hand_over(config.target())
    with dbt_environment():  # the dbt process gets the environment it gets from the CLI
        invocation = dbt.cli(args, context=context, target_path=project.target_path())
    for event in invocation.stream():
        if isinstance(event, dg.Output):
            key = keys_by_output.get(event.output_name)
        else:
            key = getattr(event, "asset_key", None)
        # the warehouse is dbt's until it exits: read it after. Once one output is held,
        # later ones are too, so no asset is yielded before a held asset it depends on.
        if held or (key is not None and key.path[-1] in metrics.MODELS):
            held.append((key, event))
        else:
            yield event
    built = {key.path[-1] for key, event in held if isinstance(event, dg.Output) and key is not None}
    extra = metrics.collect(config.target(), built) if built else {}
    for key, event in held:
        if isinstance(event, dg.Output) and key is not None and key.path[-1] in extra:
            event = event.with_metadata({**event.metadata, **extra[key.path[-1]]})
        yield event


class _DbtCliResource(DbtCliResource):
    def _initialize_dbt_core_adapter(self, args):
        # dagster-dbt opens a dbt adapter in this process before each invocation (about 2 s:
        # it loads every macro) only for fetch_row_counts/fetch_column_metadata, which the
        # project does not call: the counts come from metrics.collect instead.
        return None


def dbt_resource() -> DbtCliResource:
    return _DbtCliResource(project_dir=str(config.PROJECT_DIR), profiles_dir=str(config.PROJECT_DIR),
                          dbt_executable=dbt_executable())
