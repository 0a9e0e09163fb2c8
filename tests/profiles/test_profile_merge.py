"""A merge of two customers (customer_id_merges) moves their orders, tags and segment
memberships to the surviving id, and the history keeps what was true before."""

from __future__ import annotations

import pytest


def _customer(wh, target, t, v):
    rows = wh.query(target, f"select customer_id from marts.customer_identities"
                            f" where identifier_type = '{t}' and identifier_value = '{v}'")
    return rows[0][0] if rows else None


def _tags(wh, target, customer):
    return dict(wh.query(target, "select tag_name, tag_value from marts.customer_tags"
                                 f" where customer_id = '{customer}'"))


def _segments(wh, target, customer):
    return {s for (s,) in wh.query(target, "select segment_id from marts.segment_memberships"
                                           f" where customer_id = '{customer}'")}


@pytest.mark.parametrize("target", ["duckdb", "postgres"])
def test_a_merge_moves_orders_tags_and_segments_to_the_surviving_id(target, service_data, service_pg):
    """The merge scenario of tests/merge_scenario.py (A: a new gold member with an online
    order; B: a till customer known by mobile and card; then an SMS login ties A to B's
    mobile), read before the second batch (v1) and after it."""
    scenario = service_data if target == "duckdb" else service_pg
    before, wh = scenario["v1_wh"], scenario["wh"]
    a = _customer(before, target, "member_id", "M1")
    b = _customer(before, target, "mobile", "13900000002")
    assert a and b and a != b
    assert _tags(before, target, a)["order_count"] == "1" and _tags(before, target, b)["order_count"] == "1"
    assert "new_members_first_30d" in _segments(before, target, a)
    assert "lapsed_buyers" in _segments(before, target, b)  # B last bought almost a year ago

    # after the second batch: A merged into B (older, so its id survives)
    assert wh.query(target, "select old_customer_id, new_customer_id, reason"
                            " from marts.customer_id_merges") == [(a, b, "merge")]
    for table in ("customer_profiles", "customer_metrics", "customer_tags", "segment_memberships",
                  "customer_profile_attributes", "customer_tags_wide"):
        assert wh.query(target, f"select count(*) from marts.{table} where customer_id = '{a}'") == [(0,)]
    metrics = wh.query(target, "select order_count, lifetime_value, online_order_count, store_order_count"
                               f" from marts.customer_metrics where customer_id = '{b}'")
    assert [tuple(map(float, r)) for r in metrics] == [(2, 110.5, 1, 1)]
    tags = _tags(wh, target, b)
    assert (tags["order_count"], tags["lifetime_value"], tags["member_tier"]) == ("2", "110.50", "gold")
    profile = wh.query(target, f"select full_name, city, mobile from marts.customer_profiles where customer_id = '{b}'")
    assert profile == [("张伟", "杭州", "13800138000")]  # the CRM mobile beats the till's
    # B now holds A's membership: it is in A's segment, and left the recall segment (bought recently)
    assert _segments(wh, target, b) == {"new_members_first_30d", "birthday_this_month"}
    events = set(wh.query(target, "select customer_id, segment_id, event_type from marts.segment_membership_events"))
    assert {(a, "new_members_first_30d", "exited"), (b, "new_members_first_30d", "entered"),
            (b, "lapsed_buyers", "exited")} <= events
    # the history still says who A was
    closed = wh.query(target, "select loyalty_tier from snapshots.customer_profile_history"
                              f" where customer_id = '{a}' and dbt_valid_to is not null")
    assert closed == [("gold",)]
