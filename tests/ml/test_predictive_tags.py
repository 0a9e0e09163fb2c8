"""Predictive tags: models trained on the generated sample beat a bar set by the planted churn
process, scores are probabilities, one row per customer, runs are recorded, both engines agree,
and the time split keeps label-period data out of the features."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from orchestration.ml import features, train
from tests.ml.oracle import oracle_scores, truth_by_customer

HORIZONS = {"churn_risk": 90, "purchase_propensity_30d": 30}  # dbt vars ml_*_horizon_days
# A model must reach this share of the AUC lift over chance (0.5) that the planted process
# itself reaches on the same rows: the truth's own prediction is the ceiling, chance the floor.
SHARE_OF_ORACLE_LIFT = 0.4
TARGETS = ("duckdb", "postgres")


def latest_runs(built, target: str) -> dict[str, tuple]:
    rows = built.query(target, "select model_name, auc, brier_score, training_rows, validation_rows,"
                               " reliability, model_run_id, positive_rate from marts.model_runs"
                               " where model_run_id = (select max(model_run_id) from marts.model_runs)")
    return {r[0]: r[1:] for r in rows}


def test_models_beat_the_bar_the_planted_process_sets(built, sample):
    with built.active():
        snaps = features.load("duckdb")
    validation = snaps["validation"]
    identities = built.query("duckdb", "select customer_id, identifier_type, identifier_value"
                                       " from marts.customer_identities")
    truth = truth_by_customer(sample["truth"], identities)
    runs = latest_runs(built, "duckdb")
    for model, horizon in HORIZONS.items():
        y = validation.labels[model].astype(bool).astype(int)
        oracle_auc = roc_auc_score(y, oracle_scores(model, validation.customer_ids,
                                                    validation.as_of_at, truth, horizon))
        assert oracle_auc > 0.6, f"the planted process gives {model} too little signal ({oracle_auc:.3f})"
        auc = float(runs[model][0])
        bar = 0.5 + SHARE_OF_ORACLE_LIFT * (oracle_auc - 0.5)
        assert auc > bar, f"{model}: validation AUC {auc:.3f} <= {bar:.3f} (truth's own AUC {oracle_auc:.3f})"


@pytest.mark.parametrize("target", TARGETS)
def test_scores_are_probabilities_one_row_per_scored_customer(built, target):
    scores = built.query(target, "select customer_id, churn_risk_score, purchase_propensity_30d,"
                                 " cluster_id, cluster_name, model_run_id from marts.customer_scores")
    expected = built.query(target, "select customer_id from marts.customer_features"
                                   " where snapshot_name = 'scoring'")
    assert scores
    assert sorted(r[0] for r in scores) == sorted(r[0] for r in expected)  # each once
    for _, churn, propensity, _, _, _ in scores:
        assert 0 <= float(churn) <= 1 and 0 <= float(propensity) <= 1
    assert len({float(r[1]) for r in scores}) > 10  # a ranking, not a constant
    profiles = {r[0]: r[1:] for r in built.query(
        target, "select cluster_id, cluster_name, customers, description from marts.cluster_profiles"
                f" where model_run_id = '{scores[0][5]}'")}
    assert {r[3] for r in scores} <= set(profiles)
    for cluster_id, name, customers, description in ((c, *p) for c, p in profiles.items()):
        assert customers == sum(1 for r in scores if r[3] == cluster_id) and description
        assert {r[4] for r in scores if r[3] == cluster_id} == {name}


@pytest.mark.parametrize("target", TARGETS)
def test_each_run_records_its_validation_metrics(built, target):
    runs = latest_runs(built, target)
    assert set(runs) == {"churn_risk", "purchase_propensity_30d", "customer_clusters"}
    validation_rows = built.query(target, "select count(*) from marts.customer_features"
                                          " where snapshot_name = 'validation'")[0][0]
    scored_run = built.query(target, "select distinct model_run_id from marts.customer_scores")
    for model in HORIZONS:
        auc, brier, training_rows, rows, reliability, run_id, positive_rate = runs[model]
        assert [(run_id,)] == scored_run
        assert 0.5 < float(auc) <= 1 and 0 <= float(brier) < 0.25  # better than a coin, and than 0.5
        assert rows == validation_rows and training_rows > 0
        bins = json.loads(reliability)
        assert sum(b["rows"] for b in bins) == rows
        observed = sum(b["observed_rate"] * b["rows"] for b in bins) / rows
        assert observed == pytest.approx(float(positive_rate), abs=1e-3)
    auc, _, clustered, _, _, _, _ = runs["customer_clusters"]
    params = json.loads(built.query(target, "select params from marts.model_runs where model_name ="
                                            f" 'customer_clusters' and model_run_id = '{scored_run[0][0]}'")[0][0])
    assert auc is None and params["estimator"] == "KMeans"
    assert clustered == built.query(target, "select count(*) from marts.customer_scores")[0][0]


def test_both_engines_build_the_same_features(built):
    sql = ("select customer_id, snapshot_name, recency_days, first_purchase_days, purchases_lookback,"
           " purchases_90d, store_purchases_lookback, refunds_lookback, round(cast(spend_lookback as numeric), 2),"
           " is_member, has_app, has_purchase_after, is_churned_after from marts.customer_features"
           " order by snapshot_name, customer_id")
    duck, pg = built.query("duckdb", sql), built.query("postgres", sql)
    assert len(duck) > 100
    assert [tuple(map(str, r)) for r in duck] == [tuple(map(str, r)) for r in pg]


def test_label_period_purchases_never_reach_the_features(built, tmp_path):
    """Orders placed after the training snapshot's cutoff are landed and built: they must show
    in its labels and in the later snapshot's features, and leave its own features unchanged."""
    from orchestration.dbt.runner import run_dbt

    copy = tmp_path / "copy.duckdb"
    shutil.copy(built.env["CDP_DUCKDB_PATH"], copy)
    built_env = dict(built.env)
    built.env["CDP_DUCKDB_PATH"] = str(copy)
    try:
        reference = built.query("duckdb", "select max(as_of_at) from marts.customer_features")[0][0]
        pinned = ["--vars", json.dumps({"ml_reference_date": reference.isoformat(sep=" ")})]
        cols = ", ".join(features.FEATURES)
        before_sql = (f"select customer_id, {cols} from marts.customer_features"
                      " where snapshot_name = 'training' order by customer_id")
        before = built.query("duckdb", before_sql)
        cutoff = built.query("duckdb", "select as_of_at from marts.customer_features"
                                       " where snapshot_name = 'training' limit 1")[0][0]
        # Members of the training snapshot who did not buy in its label period.
        members = built.query("duckdb", """
            select f.customer_id, min(i.identifier_value) from marts.customer_features f
            join marts.customer_identities i on i.customer_id = f.customer_id and i.identifier_type = 'member_id'
            where f.snapshot_name = 'training' and not f.has_purchase_after
            group by f.customer_id order by f.customer_id limit 20""")
        assert len(members) == 20
        landing = tmp_path / "landing" / "shop_orders"
        landing.mkdir(parents=True)
        when = (cutoff + np.timedelta64(3, "D").item()).strftime("%Y-%m-%dT%H:%M:%SZ")
        lines = ["order_id,member_id,mobile,email,device_id,channel,status,amount,currency,ordered_at,updated_at"]
        lines += [f"LEAK{i:04d},{member},,,,web,paid,100.00,CNY,{when},{when}"
                  for i, (_, member) in enumerate(members)]
        (landing / "2099-leak.csv").write_text("\n".join(lines) + "\n")
        built.load(tmp_path / "landing", "duckdb")
        with built.active():
            run_dbt(["build", "--select", "+customer_features", *pinned], "duckdb", quiet=True)
        after = built.query("duckdb", before_sql)
        assert after == before  # the training snapshot's features ignore its label period
        labels = dict(built.query("duckdb", "select customer_id, has_purchase_after from marts.customer_features"
                                            " where snapshot_name = 'training'"))
        assert all(labels[cid] for cid, _ in members)  # ... and the orders did land in its labels
    finally:
        built.env.clear()
        built.env.update(built_env)


def test_too_little_history_is_refused_with_a_reason():
    tiny = features.Snapshot("training", None, ["a", "b"], np.zeros((2, len(features.FEATURES))),
                             {m: np.array([True, False], dtype=object) for m in features.LABELS})
    with pytest.raises(train.NotEnoughData, match="load more purchase history"):
        train.train_classifier("churn_risk", tiny, tiny)


def test_reliability_table_counts_every_row_once():
    y = np.array([0, 1, 1, 0, 1])
    p = np.array([0.05, 0.95, 1.0, 0.5, 0.55])
    table = train.reliability_table(y, p)
    assert sum(b["rows"] for b in table) == 5
    assert {b["bin"]: b["observed_rate"] for b in table} == {"0.0-0.1": 0.0, "0.5-0.6": 0.5, "0.9-1.0": 1.0}
