"""Issue #10: the project on Apache Spark (dbt-spark, a local session, Parquet tables) gives
the answers DuckDB gives. One small sample is loaded and built on both, then the run's
Python steps (predictive tags, serving copy, summary) run on each; every relation the project
builds is compared row for row, dbt's unit tests run on Spark, the Great Expectations suites
judge both alike, and erasure and retention delete the same rows."""

from __future__ import annotations

import datetime
import decimal
import json
import os
from datetime import date

import duckdb
import pytest

from orchestration import config, pipeline
from orchestration.dbt.runner import PRODUCTION_BUILD, run_dbt
from orchestration.synthetic.generator import generate
from tests.conftest import Warehouses
from tests.truth import RECONCILIATION_SQL, assert_reconciled

# Small: a Spark session costs about a second per node on two cores (docs/engines.md).
SPARK_SAMPLE = {"people": 300, "days": 3, "seed": 11, "end_date": date(2026, 11, 20)}

# Columns that say when or where a build ran, not what it computed: load and build times,
# run ids, keys drawn at random per warehouse and what they mask, snapshot bookkeeping.
RUN_COLUMNS = {"_loaded_at", "loaded_at", "computed_at", "run_id", "dbt_scd_id", "dbt_updated_at",
               "dbt_valid_from", "dbt_valid_to", "model_run_id", "scored_at", "trained_at"}
RUN_COLUMNS_OF = {
    "privacy.bi_pseudonym_key": {"hash_key", "created_at"},
    "marts.segment_memberships": {"entered_at"},
    "marts.segment_membership_events": {"event_at"},
    "bi.segment_memberships": {"entered_at"},
    "bi.segment_membership_events": {"event_at"},
    "bi.customer_identities": {"identifier_value"},  # masked with the warehouse's own key
    "bi.customer_profile_attributes": {"attribute_value"},
}


@pytest.fixture(scope="module")
def engines(tmp_path_factory):
    """The sample loaded and built on DuckDB and on Spark (there with every dbt unit test),
    then the run's Python steps as the Dagster assets call them: the predictive tags'
    training, the serving copy, the summary. `tianwen run --target spark` (Dagster, with the
    Great Expectations checks) was run by hand: its four dbt invocations cost CI minutes."""
    from orchestration.engines import spark
    from orchestration.ml import job
    from orchestration.service.publish import publish

    root = tmp_path_factory.mktemp("spark")
    generate(root / "landing", root / "truth", quiet=True, **SPARK_SAMPLE)
    wh = Warehouses(root / "duckdb" / "tianwen.duckdb",
                    {"CDP_SPARK_DIR": str(root / "spark"), "CDP_SPARK_SHUFFLE_PARTITIONS": "1",
                     "CDP_TRUTH_DIR": str(root / "truth")})
    loads = {target: wh.load(root / "landing", target) for target in ("duckdb", "spark")}
    summaries = {}
    with wh.active():
        for target in ("duckdb", "spark"):
            # the production build; on Spark with dbt's unit tests, in one session
            run_dbt(["build"] if target == "spark" else PRODUCTION_BUILD, target, quiet=True)
            job.run(target)
            publish(target)
            summaries[target] = pipeline.summary(target)
        artifacts = config.dbt_target_dir() / "spark"
        unit_tests = {
            "declared": set(json.loads((artifacts / "manifest.json").read_text())["unit_tests"]),
            "ran": {r["unique_id"]: r["status"]
                    for r in json.loads((artifacts / "run_results.json").read_text())["results"]
                    if r["unique_id"].startswith("unit_test.")}}
    yield {"root": root, "wh": wh, "env": wh.env, "loads": loads, "summaries": summaries,
           "unit_tests": unit_tests, "truth": json.loads((root / "truth" / "manifest.json").read_text())}
    spark.release()  # the session the queries below started


@pytest.fixture(scope="module")
def rebuilt(engines):
    """After the comparisons: the staged erasure requests carried out on both warehouses, then
    on Spark, with a retention window, the base models erasure touched rebuilt (their pre-hooks
    purge old events and erase the suppressed identifiers' raw rows) with what counts their
    rows and reconciliation's dbt tests."""
    from orchestration.privacy import erasure

    wh = engines["wh"]
    reports = {}
    with wh.active():
        for target in ("duckdb", "spark"):
            report = erasure.process(target)
            reports[target] = (report.outcomes, report.customers, report.identifiers, report.deleted)
    days = (date.today() - SPARK_SAMPLE["end_date"]).days + 1  # the sample's first day is past it
    with wh.active(), pytest.MonkeyPatch.context() as mp:
        mp.setenv("CDP_EVENT_RETENTION_DAYS", str(days))
        run_dbt(["build", "--exclude-resource-type", "unit_test", "--select",
                 "base_web__events base_app__events base_channels__engagements base_privacy__consent_events"
                 " base_privacy__erasure_requests quarantined_rows source_reconciliation"], "spark", quiet=True)
    return {"erasure": reports}


def _relations(duckdb_path: str) -> dict[str, list[str]]:
    """Every table and view the project built (models, seeds, snapshots), with its columns."""
    from orchestration import config

    manifest = json.loads((config.dbt_target_dir() / "duckdb" / "manifest.json").read_text())
    names = {f"{n['schema']}.{n['alias'] or n['name']}" for n in manifest["nodes"].values()
             if n["resource_type"] in ("model", "seed", "snapshot")}
    with duckdb.connect(duckdb_path, read_only=True) as con:
        rows = con.execute("select table_schema || '.' || table_name, column_name"
                           " from information_schema.columns order by ordinal_position").fetchall()
    columns: dict[str, list[str]] = {}
    for name, column in rows:
        if name in names:
            columns.setdefault(name, []).append(column)
    assert set(columns) == names, f"not built on DuckDB: {sorted(names - set(columns))}"
    return columns


def _norm(value):
    if isinstance(value, (float, decimal.Decimal)):
        return round(float(value), 6)
    if isinstance(value, datetime.datetime):
        return value.replace(tzinfo=None).isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return tuple(_norm(v) for v in value)
    return value


def _sorted_rows(rows) -> list[tuple]:
    return sorted((tuple(_norm(v) for v in row) for row in rows), key=repr)


def test_spark_loads_every_file_once_with_the_same_accounting(engines):
    duck, spark = engines["loads"]["duckdb"], engines["loads"]["spark"]
    assert spark.count("loaded") == duck.count("loaded") == 30
    assert (spark.rows, spark.malformed) == (duck.rows, duck.malformed)
    assert spark.malformed > 0  # the sample plants unparseable lines
    again = engines["wh"].load(engines["root"] / "landing", "spark")
    assert again.count("loaded") == 0 and again.count("skipped") == 30


def test_every_landed_row_is_accounted_for_on_spark(engines):
    assert_reconciled(engines["wh"].query("spark", RECONCILIATION_SQL), engines["truth"])


def pipeline_query(engines, target: str, sqls: list[str]) -> list[list[tuple]]:
    with engines["wh"].active():
        return [pipeline.query(target, sql) for sql in sqls]


def test_the_run_s_python_steps_on_spark_do_what_they_do_on_duckdb(engines):
    """Training on Spark's feature mart writes DuckDB's scores and metrics; the summary's every
    section reads the same through the shared session."""
    duck, spark = engines["summaries"]["duckdb"], engines["summaries"]["spark"]
    assert "Tianwen summary (spark)" in spark and "golden profiles" in spark
    assert spark.replace("(spark)", "(duckdb)") == duck
    sqls = ["select customer_id, churn_risk_score, purchase_propensity_30d, cluster_id, cluster_name"
            " from ml.customer_scores",
            "select model_name, training_rows, validation_rows, positive_rate, auc, brier_score"
            " from ml.model_runs",
            "select cluster_id, cluster_name, customers, avg_recency_days, avg_purchases, avg_spend"
            " from ml.cluster_profiles"]
    scores = {target: [_sorted_rows(rows) for rows in pipeline_query(engines, target, sqls)]
              for target in ("duckdb", "spark")}
    assert all(scores["spark"]) and scores["spark"] == scores["duckdb"]


def test_dbt_gets_spark_to_itself_and_the_cli_s_environment(engines):
    """What the dbt asset does before dbt starts (orchestration/dbt/assets.py)."""
    from orchestration.dbt.runner import dbt_environment, hand_over
    from orchestration.engines import spark

    with engines["wh"].active():
        assert pipeline.query("spark", "select 1") == [(1,)]
        assert spark._shared is not None and spark._shared.alive
        hand_over("spark")
        assert spark._shared is None  # the metastore is free for dbt's session
        assert "CDP_SPARK_RAW_DIR" not in engines["env"]
        with dbt_environment():
            assert os.environ["CDP_SPARK_RAW_DIR"] == str(config.spark_raw_dir())
            assert os.path.isabs(os.environ["CDP_SPARK_RAW_DIR"])
        assert os.environ.get("CDP_SPARK_RAW_DIR") != str(config.spark_raw_dir())


def test_the_serving_copy_from_spark_holds_what_duckdb_s_holds(engines):
    from orchestration.service.publish import POINTER
    from orchestration.service.settings import serving_dir

    # every table but the build's own record; when a membership began is a run column
    tables = {t: f"select * from {t}" for t in ("customers", "identities", "segments", "tags",
                                                 "merges", "erased", "profile_columns")}
    tables["memberships"] = "select * exclude (entered_at) from memberships"
    copies = {}
    with engines["wh"].active():
        for target in ("duckdb", "spark"):
            folder = serving_dir(target)
            with duckdb.connect(str(folder / (folder / POINTER).read_text().strip()), read_only=True) as con:
                assert con.execute("select target from build").fetchone()[0] == target
                copies[target] = {t: _sorted_rows(con.execute(sql).fetchall()) for t, sql in tables.items()}
    assert copies["spark"]["customers"]
    assert copies["spark"] == copies["duckdb"]


def test_every_relation_has_the_same_rows_on_spark_and_duckdb(engines):
    columns = _relations(engines["env"]["CDP_DUCKDB_PATH"])
    compared = {name: [c for c in cols if c not in RUN_COLUMNS | RUN_COLUMNS_OF.get(name, set())]
                for name, cols in sorted(columns.items())}
    # a relation of run columns only (the pseudonym key) is compared by its row count
    sqls = [f"select {', '.join(cols) or 'count(*)'} from {name}" for name, cols in compared.items()]
    spark_rows = pipeline_query(engines, "spark", sqls)
    duck_rows = pipeline_query(engines, "duckdb", sqls)
    differ = []
    for (name, cols), s_rows, d_rows in zip(compared.items(), spark_rows, duck_rows, strict=True):
        s_sorted, d_sorted = _sorted_rows(s_rows), _sorted_rows(d_rows)
        if s_sorted != d_sorted:
            which = [c for i, c in enumerate(cols)
                     if sorted(repr(r[i]) for r in s_sorted) != sorted(repr(r[i]) for r in d_sorted)]
            differ.append(f"{name}: {len(s_sorted)} rows on Spark, {len(d_sorted)} on DuckDB; "
                          f"columns {which}")
    assert not differ, "\n".join(differ)
    # the comparison covers the marts a marketer reads, and they are not empty
    counts = {name: len(rows) for name, rows in zip(compared, duck_rows, strict=True)}
    for name in ("marts.customer_identities", "marts.customer_profiles", "marts.customer_tags",
                 "marts.segment_memberships", "marts.quarantined_rows", "marts.source_reconciliation"):
        assert counts[name] > 0, name


def test_great_expectations_suites_judge_spark_as_duckdb(engines):
    """The registry's suites on Spark's rows and DuckDB's: a raw batch (its helper columns
    use the engine's regular expressions and epoch seconds) and every mart suite."""
    from orchestration.quality.checks import latest_batch_sql, load_registry, rows_sql
    from orchestration.quality.gx_runner import validate

    entries = [e for e in load_registry() if e["rows"] != "latest_batch"]
    entries += [{"asset": f"raw/{s}", "suite": f"raw_{s}", "rows": "latest_batch", "blocking": True}
                for s in ("shop_orders", "app_events")]
    results = {}
    with engines["wh"].active():
        for target in ("duckdb", "spark"):
            results[target] = []
            for entry in entries:
                source = entry["asset"].split("/")[-1]
                sql = latest_batch_sql(source, target) if entry["rows"] == "latest_batch" else rows_sql(entry["rows"])
                result = validate(entry["suite"], sql, target, build_docs=False)
                results[target].append((entry["suite"], result.success, result.evaluated, result.failed))
    # the blocking suites pass (the pipeline would stop otherwise), and judge both alike
    assert all(r[1] for r, e in zip(results["spark"], entries, strict=True) if e.get("blocking"))
    assert results["spark"] == results["duckdb"]


def test_a_sync_on_spark_stops_before_it_sends_naming_what_to_do(engines):
    from orchestration.activation.config import load_syncs
    from orchestration.activation.runner import run_sync

    sync = load_syncs()[0]
    with engines["wh"].active():
        wh = pipeline.warehouse("spark")
        with pytest.raises(NotImplementedError, match="DuckDB or PostgreSQL"):
            run_sync(wh, sync)
        runs = wh.execute("select count(*) from activation.sync_runs where sync_id = ?", [sync.sync_id])
        assert runs.fetchone()[0] == 0  # stopped before its run was recorded


def test_erasure_on_spark_deletes_what_it_deletes_on_duckdb(engines, rebuilt):
    """The same people, identifiers and rows in every table (Spark: deletes rewrite the
    tables), raw requests included."""
    reports = rebuilt["erasure"]
    assert reports["spark"][0].get("erased", 0) > 0 and reports["spark"][3]["raw.erasure_requests"] > 0
    assert reports["spark"] == reports["duckdb"]
    listed, left = pipeline_query(engines, "spark", [
        "select count(*) from privacy.erased_identifiers",
        "select count(*) from staging.stg_privacy__erasure_requests as r where not exists ("
        "select 1 from privacy.erasure_outcomes as o where o.request_id = r.request_id)"])
    assert listed[0][0] == reports["spark"][2] and left[0][0] == 0


def test_retention_and_erasure_delete_raw_rows_on_spark_and_account_for_them(engines, rebuilt):
    """Parquet has no delete: the base models' pre-hooks rewrite the raw table (spark_delete)."""
    purged, erased, recon = pipeline_query(engines, "spark", [
        "select source_name, sum(purged_rows) from privacy.retention_log group by source_name",
        "select source_name, sum(deleted_rows) from privacy.erasure_deletions"
        " where source_name is not null group by source_name",
        "select source_name, ledger_rows, landed_rows, purged_rows, erased_rows, is_reconciled"
        " from marts.source_reconciliation"])
    purged, erased = dict(purged), dict(erased)
    assert purged.get("web_events", 0) > 0, purged
    assert erased.get("erasure_requests", 0) > 0 and erased.get("channel_engagements", 0) > 0, erased
    truth = engines["truth"]["sources"]
    for name, ledger, landed, purged_rows, erased_rows, ok in recon:
        assert ok, name
        assert ledger == truth[name]["landed"], name
        assert (purged_rows, erased_rows) == (purged.get(name, 0), erased.get(name, 0)), name
        assert landed == ledger - purged_rows - erased_rows, name


def test_every_unit_test_passes_on_spark(engines):
    declared, ran = engines["unit_tests"]["declared"], engines["unit_tests"]["ran"]
    assert len(declared) >= 15
    assert set(ran) == declared and set(ran.values()) == {"pass"}, ran
