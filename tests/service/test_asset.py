"""The serving copy is a Dagster asset downstream of every mart it copies, in the pipeline job."""

from __future__ import annotations

import dagster as dg


def test_serving_store_is_downstream_of_the_marts_it_copies():
    from orchestration.definitions import defs
    from orchestration.service.publish import SOURCES

    key = dg.AssetKey(["service", "serving_store"])
    graph = defs.resolve_asset_graph()
    node = graph.get(key)
    assert node.group_name == "service"
    assert {dg.AssetKey([model]) for model, _ in SOURCES.values()} <= set(node.parent_keys)
    assert key in defs.resolve_job_def("tianwen_pipeline").asset_layer.asset_graph.get_all_asset_keys()
