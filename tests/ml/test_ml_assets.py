"""The predictive-tags assets sit between the dbt feature mart and the dbt score marts."""

import dagster as dg

from orchestration.definitions import defs


def test_lineage_runs_feature_mart_to_python_assets_to_score_marts():
    graph = defs.resolve_asset_graph()
    for table in ("customer_scores", "model_runs", "cluster_profiles"):
        python_key = dg.AssetKey(["ml", table])
        assert graph.get(python_key).parent_keys == {dg.AssetKey("customer_features")}
        assert graph.get(dg.AssetKey(table)).parent_keys == {python_key}  # the dbt mart over it
    upstream = dg.AssetSelection.assets("customer_scores").upstream().resolve(graph)
    assert {dg.AssetKey(["raw", "shop_orders"]), dg.AssetKey("customer_identities")} <= upstream


def test_the_pipeline_job_runs_dbt_before_and_after_the_python_assets():
    job = defs.resolve_job_def("tianwen_pipeline")
    deps = job.graph.dependency_structure
    upstream_of_ml = {h.node_name for h in deps.all_upstream_outputs_from_node("predictive_tags")}
    downstream = {n.name for n in job.graph.nodes
                  if "predictive_tags" in {h.node_name for h in deps.all_upstream_outputs_from_node(n.name)}}
    assert any(n.startswith("tianwen_dbt") for n in upstream_of_ml)
    assert any(n.startswith("tianwen_dbt") for n in downstream)
