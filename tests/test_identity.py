"""Identity resolution: accuracy against the generator's truth, stability, incremental
stitching, merges and splits, and protection against junk, shared and chained identifiers."""

from __future__ import annotations

import json
import math
from collections import defaultdict

import duckdb
import pytest

from orchestration import config
from orchestration.observability.accuracy import ceiling as _ceiling
from orchestration.observability.accuracy import pair_scores as _score
from tests.merge_scenario import APP, CRM, POS, write

ENGINES = ["duckdb", "postgres"]
IDENTITIES = ("select customer_id, identifier_type, identifier_value"
              " from marts.customer_identities order by 2, 3")


def test_accuracy_against_truth_reaches_the_ceiling(built, sample):
    occurrences = built.query("duckdb", "select source_name, record_key, identifier_type,"
                                        " identifier_value, is_junk"
                                        " from intermediate.int_identifier_occurrences_unioned")
    truth_rows = duckdb.sql(f"select identifier_type, identifier_value, person_id from "
                            f"read_parquet('{sample['truth']}/identifiers.parquet')").fetchall()
    truth_all = {(t, v): p for t, v, p in truth_rows}
    seen = {(t, v) for _, _, t, v, junk in occurrences if not junk}
    truth = {k: p for k, p in truth_all.items() if k in seen}
    records = defaultdict(list)
    for source, key, t, v, junk in occurrences:
        if not junk:
            records[(source, key)].append((t, v))
    assign = {(t, v): c for c, t, v in built.query("duckdb", IDENTITIES)}
    precision, recall = _score(assign, truth)
    ceiling_precision, ceiling_recall = _score(_ceiling(records, truth), truth)
    assert ceiling_precision == 1.0
    assert precision >= 0.999, precision
    assert recall == pytest.approx(ceiling_recall, abs=1e-12), (recall, ceiling_recall)
    assert recall > 0.3  # the data links people; a broken graph would not get here
    # no junk identifier is part of any customer
    junk = {(t, v) for _, _, t, v, j in occurrences if j}
    assert not junk & set(assign)


def test_engines_and_rebuilds_give_the_same_customer_ids(built, sample, warehouses):
    duck = built.query("duckdb", IDENTITIES)
    assert duck == built.query("postgres", IDENTITIES)
    # a rebuild from scratch in another warehouse gives the same ids
    warehouses.update(sample["landing"], "duckdb")
    assert warehouses.query("duckdb", IDENTITIES) == duck
    # that rebuild is a production build: every model, no dbt unit test (tests/quality runs them)
    results = json.loads((config.dbt_target_dir() / "duckdb" / "run_results.json").read_text())["results"]
    kinds = {r["unique_id"].split(".")[0] for r in results}
    assert {"model", "test", "snapshot"} <= kinds and "unit_test" not in kinds, kinds


def test_stats_and_conflicts_are_published(built):
    stats = built.query("duckdb", "select identifiers, edges, customers, singletons,"
                                  " largest_component, rounds, conflicts"
                                  " from marts.identity_graph_stats")
    identifiers, edges, customers, singletons, largest, rounds, conflicts = stats[-1]
    assert identifiers == built.query("duckdb", "select count(*) from marts.customer_identities")[0][0]
    assert customers == built.query(
        "duckdb", "select count(distinct customer_id) from marts.customer_identities")[0][0]
    assert 0 < singletons < customers and edges > 0 and 1 <= rounds <= 2 * math.log2(largest) + 4


# ---------------------------------------------------------------- a scripted story

SHARED_PHONE, CHAIN = "13955555555", 150


def _batch1(landing):
    crm = ["M1,13900000001,,,,F,,,,app,gold,2026-01-01 10:00:00,2026-01-01 10:00:00"]
    crm += [f"S{i:02d},{SHARED_PHONE},,,,M,,,,store,bronze,2026-02-01 10:00:00,2026-02-01 10:00:00"
            for i in range(30)]  # one phone typed in for thirty members
    write(landing, "crm_members", "2026-11-01", CRM, crm)
    pos = ["T1,S01,13900000002,600000000002,10.00,cash,2025-12-01 10:00:00"]
    # a chain: mobile k - card k - mobile k+1 ... (301 identifiers, no member id)
    for k in range(CHAIN):
        card = f"7{k:011d}"
        pos.append(f"C{k}a,S02,1370000{k:04d},{card},1.00,cash,2026-03-01 10:00:00")
        pos.append(f"C{k}b,S02,1370000{k + 1:04d},{card},1.00,cash,2026-03-01 10:00:00")
    write(landing, "pos_transactions", "2026-11-01", POS, pos)


def _batch2(landing):  # an SMS login ties member M1 to the till's mobile 13900000002
    write(landing, "app_events", "2026-11-02", APP,
           ["E1,dev-0001-aaaa,,,,M1,13900000002,login,android,6.0.0,2026-11-02 10:00:00,"
            "2026-11-02 10:00:01"])


def _batch3(landing):  # another member gives the same mobile: it can no longer merge anyone
    # and keys seen before come again: M1's newer version, T1 re-sent, a till line without a key
    write(landing, "crm_members", "2026-11-03", CRM,
           ["M9,13900000002,,,,F,,,,app,gold,2026-11-03 10:00:00,2026-11-03 10:00:00",
            "M1,13900000001,,,,F,,,,app,platinum,2026-01-01 10:00:00,2026-11-03 11:00:00"])
    write(landing, "pos_transactions", "2026-11-03", POS,
           ["T1,S01,13900000002,600000000002,10.00,cash,2025-12-01 10:00:00",
            ",S01,13900000003,,5.00,cash,2026-11-03 10:00:00"])


def _customer(wh, target, t, v):
    rows = wh.query(target, f"select customer_id from marts.customer_identities"
                            f" where identifier_type = '{t}' and identifier_value = '{v}'")
    return rows[0][0] if rows else None


# what the merge test reads: staging, identity, the BI pseudonyms' key and the records
# resolved to customers (an incremental record model whose customers move with merges and
# splits), not profiles or tags
IDENTITY_BUILD = ("+customer_identities +customer_id_merges +identity_conflicts"
                  " +identity_graph_stats bi_pseudonym_key +int_profile_records_resolved")
# the incremental tables after staging, compared with their full refresh
RECORD_MODELS = ("int_identifier_occurrences_unioned", "int_profile_records_resolved")


@pytest.mark.parametrize("target", ENGINES)
def test_merges_splits_conflicts_and_incremental_equals_full_refresh(target, tmp_path, warehouses):
    landing = tmp_path / "landing"
    wh = warehouses

    _batch1(landing)
    wh.update(landing, target, select=IDENTITY_BUILD)
    a = _customer(wh, target, "member_id", "M1")
    b = _customer(wh, target, "mobile", "13900000002")
    assert a and b and a != b
    assert _customer(wh, target, "member_card_no", "600000000002") == b
    # the shared phone merges no one and is reported with how many it would have merged
    conflicts = wh.query(target, "select rule_broken, would_merge from marts.identity_conflicts"
                                 f" where identifier_value = '{SHARED_PHONE}'")
    assert conflicts == [("max_member_id_per_person", 30)]
    members = wh.query(target, "select count(distinct customer_id) from marts.customer_identities"
                               " where identifier_type = 'member_id' and identifier_value like 'S%'")
    assert members == [(30,)]
    # the chain is one component above the size limit: reported, not merged blindly
    chain = wh.query(target, "select count(*), min(would_merge) from marts.identity_conflicts"
                             " where rule_broken = 'component_too_large'")
    assert chain == [(2 * CHAIN + 1, 2 * CHAIN + 1)]
    assert _customer(wh, target, "mobile", "13700000000") != _customer(wh, target, "mobile",
                                                                         "13700000001")
    stats = wh.query(target, "select largest_component, rounds, recomputed_identifiers,"
                             " identifiers from marts.identity_graph_stats order by computed_at")
    largest, rounds, recomputed, identifiers = stats[-1]
    assert largest == 2 * CHAIN + 1 and rounds <= 2 * math.log2(largest) + 4
    assert recomputed == identifiers

    _batch2(landing)
    wh.update(landing, target, select=IDENTITY_BUILD)
    # A and B merge; B is older (seen in December), so its id survives
    merged = {(t, v): c for c, t, v in wh.query(target, IDENTITIES)}
    assert {merged[k] for k in [("member_id", "M1"), ("mobile", "13900000001"),
                                 ("mobile", "13900000002"), ("member_card_no", "600000000002"),
                                 ("device_id", "dev-0001-aaaa")]} == {b}
    assert wh.query(target, "select old_customer_id, new_customer_id, reason"
                            " from marts.customer_id_merges") == [(a, b, "merge")]
    assert _record_customer(wh, target, "E1") == b
    stats = wh.query(target, "select recomputed_identifiers, identifiers"
                             " from marts.identity_graph_stats order by computed_at")
    recomputed, identifiers = stats[-1]
    assert 0 < recomputed < identifiers / 10  # only the touched components were recomputed

    _batch3(landing)
    wh.update(landing, target, select=IDENTITY_BUILD)
    assert _customer(wh, target, "mobile", "13900000002") is None  # now a conflict
    assert _customer(wh, target, "member_id", "M1") == a  # M1's group founds A again
    # E1 was resolved before; its member id's customer changed, so it moves with it
    assert _record_customer(wh, target, "E1") == a
    k2 = _customer(wh, target, "member_card_no", "600000000002")
    assert k2 not in (a, b)
    splits = wh.query(target, "select old_customer_id, new_customer_id, reason from"
                              " marts.customer_id_merges where reason = 'split' order by 2")
    allm = wh.query(target, "select * from marts.customer_id_merges order by merged_at")
    assert sorted(splits) == sorted([(b, a, "split"), (b, k2, "split")]), (a, b, k2, allm)

    # the base models were built incrementally too (new batches and the keys they touch)
    assert wh.query(target, "select loyalty_tier from staging.stg_crm__members"
                            " where member_id = 'M1'") == [("platinum",)]
    incremental = wh.query(target, IDENTITIES), _incremental_tables(wh, target)
    pseudonym_key = wh.query(target, "select hash_key, created_at from privacy.bi_pseudonym_key")
    wh.build(target, full_refresh=True, select=IDENTITY_BUILD)
    assert (wh.query(target, IDENTITIES), _incremental_tables(wh, target)) == incremental
    # a full refresh rebuilds everything but the BI pseudonyms' key: BI keeps its joins
    assert wh.query(target, "select hash_key, created_at from privacy.bi_pseudonym_key") == pseudonym_key

    # a new junk rule flags the identifier in the records already read, not only in new ones
    wh.query(target, "insert into seeds.identifier_blocklist (identifier_type, match_type, pattern, reason)"
                     " values ('member_card_no', 'exact', '600000000002', 'shared_card') returning reason")
    wh.build(target, select="int_identifier_occurrences_unioned")
    flags = wh.query(target, "select distinct is_junk, junk_reason from intermediate.int_identifier_occurrences_unioned"
                             " where identifier_value = '600000000002'")
    assert flags == [(True, "shared_card")]

    # a record gone from staging leaves the occurrences, then the records resolved from them
    with wh.connection(target) as con:
        con.execute("delete from staging.base_app__events where event_id = 'E1'")
    wh.build(target, select="int_identifier_occurrences_unioned int_profile_records_resolved")
    assert wh.query(target, "select count(*) from intermediate.int_identifier_occurrences_unioned"
                            " where record_key = 'E1'") == [(0,)]
    assert _record_customer(wh, target, "E1") == []

    # a record model built before it had its stamp fails naming the rebuild that fixes it
    with wh.connection(target) as con:
        con.execute("alter table intermediate.int_profile_records_resolved drop column built_at")
    with pytest.raises(RuntimeError, match="--full-refresh --select int_profile_records_resolved"):
        wh.build(target, select="int_profile_records_resolved")


def _record_customer(wh, target, event_id):
    rows = wh.query(target, "select customer_id from intermediate.int_profile_records_resolved"
                            f" where source_name = 'app_events' and record_key = '{event_id}'")
    return rows[0][0] if len(rows) == 1 else rows


# columns that say when a build wrote a row, which a full refresh writes again
BUILD_COLUMNS = {"_built_at", "built_at"}


def _incremental_tables(wh, target) -> dict[str, list[str]]:
    """Every row of every incremental table (base models: typed, quarantined, ranked; and the
    record models after them), in a stable order, without the build times."""
    tables = wh.query(target, "select table_schema, table_name from information_schema.tables where"
                              " (table_schema = 'staging' and table_name like 'base%') or (table_schema ="
                              f" 'intermediate' and table_name in ({', '.join(map(repr, RECORD_MODELS))}))")
    out = {}
    for schema, table in tables:
        columns = [c for (c,) in wh.query(target, "select column_name from information_schema.columns"
                                                  f" where table_schema = '{schema}' and table_name = '{table}'"
                                                  " order by ordinal_position") if c not in BUILD_COLUMNS]
        assert len(columns) > 3, (schema, table, columns)
        out[table] = sorted(map(repr, wh.query(target, f"select {', '.join(columns)} from {schema}.{table}")))
    assert set(RECORD_MODELS) <= set(out) and len(out) > 5, sorted(out)
    return out
