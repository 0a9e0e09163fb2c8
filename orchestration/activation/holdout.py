"""Campaign holdouts: a deterministic share of each campaign's audience is a control group,
never sent, recorded in activation.campaign_assignments (marts.campaign_assignments).

The group is a hash of campaign and customer (SHA-256, the first 60 bits as a fraction of
2^60, below the share means holdout): the same on every run, machine and engine, and
independent between campaigns. The first recorded assignment wins afterwards, so changing
a campaign's share never moves a customer who was already assigned."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from orchestration.activation.config import Holdout

TREATMENT, HOLDOUT = "treatment", "holdout"


def hashed_group(campaign: str, customer_id: str, share: float) -> str:
    digest = hashlib.sha256(f"{campaign}\x1f{customer_id}".encode()).hexdigest()
    return HOLDOUT if int(digest[:15], 16) / 16**15 < share else TREATMENT


def assign(wh, holdout: Holdout, customer_ids: list[str], record: bool = True) -> dict[str, str]:
    """customer_id -> group for every given customer; new assignments recorded unless a dry run."""
    known = dict(wh.execute(
        "select customer_id, assignment_group from activation.campaign_assignments where campaign_id = ?",
        [holdout.campaign]).fetchall())
    groups, new = {}, []
    for customer_id in customer_ids:
        group = known.get(customer_id)
        if group is None:
            group = hashed_group(holdout.campaign, customer_id, holdout.share)
            new.append((holdout.campaign, customer_id, group))
        groups[customer_id] = group
    if record and new:
        now = datetime.now(UTC).replace(tzinfo=None)
        with wh.transaction():
            for start in range(0, len(new), 5000):
                _insert(wh, [(*row, now) for row in new[start:start + 5000]])
    return groups


def _insert(wh, rows: list[tuple]) -> None:
    wh.upsert("activation.campaign_assignments", ("campaign_id", "customer_id"),
              ("campaign_id", "customer_id", "assignment_group", "assigned_at"), rows, replace=False)
