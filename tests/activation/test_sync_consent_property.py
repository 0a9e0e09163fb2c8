"""Property (hypothesis): over random consent histories, erasures and segment changes, no
customer whose consent for the sync's channel is revoked (or never granted where the channel
is opt-in), and no erased customer, is ever in a payload; and after each run the
destination holds exactly the sendable members.

The consent mart is the real one: marts.customer_consents compiled by dbt and run on a
DuckDB holding the generated staged events; the sync is the real runner. The oracle below
is written from the rules, not from the SQL: per customer and channel, the events naming the
channel or `all`; the latest instant decides; a revocation at that instant wins; no event
means the channel's default in seeds/consent_channel_defaults.csv; erased is never sent."""

from __future__ import annotations

import csv
from datetime import datetime, timedelta

import duckdb
import pytest
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st
from sync_helpers import compiled_sql, make_sync

from orchestration.activation import state
from orchestration.activation.destinations.base import Destination
from orchestration.activation.runner import run_sync
from orchestration.activation.state import REMOVE, BatchOutcome
from orchestration.config import PROJECT_DIR
from orchestration.ingest.warehouse import Warehouse

CHANNELS = ["email", "sms", "push", "wechat", "ads", "all"]
DEFAULTS = {r["channel"]: r["is_granted_by_default"] == "true"
            for r in csv.DictReader((PROJECT_DIR / "seeds" / "consent_channel_defaults.csv").open())}
T0 = datetime(2026, 1, 1)


@pytest.fixture(scope="module")
def consent_sql() -> str:
    return compiled_sql("customer_consents", "privacy")


class MemoryWarehouse(Warehouse):
    def __init__(self):
        super().__init__()
        self.con = duckdb.connect()

    def execute(self, sql, params=None):
        return self.con.execute(sql, params or [])


class Capture(Destination):
    """Records every payload and keeps the audience it would hold."""
    type = "capture"

    def __init__(self, sync):
        super().__init__(sync)
        self.sent: list[tuple[str, str]] = []
        self.audience: set[str] = set()

    def send(self, batch):
        for op in batch.ops:
            self.sent.append((op.op, op.key))
            (self.audience.discard if op.op == REMOVE else self.audience.add)(op.key)
        return BatchOutcome(acknowledged=list(batch.ops))


def oracle(channel: str, events: list[dict], erased: set[int], customers: int) -> set[str]:
    sendable = set()
    for c in range(customers):
        mine = [e for e in events if e["customer"] == c and e["channel"] in (channel, "all")]
        if mine:
            latest = max(e["at"] for e in mine)
            granted = all(e["granted"] for e in mine if e["at"] == latest)
        else:
            granted = DEFAULTS[channel]
        if granted and c not in erased:
            sendable.add(f"c{c}")
    return sendable


# four customers, three instants: ties between a grant and a revocation happen often
event = st.fixed_dictionaries({"customer": st.integers(0, 3), "via_email": st.booleans(),
                               "channel": st.sampled_from(CHANNELS), "granted": st.booleans(),
                               "at": st.integers(0, 2)})


def load(wh: MemoryWarehouse, sql: str, events: list[dict], erased: set[int], members: set[int]) -> None:
    wh.execute("drop table if exists staging.stg_privacy__consent_events")
    wh.execute("create table staging.stg_privacy__consent_events (event_id varchar, identifier_type varchar, "
               "identifier_value varchar, channel varchar, is_granted boolean, event_at timestamp)")
    for i, e in enumerate(events):
        c = e["customer"]
        kind, value = ("email", f"c{c}@x.cn") if e["via_email"] else ("mobile", f"1380000000{c}")
        wh.execute("insert into staging.stg_privacy__consent_events values (?, ?, ?, ?, ?, ?)",
                   [f"e{i:04d}", kind, value, e["channel"], e["granted"], T0 + timedelta(hours=e["at"])])
    wh.execute("delete from staging.stg_privacy__erasure_requests")
    for c in erased:
        wh.execute("insert into staging.stg_privacy__erasure_requests values (?, 'mobile', ?, ?)",
                   [f"r{c}", f"1380000000{c}", T0])
    wh.execute("delete from marts.segment_memberships")
    for c in members:
        wh.execute("insert into marts.segment_memberships values ('seg', ?)", [f"c{c}"])
    wh.execute("drop table if exists marts.customer_consents")
    wh.execute(f"create table marts.customer_consents as {sql}")


def fresh(consent_sql) -> MemoryWarehouse:
    wh = MemoryWarehouse()
    for schema in ("marts", "staging", "seeds"):
        wh.execute(f"create schema {schema}")
    wh.execute("create table marts.customer_profiles (customer_id varchar, loyalty_tier varchar)")
    wh.execute("create table marts.customer_identities (customer_id varchar, identifier_type varchar, "
               "identifier_value varchar)")
    for c in range(6):
        wh.execute("insert into marts.customer_profiles values (?, 'gold')", [f"c{c}"])
        wh.execute("insert into marts.customer_identities values (?, 'mobile', ?), (?, 'email', ?)",
                   [f"c{c}", f"1380000000{c}", f"c{c}", f"c{c}@x.cn"])
    wh.execute("create table staging.stg_privacy__erasure_requests (request_id varchar, identifier_type varchar, "
               "identifier_value varchar, requested_at timestamp)")
    wh.execute("create table seeds.consent_channel_defaults as select * from read_csv(?, header = true)",
               [str(PROJECT_DIR / "seeds" / "consent_channel_defaults.csv")])
    wh.execute("create table marts.segment_memberships (segment_id varchar, customer_id varchar)")
    state.ensure_tables(wh)
    return wh


def ev(customer, channel, granted, at, via_email=False):
    return {"customer": customer, "via_email": via_email, "channel": channel, "granted": granted, "at": at}


@pytest.mark.slow  # starts dbt
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture],
          phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink])
# a grant and a revocation at the same instant (through two identifiers): revoked
@example(channel="sms", first=[ev(0, "sms", True, 1), ev(0, "sms", False, 1, via_email=True)], later=[],
         erased_first=set(), erased_later=set(), members_first={0, 1, 2}, members_later={0, 1, 2})
# a later revocation of `all` overrides a channel grant; a later grant of `all` lifts a revocation
@example(channel="email", first=[ev(0, "email", True, 0), ev(1, "email", False, 0)],
         later=[ev(0, "all", False, 1), ev(1, "all", True, 2)], erased_first=set(), erased_later={2},
         members_first={0, 1, 2}, members_later={0, 1, 2})
@given(channel=st.sampled_from(CHANNELS),
       first=st.lists(event, max_size=14), later=st.lists(event, max_size=8),
       erased_first=st.sets(st.integers(0, 5), max_size=2), erased_later=st.sets(st.integers(0, 5), max_size=2),
       members_first=st.sets(st.integers(0, 5), min_size=3), members_later=st.sets(st.integers(0, 5), min_size=3))
def test_no_revoked_or_erased_customer_is_ever_sent(consent_sql, channel, first, later, erased_first,
                                                    erased_later, members_first, members_later):
    wh = fresh(consent_sql)
    sync = make_sync(consent_channel=channel, batch_size=4)
    dest = Capture(sync)
    events, erased = list(first), set(erased_first)
    for phase_events, phase_erased, members in ((first, erased_first, members_first),
                                                (later, erased_later, members_later)):
        events = events + list(phase_events) if phase_events is not first else events
        erased |= phase_erased
        load(wh, consent_sql, events, erased, members)
        allowed = oracle(channel, events, erased, 6) & {f"c{c}" for c in members}
        dest.sent.clear()
        run_sync(wh, sync, destination=dest)
        sent = {key for op, key in dest.sent if op != REMOVE}
        assert sent <= allowed, f"sent {sorted(sent - allowed)} whose consent for {channel} is not granted"
        assert dest.audience == allowed
    wh.close()
