"""End to end: generated landing data through load and `dbt build`, on DuckDB and on a real
PostgreSQL server, checked against what the generator planted."""

from __future__ import annotations

import duckdb
import pytest

from tests.conftest import copy_landing

ENGINES = ["duckdb", "postgres"]


@pytest.mark.parametrize("target", ENGINES)
def test_every_landed_row_is_staged_deduplicated_or_quarantined(built, sample, target):
    recon = {r[0]: r[1:] for r in built.query(
        target, "select source_name, landed_rows, staged_rows, duplicate_rows, quarantined_rows,"
                " is_reconciled, ledger_rows from marts.source_reconciliation")}
    for name, expected in sample["manifest"]["sources"].items():
        landed, staged, dups, quarantined, ok, ledger = recon[name]
        assert (landed, staged, dups, quarantined) == (
            expected["landed"], expected["staged"], expected["duplicates"],
            sum(expected["quarantined"].values())), name
        assert ok and ledger == landed, name


@pytest.mark.parametrize("target", ENGINES)
def test_exactly_the_planted_rows_are_quarantined_for_the_planted_reason(built, sample, target):
    got = {}
    for source, reason, n in built.query(target, "select source_name, reason_code, count(*)"
                                                 " from marts.quarantined_rows group by 1, 2"):
        got.setdefault(source, {})[reason] = n
    for name, expected in sample["manifest"]["sources"].items():
        assert got.get(name, {}) == expected["quarantined"], name


def test_reloading_adds_nothing(sample, warehouses):
    for target in ENGINES:
        first = warehouses.load(sample["landing"], target)
        assert first.count("loaded") == 30
        again = warehouses.load(sample["landing"], target)
        assert again.count("loaded") == 0 and again.count("skipped") == 30
        rows = warehouses.query(target, "select count(*) from raw.web_events")[0][0]
        assert rows == sample["manifest"]["sources"]["web_events"]["landed"]


def test_both_engines_agree_on_counts_and_identifiers(built):
    sql = ("select source_name, record_key, identifier_type, identifier_value, is_junk"
           " from intermediate.int_identifier_occurrences_unioned")
    duck, pg = (sorted(built.query(t, sql)) for t in ENGINES)
    assert len(duck) > 10_000
    assert duck == pg
    recon = "select * from marts.source_reconciliation order by source_name"
    assert built.query("duckdb", recon) == built.query("postgres", recon)


def test_identifiers_are_normalised_to_the_truth_and_junk_is_flagged(built, sample):
    truth = set(duckdb.sql(f"select identifier_type, identifier_value from read_parquet("
                           f"'{sample['truth']}/identifiers.parquet')").fetchall())
    occurrences = built.query("duckdb", "select identifier_type, identifier_value, is_junk"
                                        " from intermediate.int_identifier_occurrences_unioned")
    real = {(t, v) for t, v, junk in occurrences if not junk}
    junk = {(t, v) for t, v, j in occurrences if j}
    assert real <= truth, sorted(real - truth)[:5]  # every spelling normalised to the truth
    assert not junk & truth
    assert ("mobile", "13800000000") in junk and ("imei", "000000000000000") in junk
    assert ("member_card_no", "8888888888888") in junk and ("email", "test@test.com") in junk
    assert ("idfa", "00000000-0000-0000-0000-000000000000") in junk
    assert len(real) > 0.9 * len(truth)  # what the records say of people reaches the list


def test_summary_reports_layers_and_reasons(built):
    text = built.summaries["duckdb"]
    assert "landed" in text and "staged" in text and "quarantined rows by reason" in text
    assert "malformed_line" in text and "NO" not in text.split()


@pytest.mark.parametrize("target", ENGINES)
def test_a_bad_batch_quarantines_exactly_its_bad_rows(target, tmp_path, sample, warehouses):
    landing = copy_landing(sample["landing"], tmp_path / "landing", batches=["2026-11-18"])
    header = ("order_id,member_id,mobile,email,device_id,channel,status,amount,currency,"
              "ordered_at,updated_at,coupon_code")
    good = [f"B{i},,+86 139-0000-000{i},,,app,paid,{10 + i}.50,,2026-11-18 10:00:00,"
            f"2026-11-18 10:00:00,SPRING" for i in range(5)]
    bad = ["B9,,,,,app,paid,-1.00,,2026-11-18 10:00:00,2026-11-18 10:00:00,SPRING",
           "this line,has,too few fields"]
    (landing / "shop_orders" / "2026-11-21.csv").write_text("\n".join([header, *good, *bad]) + "\n")
    warehouses.run(landing, target)
    staged = warehouses.query(target, "select order_id, mobile from staging.stg_shop__orders"
                                      " where order_id like 'B%' order by order_id")
    assert staged == [(f"B{i}", f"1390000000{i}") for i in range(5)]
    quarantined = warehouses.query(
        target, "select record_key, reason_code from marts.quarantined_rows"
                " where file_name = 'shop_orders/2026-11-21.csv' order by row_number")
    assert quarantined == [("B9", "impossible_value"), (None, "malformed_line")]
    extra = warehouses.query(target, "select min(_extra) from raw.shop_orders"
                                     " where _file_name = 'shop_orders/2026-11-21.csv'")
    assert "coupon_code" in extra[0][0]
