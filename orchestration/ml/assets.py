"""The predictive-tags training run as Dagster assets: downstream of the dbt feature mart,
upstream of the dbt score marts (their `ml` source maps to these keys), so the lineage reads
customer_features -> ml/* -> customer_scores, model_runs, cluster_profiles."""

import dagster as dg

from orchestration import config
from orchestration.ml import job, train

FEATURE_MART = dg.AssetKey(["customer_features"])
KEYS = {table: dg.AssetKey(["ml", table]) for table in ("customer_scores", "model_runs", "cluster_profiles")}
DESCRIPTIONS = {
    "customer_scores": "Churn risk, 30-day purchase propensity and behaviour cluster per customer (replaced each run).",
    "model_runs": "Each model's training run: snapshots, rows, validation AUC, Brier score, reliability table.",
    "cluster_profiles": "Name, description and averages of each behaviour cluster, per run.",
}


@dg.multi_asset(
    name="predictive_tags",
    specs=[dg.AssetSpec(key, deps=[FEATURE_MART], group_name="ml", kinds={"python", "scikit-learn"},
                        description=DESCRIPTIONS[table], skippable=True)
           for table, key in KEYS.items()],
)
def predictive_tags(context: dg.AssetExecutionContext):
    """Trains both classifiers on the training snapshot, validates on the validation snapshot,
    clusters and scores the scoring snapshot, and writes the `ml` tables."""
    try:
        result = job.run(config.target())
    except train.NotEnoughData as exc:
        # the previous scores (or the empty tables the dbt hook creates) stay; the tags and
        # segments downstream must still build, so the outputs are reported, not skipped
        context.log.warning(f"predictive tags not trained, previous scores kept: {exc}")
        for key in KEYS.values():
            yield dg.MaterializeResult(asset_key=key, metadata={
                "trained": False, "not_trained_because": dg.MetadataValue.text(str(exc))})
        return
    metrics = {name: m for name, m in result.metrics.items() if m.get("auc") is not None}
    yield dg.MaterializeResult(asset_key=KEYS["customer_scores"], metadata={
        "dagster/row_count": dg.MetadataValue.int(result.scored),
        "model_run_id": dg.MetadataValue.text(result.model_run_id),
    })
    yield dg.MaterializeResult(asset_key=KEYS["model_runs"], metadata={
        "model_run_id": dg.MetadataValue.text(result.model_run_id),
        **{f"{name}_auc": dg.MetadataValue.float(m["auc"]) for name, m in metrics.items()},
        **{f"{name}_brier": dg.MetadataValue.float(m["brier_score"]) for name, m in metrics.items()},
    })
    yield dg.MaterializeResult(asset_key=KEYS["cluster_profiles"], metadata={
        "clusters": dg.MetadataValue.md("\n".join(f"- **{p['cluster_name']}**: {p['description']}"
                                                  for p in result.clusters)),
    })


ml_assets = [predictive_tags]
