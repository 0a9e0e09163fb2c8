"""On the generated sample, built on DuckDB and PostgreSQL: the consent mart follows the
rules (recomputed here from the staged events), the engines agree, and the repository's
webhook sync sends only sendable members, records its holdout, and logs its runs."""

from __future__ import annotations

import csv

import pytest
from sync_helpers import SECRET

from orchestration.activation.config import load_syncs
from orchestration.config import PROJECT_DIR

ENGINES = ["duckdb", "postgres"]
CHANNELS = ["email", "sms", "push", "wechat", "ads", "all"]


def expected_consents(built, target) -> dict:
    owner = {(ty, v): c for c, ty, v in built.query(
        target, "select customer_id, identifier_type, identifier_value from marts.customer_identities")}
    customers = {c for (c,) in built.query(target, "select customer_id from marts.customer_profiles")}
    defaults = {r["channel"]: r["is_granted_by_default"] == "true"
                for r in csv.DictReader((PROJECT_DIR / "seeds" / "consent_channel_defaults.csv").open())}
    events: dict = {}
    for ty, v, channel, granted, at in built.query(
            target, "select identifier_type, identifier_value, channel, is_granted, event_at "
                    "from staging.stg_privacy__consent_events"):
        if (ty, v) in owner:
            events.setdefault(owner[(ty, v)], []).append((channel, granted, at))
    erased = {owner[(ty, v)] for ty, v in built.query(
        target, "select identifier_type, identifier_value from staging.stg_privacy__erasure_requests")
        if (ty, v) in owner}
    out = {}
    for c in customers:
        for ch in CHANNELS:
            mine = [(g, at) for channel, g, at in events.get(c, []) if channel in (ch, "all")]
            if mine:
                latest = max(at for _, at in mine)
                granted = all(g for g, at in mine if at == latest)  # a revocation wins a tie
            else:
                granted = defaults[ch]
            out[(c, ch)] = (granted, c in erased, granted and c not in erased)
    return out


@pytest.mark.slow
@pytest.mark.parametrize("target", ENGINES)
def test_the_consent_mart_follows_the_rules(built, target):
    mart = {(c, ch): (g, e, s) for c, ch, g, e, s in built.query(
        target, "select customer_id, channel, is_granted, is_erased, is_sendable from marts.customer_consents")}
    expected = expected_consents(built, target)
    assert mart == expected
    assert sum(1 for g, _, _ in mart.values() if not g) > 0 and sum(1 for _, e, _ in mart.values() if e) > 0


@pytest.mark.slow
def test_the_engines_agree_on_consents(built):
    sql = "select * from marts.customer_consents order by customer_id, channel"
    duck = built.query("duckdb", sql)
    assert len(duck) > 0 and duck == built.query("postgres", sql)


@pytest.mark.slow
@pytest.mark.parametrize("target", ENGINES)
def test_the_webhook_sync_sends_only_sendable_members(built, target, receiver, monkeypatch):
    from orchestration.activation.runner import run_sync

    sync = next(s for s in load_syncs() if s.name == "lapsed_buyers_sms")
    monkeypatch.setenv("CDP_SYNC_SMS_GATEWAY_URL", f"http://127.0.0.1:{receiver.server.server_port}/audience")
    monkeypatch.setenv("CDP_SYNC_SMS_GATEWAY_SECRET", SECRET)
    with built.connection(target) as wh:
        first = run_sync(wh, sync)
        second = run_sync(wh, sync)
    sendable = {c for c, s in built.query(
        target, "select customer_id, is_sendable from marts.customer_consents where channel = 'sms'") if s}
    members = {c for (c,) in built.query(
        target, "select customer_id from marts.segment_memberships where segment_id = 'lapsed_buyers'")}
    groups = dict(built.query(target, "select customer_id, assignment_group from marts.campaign_assignments "
                                      "where campaign_id = 'recall_lapsed_2026q4'"))
    treated = {c for c in members & sendable if groups[c] == "treatment"}
    assert set(receiver.audience) == treated and first.added == len(treated) > 0
    assert first.suppressed == len(members - sendable) > 0
    assert first.held_out == sum(1 for c in members & sendable if groups[c] == "holdout")
    assert set(groups) == members & sendable
    assert (second.added, second.changed, second.removed) == (0, 0, 0)
    assert set(next(iter(receiver.audience.values()))) == {"tier", "mobile"}
    runs = built.query(target, "select status, rows_added from marts.sync_runs where sync_id = 'lapsed_buyers_sms' "
                               "order by started_at")
    assert runs[-2:] == [("succeeded", len(treated)), ("succeeded", 0)]
