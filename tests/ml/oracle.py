"""The planted churn process's own prediction of each label (the generator's truth), to judge
the models against: what a model that knew every person's latent state would score."""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np

YEAR_DAYS = 365.0


def truth_by_customer(truth: Path, identities: list[tuple[str, str, str]]) -> dict[str, tuple]:
    """customer_id -> (purchase_rate, churn_at) of the person most of its identifiers belong to."""
    con = duckdb.connect()
    con.execute("create table ident (customer_id varchar, identifier_type varchar, identifier_value varchar)")
    con.executemany("insert into ident values (?, ?, ?)", identities)
    rows = con.execute(f"""
        with votes as (
            select i.customer_id, t.person_id, count(*) as n
            from ident i join '{truth / 'identifiers.parquet'}' t using (identifier_type, identifier_value)
            group by all
        ), best as (
            select customer_id, arg_max(person_id, n) as person_id from votes group by customer_id
        )
        select b.customer_id, c.purchase_rate, c.churn_at
        from best b join '{truth / 'churn.parquet'}' c using (person_id)
    """).fetchall()
    return {cid: (rate, churn_at) for cid, rate, churn_at in rows}


def oracle_scores(model: str, customers: list[str], as_of, truth: dict, horizon_days: int) -> np.ndarray:
    """P(label) under the planted process alone: repeat orders at the person's rate until churn_at."""
    out = []
    for cid in customers:
        rate, churn_at = truth.get(cid, (0.0, None))
        active_days = horizon_days
        if churn_at is not None:
            active_days = min(horizon_days, max(0.0, (churn_at - as_of).total_seconds() / 86400))
        p_none = float(np.exp(-rate * active_days / YEAR_DAYS))
        out.append(p_none if model == "churn_risk" else 1.0 - p_none)
    return np.array(out)
