"""One training run: load the feature mart, train and validate both classifiers, cluster,
score the scoring snapshot, write everything to the `ml` tables in one transaction."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

from threadpoolctl import threadpool_limits

from orchestration.ml import features, store, train

SCORE_COLUMNS = ("customer_id", "churn_risk_score", "purchase_propensity_30d", "cluster_id",
                 "cluster_name", "model_run_id", "scored_at")
RUN_COLUMNS = ("model_run_id", "model_name", "trained_at", "cutoff_at", "validated_at",
               "training_rows", "validation_rows", "positive_rate", "auc", "brier_score",
               "reliability", "params")
PROFILE_COLUMNS = ("model_run_id", "cluster_id", "cluster_name", "description", "customers",
                   "avg_recency_days", "avg_purchases", "avg_spend")


@dataclass
class RunResult:
    model_run_id: str
    scored: int
    metrics: dict[str, dict] = field(default_factory=dict)
    clusters: list[dict] = field(default_factory=list)

    def summary(self) -> str:
        parts = [f"{name} AUC {m['auc']:.3f} (Brier {m['brier_score']:.3f})"
                 for name, m in self.metrics.items() if m.get("auc") is not None]
        return (f"predictive tags: run {self.model_run_id}, {self.scored:,} customers scored; "
                + "; ".join(parts))


def run(target: str) -> RunResult:
    """Train, validate, score and write; raise train.NotEnoughData when the mart can't support it."""
    snaps = features.load(target)
    training, validation, scoring = (snaps[n] for n in features.SNAPSHOTS)
    run_id = f"run_{datetime.now(UTC):%Y%m%dT%H%M%S}_{uuid.uuid4().hex[:6]}"
    now = datetime.now(UTC).replace(tzinfo=None)
    # One thread: OpenMP spin-waits make small fits many times slower on a busy machine.
    with threadpool_limits(limits=1):
        classifiers = {name: train.train_classifier(name, training, validation)
                       for name in features.LABELS}
        clusters, profiles, cluster_metrics = train.train_clusters(scoring)
    names = {p["cluster_id"]: p["cluster_name"] for p in profiles}
    scores = {name: clf.predict(scoring) for name, clf in classifiers.items()}
    score_rows = [(cid, float(scores["churn_risk"][i]), float(scores["purchase_propensity_30d"][i]),
                   int(clusters[i]), names[int(clusters[i])], run_id, now)
                  for i, cid in enumerate(scoring.customer_ids)]
    metrics = {name: clf.metrics for name, clf in classifiers.items()}
    metrics["customer_clusters"] = cluster_metrics
    run_rows = [(run_id, name, now, training.as_of_at, validation.as_of_at, m["training_rows"],
                 m["validation_rows"], m["positive_rate"], m["auc"], m["brier_score"],
                 m["reliability"], m["params"]) for name, m in metrics.items()]
    profile_rows = [(run_id, p["cluster_id"], p["cluster_name"], p["description"], p["customers"],
                     p["avg_recency_days"], p["avg_purchases"], p["avg_spend"]) for p in profiles]
    store.write(target, replace={"ml.customer_scores": (SCORE_COLUMNS, score_rows)},
                append={"ml.model_runs": (RUN_COLUMNS, run_rows),
                        "ml.cluster_profiles": (PROFILE_COLUMNS, profile_rows)})
    return RunResult(run_id, len(score_rows), metrics, profiles)
