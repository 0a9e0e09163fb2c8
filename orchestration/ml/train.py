"""Training and validation: two classifiers (trained on the training snapshot, validated out
of time on the validation snapshot) and a k-means clustering named from its centroids."""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
from sklearn.cluster import KMeans
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import brier_score_loss, roc_auc_score
from sklearn.preprocessing import StandardScaler

from orchestration.ml.features import FEATURES, Snapshot

SEED = 0
CLASSIFIER_PARAMS = {"max_iter": 150, "learning_rate": 0.05, "max_leaf_nodes": 15,
                     "min_samples_leaf": 40, "l2_regularization": 1.0, "early_stopping": False,
                     "random_state": SEED}
# Fewer rows or fewer of either class than this and a validation AUC means nothing.
MIN_ROWS, MIN_CLASS = 50, 5
CLUSTER_FEATURES = ("recency_days", "purchases_lookback", "spend_lookback", "store_share")
N_CLUSTERS = 4


class NotEnoughData(ValueError):
    """The feature mart cannot support a training run (too little history or one class)."""


@dataclass
class Classifier:
    name: str
    model: HistGradientBoostingClassifier
    metrics: dict

    def predict(self, snapshot: Snapshot) -> np.ndarray:
        return self.model.predict_proba(snapshot.X)[:, 1]


def reliability_table(y: np.ndarray, p: np.ndarray, bins: int = 10) -> list[dict]:
    """Per probability bin: rows, mean predicted probability, observed rate (calibration)."""
    idx = np.minimum((p * bins).astype(int), bins - 1)
    return [{"bin": f"{b / bins:.1f}-{(b + 1) / bins:.1f}", "rows": int((idx == b).sum()),
             "mean_predicted": round(float(p[idx == b].mean()), 4),
             "observed_rate": round(float(y[idx == b].mean()), 4)}
            for b in range(bins) if (idx == b).any()]


def _labels(snapshot: Snapshot, name: str) -> np.ndarray:
    y = snapshot.labels[name]
    if len(y) < MIN_ROWS or any(v is None for v in y):
        raise NotEnoughData(f"{name}: the {snapshot.name} snapshot has {len(y)} labelled rows "
                            f"(at least {MIN_ROWS} needed): load more purchase history")
    y = y.astype(bool).astype(int)
    if min(y.sum(), len(y) - y.sum()) < MIN_CLASS:
        raise NotEnoughData(f"{name}: the {snapshot.name} snapshot has {y.sum()} positive and "
                            f"{len(y) - y.sum()} negative labels; at least {MIN_CLASS} of each needed")
    return y


def train_classifier(name: str, training: Snapshot, validation: Snapshot) -> Classifier:
    y_train, y_valid = _labels(training, name), _labels(validation, name)
    model = HistGradientBoostingClassifier(**CLASSIFIER_PARAMS).fit(training.X, y_train)
    p = model.predict_proba(validation.X)[:, 1]
    metrics = {"training_rows": len(training), "validation_rows": len(validation),
               "positive_rate": float(y_valid.mean()), "auc": float(roc_auc_score(y_valid, p)),
               "brier_score": float(brier_score_loss(y_valid, p)),
               "reliability": json.dumps(reliability_table(y_valid, p)),
               "params": json.dumps({"estimator": "HistGradientBoostingClassifier",
                                     **CLASSIFIER_PARAMS, "features": list(FEATURES)})}
    return Classifier(name, model, metrics)


# ---------------------------------------------------------------- clustering


def cluster_matrix(snapshot: Snapshot) -> np.ndarray:
    purchases = snapshot.column("purchases_lookback")
    store_share = snapshot.column("store_purchases_lookback") / np.maximum(purchases, 1)
    raw = np.column_stack([snapshot.column("recency_days"), purchases,
                           snapshot.column("spend_lookback"), store_share])
    # Counts and money are skewed: log them so one big spender does not make a cluster.
    return np.column_stack([np.log1p(raw[:, :3]), raw[:, 3]])


def name_clusters(means: np.ndarray, overall: np.ndarray) -> list[str]:
    """A name per centroid (recency, purchases, spend, store share) relative to all customers:
    active / cooling / lapsing by recency, high / mid / low value by spend, store or online
    by where most purchases happen. Equal names get a number."""
    names = []
    for rec, _, spend, store_share in means:
        recency = "active" if rec < 0.75 * overall[0] else "lapsing" if rec > 1.25 * overall[0] else "cooling"
        value = "high-value" if spend > 1.25 * overall[2] else "low-value" if spend < 0.75 * overall[2] else "mid-value"
        name = f"{recency} {value} {'store' if store_share > 0.5 else 'online'}"
        names.append(name if name not in names else f"{name} {names.count(name) + 1}")
    return names


def train_clusters(scoring: Snapshot) -> tuple[np.ndarray, list[dict], dict]:
    """k-means on the scoring snapshot's RFM and channel mix; labels, profiles and metrics."""
    k = min(N_CLUSTERS, len(scoring))
    if k < 1:
        raise NotEnoughData("customer_clusters: no customer to cluster in the scoring snapshot")
    X = cluster_matrix(scoring)
    scaler = StandardScaler().fit(X)
    km = KMeans(n_clusters=k, n_init=10, random_state=SEED).fit(scaler.transform(X))
    purchases = scoring.column("purchases_lookback")
    raw = np.column_stack([scoring.column("recency_days"), purchases, scoring.column("spend_lookback"),
                           scoring.column("store_purchases_lookback") / np.maximum(purchases, 1)])
    means = np.array([raw[km.labels_ == c].mean(axis=0) for c in range(k)])
    names = name_clusters(means, raw.mean(axis=0))
    profiles = []
    for c in range(k):
        rec, n, spend, store_share = means[c]
        size = int((km.labels_ == c).sum())
        profiles.append({
            "cluster_id": c, "cluster_name": names[c], "customers": size,
            "avg_recency_days": float(rec), "avg_purchases": float(n), "avg_spend": float(spend),
            "description": (f"{size:,} customers; last purchase {rec:.0f} days "
                            f"ago on average, {n:.1f} purchases and {spend:,.0f} CNY in the lookback "
                            f"window, {store_share:.0%} of purchases in stores."),
        })
    metrics = {"training_rows": len(scoring), "validation_rows": None, "positive_rate": None,
               "auc": None, "brier_score": None, "reliability": None,
               "params": json.dumps({"estimator": "KMeans", "n_clusters": k, "n_init": 10,
                                     "random_state": SEED, "features": list(CLUSTER_FEATURES),
                                     "scaling": "log1p(recency, purchases, spend), standardised",
                                     "inertia": round(float(km.inertia_), 3)})}
    return km.labels_, profiles, metrics
