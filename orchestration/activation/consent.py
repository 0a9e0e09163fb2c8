"""The central consent and suppression filter: every sync's audience comes from here, whatever
its destination. A member is sendable only when marts.customer_consents says so for the
sync's channel (latest event wins, `all` covers every channel, the channel's default
without events, never when erased). A member without a consent row (not in the profiles
yet) is suppressed: unknown is never consent.

The query also brings the profile columns the sync maps and its identifiers; nothing else."""

from __future__ import annotations

from dataclasses import dataclass, field

from orchestration.activation.config import Sync
from orchestration.engines.dialect import quote
from orchestration.ingest.warehouse import lit

# Device identifiers come from the identity graph (a customer may have several: the smallest
# value is taken, so runs agree); e-mail and mobile from the golden profile.
DEVICE_IDENTIFIERS = ("imei", "idfa", "oaid")


@dataclass
class Audience:
    rows: list[dict]  # sendable members: customer_id, the mapped columns, the identifiers
    members: int = 0
    suppressed: int = 0
    suppressed_by_reason: dict[str, int] = field(default_factory=dict)


def audience_sql(sync: Sync, dialect: str = "duckdb") -> str:
    def q(name: str) -> str:
        return quote(dialect, name)

    members = (f"select customer_id from marts.segment_memberships where segment_id = {lit(sync.source.segment)}"
               if sync.source.segment else f"select customer_id from marts.{q(sync.source.model)}")
    columns = sorted(set(sync.fields.values()) | ({"email", "mobile"} & set(sync.identifiers)))
    devices = [t for t in DEVICE_IDENTIFIERS if t in sync.identifiers]
    device_cols = "".join(
        f",\n        (select min(i.identifier_value) from marts.customer_identities as i"
        f" where i.customer_id = m.customer_id and i.identifier_type = {lit(t)}) as {q('id_' + t)}"
        for t in devices)
    profile_cols = "".join(f",\n        p.{q(c)} as {q('col_' + c)}" for c in columns)
    return f"""
    with members as (select distinct customer_id from ({members}) as s)
    select
        m.customer_id,
        coalesce(c.is_sendable, false) as is_sendable,
        case
            when c.customer_id is null then 'no_consent_record'
            when c.is_erased then 'erased'
            when not c.is_granted then 'consent_not_granted'
        end as suppression_reason{profile_cols}{device_cols}
    from members as m
    left join marts.customer_consents as c
        on c.customer_id = m.customer_id and c.channel = {lit(sync.consent_channel)}
    left join marts.customer_profiles as p on p.customer_id = m.customer_id
    order by m.customer_id
    """


def audience(wh, sync: Sync) -> Audience:
    """The sync's sendable members (and how many were suppressed, by reason)."""
    cur = wh.execute(audience_sql(sync, wh.dialect))
    names = [d[0] for d in cur.description]
    out = Audience(rows=[])
    for values in cur.fetchall():
        row = dict(zip(names, values, strict=True))
        out.members += 1
        # the one place a member is kept or dropped for consent: is_sendable must be true
        if row.pop("is_sendable") is True:
            row.pop("suppression_reason")
            out.rows.append(row)
        else:
            reason = row["suppression_reason"] or "consent_not_granted"
            out.suppressed += 1
            out.suppressed_by_reason[reason] = out.suppressed_by_reason.get(reason, 0) + 1
    return out


def source_columns(row: dict) -> dict:
    """A member row as the destinations see it: profile columns by name, identifiers by type."""
    out = {"customer_id": row["customer_id"]}
    for name, value in row.items():
        if name.startswith("col_"):
            out[name[4:]] = value
        elif name.startswith("id_"):
            out[name[3:]] = value
    return out
