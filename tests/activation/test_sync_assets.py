"""Syncs as Dagster assets: group, lineage, metadata; a failed sync raises the alert."""

from __future__ import annotations

import dagster as dg
import pytest
from sync_helpers import make_sync

from orchestration.activation.assets import build_assets


def test_each_sync_is_an_asset_downstream_of_its_segment():
    from orchestration.definitions import defs

    graph = defs.resolve_asset_graph()
    node = graph.get(dg.AssetKey(["activation", "lapsed_buyers_sms"]))
    assert node.group_name == "activation"
    assert dg.AssetKey(["lapsed_buyers"]) in node.parent_keys
    assert dg.AssetKey(["activation", "lapsed_buyers_sms"]) in graph.get(
        dg.AssetKey(["activation", "sync_runs"])).parent_keys
    assert dg.AssetKey(["activation", "sync_runs"]) in graph.get(dg.AssetKey(["sync_runs"])).parent_keys
    # a rebuild never sends: the pipeline job leaves the syncs out
    job = defs.resolve_job_def("tianwen_pipeline")
    assert dg.AssetKey(["activation", "lapsed_buyers_sms"]) not in job.asset_layer.selected_asset_keys
    assert {dg.AssetKey(["sync_runs"]), dg.AssetKey(["campaign_assignments"]),  # dbt marts: rebuilt
            dg.AssetKey(["customer_consents"])} <= job.asset_layer.selected_asset_keys
    # triggers: eager after the segment, or the sync's cron; evaluated by a sensor that starts stopped
    assert isinstance(node.automation_condition, type(dg.AutomationCondition.eager()))
    scheduled = graph.get(dg.AssetKey(["activation", "high_value_at_risk_tencent"])).automation_condition
    assert "0 6 * * *" in str(scheduled.get_label() or scheduled)
    sensor = defs.resolve_sensor_def("activation_automation")
    assert sensor.default_status == dg.DefaultSensorStatus.STOPPED


def test_a_sync_asset_reports_its_counts(mini, receiver, monkeypatch, tmp_path):
    for i in range(4):
        mini.customer(f"c{i}")
    mini.customer("c_revoked", granted=False)
    mini.wh.close()
    monkeypatch.setenv("CDP_TARGET", "duckdb")
    monkeypatch.setenv("CDP_DUCKDB_PATH", str(mini.wh.path))
    asset = build_assets([make_sync()])[0]
    result = dg.materialize([asset], instance=dg.DagsterInstance.ephemeral())
    meta = result.asset_materializations_for_node(asset.node_def.name)[0].metadata
    assert (meta["members"].value, meta["suppressed"].value, meta["rows_added"].value) == (5, 1, 4)
    assert "| 2 | 1 | 1 | 0 | 1 |" in meta["batch_outcomes"].value
    assert set(receiver.audience) == {"c0", "c1", "c2", "c3"}


def test_a_failed_sync_raises_the_alert(mini, receiver, webhook, monkeypatch):
    url, alerts = webhook
    mini.customer("c0")
    mini.wh.close()
    monkeypatch.setenv("CDP_TARGET", "duckdb")
    monkeypatch.setenv("CDP_DUCKDB_PATH", str(mini.wh.path))
    monkeypatch.setenv("CDP_ALERT_WEBHOOK_URL", url)
    monkeypatch.setenv("TEST_HOOK_SECRET", "wrong")
    asset = build_assets([make_sync()])[0]
    with pytest.raises(Exception, match="HTTP 401"):
        dg.materialize([asset], instance=dg.DagsterInstance.ephemeral())
    assert [a["title"] for a in alerts] == ["activation sync test_sync failed"]
    assert "HTTP 401" in alerts[0]["details"]
