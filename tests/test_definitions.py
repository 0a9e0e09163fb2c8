"""The Dagster code location loads and shows one lineage graph from landing to the marts."""

import dagster as dg

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


def test_marts_have_a_freshness_policy():
    graph = defs.resolve_asset_graph()
    node = graph.get(dg.AssetKey("customer_identities"))
    assert node.freshness_policy is not None
    assert graph.get(dg.AssetKey("stg_crm__members")).freshness_policy is None
