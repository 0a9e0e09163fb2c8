"""The Dagster code location loads and shows one lineage graph from landing to the marts."""

import dagster as dg
import pytest

from orchestration.definitions import defs
from orchestration.ingest.contract import load_contract


def test_definitions_load_with_every_layer():
    graph = defs.resolve_asset_graph()
    keys = {k.to_user_string() for k in graph.get_all_asset_keys()}
    assert {f"raw/{s}" for s in load_contract()} <= keys  # an ingestion asset per source
    assert {"stg_crm__members", "customer_identities", "identity_rules",  # models, seeds
            "customer_identity_history"} <= keys  # and snapshots
    checks = {k.to_user_string() for k in graph.asset_check_keys}
    assert any("not_null_stg_crm__members_member_id" in c for c in checks)  # dbt tests
    assert "raw/crm_members:gx_raw_crm_members" in checks  # GX suites
    assert {j.name for j in defs.resolve_all_job_defs()} >= {"tianwen_pipeline", "tianwen_micro_batch"}
    assert defs.resolve_schedule_def("tianwen_daily").cron_schedule == "0 3 * * *"
    assert defs.resolve_sensor_def("landing_sensor")


def test_lineage_runs_from_a_landing_source_to_customer_identities():
    graph = defs.resolve_asset_graph()
    upstream = dg.AssetSelection.assets("customer_identities").upstream().resolve(graph)
    names = {k.to_user_string() for k in upstream}
    assert {"raw/crm_members", "base_crm__members", "stg_crm__members",
            "int_identifier_occurrences_unioned", "int_identity_components"} <= names


def _dbt_steps(job: dg.JobDefinition) -> list[set[str]]:
    """The dbt steps of a job's plan, each as the names of the assets it builds."""
    steps: dict[str, set[str]] = {}
    for key in job.asset_layer.selected_asset_keys:
        node = job.asset_layer.get_op_output_handle(key).node_handle.name
        if node.startswith("tianwen_dbt"):
            steps.setdefault(node, set()).add(key.to_user_string())
    return list(steps.values())


def test_a_run_starts_dbt_once_before_and_once_after_the_predictive_tags():
    """Each dbt step pays dbt's start-up: every entry point of the dbt graph waits for the load
    ledger (and, for models, erasure), so nothing splits the build before the Python model."""
    graph = defs.resolve_asset_graph()
    ledger = dg.AssetKey(["raw", "_load_ledger"])
    assert ledger in graph.get(dg.AssetKey("identity_rules")).parent_keys  # a seed
    assert ledger in graph.get(dg.AssetKey("base_web__events")).parent_keys  # a base model
    assert ledger not in graph.get(dg.AssetKey("stg_web__events")).parent_keys  # not an entry point
    for name in ("tianwen_pipeline", "tianwen_erasure"):
        steps = _dbt_steps(defs.resolve_job_def(name))
        assert len(steps) == 2, (name, steps)
        first, after = sorted(steps, key=len, reverse=True)
        assert {"base_web__events", "customer_identities", "source_reconciliation",
                "customer_features"} <= first, name
        assert {"customer_scores", "customer_tags"} <= after, name
    # the retention log is written and read inside the first step; the lineage keeps its writers
    retention = dg.AssetKey(["privacy", "retention_log"])
    assert retention not in graph.get(dg.AssetKey("source_reconciliation")).parent_keys
    assert dg.AssetKey("base_web__events") in graph.get(retention).parent_keys


def test_marts_have_a_freshness_policy():
    graph = defs.resolve_asset_graph()
    node = graph.get(dg.AssetKey("customer_identities"))
    assert node.freshness_policy is not None
    assert graph.get(dg.AssetKey("stg_crm__members")).freshness_policy is None


def test_groups_read_as_the_layers_and_each_is_described():
    from orchestration.observability.lineage import GROUPS

    graph = defs.resolve_asset_graph()
    groups = {k.to_user_string(): graph.get(k).group_name for k in graph.get_all_asset_keys()}
    assert set(groups.values()) <= set(GROUPS), set(groups.values()) - set(GROUPS)
    assert "default" not in groups.values()
    assert groups["landing/crm_members"] == "landing"
    assert groups["raw/crm_members"] == groups["raw/_load_ledger"] == "raw"
    assert groups["stg_crm__members"] == groups["base_crm__members"] == "staging"
    assert groups["int_identity_nodes"] == groups["customer_identities"] == "identity"
    assert groups["customer_identity_history"] == "identity"
    assert groups["source_reconciliation"] == "data_quality"
    # written by the retained sources' base models, read by the reconciliation
    assert groups["privacy/retention_log"] == "privacy"
    assert dg.AssetKey("base_web__events") in graph.get(dg.AssetKey(["privacy", "retention_log"])).parent_keys
    assert groups["identity_rules"] == "reference"
    assert all(defs.metadata[f"group/{g}"].value for g in set(groups.values()))
    # the landing folder feeds its ingestion asset; the ledger is written by every load
    assert dg.AssetKey(["landing", "crm_members"]) in graph.get(dg.AssetKey(["raw", "crm_members"])).parent_keys
    assert graph.get(dg.AssetKey(["raw", "_load_ledger"])).description


def test_every_job_and_materialize_all_run_in_one_process():
    """Parallel step processes would race for the DuckDB file's single-writer lock."""
    jobs = [*defs.resolve_all_job_defs(), defs.resolve_implicit_global_asset_job_def()]
    assert {j.executor_def.name for j in jobs} == {"in_process"}


def _in_a_fresh_interpreter(code: str, **env) -> str:
    import os
    import subprocess
    import sys

    from orchestration import config

    proc = subprocess.run([sys.executable, "-c", code], cwd=config.PROJECT_DIR, text=True,
                          capture_output=True, env={**os.environ, **env}, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout.strip()


@pytest.mark.slow
def test_schedule_on_and_sensor_off_by_default_and_switchable():
    code = ("from orchestration.definitions import defs; import dagster as dg; "
            "g = defs.resolve_asset_graph(); "
            "print(defs.resolve_schedule_def('tianwen_daily').default_status.value, "
            "defs.resolve_sensor_def('landing_sensor').default_status.value, "
            "g.get(dg.AssetKey('customer_identities')).freshness_policy is not None)")
    assert _in_a_fresh_interpreter(code, CDP_SCHEDULE="", CDP_LANDING_SENSOR="") == "RUNNING STOPPED True"
    assert _in_a_fresh_interpreter(code, CDP_SCHEDULE="off", CDP_LANDING_SENSOR="on") == \
        "STOPPED RUNNING False"


def test_importing_the_code_location_runs_nothing_and_leaves_the_environment_alone():
    code = """
import os, subprocess
before, calls, real = dict(os.environ), [], subprocess.run

def spy(*args, **kwargs):
    if "dbt" in str(args[0] if args else kwargs.get("args")):
        calls.append(args)
    return real(*args, **kwargs)

subprocess.run = spy
import orchestration.definitions
print(dict(os.environ) == before, calls)
"""
    assert _in_a_fresh_interpreter(code) == "True []"


def test_relations_come_from_the_dbt_project():
    import json

    from orchestration.dbt import project

    manifest = json.loads(project.prepare().read_text())
    node = manifest["nodes"]["model.tianwen.customer_identities"]
    assert project.relation("customer_identities") == f"{node['schema']}.customer_identities"
    assert project.source_relation("crm_members").endswith(".crm_members")
    with pytest.raises(KeyError, match="not a model"):
        project.relation("no_such_model")


def test_erasure_runs_in_its_own_job_upstream_of_every_base_model():
    graph = defs.resolve_asset_graph()
    erased = dg.AssetKey(["privacy", "erased_identifiers"])
    children = {k.to_user_string() for k in graph.get(erased).child_keys}
    assert {"base_crm__members", "base_privacy__erasure_requests", "base_web__events"} <= children
    assert graph.get(erased).group_name == "privacy"
    job = defs.resolve_job_def("tianwen_erasure")
    selected = {k.to_user_string() for k in job.asset_layer.selected_asset_keys}
    # the step, every model it cleans, the serving copy; never a channel sync or a raw load
    assert {"privacy/erased_identifiers", "customer_profiles", "erasure_log", "service/serving_store"} <= selected
    assert not any(k.startswith(("activation/", "raw/")) for k in selected)
    assert "privacy/erased_identifiers" not in {
        k.to_user_string() for k in defs.resolve_job_def("tianwen_pipeline").asset_layer.selected_asset_keys}
    assert defs.resolve_schedule_def("tianwen_erasure").job_name == "tianwen_erasure"
    checks = {k.to_user_string() for k in graph.asset_check_keys}
    assert "erasure_log:erasure_deadline" in checks  # built by the daily pipeline too
