"""Great Expectations on both engines: SQL in PostgreSQL, pandas batches from DuckDB. Each
must pass a good batch and catch a planted bad one."""

import pytest

from orchestration.quality.checks import latest_batch_sql
from tests.conftest import copy_landing
from tests.runs.test_jobs import _bad_crm_batch


@pytest.mark.parametrize("target", ["duckdb", "postgres"])
def test_suites_pass_good_batches_and_catch_planted_errors(target, sample, tmp_path, warehouses):
    from orchestration.quality.gx_runner import validate

    landing = copy_landing(sample["landing"], tmp_path / "landing", batches=["2026-11-18"])
    warehouses.load(landing, target)
    with warehouses.active():
        good = validate("raw_crm_members", latest_batch_sql("crm_members", target), target, build_docs=False)
        shop = validate("raw_shop_orders", latest_batch_sql("shop_orders", target), target, build_docs=False)
    assert good.success and good.evaluated >= 6, good.failed
    assert shop.success, shop.failed
    _bad_crm_batch(landing / "crm_members" / "2026-11-21.csv")
    warehouses.load(landing, target)
    with warehouses.active():
        bad = validate("raw_crm_members", latest_batch_sql("crm_members", target), target, build_docs=False)
    assert not bad.success
    assert any("match_regex" in f and "mobile" in f for f in bad.failed)
    assert any("compound_columns_to_be_unique" in f for f in bad.failed)


def test_an_unknown_suite_names_the_file_to_add():
    from orchestration.quality.gx_runner import load_suite

    with pytest.raises(FileNotFoundError, match="expectations/nope.json"):
        load_suite("nope")


@pytest.mark.parametrize("target", ["duckdb", "postgres"])
def test_every_source_checks_clean_data_with_the_clock_ten_years_ahead(target, tmp_path, warehouses):
    """Time bounds are relative to the load: data generated and loaded ten years from now
    passes every raw suite, and a suite exists for every landing source."""
    from datetime import date, timedelta

    from orchestration.dbt.project import source_relation
    from orchestration.ingest.contract import load_contract
    from orchestration.quality.checks import load_registry
    from orchestration.quality.gx_runner import validate
    from orchestration.synthetic.generator import generate

    raw_checks = {e["asset"].split("/")[-1]: e["suite"] for e in load_registry()
                  if e["rows"] == "latest_batch"}
    assert set(raw_checks) == set(load_contract())  # a suite for every source
    ahead = date.today() + timedelta(days=3653)
    generate(tmp_path / "landing", tmp_path / "truth", people=300, days=1, end_date=ahead,
             seed=11, quiet=True)
    warehouses.load(tmp_path / "landing", target)
    with warehouses.active():
        for source in raw_checks:  # the loader stamps today: move the load ten years on too
            warehouses.query(target, f"update {source_relation(source)}"
                                     " set _loaded_at = _loaded_at + interval '3653 days'"
                                     " returning 1")
        year = warehouses.query(target, "select max(substring(ordered_at, 1, 4))"
                                        f" from {source_relation('shop_orders')}")[0][0]
        assert year > "2030"  # a calendar bound (the old 2000..2030) would fail this batch
        results = {s: validate(suite, latest_batch_sql(s, target), target, build_docs=False)
                   for s, suite in raw_checks.items()}
    failed = {s: r.failed for s, r in results.items() if not r.success}
    assert not failed
    # and the bound still bites: a batch from ten years ahead loaded today fails
    with warehouses.active():
        warehouses.query(target, f"update {source_relation('shop_orders')}"
                                 " set _loaded_at = _loaded_at - interval '3653 days' returning 1")
        stale = validate("raw_shop_orders", latest_batch_sql("shop_orders", target), target,
                         build_docs=False)
    assert any("ordered_at__days_after_load" in f for f in stale.failed)
