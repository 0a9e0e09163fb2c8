"""What each destination has acknowledged, in the warehouse (activation.sync_state: sync,
record key, row hash, acknowledged_at, and for audience files the hashed payload needed to
remove it later), the diff of an intended audience against it, and the run log.

A batch's outcome is committed in one transaction with the state it changes, after the
destination acknowledged it: a sync killed at any point resumes from the last acknowledged
batch, and the batch in flight is re-sent with the same idempotency key (deterministic: the
sync and the batch's content), so a destination that keeps keys applies it once."""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

from orchestration.config import PROJECT_DIR
from orchestration.engines import dialect

DDL_MACRO = PROJECT_DIR / "macros" / "activation" / "create_activation_tables.sql"
ADD, CHANGE, REMOVE = "add", "change", "remove"


def now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def ddl() -> list[str]:
    """The statements of the create_activation_tables macro (one DDL for dbt and Python)."""
    text = DDL_MACRO.read_text()
    body = re.search(r"\{%\s*macro[^%]*-?%\}(.*?)\{%-?\s*endmacro", text, re.S).group(1)
    return [s.strip() for s in body.split(";") if s.strip()]


def ensure_tables(wh) -> None:
    for statement in ddl():
        wh.execute(dialect.table_ddl(wh.dialect, statement))


def row_hash(payload: dict) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str,
                                     ensure_ascii=False).encode()).hexdigest()


@dataclass(frozen=True)
class Op:
    op: str  # add, change or remove
    key: str
    payload: dict | None  # what the destination gets (None for a remove)
    row_hash: str | None
    previous: dict | None = None  # the acknowledged payload, when the destination keeps it


@dataclass
class Diff:
    ops: list[Op]
    unchanged: int = 0

    def count(self, op: str) -> int:
        return sum(1 for o in self.ops if o.op == op)


def load(wh, sync_id: str) -> dict[str, tuple[str, str | None]]:
    rows = wh.execute("select record_key, row_hash, payload from activation.sync_state where sync_id = ?",
                      [sync_id]).fetchall()
    return {k: (h, p) for k, h, p in rows}


def diff(intended: dict[str, dict], acknowledged: dict[str, tuple[str, str | None]], mode: str,
         full_resync: bool = False) -> Diff:
    """Ops that make the destination hold `intended` (key -> payload). mirror: adds, changes
    and removes; upsert: adds and changes; insert: adds only. A full resync re-sends every
    intended row (and still removes what left). Ops are sorted (removes, then by key) so
    that a resumed run forms the same batches as the run it resumes."""
    ops, unchanged = [], 0
    for key in sorted(intended):
        payload = intended[key]
        h = row_hash(payload)
        before = acknowledged.get(key)
        previous = json.loads(before[1]) if before and before[1] else None
        if before is None:
            ops.append(Op(ADD, key, payload, h))
        elif mode == "insert" or (before[0] == h and not full_resync):
            unchanged += 1
        else:
            ops.append(Op(CHANGE, key, payload, h, previous))
    if mode == "mirror":
        removes = [Op(REMOVE, key, None, None, json.loads(p) if p else None)
                   for key, (_, p) in sorted(acknowledged.items()) if key not in intended]
        ops = removes + ops
    return Diff(ops, unchanged)


def idempotency_key(sync_id: str, ops: list[Op]) -> str:
    body = json.dumps([sync_id, [[o.op, o.key, o.row_hash] for o in ops]], separators=(",", ":"))
    return hashlib.sha256(body.encode()).hexdigest()[:32]


@dataclass
class BatchOutcome:
    acknowledged: list[Op]
    rejected: dict[str, str] = field(default_factory=dict)  # key -> destination's message
    attempts: int = 1


def commit_batch(wh, sync_id: str, run_id: str, number: int, key: str, ops: list[Op],
                 outcome: BatchOutcome, keep_payload: bool) -> None:
    """The acknowledged ops into sync_state, the rejected ones into sync_rejections, and the
    batch into sync_batches: one transaction."""
    at = now()
    by_key = {o.key: o for o in ops}
    with wh.transaction():
        removed = [o.key for o in outcome.acknowledged if o.op == REMOVE]
        upserts = [o for o in outcome.acknowledged if o.op != REMOVE]
        for start in range(0, len(removed), 1000):
            chunk = removed[start:start + 1000]
            wh.delete("activation.sync_state", f"sync_id = ? and record_key in ({', '.join('?' * len(chunk))})",
                      [sync_id, *chunk])
        wh.upsert("activation.sync_state", ("sync_id", "record_key"), STATE_COLUMNS,
                  [(sync_id, o.key, o.row_hash, json.dumps(o.payload, sort_keys=True) if keep_payload else None, at)
                   for o in upserts])
        rejected = list(outcome.rejected.items())
        for start in range(0, len(rejected), 1000):
            chunk = rejected[start:start + 1000]
            wh.execute(
                "insert into activation.sync_rejections (run_id, sync_id, record_key, operation, message, "
                f"rejected_at) values {', '.join(['(?, ?, ?, ?, ?, ?)'] * len(chunk))}",
                [v for k, msg in chunk for v in (run_id, sync_id, k, by_key[k].op if k in by_key else "?",
                                                 msg[:2000], at)])
        wh.execute("insert into activation.sync_batches (run_id, sync_id, batch_number, idempotency_key, "
                   "operations, acknowledged, rejected, attempts, acknowledged_at) values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                   [run_id, sync_id, number, key, len(ops), len(outcome.acknowledged), len(outcome.rejected),
                    outcome.attempts, at])


STATE_COLUMNS = ("sync_id", "record_key", "row_hash", "payload", "acknowledged_at")
RUN_COLUMNS = ("audience_rows", "suppressed_rows", "held_out_rows", "rows_added", "rows_removed",
               "rows_changed", "rows_rejected", "batches")


def start_run(wh, sync_id: str, destination_type: str, dry_run: bool, full_resync: bool) -> str:
    run_id = uuid.uuid4().hex
    # a run of this sync still marked running died (killed, machine lost): say so
    wh.update("activation.sync_runs", {"status": "abandoned"}, "sync_id = ? and status = 'running'", [sync_id])
    wh.execute("insert into activation.sync_runs (run_id, sync_id, destination_type, started_at, status, "
               "is_dry_run, is_full_resync) values (?, ?, ?, ?, 'running', ?, ?)",
               [run_id, sync_id, destination_type, now(), dry_run, full_resync])
    return run_id


def finish_run(wh, run_id: str, status: str, counts: dict[str, int], message: str | None = None) -> None:
    wh.update("activation.sync_runs",
              {"finished_at": now(), "status": status, "message": message,
               **{c: counts.get(c, 0) for c in RUN_COLUMNS}},
              "run_id = ?", [run_id])
