"""One warehouse interface for the loader; DuckDB and PostgreSQL differ only in how they
connect, lock and append rows.

Files are always parsed by an in-process DuckDB (`reader`), so both engines receive the same
rows; PostgreSQL gets them through `COPY`.

One loader at a time per warehouse: DuckDB through an exclusive lock on a file beside the
database (`<db>.loader-lock`, also between threads of one process), PostgreSQL through a
session advisory lock. A second loader waits up to CDP_LOCK_TIMEOUT_SECONDS, then stops with
a clear message; the ledger's unique key is the last line of defence."""

from __future__ import annotations

import contextlib
import fcntl
import os
import tempfile
import time
from pathlib import Path

import duckdb

from orchestration.ingest.contract import LOAD_COLUMNS, Source
from orchestration.ingest.errors import IngestError, explain, first_line

# Any 64-bit number unique to this project: the advisory lock every loader takes.
PG_LOCK_KEY = 0x7469616E77656E  # "tianwen"


def q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def lit(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def raw_columns(source: Source) -> dict[str, str]:
    return {**{c: "text" for c in source.columns}, **LOAD_COLUMNS}


def lock_timeout() -> float:
    value = os.environ.get("CDP_LOCK_TIMEOUT_SECONDS", "60")
    try:
        return max(0.0, float(value))
    except ValueError:
        raise ValueError(f"CDP_LOCK_TIMEOUT_SECONDS={value!r} is not a number of seconds") from None


def _retry(attempt, timeout: float, busy) -> object:
    """Call `attempt` until it succeeds or `timeout` passes; `busy(result_or_exc)` says retry."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            result = attempt()
        except Exception as exc:
            if not busy(exc) or time.monotonic() >= deadline:
                raise
        else:
            if not busy(result):
                return result
            if time.monotonic() >= deadline:
                return result
        time.sleep(0.2)


class Warehouse:
    """What the loader needs from a warehouse. Subclasses connect, lock and append."""

    placeholder = "?"

    def __init__(self):
        self.con = None
        self.reader: duckdb.DuckDBPyConnection | None = None

    def execute(self, sql: str, params=None):
        if not params:  # a '?' in a literal (a file name) is not a placeholder
            return self.con.execute(sql)
        return self.con.execute(sql.replace("?", self.placeholder), params)

    @contextlib.contextmanager
    def transaction(self):
        self.execute("begin")
        try:
            yield
        except BaseException:
            with contextlib.suppress(Exception):  # the connection may be gone (disk full)
                self.execute("rollback")
            raise
        self.execute("commit")

    def append(self, source: Source, table: str) -> None:
        raise NotImplementedError

    @contextlib.contextmanager
    def exclusive(self):
        """Held while loading: no other loader writes this warehouse meanwhile."""
        raise NotImplementedError
        yield  # pragma: no cover

    def close(self) -> None:
        for con in {id(c): c for c in (self.con, self.reader) if c is not None}.values():
            with contextlib.suppress(Exception):
                con.close()


class DuckDBWarehouse(Warehouse):
    """The raw schema in a DuckDB file; files are parsed on the same connection."""

    def __init__(self, path: Path | str):
        super().__init__()
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.con = _retry(lambda: duckdb.connect(str(self.path)), lock_timeout(),
                              lambda r: isinstance(r, Exception) and "lock" in str(r).lower())
        except Exception as exc:
            raise IngestError(f"cannot open DuckDB warehouse {self.path} (CDP_DUCKDB_PATH): "
                              f"{explain(exc) or first_line(exc, 500)}") from None
        self.con.execute("set TimeZone = 'UTC'")  # typed Parquet timestamps print in UTC
        self.reader = self.con

    def execute(self, sql: str, params=None):
        return self.con.execute(sql, params or [])

    def append(self, source: Source, table: str) -> None:
        cols = ", ".join(q(c) for c in raw_columns(source))
        self.con.execute(f"insert into raw.{q(source.name)} ({cols}) select {cols} from {table}")

    @contextlib.contextmanager
    def exclusive(self):
        lock_path = self.path.with_name(self.path.name + ".loader-lock")
        fh = lock_path.open("a+")
        try:
            if not _retry(lambda: _try_flock(fh), lock_timeout(), lambda ok: ok is False):
                raise IngestError(
                    f"another load into {self.path} is running (lock {lock_path} held for "
                    f"{lock_timeout():.0f}s): wait for it, or raise CDP_LOCK_TIMEOUT_SECONDS")
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)
        finally:
            fh.close()


def _try_flock(fh) -> bool:
    try:
        fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


class PostgresWarehouse(Warehouse):
    """The raw schema in PostgreSQL; DuckDB parses, `COPY` writes."""

    placeholder = "%s"

    def __init__(self, conninfo: str):
        super().__init__()
        import psycopg

        try:
            self.con = psycopg.connect(conninfo, autocommit=True, connect_timeout=10)
        except psycopg.Error as exc:
            raise IngestError("cannot connect to PostgreSQL: "
                              f"{explain(exc) or first_line(exc, 500)}") from None
        self.reader = duckdb.connect()
        self.reader.execute("set TimeZone = 'UTC'")

    def append(self, source: Source, table: str) -> None:
        cols = ", ".join(q(c) for c in raw_columns(source))
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "rows.csv"
            self.reader.execute(f"copy (select {cols} from {table}) to {lit(str(out))}"
                                " (format csv, header false)")
            with self.con.cursor().copy(
                    f"copy raw.{q(source.name)} ({cols}) from stdin (format csv)") as copy, \
                    out.open("rb") as fh:
                while chunk := fh.read(1 << 20):
                    copy.write(chunk)

    @contextlib.contextmanager
    def exclusive(self):
        def attempt():
            return self.con.execute("select pg_try_advisory_lock(%s)", [PG_LOCK_KEY]).fetchone()[0]

        if not _retry(attempt, lock_timeout(), lambda ok: ok is False):
            raise IngestError(
                "another load into this PostgreSQL database is running (advisory lock held for "
                f"{lock_timeout():.0f}s): wait for it, or raise CDP_LOCK_TIMEOUT_SECONDS")
        try:
            yield
        finally:
            with contextlib.suppress(Exception):
                self.con.execute("select pg_advisory_unlock(%s)", [PG_LOCK_KEY])


def open_warehouse(target: str, duckdb_path: str | Path | None = None,
                   pg_conninfo: str | None = None) -> Warehouse:
    if target == "duckdb":
        return DuckDBWarehouse(duckdb_path)
    if target == "postgres":
        return PostgresWarehouse(pg_conninfo)
    raise ValueError(f"unknown target {target!r}: use 'duckdb' or 'postgres' (CDP_TARGET)")
