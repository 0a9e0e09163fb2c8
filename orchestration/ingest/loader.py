"""Load a landing folder into the `raw` schema of DuckDB or PostgreSQL.

DuckDB's readers parse every file (CSV with its rejects tables, Parquet, JSON Lines line by
line), so both engines get the same rows; PostgreSQL receives them through `COPY`.

- Every contract column lands as text; a column the contract does not name is kept in
  `_extra` (JSON) and reported; a missing optional column is null.
- A line that can't be parsed still lands, empty but for `_load_error` (line and reason),
  so staging quarantines it and every landed line is accounted for.
- A file that can't be read at all is reported in `raw._load_errors` and the other files
  and sources go on.
- `raw._load_ledger` holds one row per loaded file (name, checksum, rows, loaded_at):
  a file whose content was loaded before is skipped, so loading twice adds nothing.
"""

from __future__ import annotations

import csv
import hashlib
import json
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from orchestration.ingest.contract import LOAD_COLUMNS, Source, load_contract

FORMATS = {".csv": "csv", ".parquet": "parquet", ".jsonl": "jsonl", ".json": "jsonl"}
LEDGER_COLUMNS = {
    "source_name": "text", "file_name": "text", "batch_id": "text", "file_format": "text",
    "checksum": "text", "row_count": "bigint", "malformed_rows": "bigint",
    "extra_columns": "text", "missing_columns": "text", "loaded_at": "timestamp",
}
ERROR_COLUMNS = {"source_name": "text", "file_name": "text", "line_number": "bigint",
                 "reason": "text", "logged_at": "timestamp"}
# Reads one line per row: no delimiter or quote character can split it.
LINES = "delim='\x01', quote='', escape='', header=false, auto_detect=false, columns={'line': 'VARCHAR'}"


@dataclass
class FileResult:
    source: str
    file: str
    status: str  # loaded, skipped (loaded before) or failed
    rows: int = 0
    malformed: int = 0
    extra_columns: list[str] = field(default_factory=list)
    missing_columns: list[str] = field(default_factory=list)
    error: str | None = None


@dataclass
class LoadReport:
    files: list[FileResult] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(f.status == status for f in self.files)

    @property
    def rows(self) -> int:
        return sum(f.rows for f in self.files if f.status == "loaded")

    def summary(self) -> str:
        return (f"{self.count('loaded')} files loaded ({self.rows:,} rows, "
                f"{sum(f.malformed for f in self.files):,} malformed lines), "
                f"{self.count('skipped')} skipped as loaded before, {self.count('failed')} failed")


def q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def lit(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def checksum(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


# ---------------------------------------------------------------- reading one file


def _select(source: Source, present: dict[str, str], value_sql, extra_sql: str | None,
            error_sql: str, batch_id: str, file_name: str, loaded_at: str, frm: str) -> str:
    """The raw row for every record of a file, whatever its format."""
    cols = [f"{value_sql(present[c]) if c in present else 'null'}::varchar as {q(c)}"
            for c in source.columns]
    cols += [
        f"{extra_sql or 'null'}::varchar as _extra",
        f"{error_sql}::varchar as _load_error",
        f"{lit(batch_id)} as _batch_id",
        f"{lit(file_name)} as _file_name",
        "_row_number::bigint as _row_number",
        f"timestamp {lit(loaded_at)} as _loaded_at",
    ]
    return f"select {', '.join(cols)} from {frm}"


def _json_object(pairs: list[tuple[str, str]]) -> str | None:
    if not pairs:
        return None
    return "json_object(" + ", ".join(f"{lit(k)}, {v}" for k, v in pairs) + ")"


def read_file(con: duckdb.DuckDBPyConnection, source: Source, path: Path, fmt: str,
              table: str, loaded_at: str) -> FileResult:
    """Parse `path` into the temp table `table` in the raw layout; return what was seen."""
    batch_id, file_name = path.stem, f"{source.name}/{path.name}"
    result = FileResult(source.name, file_name, "loaded")
    spath = lit(str(path))
    if fmt == "csv":
        first = con.execute(f"select line from read_csv({spath}, {LINES}) limit 1").fetchone()
        header = next(csv.reader([first[0] if first and first[0] else ""]), [])
        names = [h.strip().lower() for h in header]
        if not names or len(set(names)) != len(names):
            raise ValueError("the header row is missing, empty or repeats a column name")
        present = dict(zip(names, header, strict=True))
        columns = "{" + ", ".join(f"{lit(h)}: 'VARCHAR'" for h in header) + "}"
        con.execute("drop table if exists reject_errors; drop table if exists reject_scans")
        con.execute(
            f"create or replace temp table _file as select *, row_number() over () as _row_number"
            f" from read_csv({spath}, header=true, auto_detect=false, delim=',', quote='\"',"
            f" escape='\"', columns={columns}, store_rejects=true)")
        frm, value_sql = "_file", q
    elif fmt == "parquet":
        header = [r[0] for r in con.execute(
            f"describe select * from read_parquet({spath})").fetchall()]
        names = [h.strip().lower() for h in header]
        present = dict(zip(names, header, strict=True))
        con.execute(f"create or replace temp table _file as select *, row_number() over () as"
                    f" _row_number from read_parquet({spath})")
        frm, value_sql = "_file", q
    else:
        con.execute(
            f"create or replace temp table _lines as select line, row_number() over () as"
            f" _row_number from read_csv({spath}, {LINES})")
        # JSON functions only ever see valid objects (DuckDB evaluates both sides of AND).
        con.execute("create or replace temp table _checked as select _row_number, line,"
                    " case when json_valid(line) then json_type(line) = 'OBJECT' else false end"
                    " as _ok from _lines where line is not null and trim(line) <> ''")
        con.execute("create or replace temp table _file as select _row_number, _ok,"
                    " case when _ok then line end as line from _checked")
        header = [r[0] for r in con.execute(
            "select distinct unnest(json_keys(line)) from _file where _ok order by 1").fetchall()]
        names = [h.strip().lower() for h in header]
        present = dict(zip(names, header, strict=True))
        frm = "_file"

        def value_sql(key: str) -> str:
            return f"json_extract_string(line, {lit('$.' + json.dumps(key))})"

    extras = [n for n in names if n not in source.columns]
    result.extra_columns = extras
    result.missing_columns = [c for c in source.columns if c not in present]
    extra_sql = _json_object([(n, value_sql(present[n])) for n in extras])
    if fmt == "jsonl":
        good = _select(source, present, value_sql, extra_sql, "null", batch_id, file_name,
                       loaded_at, "_file where _ok")
        bad = _select(source, {}, value_sql, None,
                      "'line ' || _row_number || ': not a JSON object'", batch_id, file_name,
                      loaded_at, "_file where not _ok")
        sql = f"{good} union all {bad}"
    else:
        sql = _select(source, present, value_sql, extra_sql, "null", batch_id, file_name,
                      loaded_at, frm)
    if fmt == "csv":
        # Lines the CSV reader rejected: numbered after the good rows, their line in the error.
        bad = _select(source, {}, q, None,
                      "'line ' || line || ': ' || error_message",
                      batch_id, file_name, loaded_at,
                      "(select line, min(error_message) as error_message,"
                      " (select count(*) from _file) + row_number() over (order by line)"
                      " as _row_number from reject_errors group by line)")
        sql = f"{sql} union all {bad}"
    con.execute(f"create or replace temp table {table} as {sql}")
    result.rows, result.malformed = con.execute(
        f"select count(*), count(_load_error) from {table}").fetchone()
    return result


# ---------------------------------------------------------------- warehouses


def _ddl(table: str, columns: dict[str, str]) -> list[str]:
    body = ", ".join(f"{q(c)} {t}" for c, t in columns.items())
    alters = [f"alter table {table} add column if not exists {q(c)} {t}"
              for c, t in columns.items()]
    return [f"create table if not exists {table} ({body})", *alters]


def raw_columns(source: Source) -> dict[str, str]:
    return {**{c: "text" for c in source.columns}, **LOAD_COLUMNS}


class DuckDBWarehouse:
    """The raw schema in a DuckDB file; files are parsed on the same connection."""

    def __init__(self, path: Path | str):
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        self.con = duckdb.connect(str(path))
        self.con.execute("set TimeZone = 'UTC'")  # typed Parquet timestamps print in UTC
        self.reader = self.con

    def execute(self, sql: str, params=None):
        return self.con.execute(sql, params or [])

    def begin(self):
        self.con.execute("begin")

    def commit(self):
        self.con.execute("commit")

    def rollback(self):
        self.con.execute("rollback")

    def append(self, source: Source, table: str) -> None:
        cols = ", ".join(q(c) for c in raw_columns(source))
        self.con.execute(f"insert into raw.{source.name} ({cols}) select {cols} from {table}")

    def close(self):
        self.con.close()


class PostgresWarehouse:
    """The raw schema in PostgreSQL; DuckDB parses, `COPY` writes."""

    def __init__(self, conninfo: str):
        import psycopg

        self.con = psycopg.connect(conninfo, autocommit=True)
        self.reader = duckdb.connect()
        self.reader.execute("set TimeZone = 'UTC'")

    def execute(self, sql: str, params=None):
        return self.con.execute(sql.replace("?", "%s"), params or None)

    def begin(self):
        self.con.execute("begin")

    def commit(self):
        self.con.execute("commit")

    def rollback(self):
        self.con.execute("rollback")

    def append(self, source: Source, table: str) -> None:
        cols = ", ".join(q(c) for c in raw_columns(source))
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "rows.csv"
            self.reader.execute(f"copy (select {cols} from {table}) to {lit(str(out))}"
                                " (format csv, header false)")
            with self.con.cursor().copy(
                    f"copy raw.{source.name} ({cols}) from stdin (format csv)") as copy, \
                    out.open("rb") as fh:
                while chunk := fh.read(1 << 20):
                    copy.write(chunk)

    def close(self):
        self.con.close()
        self.reader.close()


def open_warehouse(target: str, duckdb_path: str | Path | None = None,
                   pg_conninfo: str | None = None):
    if target == "duckdb":
        return DuckDBWarehouse(duckdb_path)
    if target == "postgres":
        return PostgresWarehouse(pg_conninfo)
    raise ValueError(f"unknown target {target!r}: use 'duckdb' or 'postgres' (CDP_TARGET)")


# ---------------------------------------------------------------- the load


def ensure_raw_schema(wh) -> None:
    wh.execute("create schema if not exists raw")
    for source in load_contract().values():
        for stmt in _ddl(f"raw.{source.name}", raw_columns(source)):
            wh.execute(stmt)
    for stmt in (*_ddl("raw._load_ledger", LEDGER_COLUMNS), *_ddl("raw._load_errors",
                                                                   ERROR_COLUMNS)):
        wh.execute(stmt)


def _now() -> str:
    return datetime.now(UTC).replace(tzinfo=None).isoformat(sep=" ")


def _log_error(wh, source: str, file_name: str, line: int | None, reason: str) -> None:
    wh.execute("insert into raw._load_errors values (?, ?, ?, ?, ?)",
               [source, file_name, line, reason, _now()])


def landing_files(landing: Path) -> tuple[list[tuple[Source, Path]], list[str]]:
    """The batch files per contract source, in name order, and what does not belong."""
    contract = load_contract()
    files, strays = [], []
    for folder in sorted(p for p in landing.iterdir() if p.is_dir()):
        if folder.name not in contract:
            strays.append(f"{folder.name}/: not a source of the landing contract")
            continue
        for path in sorted(p for p in folder.iterdir() if p.is_file()):
            if path.suffix.lower() in FORMATS:
                files.append((contract[folder.name], path))
            elif not path.name.startswith("."):
                strays.append(f"{folder.name}/{path.name}: not .csv, .parquet or .jsonl")
    return files, strays


def load_landing(landing: Path | str, wh, quiet: bool = False,
                 sources: set[str] | None = None) -> LoadReport:
    """Load every new batch file of every source (or of `sources`); say what happened to each."""
    landing = Path(landing)
    if not landing.is_dir():
        raise FileNotFoundError(
            f"landing folder {landing} does not exist: set CDP_LANDING_DIR or pass --landing, "
            "or run `tianwen generate` first")
    ensure_raw_schema(wh)
    report = LoadReport()
    files, strays = landing_files(landing)
    if sources is not None:
        unknown = sources - set(load_contract())
        if unknown:
            raise ValueError(f"not sources of the landing contract: {', '.join(sorted(unknown))}")
        files = [(s, p) for s, p in files if s.name in sources]
        strays = []
    for stray in strays:
        _log_error(wh, None, stray.split(":")[0], None, stray)
        _say(f"ignored {stray}", quiet)
    seen = {(s, c) for s, c in wh.execute(
        "select source_name, checksum from raw._load_ledger").fetchall()}
    for i, (source, path) in enumerate(files, 1):
        file_name = f"{source.name}/{path.name}"
        digest = checksum(path)
        if (source.name, digest) in seen:
            report.files.append(FileResult(source.name, file_name, "skipped"))
            continue
        started, loaded_at = time.monotonic(), _now()
        try:
            result = read_file(wh.reader, source, path, FORMATS[path.suffix.lower()],
                               "_batch", loaded_at)
            wh.begin()
            try:
                wh.append(source, "_batch")
                wh.execute(
                    "insert into raw._load_ledger values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [source.name, file_name, path.stem, FORMATS[path.suffix.lower()], digest,
                     result.rows, result.malformed, json.dumps(result.extra_columns),
                     json.dumps(result.missing_columns), loaded_at])
                for line, reason in wh.reader.execute(
                        "select _row_number, _load_error from _batch"
                        " where _load_error is not null").fetchall():
                    _log_error(wh, source.name, file_name, line, reason)
                wh.commit()
            except Exception:
                wh.rollback()
                raise
            seen.add((source.name, digest))
        except Exception as exc:  # one bad file must not stop the others
            reason = str(exc).splitlines()[0][:500]
            result = FileResult(source.name, file_name, "failed", error=reason)
            _log_error(wh, source.name, file_name, None, f"file not loaded: {reason}")
        report.files.append(result)
        _say(_describe(result, i, len(files), time.monotonic() - started), quiet)
    _say(report.summary(), quiet)
    return report


def _describe(r: FileResult, i: int, total: int, seconds: float) -> str:
    head = f"[{i}/{total}] {r.file}: "
    if r.status == "failed":
        return head + f"FAILED ({r.error})"
    parts = [f"{r.rows:,} rows in {seconds:.1f}s"]
    if r.malformed:
        parts.append(f"{r.malformed:,} malformed lines")
    if r.extra_columns:
        parts.append("extra columns kept in _extra: " + ", ".join(r.extra_columns))
    if r.missing_columns:
        parts.append("columns absent (null): " + ", ".join(r.missing_columns))
    return head + "; ".join(parts)


def _say(msg: str, quiet: bool) -> None:
    if not quiet:
        print(f"[load {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)
