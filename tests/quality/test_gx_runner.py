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
        good = validate("raw_crm_members", latest_batch_sql("crm_members"), target, build_docs=False)
        shop = validate("raw_shop_orders", latest_batch_sql("shop_orders"), target, build_docs=False)
    assert good.success and good.evaluated >= 6, good.failed
    assert shop.success, shop.failed
    _bad_crm_batch(landing / "crm_members" / "2026-11-21.csv")
    warehouses.load(landing, target)
    with warehouses.active():
        bad = validate("raw_crm_members", latest_batch_sql("crm_members"), target, build_docs=False)
    assert not bad.success
    assert any("match_regex" in f and "mobile" in f for f in bad.failed)
    assert any("compound_columns_to_be_unique" in f for f in bad.failed)


def test_an_unknown_suite_names_the_file_to_add():
    from orchestration.quality.gx_runner import load_suite

    with pytest.raises(FileNotFoundError, match="expectations/nope.json"):
        load_suite("nope")
