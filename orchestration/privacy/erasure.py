"""Erasure: a person's erasure request removes them from every table, snapshot, sync state
and exported file, tells mirrored audiences to drop them, and keeps them from coming back.

`process` carries out the staged requests (staging.stg_privacy__erasure_requests) that have
no outcome yet, against the last build:
1. each request's identifier is resolved to the customers holding it (now or in the identity
   history), and those customers to all their identifiers;
2. exported files (activation file drops and ad audiences, subject access exports) are
   rewritten or deleted without them;
3. every mirrored audience (a sync in mode mirror) holding them is sent a removal;
4. their identifiers go on the suppression list (privacy.erased_identifiers) as keyed
   hashes; the erase_suppressed_rows pre-hook (macros/privacy/erasure.sql) then deletes the
   raw rows carrying them at every build, this one and any later late batch;
5. their rows are deleted from every other table that holds them by customer id or by
   identifier (snapshots, activation state, predictive scores, the marts until rebuilt);
6. each request gets an outcome (privacy.erasure_outcomes) and its raw row is deleted.

`erase` (`tianwen erase`, and the privacy/erased_identifiers asset with the dbt build after
it) is process, then a build and a new serving copy, which drops every older copy. Nothing
here logs a value: counts and request ids only."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from orchestration import config

log = logging.getLogger("tianwen.privacy.erasure")

# schemas the erasure step does not clean row by row: raw is cleaned by the pre-hook (which
# can normalise raw text), seeds hold no people, and the catalogs are not data
_SKIP_SCHEMAS = {"raw", "seeds", "information_schema", "pg_catalog", "pg_toast"}


@dataclass
class ErasureReport:
    run_id: str
    outcomes: dict[str, int] = field(default_factory=dict)  # outcome -> requests
    customers: int = 0
    identifiers: int = 0
    audiences: int = 0
    files: int = 0
    deleted: dict[str, int] = field(default_factory=dict)  # schema.table -> rows
    forward: list[str] = field(default_factory=list)  # syncs that held them and could not be told
    overdue: list[str] = field(default_factory=list)  # request ids past the deadline, still pending
    late: list[str] = field(default_factory=list)  # carried out in this run, after the deadline

    @property
    def requests(self) -> int:
        return sum(self.outcomes.values())

    def line(self) -> str:
        done = ", ".join(f"{n} {o}" for o, n in sorted(self.outcomes.items())) or "none pending"
        text = (f"erasure {self.run_id}: requests {done}; {self.customers} customers, {self.identifiers} "
                f"identifiers suppressed, {sum(self.deleted.values()):,} rows deleted in "
                f"{len(self.deleted)} tables, {self.audiences} audiences sent removals, "
                f"{self.files} exported files rewritten or deleted")
        if self.forward:
            text += f"; forward the requests by hand to the systems behind {', '.join(self.forward)}"
        if self.late:
            text += f"; carried out after the {deadline_days()}-day deadline: {', '.join(self.late)}"
        return text


def deadline_days() -> int:
    raw = os.environ.get("CDP_ERASURE_DEADLINE_DAYS", "30")
    try:
        days = int(raw)
    except ValueError:
        days = 0
    if days < 1:
        raise ValueError(f"CDP_ERASURE_DEADLINE_DAYS={raw!r}: set a whole number of days, at least 1 "
                         "(the legal window for carrying out an erasure request)")
    return days


def identifier_hash(key: str, identifier_type: str, value: str) -> str:
    """The suppression list's hash; the erasure_hash macro computes the same in SQL."""
    return hashlib.sha256(f"{key}:{identifier_type}:{value}".encode()).hexdigest()


def now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


# --- reading the warehouse ---------------------------------------------------------------

def _tables(wh) -> dict[tuple[str, str], set[str]]:
    """Base tables outside the skipped schemas, with their column names."""
    return {(schema, table): columns for (schema, table), columns in wh.base_tables().items()
            if schema not in _SKIP_SCHEMAS and not schema.startswith("pg_temp")}


def _exists(tables, schema: str, table: str) -> bool:
    return (schema, table) in tables


def _pending(wh) -> list[tuple]:
    return wh.execute(
        "select request_id, identifier_type, identifier_value, requested_at "
        "from staging.stg_privacy__erasure_requests as r where not exists ("
        "select 1 from privacy.erasure_outcomes as o where o.request_id = r.request_id) "
        "order by requested_at, request_id").fetchall()


def overdue_requests(wh, days: int | None = None, at: datetime | None = None) -> list[str]:
    """Request ids still pending `days` after they were made."""
    cutoff = (at or now()) - timedelta(days=days or deadline_days())
    return [r[0] for r in _pending(wh) if r[3] is not None and r[3] < cutoff]


@dataclass
class _Person:
    """What one request resolves to (held in memory for this run only, never logged)."""
    customers: set[str]
    identifiers: set[tuple[str, str]]


def _holders(wh, tables, schema: str, table: str, identifier_type: str, value: str) -> set[str]:
    if not _exists(tables, schema, table):
        return set()
    return {r[0] for r in wh.execute(f"select distinct customer_id from {schema}.{table} "
                                     "where identifier_type = ? and identifier_value = ?",
                                     [identifier_type, value]).fetchall()}


def _resolve(wh, tables, identifier_type: str, value: str) -> _Person:
    """The customers holding the identifier now; only when nobody does, those who held it
    before (a recycled mobile's earlier holder is another person, and is not erased for the
    new one); and the ids merged into them. Then all their identifiers, now and before."""
    customers = _holders(wh, tables, "marts", "customer_identities", identifier_type, value)
    if not customers:
        customers = _holders(wh, tables, "snapshots", "customer_identity_history", identifier_type, value)
    if customers and _exists(tables, "marts", "customer_id_merges"):
        marks = ", ".join("?" for _ in customers)
        customers |= {r[0] for r in wh.execute(
            f"select distinct old_customer_id from marts.customer_id_merges "
            f"where new_customer_id in ({marks})", sorted(customers)).fetchall()}
    identifiers = {(identifier_type, value)}
    for schema, table in (("marts", "customer_identities"), ("snapshots", "customer_identity_history")):
        if customers and _exists(tables, schema, table):
            marks = ", ".join("?" for _ in customers)
            identifiers |= {(t, v) for t, v in wh.execute(
                f"select distinct identifier_type, identifier_value from {schema}.{table} "
                f"where customer_id in ({marks})", sorted(customers)).fetchall() if v is not None}
    return _Person(customers, identifiers)


# --- exported files ------------------------------------------------------------------------

def _line_keeps(line: str, tokens: set[str]) -> bool:
    return not any(t in line for t in tokens)


def _rewrite_text(path: Path, tokens: set[str], header: bool) -> int | None:
    """Rows left, or None when nothing in the file named the person."""
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines(keepends=True)
    head, body = (lines[:1], lines[1:]) if header else ([], lines)
    kept = [ln for ln in body if _line_keeps(ln, tokens)]
    if len(kept) == len(body):
        return None
    from orchestration.activation.destinations._files import atomic_path

    with atomic_path(path) as tmp:
        tmp.write_text("".join(head + kept), encoding="utf-8")
    return len(kept)


def _rewrite_parquet(path: Path, tokens: set[str]) -> int | None:
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    drop = pa.array([False] * table.num_rows)
    needles = pa.array(sorted(tokens), type=pa.string())
    for column in table.columns:
        if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
            drop = pc.or_(drop, pc.fill_null(pc.is_in(column.cast(pa.string()), value_set=needles), False))
    if not pc.any(drop).as_py():
        return None
    kept = table.filter(pc.invert(drop))
    from orchestration.activation.destinations._files import atomic_path

    with atomic_path(path) as tmp:
        pq.write_table(kept, tmp)
    return kept.num_rows


def _update_manifests(path: Path, rows: int) -> None:
    """Row counts and checksums in the manifests that list a rewritten file."""
    from orchestration.activation.destinations._files import atomic_path, sha256_file

    digest = sha256_file(path)
    for manifest in path.parent.glob("*.manifest.json"):
        body = json.loads(manifest.read_text(encoding="utf-8"))
        changed = False
        if body.get("file") == path.name:  # a file drop: one data file per manifest
            body.update(row_count=rows, sha256=digest)
            changed = True
        entry = (body.get("files") or {}).get(path.name)
        if isinstance(entry, dict):  # an ad audience: several files per manifest
            entry.update(rows=rows, sha256=digest)
            changed = True
        if changed:
            body["rewritten_for_erasure_at"] = now().isoformat(timespec="seconds")
            with atomic_path(manifest) as tmp:
                tmp.write_text(json.dumps(body, indent=2) + "\n", encoding="utf-8")


def _output_folders() -> list[Path]:
    """Where activation writes files: CDP_ACTIVATION_DIR, and every file destination's own
    folder (a sync may name an absolute path)."""
    from orchestration.activation.config import load_syncs, output_dir, resolve, syncs_dir

    folders = {output_dir()}
    if syncs_dir().is_dir():
        for sync in load_syncs():
            path = getattr(sync.destination, "path", None)
            if path:
                folders.add(resolve(path) / sync.name)
    roots = sorted(folders)  # a folder inside another is walked once, with its parent
    return [f for f in roots if f.is_dir() and not any(p != f and p in f.parents for p in roots)]


def _clean_files(tokens: set[str]) -> int:
    """Activation outputs rewritten without the person's rows; subject access exports that
    name them deleted. Returns the files touched."""
    touched = 0
    for root in _output_folders():
        for path in sorted(root.rglob("*")):
            if not path.is_file() or path.name.startswith(".") or path.name.endswith(".manifest.json"):
                continue
            if path.suffix == ".parquet":
                rows = _rewrite_parquet(path, tokens)
            elif path.suffix in (".csv", ".jsonl", ".txt"):
                rows = _rewrite_text(path, tokens, header=path.suffix == ".csv")
            else:
                continue
            if rows is not None:
                _update_manifests(path, rows)
                touched += 1
    exports = config.exports_dir()
    if exports.is_dir():
        for path in sorted(exports.glob("*.json")):
            text = path.read_text(encoding="utf-8", errors="replace")
            if any(t in text for t in tokens):
                path.unlink()
                touched += 1
    return touched


def _tokens(wh, tables, people: list[_Person]) -> set[str]:
    """Every string that can name the erased people in an exported file: customer ids,
    identifier values, and the (hashed) payloads their syncs acknowledged."""
    customers = {c for p in people for c in p.customers}
    tokens = customers | {v for p in people for _, v in p.identifiers}
    if customers and _exists(tables, "activation", "sync_state"):
        marks = ", ".join("?" for _ in customers)
        for (payload,) in wh.execute(f"select payload from activation.sync_state where record_key in ({marks}) "
                                     "and payload is not null", sorted(customers)).fetchall():
            tokens |= _strings(json.loads(payload))
    return {t for t in tokens if t and len(t) >= 8}  # a short value would match unrelated rows


def _strings(value) -> set[str]:
    if isinstance(value, str):
        return {value}
    if isinstance(value, dict):
        return set().union(*(_strings(v) for v in value.values())) if value else set()
    if isinstance(value, list):
        return set().union(*(_strings(v) for v in value)) if value else set()
    return set()


# --- mirrored audiences --------------------------------------------------------------------

def _remove_from_audiences(wh, tables, customers: set[str]) -> tuple[int, list[str]]:
    """Every mirrored sync holding an erased customer sends them a removal. A destination that
    cannot be reached stops the erasure before anything is deleted from the warehouse (the
    request stays pending and is retried on the next run; the deadline check says when that
    takes too long). Returns the syncs notified, and the syncs that held the person but that
    nothing here can tell (not mirrored, or no longer configured): the operator forwards the
    request to those systems."""
    if not customers or not _exists(tables, "activation", "sync_state"):
        return 0, []
    from orchestration.activation.config import load_syncs, syncs_dir
    from orchestration.activation.runner import remove_members

    marks = ", ".join("?" for _ in customers)
    held = {s for (s,) in wh.execute(f"select distinct sync_id from activation.sync_state "
                                     f"where record_key in ({marks})", sorted(customers)).fetchall()}
    if not held:
        return 0, []
    syncs = {s.sync_id: s for s in load_syncs()} if syncs_dir().is_dir() else {}
    notified, forward = 0, []
    for sync_id in sorted(held):
        sync = syncs.get(sync_id)
        if sync is None or sync.mode != "mirror":
            forward.append(sync_id)  # its state rows go with the rest; nothing here can push
            continue
        try:
            remove_members(wh, sync, customers)
        except Exception as exc:
            raise RuntimeError(f"erasure stopped: sync {sync.name} (mirror) holds erased customers and "
                               f"could not be sent their removal ({type(exc).__name__}: "
                               f"{str(exc).splitlines()[0] if str(exc) else ''}); fix the destination "
                               "and run `tianwen erase` again. Nothing was deleted from the warehouse.") from None
        notified += 1
    return notified, forward


# --- deleting ---------------------------------------------------------------------------------

def _delete_everywhere(wh, tables, run_id: str, customers: set[str],
                       identifiers: set[tuple[str, str]]) -> dict[str, int]:
    """Rows of the erased customers (by customer_id, or record_key in activation) and of
    their identifiers (identifier_type + identifier_value), in every base table outside raw."""
    wh.scratch("erase_customers", {"customer_id": "varchar(200)"}, [(c,) for c in sorted(customers)])
    wh.scratch("erase_identifiers", {"identifier_type": "varchar(32)", "identifier_value": "varchar(500)"},
               sorted(identifiers))
    deleted: dict[str, int] = {}
    at = now()
    for (schema, table), columns in sorted(tables.items()):
        if schema == "privacy":
            continue  # the logs and the suppression list hold no personal data
        conditions = []
        keys = [c for c in ("customer_id", "old_customer_id", "new_customer_id") if c in columns]
        if schema == "activation" and "record_key" in columns:
            keys.append("record_key")
        conditions += [f"{k} in (select customer_id from erase_customers)" for k in keys]
        if {"identifier_type", "identifier_value"} <= columns:
            conditions.append(f"exists (select 1 from erase_identifiers as e where e.identifier_type = "
                              f"{schema}.{table}.identifier_type and e.identifier_value = "
                              f"{schema}.{table}.identifier_value)")
        if not conditions:
            continue
        where = " or ".join(f"({c})" for c in conditions)
        n = wh.execute(f"select count(*) from {schema}.{table} where {where}").fetchone()[0]
        if n:
            wh.delete(f"{schema}.{table}", where)
            deleted[f"{schema}.{table}"] = n
    wh.executemany("insert into privacy.erasure_deletions (erasure_run_id, table_name, source_name, "
                     "deleted_rows, deleted_at) values (?, ?, ?, ?, ?)",
                 [(run_id, name, None, n, at) for name, n in sorted(deleted.items())])
    return deleted


def _delete_requests(wh, run_id: str, key: str, request_ids: set[str], values: set[str]) -> int:
    """Raw erasure request rows (they hold the identifier) once carried out, and any other row
    naming a suppressed identifier: a duplicate, or one quarantined (no request id, an
    unreadable date) that was never staged. Found through the base model, which has every
    raw row with its identifier normalised; a row whose type is unknown (so its value could not
    be normalised) goes when its raw value is one of this run's erased `values`. Counted for
    source_reconciliation."""
    listed = _listed(wh)
    rows = wh.execute("select _file_name, _row_number, request_id, identifier_type, identifier_value, "
                      "raw_identifier_value from staging.base_privacy__erasure_requests").fetchall()
    doomed = sorted({(f, n) for f, n, rid, t, v, raw in rows
                     if rid in request_ids or (t and v and (t, identifier_hash(key, t, v)) in listed)
                     or (raw is not None and raw.strip() in values)})
    if not doomed:
        return 0
    wh.scratch("erase_rows", {"file_name": "varchar(1000)", "row_number": "bigint"}, doomed)
    where = ("exists (select 1 from erase_rows as e where e.file_name = raw.erasure_requests._file_name "
             "and e.row_number = raw.erasure_requests._row_number)")
    n = wh.execute(f"select count(*) from raw.erasure_requests where {where}").fetchone()[0]
    if n:
        wh.delete("raw.erasure_requests", where)
        wh.executemany("insert into privacy.erasure_deletions (erasure_run_id, table_name, source_name, "
                         "deleted_rows, deleted_at) values (?, ?, ?, ?, ?)",
                     [(run_id, "raw.erasure_requests", "erasure_requests", n, now())])
    return n


# --- the step ---------------------------------------------------------------------------------

def alert_overdue(request_ids: list[str], logger=None) -> None:
    """The deadline alert: request ids and the window only, never an identifier."""
    from orchestration.observability.alerts import send_alert

    send_alert("erasure requests overdue", [f"request {r} is still pending after {deadline_days()} days"
                                            for r in request_ids], logger=logger)


def process(target: str | None = None, logger=None) -> ErasureReport:
    """Carry out the pending requests against the last build (see the module docstring).
    If it fails, the requests stay pending; those already past their deadline are alerted."""
    from orchestration import pipeline

    target = target or config.target()
    days = deadline_days()
    report = ErasureReport(run_id=f"erasure-{now():%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}")
    wh = pipeline.warehouse(target)
    try:
        return _carry_out(wh, report, days)
    except Exception:
        if report.overdue:
            alert_overdue(report.overdue, logger)
        raise
    finally:
        wh.close()


def _carry_out(wh, report: ErasureReport, days: int) -> ErasureReport:
    tables = _tables(wh)
    needed = {("privacy", "erased_identifiers"), ("privacy", "erasure_outcomes"),
              ("staging", "base_privacy__erasure_requests")}
    if not needed <= set(tables):
        return report  # never built here: no request can have been staged yet
    report.overdue = overdue_requests(wh, days)  # as found; cleared once carried out
    pending = _pending(wh)
    key = wh.execute("select hash_key from privacy.erasure_hash_key").fetchone()[0]
    if not pending:  # a late request row naming an erased person may still be there
        with wh.transaction():
            n = _delete_requests(wh, report.run_id, key, set(), set())
        if n:
            report.deleted["raw.erasure_requests"] = n
        return report
    suppressed = _listed(wh)
    people, outcomes = [], []
    for request_id, identifier_type, value, requested_at in pending:
        person = _resolve(wh, tables, identifier_type, value)
        new = {(t, identifier_hash(key, t, v)) for t, v in person.identifiers} - suppressed
        if person.customers:
            outcome = "erased"
        elif (identifier_type, identifier_hash(key, identifier_type, value)) in suppressed:
            outcome = "already_erased"
        else:
            outcome = "not_found"
        suppressed |= new
        people.append(person)
        outcomes.append([request_id, identifier_type, requested_at, outcome, len(person.customers), len(new)])
    customers = {c for p in people for c in p.customers}
    identifiers = {i for p in people for i in p.identifiers}

    tokens = _tokens(wh, tables, people)
    report.files = _clean_files(tokens)
    report.audiences, report.forward = _remove_from_audiences(wh, tables, customers)
    at = now()
    listed = _listed(wh)
    hashes = sorted({(t, identifier_hash(key, t, v)) for t, v in identifiers} - listed)
    with wh.transaction():
        wh.executemany("insert into privacy.erased_identifiers (identifier_type, identifier_hash, "
                         "erasure_run_id, suppressed_at) values (?, ?, ?, ?)",
                     [(t, h, report.run_id, at) for t, h in hashes])
        # the requests first: they are found through the base model, which the next step cleans
        requests = _delete_requests(wh, report.run_id, key, {r[0] for r in pending},
                                    {v for _, v in identifiers})
        report.deleted = _delete_everywhere(wh, tables, report.run_id, customers, identifiers)
        report.deleted["raw.erasure_requests"] = requests
        wh.executemany("insert into privacy.erasure_outcomes (request_id, identifier_type, requested_at, "
                         "outcome, erasure_run_id, customers_erased, identifiers_suppressed, "
                         "audiences_notified, syncs_to_forward, files_rewritten, completed_at) "
                         "values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                     [(*o[:4], report.run_id, o[4], o[5], report.audiences,
                       ",".join(report.forward) or None, report.files, now()) for o in outcomes])
    for o in outcomes:
        report.outcomes[o[3]] = report.outcomes.get(o[3], 0) + 1
    report.customers, report.identifiers = len(customers), sum(o[5] for o in outcomes)
    report.late, report.overdue = report.overdue, []
    return report


def _listed(wh) -> set[tuple[str, str]]:
    return {(t, h) for t, h in wh.execute(
        "select identifier_type, identifier_hash from privacy.erased_identifiers").fetchall()}


def erase(target: str | None = None, quiet: bool = False) -> ErasureReport:
    """`tianwen erase`: process, then rebuild (the pre-hooks delete the raw rows, every model
    is rebuilt without the person) and publish a new serving copy, dropping the older ones."""
    from orchestration import pipeline
    from orchestration.service.publish import POINTER, publish
    from orchestration.service.settings import serving_dir

    target = target or config.target()
    report = process(target)
    # always: a build that failed after an earlier erasure run is redone here
    pipeline.build(target, quiet=quiet)
    if (serving_dir(target) / POINTER).exists():  # the data service is in use here
        publish(target)
    return report

