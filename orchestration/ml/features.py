"""The feature mart as arrays: one matrix per snapshot (training, validation, scoring)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np

from orchestration.ml import store

# The model inputs, all computed before each snapshot's cutoff by customer_features.
FEATURES = (
    "recency_days", "first_purchase_days", "purchases_lookback", "purchases_90d", "purchases_30d",
    "store_purchases_lookback", "refunds_lookback", "spend_lookback", "spend_90d",
    "is_member", "has_app", "has_wechat",
)
LABELS = {"churn_risk": "is_churned_after", "purchase_propensity_30d": "has_purchase_after"}
SNAPSHOTS = ("training", "validation", "scoring")


@dataclass
class Snapshot:
    name: str
    as_of_at: datetime | None
    customer_ids: list[str]
    X: np.ndarray
    labels: dict[str, np.ndarray]

    def __len__(self) -> int:
        return len(self.customer_ids)

    def column(self, feature: str) -> np.ndarray:
        return self.X[:, FEATURES.index(feature)]


def load(target: str) -> dict[str, Snapshot]:
    label_cols = list(LABELS.values())
    rows = store.read(target, f"select snapshot_name, customer_id, as_of_at, {', '.join(FEATURES)},"
                              f" {', '.join(label_cols)} from marts.customer_features"
                              " order by snapshot_name, customer_id")
    out = {}
    for name in SNAPSHOTS:
        part = [r for r in rows if r[0] == name]
        X = np.array([[float(v or 0) for v in r[3:3 + len(FEATURES)]] for r in part],
                     dtype=np.float64).reshape(len(part), len(FEATURES))
        labels = {model: np.array([r[3 + len(FEATURES) + i] for r in part], dtype=object)
                  for i, model in enumerate(LABELS)}
        out[name] = Snapshot(name, part[0][2] if part else None, [r[1] for r in part], X, labels)
    return out
