"""A merge of two customers (customer_id_merges) moves their orders, tags and segment
memberships to the surviving id, and the history keeps what was true before."""

from __future__ import annotations

import pytest

CRM = ("member_id,mobile,email,member_card_no,full_name,gender,birth_date,province,city,"
       "register_channel,loyalty_tier,registered_at,updated_at")
SHOP = "order_id,member_id,mobile,email,device_id,channel,status,amount,currency,ordered_at,updated_at"
POS = "txn_id,store_id,mobile,member_card_no,amount,payment_method,txn_at"
APP = ("event_id,device_id,idfa,imei,oaid,member_id,mobile,event_type,os,app_version,event_at,"
       "received_at")


def _write(landing, source, batch, header, rows):
    (landing / source).mkdir(parents=True, exist_ok=True)
    (landing / source / f"{batch}.csv").write_text("\n".join([header, *rows]) + "\n")


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
def test_a_merge_moves_orders_tags_and_segments_to_the_surviving_id(target, tmp_path, warehouses):
    landing, wh = tmp_path / "landing", warehouses
    # A: a new gold member with an online order; B: a till customer known by mobile and card
    _write(landing, "crm_members", "2026-11-01", CRM,
           ["M1,13900000001,,,王芳,F,1990-11-05,浙江,杭州,app,gold,2026-10-20 10:00:00,2026-10-20 10:00:00"])
    _write(landing, "shop_orders", "2026-11-01", SHOP,
           ["SO1,M1,,,,web,paid,100.00,CNY,2026-10-25 10:00:00,2026-10-25 10:00:00"])
    _write(landing, "pos_transactions", "2026-11-01", POS,
           ["T1,S01,13900000002,600000000002,10.50,cash,2025-12-01 10:00:00"])
    wh.update(landing, target)
    a = _customer(wh, target, "member_id", "M1")
    b = _customer(wh, target, "mobile", "13900000002")
    assert a and b and a != b
    assert _tags(wh, target, a)["order_count"] == "1" and _tags(wh, target, b)["order_count"] == "1"
    assert "new_members_first_30d" in _segments(wh, target, a)
    assert "lapsed_buyers" in _segments(wh, target, b)  # B last bought almost a year ago

    # an SMS login ties member M1 to B's mobile: A merges into B (older, so its id survives)
    _write(landing, "app_events", "2026-11-02", APP,
           ["E1,dev-0001-aaaa,,,,M1,13900000002,login,android,6.0.0,2026-11-02 10:00:00,"
            "2026-11-02 10:00:01"])
    wh.update(landing, target)
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
    assert profile == [("王芳", "杭州", "13900000001")]  # the CRM mobile beats the till's
    # B now holds A's membership: it is in A's segment, and left the recall segment (bought recently)
    assert _segments(wh, target, b) == {"new_members_first_30d", "birthday_this_month"}
    events = set(wh.query(target, "select customer_id, segment_id, event_type from marts.segment_membership_events"))
    assert {(a, "new_members_first_30d", "exited"), (b, "new_members_first_30d", "entered"),
            (b, "lapsed_buyers", "exited")} <= events
    # the history still says who A was
    closed = wh.query(target, "select loyalty_tier from snapshots.customer_profile_history"
                              f" where customer_id = '{a}' and dbt_valid_to is not null")
    assert closed == [("gold",)]
