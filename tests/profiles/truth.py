"""Independent recomputation, in Python, of what the profile marts should say: order facts
from the staged tables, people from the generator's truth or customers from the identity
map, and the documented formulas (RFM ranks, lifecycle, segments) written again here."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

import duckdb

# the identifier columns each order source carries (staged, normalised)
ORDER_IDENTIFIERS = {
    "shop": ("select order_id, status, amount, currency, ordered_at, member_id, mobile, email,"
             " device_id from staging.stg_shop__orders",
             ("member_id", "mobile", "email", "device_id")),
    "pos": ("select txn_id, 'paid', amount, 'CNY', txn_at, mobile, member_card_no"
            " from staging.stg_pos__transactions", ("mobile", "member_card_no")),
}
EVENTS = {
    "web": ("select event_type, event_at, member_id, anonymous_id from staging.stg_web__events",
            ("member_id", "anonymous_id")),
    "app": ("select event_type, event_at, member_id, mobile, idfa, imei, oaid, device_id"
            " from staging.stg_app__events",
            ("member_id", "mobile", "idfa", "imei", "oaid", "device_id")),
}


@dataclass
class Buyer:
    orders: int = 0
    ltv: Decimal = Decimal("0")
    last: object = None
    first: object = None
    dates: list = field(default_factory=list)


def orders(query) -> list[tuple]:
    """(status, amount, currency, ordered_at, {identifier_type: value}) for every staged order."""
    out = []
    for sql, types in ORDER_IDENTIFIERS.values():
        for row in query(sql):
            ids = {t: v for t, v in zip(types, row[5:], strict=True) if v is not None}
            out.append((row[1], row[2], row[3], row[4], ids))
    return out


def events(query) -> list[tuple]:
    out = []
    for sql, types in EVENTS.values():
        for row in query(sql):
            out.append((row[0], row[1], {t: v for t, v in zip(types, row[2:], strict=True) if v is not None}))
    return out


def truth_people(truth_dir) -> dict:
    rows = duckdb.sql(f"select identifier_type, identifier_value, person_id from "
                      f"read_parquet('{truth_dir}/identifiers.parquet')").fetchall()
    return {(t, v): p for t, v, p in rows}


def resolve_by_priority(ids: dict, owner: dict, priority: dict):
    """The owner (customer) of the highest-priority identifier that has one."""
    known = [(priority[t], owner[(t, v)]) for t, v in ids.items() if (t, v) in owner]
    return min(known)[1] if known else None


def buyers(order_rows, who) -> dict:
    """Per owner: paid orders, net CNY, first and last purchase; `who(ids)` names the owner."""
    out: dict = defaultdict(Buyer)
    for status, amount, currency, at, ids in order_rows:
        owner = who(ids)
        if owner is None or status != "paid" or (currency or "CNY") != "CNY":
            continue
        b = out[owner]
        b.orders += 1
        b.ltv += Decimal(str(amount))
        b.last = at if b.last is None or at > b.last else b.last
        b.first = at if b.first is None or at < b.first else b.first
    return out


def quintile_scores(values: dict) -> dict:
    """1 + floor(5 * (rank - 1) / n), rank() ascending (equal values share the lowest rank)."""
    ordered = sorted(values.values())
    first_index = {}
    for i, v in enumerate(ordered):
        first_index.setdefault(v, i)
    n = len(ordered)
    return {k: 1 + (5 * first_index[v]) // n for k, v in values.items()}


def rfm(stats: dict) -> dict:
    r = quintile_scores({c: b.last.date() for c, b in stats.items()})
    f = quintile_scores({c: b.orders for c, b in stats.items()})
    m = quintile_scores({c: b.ltv for c, b in stats.items()})
    return {c: (r[c], f[c], m[c]) for c in stats}


def lifecycle(b: Buyer | None, as_of: date) -> str:
    if b is None or b.orders == 0:
        return "prospect"
    if (as_of - b.first.date()).days < 30:
        return "new"
    since = (as_of - b.last.date()).days
    return "active" if since < 90 else "lapsing" if since < 180 else "churned"
