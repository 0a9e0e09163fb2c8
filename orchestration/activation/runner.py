"""One sync run: audience (consent-filtered), holdout, payloads, diff against the acknowledged
state, then batches sent one by one, each committed with its outcome before the next.

`run_sync` is what the CLI (`tianwen sync`) and the Dagster assets call. A failed run is
recorded (sync_runs.status = failed, with the reason) and raised; what earlier batches
delivered stays acknowledged, so the next run carries on from there."""

from __future__ import annotations

import contextlib
import json
import logging
from dataclasses import dataclass, field

from orchestration.activation import consent, holdout, state
from orchestration.activation.config import Sync
from orchestration.activation.destinations import Batch, Destination, build

log = logging.getLogger("tianwen.activation")


@dataclass
class SyncResult:
    sync_id: str
    run_id: str
    destination_type: str
    dry_run: bool
    members: int = 0
    suppressed: int = 0
    suppressed_by_reason: dict[str, int] = field(default_factory=dict)
    held_out: int = 0
    intended: int = 0
    to_add: int = 0
    to_remove: int = 0
    to_change: int = 0
    unchanged: int = 0
    added: int = 0
    removed: int = 0
    changed: int = 0
    rejected: int = 0
    batches: int = 0
    sample: list[tuple[str, str]] = field(default_factory=list)  # (op, key): never field values

    def counts(self) -> dict[str, int]:
        return {"audience_rows": self.members, "suppressed_rows": self.suppressed, "held_out_rows": self.held_out,
                "rows_added": self.added, "rows_removed": self.removed, "rows_changed": self.changed,
                "rows_rejected": self.rejected, "batches": self.batches}

    def line(self) -> str:
        head = (f"{self.sync_id} -> {self.destination_type}: {self.members:,} members, "
                f"{self.suppressed:,} suppressed, {self.held_out:,} held out, {self.intended:,} to hold")
        if self.dry_run:
            return (f"{head}; would add {self.to_add:,}, change {self.to_change:,}, remove {self.to_remove:,} "
                    f"({self.unchanged:,} unchanged)")
        return (f"{head}; sent: added {self.added:,}, changed {self.changed:,}, removed {self.removed:,}, "
                f"rejected {self.rejected:,} in {self.batches:,} batches ({self.unchanged:,} unchanged)")


def _check_columns(wh, sync: Sync) -> None:
    """A mapped column the profile lacks fails here, naming it, before anything is sent."""
    wanted = set(sync.fields.values())
    if not wanted:
        return
    have = {r[0] for r in wh.execute("select * from marts.customer_profiles limit 0").description}
    missing = sorted(wanted - have)
    if missing:
        raise ValueError(f"sync {sync.name}: fields map {', '.join(missing)}, which marts.customer_profiles "
                         f"does not have (columns: {', '.join(sorted(have))})")


@contextlib.contextmanager
def _one_run_at_a_time(wh, sync: Sync):
    """Two runs of one sync at once would both send the same diff: a lock per sync (a lock
    file beside DuckDB's database or under Spark's directory; a PostgreSQL advisory lock)."""
    with wh.try_lock(f"tianwen-sync:{sync.sync_id}") as got:
        if not got:
            raise RuntimeError(f"sync {sync.name} is already running on this warehouse: wait for it to finish")
        yield


def run_sync(wh, sync: Sync, dry_run: bool = False, full_resync: bool = False,
             destination: Destination | None = None, sample_size: int = 5) -> SyncResult:
    with _one_run_at_a_time(wh, sync):
        return _run_sync(wh, sync, dry_run, full_resync, destination, sample_size)


def _run_sync(wh, sync: Sync, dry_run: bool, full_resync: bool, destination: Destination | None,
              sample_size: int) -> SyncResult:
    state.ensure_tables(wh)
    _check_columns(wh, sync)
    dest = destination or build(sync)
    run_id = state.start_run(wh, sync.sync_id, dest.type, dry_run, full_resync)
    result = SyncResult(sync.sync_id, run_id, dest.type, dry_run)
    try:
        members = consent.audience(wh, sync)
        result.members, result.suppressed = members.members, members.suppressed
        result.suppressed_by_reason = members.suppressed_by_reason
        rows = members.rows
        if sync.holdout:
            groups = holdout.assign(wh, sync.holdout, [r["customer_id"] for r in rows], record=not dry_run)
            rows = [r for r in rows if groups[r["customer_id"]] == holdout.TREATMENT]
            result.held_out = members.members - members.suppressed - len(rows)
        intended = {r["customer_id"]: dest.prepare(consent.source_columns(r)) for r in rows}
        if dest.keeps_payload:  # an audience member with no usable identifier has nothing to send
            intended = {k: p for k, p in intended.items() if p}
        result.intended = len(intended)
        d = state.diff(intended, state.load(wh, sync.sync_id), sync.mode, full_resync)
        result.to_add, result.to_change, result.to_remove = (d.count(state.ADD), d.count(state.CHANGE),
                                                             d.count(state.REMOVE))
        result.unchanged = d.unchanged
        result.sample = [(o.op, o.key) for o in d.ops[:sample_size]]
        if dry_run:
            state.finish_run(wh, run_id, "dry_run", result.counts())
            return result
        for number, start in enumerate(range(0, len(d.ops), sync.batch_size), start=1):
            ops = d.ops[start:start + sync.batch_size]
            key = state.idempotency_key(sync.sync_id, ops)
            outcome = dest.send(Batch(sync.sync_id, run_id, number, key, ops))
            state.commit_batch(wh, sync.sync_id, run_id, number, key, ops, outcome, dest.keeps_payload)
            result.batches += 1
            result.rejected += len(outcome.rejected)
            for o in outcome.acknowledged:
                if o.op == state.ADD:
                    result.added += 1
                elif o.op == state.CHANGE:
                    result.changed += 1
                else:
                    result.removed += 1
        state.finish_run(wh, run_id, "succeeded", result.counts())
        return result
    except BaseException as exc:
        message = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"[:1000]
        try:
            state.finish_run(wh, run_id, "failed", result.counts(), message)
        except Exception:  # noqa: BLE001 - the original error matters more
            log.exception("could not record the failed sync run")
        raise
    finally:
        if destination is None:
            dest.close()


def remove_members(wh, sync: Sync, keys: set[str], destination: Destination | None = None) -> int:
    """Erasure (orchestration/privacy/erasure.py): the acknowledged members among `keys` are
    sent a removal whatever the audience says, in a run of its own (sync_runs). A batch the
    destination rejects in part fails the run, so the caller deletes nothing it still holds."""
    with _one_run_at_a_time(wh, sync):
        state.ensure_tables(wh)
        ops = [state.Op(state.REMOVE, key, None, None, json.loads(payload) if payload else None)
               for key, (_, payload) in sorted(state.load(wh, sync.sync_id).items()) if key in keys]
        if not ops:
            return 0
        dest = destination or build(sync)
        run_id = state.start_run(wh, sync.sync_id, dest.type, False, False)
        result = SyncResult(sync.sync_id, run_id, dest.type, False)
        try:
            for number, start in enumerate(range(0, len(ops), sync.batch_size), start=1):
                batch = ops[start:start + sync.batch_size]
                key = state.idempotency_key(sync.sync_id, batch)
                outcome = dest.send(Batch(sync.sync_id, run_id, number, key, batch))
                state.commit_batch(wh, sync.sync_id, run_id, number, key, batch, outcome, dest.keeps_payload)
                result.batches += 1
                result.removed += len(outcome.acknowledged)
                if outcome.rejected:
                    raise RuntimeError(f"the destination rejected {len(outcome.rejected)} removals")
            state.finish_run(wh, run_id, "succeeded", result.counts(), "erasure: removals only")
            return result.removed
        except BaseException as exc:
            with contextlib.suppress(Exception):
                state.finish_run(wh, run_id, "failed", result.counts(), f"erasure: {type(exc).__name__}")
            raise
        finally:
            if destination is None:
                dest.close()
