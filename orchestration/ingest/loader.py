"""Load a landing folder into the `raw` schema of DuckDB or PostgreSQL (docs/ingestion.md).

- Every entry under the landing folder is loaded or listed in `raw._load_errors` with a reason
  (landing.py); files still being written wait for the next run.
- A file's identity is its source and path under the landing folder. The ledger
  (`raw._load_ledger`) keeps one row per loaded version: checksum, size, records counted
  without the parser, rows written. A path whose latest version has the same checksum is
  skipped; a changed file is loaded as a new version (`_file_name` gets `@<version>`), whose
  rows supersede the old ones through staging's normal dedup ranking.
- One loader at a time per warehouse (warehouse.py); each file commits alone, so a crash
  leaves every file either fully loaded or not at all.
- A file that can't be read is listed with the whole reason and the others go on.
"""

from __future__ import annotations

import hashlib
import json
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from orchestration.ingest import landing as landing_mod
from orchestration.ingest.contract import load_contract
from orchestration.ingest.errors import IngestError, explain, first_line, is_infrastructure
from orchestration.ingest.readers import READERS
from orchestration.ingest.readers.common import Batch, FileRead
from orchestration.ingest.warehouse import DuckDBWarehouse, PostgresWarehouse, Warehouse, open_warehouse, q, raw_columns

FORMATS = landing_mod.FORMATS
EXIT_OK, EXIT_FAILED, EXIT_REJECTED = 0, 2, 3
LEDGER_COLUMNS = {
    "source_name": "text", "file_name": "text", "batch_id": "text", "file_format": "text",
    "checksum": "text", "row_count": "bigint", "malformed_rows": "bigint",
    "extra_columns": "text", "missing_columns": "text", "loaded_at": "timestamp",
    "file_path": "text", "file_version": "integer", "size_bytes": "bigint",
    "file_records": "bigint", "encoding": "text", "control_char_rows": "bigint",
    "warnings": "text",
}
ERROR_COLUMNS = {"source_name": "text", "file_name": "text", "line_number": "bigint",
                 "reason": "text", "logged_at": "timestamp"}

__all__ = ["DuckDBWarehouse", "PostgresWarehouse", "load_landing", "open_warehouse"]


@dataclass
class FileResult:
    source: str | None
    file: str  # path under the landing folder (with @<version> from the second version on)
    status: str  # loaded, skipped (loaded before), failed, pending (not ready) or rejected
    rows: int = 0
    malformed: int = 0
    records: int = 0
    version: int = 1
    extra_columns: list[str] = field(default_factory=list)
    missing_columns: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    error: str | None = None


@dataclass
class LoadReport:
    files: list[FileResult] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(f.status == status for f in self.files)

    @property
    def rows(self) -> int:
        return sum(f.rows for f in self.files if f.status == "loaded")

    @property
    def malformed(self) -> int:
        return sum(f.malformed for f in self.files if f.status == "loaded")

    @property
    def not_loaded(self) -> int:
        return sum(self.count(s) for s in ("failed", "pending", "rejected"))

    def exit_code(self) -> int:
        """0: every file loaded (or loaded before) and every line parsed; 3: the load completed
        but files or lines were rejected (see raw._load_errors)."""
        return EXIT_REJECTED if self.not_loaded or self.malformed else EXIT_OK

    def summary(self) -> str:
        text = (f"{self.count('loaded')} files loaded ({self.rows:,} rows, "
                f"{self.malformed:,} malformed lines), "
                f"{self.count('skipped')} skipped as loaded before, {self.count('failed')} failed,"
                f" {self.count('pending')} still being written, "
                f"{self.count('rejected')} other entries not loaded")
        problems = [f"  {f.file}: {f.status}: {f.error}" for f in self.files
                    if f.status in ("failed", "pending", "rejected")]
        problems += [f"  {f.file}: {w}" for f in self.files if f.status == "loaded"
                     for w in f.warnings]
        return "\n".join([text, *problems])


def checksum(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _ddl(table: str, columns: dict[str, str]) -> list[str]:
    body = ", ".join(f"{q(c)} {t}" for c, t in columns.items())
    alters = [f"alter table {table} add column if not exists {q(c)} {t}"
              for c, t in columns.items()]
    return [f"create table if not exists {table} ({body})", *alters]


def ensure_raw_schema(wh: Warehouse) -> None:
    wh.execute("create schema if not exists raw")
    for source in load_contract().values():
        for stmt in _ddl(f"raw.{q(source.name)}", raw_columns(source)):
            wh.execute(stmt)
    for stmt in (*_ddl("raw._load_ledger", LEDGER_COLUMNS),
                 *_ddl("raw._load_errors", ERROR_COLUMNS)):
        wh.execute(stmt)
    # exactly once, even if two loaders got past the lock: one row per version of a path
    try:
        wh.execute("create unique index if not exists _load_ledger_version"
                   " on raw._load_ledger (source_name, file_name)")
    except Exception as exc:  # a ledger from before versions may repeat a name: say so, go on
        if explain(exc):
            raise
        _say(f"ledger has repeated file names, no unique key added ({first_line(exc, 200)})",
             False)


def _now() -> str:
    return datetime.now(UTC).replace(tzinfo=None).isoformat(sep=" ")


def _log_error(wh: Warehouse, source: str | None, file_name: str, line: int | None,
               reason: str) -> None:
    wh.execute("insert into raw._load_errors values (?, ?, ?, ?, ?)",
               [source, file_name, line, reason, _now()])


def _log_file_error(wh: Warehouse, logged: set, source: str | None, file_name: str,
                    reason: str) -> None:
    """A whole-file problem, logged once: a second run with the same problem adds nothing."""
    if (file_name, reason) not in logged:
        _log_error(wh, source, file_name, None, reason)
        logged.add((file_name, reason))


def load_landing(landing: Path | str, wh: Warehouse, quiet: bool = False,
                 sources: set[str] | None = None) -> LoadReport:
    """Load every ready new file of every source (or of `sources`); say what happened to each."""
    landing = Path(landing)
    if not landing.is_dir():
        raise FileNotFoundError(
            f"landing folder {landing} does not exist: set CDP_LANDING_DIR or pass --landing, "
            "or run `tianwen generate` first")
    if sources is not None:
        unknown = sources - set(load_contract())
        if unknown:
            raise ValueError(f"not sources of the landing contract: {', '.join(sorted(unknown))}")
    try:
        with wh.exclusive():
            ensure_raw_schema(wh)
            try:
                return _load(landing, wh, quiet, sources)
            finally:
                wh.publish()
    except IngestError:
        raise
    except OSError as exc:
        message = explain(exc)
        if message:
            raise IngestError(message) from None
        raise
    except Exception as exc:
        message = explain(exc)
        if message:
            raise IngestError(f"{message} ({first_line(exc, 300)})") from None
        raise


def _load(landing: Path, wh: Warehouse, quiet: bool, sources: set[str] | None) -> LoadReport:
    report = LoadReport()
    candidates, rejected = landing_mod.scan(landing)
    if sources is not None:
        candidates = [e for e in candidates if e.source.name in sources]
        rejected = [e for e in rejected if e.source and e.source.name in sources]
    logged = {(f, r) for f, r in wh.execute(
        "select file_name, reason from raw._load_errors where line_number is null").fetchall()}
    latest = {}
    for src, path, _name, version, digest in wh.execute(
            "select source_name, coalesce(file_path, file_name), file_name,"
            " coalesce(file_version, 1), checksum from raw._load_ledger"
            " order by coalesce(file_version, 1)").fetchall():
        latest[(src, path)] = (version, digest)
    ready, pending = landing_mod.ready(candidates)
    for entry in rejected:
        name = entry.source.name if entry.source else None
        report.files.append(FileResult(name, entry.rel, "rejected", error=entry.reason))
        _log_file_error(wh, logged, name, entry.rel, f"not loaded: {entry.reason}")
    for entry in pending:
        report.files.append(FileResult(entry.source.name, entry.rel, "pending",
                                       error=entry.reason))
        _log_file_error(wh, logged, entry.source.name, entry.rel,
                        f"not loaded yet: {entry.reason}")
    for e in report.files:
        _say(f"{e.file}: {e.status}: {e.error}", quiet)
    for i, entry in enumerate(ready, 1):
        started = time.monotonic()
        result = _load_file(wh, entry, latest, logged)
        report.files.append(result)
        if result.status != "skipped":
            _say(_describe(result, i, len(ready), time.monotonic() - started), quiet)
    _say(report.summary().splitlines()[0], quiet)
    return report


def _load_file(wh: Warehouse, entry, latest: dict, logged: set) -> FileResult:
    source = entry.source
    try:
        digest, size = checksum(entry.path), entry.path.stat().st_size
    except OSError as exc:
        result = FileResult(source.name, entry.rel, "failed", error=first_line(exc))
        _log_file_error(wh, logged, source.name, entry.rel, f"file not loaded: {result.error}")
        return result
    version, last = latest.get((source.name, entry.rel), (0, None))
    if last == digest:
        return FileResult(source.name, entry.rel, "skipped", version=version)
    version += 1
    file_name = entry.rel if version == 1 else f"{entry.rel}@{version}"
    stem = entry.rel.split("/", 1)[1].rsplit(".", 1)[0]
    batch = Batch(stem if version == 1 else f"{stem}@{version}", file_name, _now())
    try:
        with tempfile.TemporaryDirectory(prefix="tianwen-load-") as tmp:
            read: FileRead = READERS[entry.fmt](wh.reader, source, entry.path, batch, Path(tmp))
        with wh.transaction():
            wh.append(source, "_batch")
            wh.execute(
                f"insert into raw._load_ledger ({', '.join(LEDGER_COLUMNS)}) values"
                f" ({', '.join('?' * len(LEDGER_COLUMNS))})",
                [source.name, file_name, batch.batch_id, entry.fmt, digest, read.rows,
                 read.malformed, json.dumps(read.extra_columns), json.dumps(read.missing_columns),
                 batch.loaded_at, entry.rel, version, size, read.records, read.encoding,
                 read.control_rows, json.dumps(read.warnings, ensure_ascii=False)])
            for line, reason in wh.reader.execute(
                    "select _row_number, _load_error from _batch"
                    " where _load_error is not null order by _row_number").fetchall():
                _log_error(wh, source.name, file_name, line, reason)
    except Exception as exc:  # one bad file must not stop the others
        if is_infrastructure(exc):
            raise  # disk full, server gone: every later file would fail the same way
        reason = first_line(exc)
        _log_file_error(wh, logged, source.name, entry.rel, f"file not loaded: {reason}")
        return FileResult(source.name, entry.rel, "failed", version=version, error=reason)
    latest[(source.name, entry.rel)] = (version, digest)
    return FileResult(source.name, file_name, "loaded", rows=read.rows, malformed=read.malformed,
                      records=read.records, version=version, extra_columns=read.extra_columns,
                      missing_columns=read.missing_columns, warnings=read.warnings)


def _describe(r: FileResult, i: int, total: int, seconds: float) -> str:
    head = f"[{i}/{total}] {r.file}: "
    if r.status == "failed":
        return head + f"FAILED ({r.error})"
    parts = [f"{r.rows:,} rows in {seconds:.1f}s"]
    if r.version > 1:
        parts.append(f"version {r.version} (supersedes the earlier ones)")
    if r.malformed:
        parts.append(f"{r.malformed:,} malformed lines")
    if r.records != r.rows:
        parts.append(f"{r.records:,} records counted in the file")
    if r.extra_columns:
        parts.append("extra columns kept in _extra: " + ", ".join(r.extra_columns))
    if r.missing_columns:
        parts.append("columns absent (null): " + ", ".join(r.missing_columns))
    parts += r.warnings
    return head + "; ".join(parts)


def _say(msg: str, quiet: bool) -> None:
    if not quiet:
        print(f"[load {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)
