"""Webhook syncs against a real HTTP server on 127.0.0.1 (orchestration/activation/receiver.py):
signature, idempotency, batches, rate limit, retries, rejections, diffs, consent, holdouts."""

from __future__ import annotations

import hashlib
import hmac
import json
import time

import pytest
from sync_helpers import make_sync

from orchestration.activation import holdout
from orchestration.activation.destinations import DestinationError
from orchestration.activation.runner import run_sync


def people(mini, n=7, **kw):
    for i in range(n):
        mini.customer(f"c{i}", mobile=f"1380000000{i}", **kw)


def test_batches_are_signed_with_hmac_and_carry_only_the_mapped_fields(mini, receiver):
    people(mini, 7)
    result = run_sync(mini.wh, make_sync(identifiers=["mobile"]))
    assert (result.added, result.batches) == (7, 3)  # batch_size 3
    assert receiver.bad_signatures == 0 and len(receiver.bodies) == 3
    fields = {k for body in receiver.bodies for op in body["operations"] for k in op["fields"]}
    assert fields == {"tier", "mobile"}  # not the e-mail, the name or the city the profile also has
    assert receiver.audience["c3"] == {"tier": "gold", "mobile": "13800000003"}


def test_a_wrong_key_is_refused_and_the_sync_fails_naming_the_cause(mini, receiver, monkeypatch):
    people(mini, 2)
    monkeypatch.setenv("TEST_HOOK_SECRET", "not-the-key")
    with pytest.raises(DestinationError, match="HTTP 401"):
        run_sync(mini.wh, make_sync())
    assert receiver.bad_signatures == 1 and receiver.audience == {}
    assert mini.one("select status, message from activation.sync_runs")[0][0] == "failed"


def test_the_signature_is_hmac_sha256_of_the_exact_body(mini, monkeypatch):
    from orchestration.activation.destinations.webhook import sign

    body = b'{"a":1}'
    assert sign(b"k", body) == "sha256=" + hmac.new(b"k", body, hashlib.sha256).hexdigest()


def test_a_second_run_sends_only_adds_removes_and_changes(mini, receiver):
    people(mini, 6)
    sync = make_sync()
    run_sync(mini.wh, sync)
    first = len(receiver.bodies)
    again = run_sync(mini.wh, sync)
    assert (again.added, again.changed, again.removed, again.batches) == (0, 0, 0, 0)
    assert len(receiver.bodies) == first
    mini.leave("c0")                                     # left the segment
    mini.customer("c1", tier="platinum", segment=None)   # changed a mapped field
    mini.customer("c9")                                  # joined
    mini.customer("c2", segment=None, city="北京")        # changed a field the sync does not map
    third = run_sync(mini.wh, sync)
    assert (third.added, third.changed, third.removed, third.unchanged) == (1, 1, 1, 4)
    ops = [(op["op"], op["key"]) for body in receiver.bodies[first:] for op in body["operations"]]
    assert sorted(ops) == [("add", "c9"), ("change", "c1"), ("remove", "c0")]
    assert set(receiver.audience) == {f"c{i}" for i in (1, 2, 3, 4, 5, 9)}
    assert receiver.audience["c1"]["tier"] == "platinum"


def test_a_revoked_or_erased_customer_is_never_sent_and_is_removed_next_run(mini, receiver):
    people(mini, 4)
    mini.customer("c_revoked", granted=False)
    mini.customer("c_erased", erased=True)
    sync = make_sync()
    first = run_sync(mini.wh, sync)
    assert (first.suppressed, first.added) == (2, 4)
    mini.consent("c1", "sms", False)
    mini.consent("c2", "email", False)  # another channel: still sent
    second = run_sync(mini.wh, sync)
    assert (second.removed, second.suppressed) == (1, 3)
    assert set(receiver.audience) == {"c0", "c2", "c3"}
    sent = {op["key"] for body in receiver.bodies for op in body["operations"] if op["op"] != "remove"}
    assert not sent & {"c_revoked", "c_erased"}


def test_a_member_without_a_consent_row_is_suppressed(mini, receiver):
    people(mini, 2)
    mini.wh.execute("insert into marts.segment_memberships values ('seg', 'c_unknown')")
    result = run_sync(mini.wh, make_sync())
    assert result.suppressed_by_reason == {"no_consent_record": 1}
    assert "c_unknown" not in receiver.audience


def test_dry_run_sends_nothing_and_full_resync_resends_everything(mini, receiver):
    people(mini, 5)
    sync = make_sync()
    dry = run_sync(mini.wh, sync, dry_run=True)
    assert (dry.to_add, dry.added, receiver.requests) == (5, 0, 0)
    assert dry.sample[0] == ("add", "c0")
    run_sync(mini.wh, sync)
    full = run_sync(mini.wh, sync, full_resync=True)
    assert (full.changed, full.added) == (5, 0)
    assert mini.one("select count(*) from activation.sync_runs where status = 'dry_run'") == [(1,)]


def test_idempotency_keys_are_stable_and_a_repeated_batch_is_applied_once(mini, receiver):
    people(mini, 3)
    sync = make_sync()
    run_sync(mini.wh, sync)
    key = receiver.applied_keys[0]
    # the destination acknowledged, but the state was lost (a crash before the commit)
    mini.wh.execute("delete from activation.sync_state")
    run_sync(mini.wh, sync)
    assert receiver.applied_keys == [key]  # the re-sent batch had the same key; applied once
    assert len(mini.state(sync.sync_id)) == 3


def test_rejected_rows_are_logged_and_retried_next_run(mini, receiver):
    people(mini, 5)
    receiver.reject = {"c2"}
    sync = make_sync()
    first = run_sync(mini.wh, sync)
    assert (first.added, first.rejected) == (4, 1)
    assert mini.one("select record_key, operation, message from activation.sync_rejections") == [
        ("c2", "add", "invalid recipient")]
    receiver.reject = set()
    second = run_sync(mini.wh, sync)
    assert (second.added, second.rejected) == (1, 0)
    assert "c2" in receiver.audience


def test_429_500_and_dropped_connections_are_retried_honouring_retry_after(mini, receiver):
    people(mini, 9)
    receiver.random.seed(3)
    receiver.faults = 0.5
    result = run_sync(mini.wh, make_sync(destination={"max_attempts": 20}))
    assert result.added == 9 and set(receiver.audience) == {f"c{i}" for i in range(9)}
    assert sum(receiver.faults_served.values()) > 0
    attempts = [a for (a,) in mini.one("select attempts from activation.sync_batches")]
    assert sum(attempts) == receiver.requests and max(attempts) > 1


def test_retry_after_is_waited_for():
    from orchestration.activation.destinations.webhook import Retryable, _RetryAfterOrJitter, retry_after_seconds

    class Outcome:
        def __init__(self, exc):
            self._exc = exc

        def exception(self):
            return self._exc

    class State:
        attempt_number = 1

        def __init__(self, exc):
            self.outcome = Outcome(exc)

    wait = _RetryAfterOrJitter(first=0.01, cap=30)
    assert wait(State(Retryable("429", retry_after=7))) == 7
    assert wait(State(Retryable("500"))) <= 0.02
    assert retry_after_seconds("3") == 3 and retry_after_seconds("soon") is None
    assert 0 < retry_after_seconds(time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(time.time() + 60))) <= 60


def test_giving_up_keeps_what_earlier_batches_delivered(mini, receiver):
    people(mini, 6)
    sync = make_sync(destination={"max_attempts": 2})
    original = receiver.handle
    calls = {"n": 0}

    def fail_after_first(handler):
        calls["n"] += 1
        if calls["n"] > 1:
            receiver.faults, receiver.random.random = 1.0, (lambda: 0.0)
            receiver.random.choice = lambda options: "500"
        original(handler)

    receiver.handle = fail_after_first
    with pytest.raises(DestinationError, match="gave up after 2 attempts: HTTP 500"):
        run_sync(mini.wh, sync)
    assert len(mini.state(sync.sync_id)) == 3  # the first batch stays acknowledged
    row = mini.one("select status, rows_added, message from activation.sync_runs")[0]
    assert row[0] == "failed" and row[1] == 3 and "HTTP 500" in row[2]


def test_the_rate_limit_spaces_requests(mini, receiver):
    people(mini, 4)
    sync = make_sync(batch_size=1, destination={"rate_limit_per_second": 20})
    started = time.monotonic()
    run_sync(mini.wh, sync)
    assert len(receiver.bodies) == 4
    assert time.monotonic() - started >= 3 / 20  # three gaps of at least 1/20 s


def test_holdouts_are_deterministic_recorded_and_never_sent(mini, receiver):
    people(mini, 200)
    sync = make_sync(holdout={"campaign": "spring", "share": 0.25}, batch_size=500)
    first = run_sync(mini.wh, sync)
    groups = dict(mini.one("select customer_id, assignment_group from activation.campaign_assignments"))
    held = {c for c, g in groups.items() if g == "holdout"}
    assert len(groups) == 200 and first.held_out == len(held)
    assert 25 <= len(held) <= 75  # 25% of 200, well inside the binomial spread
    assert not held & set(receiver.audience)
    # recomputed independently of the module: sha256 of campaign, unit separator, customer
    expected = {c for c in groups
                if int(hashlib.sha256(f"spring\x1f{c}".encode()).hexdigest()[:15], 16) / 16**15 < 0.25}
    assert held == expected
    stamp = mini.one("select max(assigned_at) from activation.campaign_assignments")
    run_sync(mini.wh, make_sync(holdout={"campaign": "spring", "share": 0.5}, batch_size=500))
    assert dict(mini.one("select customer_id, assignment_group from activation.campaign_assignments")) == groups
    assert mini.one("select max(assigned_at) from activation.campaign_assignments") == stamp
    assert holdout.hashed_group("spring", "c1", 0.25) == holdout.hashed_group("spring", "c1", 0.25)


def test_the_run_log_counts_what_happened(mini, receiver):
    people(mini, 4)
    mini.customer("c_revoked", granted=False)
    run_sync(mini.wh, make_sync())
    row = mini.one("select status, audience_rows, suppressed_rows, rows_added, batches, finished_at is not null "
                   "from activation.sync_runs")
    assert row == [("succeeded", 5, 1, 4, 2, True)]
    assert json.loads(json.dumps(mini.one("select sum(operations) from activation.sync_batches")[0][0])) == 4
