"""marts.campaign_effects recovers a planted uplift: 20,000 customers, a 20% holdout, a
conversion probability of 10% held out and 13% treated (planted uplift 0.03); the mart's
95% interval must contain 0.03 and exclude 0. Orders outside the window or before the
assignment do not count; the funnel counts treated customers per engagement step. The
mart's SQL is the real one, compiled by dbt and run on DuckDB (the full build runs it on
PostgreSQL too)."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

import duckdb
import pytest
from sync_helpers import compiled_sql

from orchestration.activation.holdout import hashed_group

T0 = datetime(2026, 10, 1)


@pytest.fixture(scope="module")
def effects_sql() -> str:
    return compiled_sql("campaign_effects", "activation")


@pytest.mark.slow  # starts dbt
def test_the_planted_uplift_is_recovered_within_its_interval(effects_sql):
    rng = random.Random(5)
    con = duckdb.connect()
    for schema in ("marts", "intermediate", "staging"):
        con.execute(f"create schema {schema}")
    con.execute("create table marts.campaign_assignments (campaign_id varchar, customer_id varchar, "
                "assignment_group varchar, assigned_at timestamp)")
    con.execute("create table intermediate.int_orders_unioned (order_id varchar, customer_id varchar, "
                "is_purchase boolean, ordered_at timestamp)")
    con.execute("create table marts.customer_identities (customer_id varchar, identifier_type varchar, "
                "identifier_value varchar)")
    con.execute("create table staging.stg_channels__engagements (campaign_id varchar, identifier_type varchar, "
                "identifier_value varchar, event_type varchar, event_at timestamp)")
    assignments, orders, identities, engagements = [], [], [], []
    truth = {"treatment": [0, 0], "holdout": [0, 0]}
    for i in range(20_000):
        c = f"c{i}"
        group = hashed_group("winback", c, 0.2)
        assignments.append(("winback", c, group, T0))
        converts = rng.random() < (0.13 if group == "treatment" else 0.10)
        truth[group][0] += 1
        truth[group][1] += converts
        if converts:
            orders.append((f"o{i}", c, True, T0 + timedelta(days=rng.uniform(0.1, 13.9))))
        # noise that must not count: after the window, before the assignment, not a purchase
        if rng.random() < 0.2:
            orders.append((f"late{i}", c, True, T0 + timedelta(days=20)))
        if rng.random() < 0.2:
            orders.append((f"early{i}", c, True, T0 - timedelta(days=3)))
        if rng.random() < 0.2:
            orders.append((f"refund{i}", c, False, T0 + timedelta(days=2)))
        identities.append((c, "mobile", f"1{i:010d}"))
        if group == "treatment" and i % 10 == 0:
            for step in ("delivered", "opened", "clicked")[: 1 + i % 3]:
                engagements.append(("winback", "mobile", f"1{i:010d}", step, T0))
    con.executemany("insert into marts.campaign_assignments values (?, ?, ?, ?)", assignments)
    con.executemany("insert into intermediate.int_orders_unioned values (?, ?, ?, ?)", orders)
    con.executemany("insert into marts.customer_identities values (?, ?, ?)", identities)
    con.executemany("insert into staging.stg_channels__engagements values (?, ?, ?, ?, ?)", engagements)

    cur = con.execute(effects_sql)
    names = [d[0] for d in cur.description]
    (row,) = [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
    assert (row["treated_customers"], row["holdout_customers"]) == (truth["treatment"][0], truth["holdout"][0])
    assert (row["treated_conversions"], row["holdout_conversions"]) == (truth["treatment"][1], truth["holdout"][1])
    assert row["uplift_ci_low"] < 0.03 < row["uplift_ci_high"]
    assert row["uplift_ci_low"] > 0
    treated_every_tenth = sum(1 for i in range(0, 20_000, 10) if hashed_group("winback", f"c{i}", 0.2) == "treatment")
    assert row["delivered_customers"] == treated_every_tenth
    assert row["clicked_customers"] == sum(1 for i in range(0, 20_000, 10)
                                           if hashed_group("winback", f"c{i}", 0.2) == "treatment" and i % 3 == 2)
