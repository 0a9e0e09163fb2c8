"""Profiles, tags and segments against an independent recomputation (tests/profiles/truth.py)
from the generator's truth and the staged rows, on DuckDB and PostgreSQL alike."""

from __future__ import annotations

import shutil
from collections import Counter
from decimal import Decimal

import pytest

from tests.profiles import truth as t

ENGINES = ["duckdb", "postgres"]
METRICS = ("select customer_id, order_count, lifetime_value, last_purchase_at,"
           " days_since_last_purchase, rfm_recency_score, rfm_frequency_score,"
           " rfm_monetary_score, lifecycle_stage, as_of_date from marts.customer_metrics")


def _identity(built, target):
    owner = {(ty, v): c for c, ty, v in built.query(
        target, "select customer_id, identifier_type, identifier_value from marts.customer_identities")}
    priority = dict(built.query(target, "select identifier_type, priority from seeds.identity_rules"))
    return owner, priority


def _metrics(built, target) -> dict:
    return {r[0]: r[1:] for r in built.query(target, METRICS)}


@pytest.mark.parametrize("target", ENGINES)
def test_order_count_ltv_and_recency_match_the_generators_people(built, sample, target):
    """Per person of the truth whose orders all resolve to one customer that holds no one
    else's identifiers, the mart's order count, lifetime value, last purchase and days
    since it equal a count of the person's orders (each order's person read from its
    identifiers and the truth, not from the identity graph)."""
    people = t.truth_people(sample["truth"])
    owner, priority = _identity(built, target)
    persons_of = {}
    for key, customer in owner.items():
        persons_of.setdefault(customer, set()).add(people.get(key))

    def person_of(ids):
        found = {people[(ty, v)] for ty, v in ids.items() if (ty, v) in people}
        return found.pop() if len(found) == 1 else None

    order_rows = t.orders(lambda sql: built.query(target, sql))
    per_person = t.buyers(order_rows, person_of)
    customers_of = {}
    for status, _, _, _, ids in order_rows:
        if status == "paid" and person_of(ids) is not None:
            customers_of.setdefault(person_of(ids), set()).add(t.resolve_by_priority(ids, owner, priority))
    metrics = _metrics(built, target)
    as_of = next(iter(metrics.values()))[-1]
    max_seen = built.query(target, "select max(last_seen_at) from marts.customer_identities")[0][0]
    assert as_of == max_seen.date()
    compared = 0
    for person, b in per_person.items():
        customers = customers_of.get(person, set())
        if len(customers) != 1 or None in customers:
            continue  # the person's orders were not all linked together: the identity ceiling
        customer = next(iter(customers))
        if persons_of[customer] != {person}:
            continue
        orders, ltv, last, days = metrics[customer][:4]
        assert (orders, Decimal(ltv), last) == (b.orders, b.ltv, b.last), (person, customer)
        assert days == (as_of - b.last.date()).days
        compared += 1
    assert compared >= 0.8 * len(per_person), (compared, len(per_person))
    # nobody in the truth bought nothing and still has money in the mart
    assert all(m[1] == 0 for c, m in metrics.items() if m[0] == 0)


@pytest.mark.parametrize("target", ENGINES)
def test_rfm_lifecycle_and_two_segments_match_a_recomputation(built, target):
    """RFM scores, lifecycle stages and two segments, recomputed from the staged orders and
    events and the identity map with the documented formulas, equal the marts."""
    owner, priority = _identity(built, target)
    query = lambda sql: built.query(target, sql)  # noqa: E731
    stats = t.buyers(t.orders(query), lambda ids: t.resolve_by_priority(ids, owner, priority))
    metrics = _metrics(built, target)
    as_of = next(iter(metrics.values()))[-1]
    expected = t.rfm(stats)
    got = {c: m[4:7] for c, m in metrics.items() if m[0] > 0}
    assert got == expected
    assert len(set(expected.values())) > 20  # the scores spread
    stages = {c: t.lifecycle(stats.get(c), as_of) for c in metrics}
    assert stages == {c: m[7] for c, m in metrics.items()}
    assert set(Counter(stages.values())) == {"prospect", "new", "active", "lapsing", "churned"}

    segments = Counter()
    members = {}
    for seg, customer in built.query(target, "select segment_id, customer_id from marts.segment_memberships"):
        members.setdefault(seg, set()).add(customer)
        segments[seg] += 1
    browsed = {t.resolve_by_priority(ids, owner, priority)
               for etype, _, ids in t.events(query) if etype in ("page_view", "product_view")}
    browsed.discard(None)
    assert members["browsed_never_bought"] == {c for c in browsed if c not in stats}
    assert members["lapsed_buyers"] == {c for c, s in stages.items() if s in ("lapsing", "churned")}
    assert all(segments[s] > 0 for s in ("browsed_never_bought", "lapsed_buyers"))


def test_engines_agree_row_for_row(built):
    tables = {"customer_profiles": "customer_id", "customer_metrics": "customer_id",
              "customer_profile_attributes": "customer_id, attribute_name, source_name, attribute_value",
              "customer_tags": "customer_id, tag_name", "products": "sku", "stores": "store_id",
              "customer_product_affinity": "customer_id, category",
              "segment_memberships": "segment_id, customer_id"}
    skip = {"computed_at", "entered_at"}
    for table, key in tables.items():
        cols = [c for (c,) in built.query("duckdb", "select column_name from information_schema.columns"
                                                    f" where table_schema = 'marts' and table_name = '{table}'"
                                                    " order by ordinal_position") if c not in skip]
        sql = f"select {', '.join(cols)} from marts.{table} order by {key}"
        duck, pg = built.query("duckdb", sql), built.query("postgres", sql)
        assert len(duck) > 0 and duck == pg, table


def test_profile_attributes_explain_every_profile_value(built):
    """Exactly one winner per (customer, attribute), and the profile shows the winner."""
    winners = built.query("duckdb", "select customer_id, attribute_name, count(*)"
                                    " from marts.customer_profile_attributes where is_winner"
                                    " group by 1, 2 having count(*) <> 1")
    assert winners == []
    mismatched = built.query("duckdb", """
        select count(*) from marts.customer_profiles as p
        inner join marts.customer_profile_attributes as a
            on p.customer_id = a.customer_id and a.is_winner and a.attribute_name = 'city'
        where p.city is distinct from a.attribute_value""")
    cities = built.query("duckdb", "select count(*) from marts.customer_profiles where city is not null")
    assert mismatched == [(0,)] and cities[0][0] > 0
    # the best mobile is one of the customer's own identifiers, never junk
    foreign = built.query("duckdb", """
        select count(*) from marts.customer_profiles as p
        left join marts.customer_identities as i
            on p.customer_id = i.customer_id and i.identifier_type = 'mobile' and i.identifier_value = p.mobile
        where p.mobile is not null and i.customer_id is null""")
    assert foreign == [(0,)]


def test_tag_catalog_long_and_wide_agree_with_the_registry(built):
    catalog = built.query("duckdb", "select tag_name, tag_kind, customers_tagged, customer_count, is_historised"
                                    " from marts.tag_catalog order by tag_order")
    names = [r[0] for r in catalog]
    assert {"lifetime_value", "rfm_group", "lifecycle_stage", "birthday_month"} <= set(names)
    wide_cols = [c for (c,) in built.query("duckdb", "select column_name from information_schema.columns"
                                                     " where table_schema = 'marts'"
                                                     " and table_name = 'customer_tags_wide'"
                                                     " order by ordinal_position")]
    assert wide_cols == ["customer_id", *names, "computed_at"]
    counts = dict(built.query("duckdb", "select tag_name, count(*) from marts.customer_tags group by 1"))
    customers = built.query("duckdb", "select count(*) from marts.customer_profiles")[0][0]
    for name, _, tagged, total, _ in catalog:
        assert tagged == counts.get(name, 0) and total == customers
    # the tag history keeps a column for every tag but those declared `history: false`
    historised = [name for name, *_, is_historised in catalog if is_historised]
    assert "days_since_last_purchase" not in historised and "rfm_group" in historised
    history_cols = [c for (c,) in built.query("duckdb", "select column_name from information_schema.columns"
                                                        " where table_schema = 'snapshots'"
                                                        " and table_name = 'customer_tag_history'"
                                                        " order by ordinal_position")]
    assert [c for c in history_cols if not c.startswith("dbt_")] == ["customer_id", *historised]
    open_rows = built.query("duckdb", "select customer_id, rfm_group from snapshots.customer_tag_history"
                                      " where dbt_valid_to is null order by customer_id")
    assert open_rows == built.query("duckdb", "select customer_id, rfm_group from marts.customer_tags_wide"
                                              " order by customer_id")
    for name in names:  # the long table holds exactly the wide table's non-null values
        wide = built.query("duckdb", f"select count(*) from marts.customer_tags_wide where {name} is not null")
        assert wide[0][0] == counts.get(name, 0), name
    groups = dict(built.query("duckdb", "select tag_value, count(*) from marts.customer_tags"
                                        " where tag_name = 'rfm_group' group by 1"))
    assert {"champions", "lost"} <= set(groups)


def test_a_tag_history_in_the_old_layout_stops_the_build_naming_the_fix(built, tmp_path):
    """A warehouse built before the tag history became one row per customer still holds one
    row per (customer, tag): the snapshot refuses to continue it rather than mix layouts."""
    import duckdb

    from orchestration.dbt.runner import run_dbt

    copy = tmp_path / "copy.duckdb"
    shutil.copy(built.env["CDP_DUCKDB_PATH"], copy)
    with duckdb.connect(str(copy)) as con:
        con.execute("drop table snapshots.customer_tag_history")
        con.execute("create table snapshots.customer_tag_history (customer_id varchar, tag_name varchar,"
                    " tag_value varchar, computed_at timestamp, dbt_scd_id varchar, dbt_updated_at timestamp,"
                    " dbt_valid_from timestamp, dbt_valid_to timestamp)")
    built_env = dict(built.env)
    built.env["CDP_DUCKDB_PATH"] = str(copy)
    try:
        with built.active(), pytest.raises(RuntimeError, match="old layout of the tag history") as failed:
            run_dbt(["snapshot", "--select", "customer_tag_history"], "duckdb", quiet=True)
        assert "rename to customer_tag_history_by_tag" in str(failed.value)
        with duckdb.connect(str(copy)) as con:  # nothing was written to the old table
            assert con.execute("select count(*) from snapshots.customer_tag_history").fetchone() == (0,)
    finally:
        built.env.clear()
        built.env.update(built_env)


def test_segment_framework_collects_every_audience(built):
    sizes = dict(built.query("duckdb", "select segment_id, members from marts.segment_sizes"))
    assert len(sizes) == 7 and all(n > 0 for n in sizes.values()), sizes
    for segment, n in sizes.items():
        view = built.query("duckdb", f"select count(*) from segments.{segment}")[0][0]
        assert view == n, segment
    entered = built.query("duckdb", "select count(*) from marts.segment_membership_events"
                                    " where event_type = 'entered'")[0][0]
    assert entered == sum(sizes.values())


@pytest.mark.parametrize("target", ENGINES)
def test_summary_and_dagster_metadata_show_segment_sizes(built, target):
    from orchestration.profiles import metrics

    text = built.summaries[target]
    sizes = built.query(target, "select segment_id, members from marts.segment_sizes")
    for segment, members in sizes:
        assert any(line.split()[:2] == [segment, f"{members:,}"] for line in text.splitlines()), segment
    stages = built.query(target, "select tag_value, count(*) from marts.customer_tags"
                                 " where tag_name = 'lifecycle_stage' group by 1")
    assert all(f"{v} {n:,}" in text for v, n in stages)
    with built.active():
        md = metrics.collect(built.query, target)
    assert md["segment_memberships"]["dagster/row_count"] == sum(n for _, n in sizes)
    assert {f"segment/{s}": n for s, n in sizes} == md["segment_sizes"]
    assert md["customer_profiles"]["dagster/row_count"] > 0
