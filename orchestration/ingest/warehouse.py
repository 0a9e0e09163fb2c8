"""One warehouse interface for the loader; DuckDB, PostgreSQL and Spark differ only in how
they connect, lock and append rows.

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
import threading
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


_HELD: set[str] = set()  # try_lock's names held in this process
_HELD_GUARD = threading.Lock()


class Warehouse:
    """What the loader needs from a warehouse. Subclasses connect, lock and append."""

    placeholder = "?"
    dialect = "duckdb"  # whose SQL `execute` takes (orchestration/engines/dialect.py)

    def __init__(self):
        self.con = None
        self.reader: duckdb.DuckDBPyConnection | None = None

    def execute(self, sql: str, params=None):
        if not params:  # a '?' in a literal (a file name) is not a placeholder
            return self.con.execute(sql)
        return self.con.execute(sql.replace("?", self.placeholder), params)

    def executemany(self, sql: str, rows) -> None:
        """`sql` (`?` placeholders) once per row."""
        for row in rows:
            self.execute(sql, row)

    def scratch(self, name: str, columns: dict[str, str], rows) -> None:
        """A table `name` for this connection only, holding `rows` (replaced on each call)."""
        self.execute(f"create temp table if not exists {name} ("
                     + ", ".join(f"{c} {t}" for c, t in columns.items()) + ")")
        self.execute(f"delete from {name}")
        marks = ", ".join("?" for _ in columns)
        self.executemany(f"insert into {name} values ({marks})", rows)

    def base_tables(self) -> dict[tuple[str, str], set[str]]:
        """Every base table of the database (no views), with its lower-case column names."""
        rows = self.execute(
            "select c.table_schema, c.table_name, lower(c.column_name) from information_schema.columns as c "
            "inner join information_schema.tables as t on c.table_catalog = t.table_catalog "
            "and c.table_schema = t.table_schema and c.table_name = t.table_name "
            "where t.table_type = 'BASE TABLE' and c.table_catalog = current_database()").fetchall()
        out: dict[tuple[str, str], set[str]] = {}
        for schema, table, column in rows:
            out.setdefault((schema, table), set()).add(column)
        return out

    def delete(self, table: str, where: str | None = None, params=None) -> None:
        """`delete from <table> [where <where>]`: one call on every engine (Spark rewrites)."""
        self.execute(f"delete from {table}" + (f" where {where}" if where else ""), params)

    def upsert(self, table: str, keys: tuple[str, ...], columns: tuple[str, ...], rows,
               replace: bool = True) -> None:
        """Insert `rows` (tuples in `columns`' order); a row whose `keys` are already there
        replaces that row (`replace`) or is skipped. Keys are unique within `rows`."""
        rows = [tuple(r) for r in rows]
        for start in range(0, len(rows), 1000):
            chunk = rows[start:start + 1000]
            marks = "(" + ", ".join("?" for _ in columns) + ")"
            self.execute(f"insert into {table} ({', '.join(columns)}) values "
                         + ", ".join(marks for _ in chunk) + _on_conflict(keys, columns, replace),
                         [v for row in chunk for v in row])

    def update(self, table: str, values: dict, where: str, params=()) -> None:
        """`update <table> set <column> = <value>, ... where <where>`: Spark rewrites."""
        self.execute(f"update {table} set {', '.join(f'{c} = ?' for c in values)} where {where}",
                     [*values.values(), *params])

    @contextlib.contextmanager
    def try_lock(self, name: str):
        """Yields whether this connection got the lock `name`, held until the block ends:
        false while another holder has it. Here, within this process (a database only it
        sees); the engines' own warehouses lock across processes."""
        with _HELD_GUARD:
            got = name not in _HELD
            _HELD.add(name)
        try:
            yield got
        finally:
            if got:
                with _HELD_GUARD:
                    _HELD.discard(name)

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

    def publish(self) -> None:
        """Called when a load ends: make what was loaded visible where the engine reads it."""

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

    def executemany(self, sql: str, rows) -> None:
        rows = list(rows)
        if rows:
            self.con.executemany(sql, rows)

    def upsert(self, table: str, keys: tuple[str, ...], columns: tuple[str, ...], rows,
               replace: bool = True) -> None:
        rows = [tuple(r) for r in rows]
        if not rows:
            return
        # DuckDB binds thousands of parameters slowly: it reads the rows as one Arrow table
        import pyarrow as pa

        batch = pa.table({c: [r[i] for r in rows] for i, c in enumerate(columns)})
        self.con.register("_upsert_rows", batch)
        try:
            self.con.execute(f"insert into {table} ({', '.join(columns)}) select * from _upsert_rows"
                             + _on_conflict(keys, columns, replace))
        finally:
            self.con.unregister("_upsert_rows")

    def append(self, source: Source, table: str) -> None:
        cols = ", ".join(q(c) for c in raw_columns(source))
        self.con.execute(f"insert into raw.{q(source.name)} ({cols}) select {cols} from {table}")

    def try_lock(self, name: str):
        """A lock file beside the database: DuckDB's own lock keeps other processes out, not
        another connection or thread of this one."""
        return file_lock(named_lock(self.path.with_name(self.path.name + ".locks"), name))

    @contextlib.contextmanager
    def exclusive(self):
        lock_path = self.path.with_name(self.path.name + ".loader-lock")
        with file_lock(lock_path, wait=lock_timeout()) as held:
            if not held:
                raise IngestError(
                    f"another load into {self.path} is running (lock {lock_path} held for "
                    f"{lock_timeout():.0f}s): wait for it, or raise CDP_LOCK_TIMEOUT_SECONDS")
            yield


def _on_conflict(keys: tuple[str, ...], columns: tuple[str, ...], replace: bool) -> str:
    if not replace:
        return f" on conflict ({', '.join(keys)}) do nothing"
    sets = ", ".join(f"{c} = excluded.{c}" for c in columns if c not in keys)
    return f" on conflict ({', '.join(keys)}) do update set {sets}"


@contextlib.contextmanager
def file_lock(path: Path, wait: float = 0.0):
    """Yields whether the lock file `path` was got, trying for up to `wait` seconds; held
    until the block ends. Every lock file of the project goes through here: an flock, so
    separate opens conflict even within one process, and a dead holder's lock is released."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a+") as fh:
        if not _retry(lambda: _try_flock(fh), wait, lambda ok: ok is False):
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def named_lock(folder: Path, name: str) -> Path:
    """The lock file of a lock named by any text (a sync id) in `folder`."""
    import hashlib

    return folder / f"{hashlib.sha256(name.encode()).hexdigest()[:16]}.lock"


def _try_flock(fh) -> bool:
    try:
        fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


class PostgresWarehouse(Warehouse):
    """The raw schema in PostgreSQL; DuckDB parses, `COPY` writes."""

    placeholder = "%s"
    dialect = "postgres"

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

    def executemany(self, sql: str, rows) -> None:
        rows = list(rows)
        if rows:
            with self.con.cursor() as cur:
                cur.executemany(sql.replace("?", self.placeholder), rows)

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
    def try_lock(self, name: str):
        """A session advisory lock on the name's hash."""
        got = self.execute("select pg_try_advisory_lock(hashtext(?))", [name]).fetchone()[0]
        try:
            yield got
        finally:
            if got:
                with contextlib.suppress(Exception):
                    self.execute("select pg_advisory_unlock(hashtext(?))", [name])

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


class SparkWarehouse(DuckDBWarehouse):
    """Spark's raw schema as one folder of Parquet files per table under `raw_dir`, which the
    dbt project declares as tables (macros/staging/raw_tables.sql): no Spark session is
    started to load. The loader keeps its books in a DuckDB file there (`_loader.duckdb`:
    the ledger, the load errors, and empty raw tables giving each source its columns).

    Each batch becomes one Parquet file named by its batch id, moved into place before the
    ledger commits: a load that stops between the two is retried and overwrites the same
    file, so no row is lost or doubled. The ledger and the load errors are published whole
    (a file replaced in one move) after every load."""

    BOOK = "_loader.duckdb"

    def __init__(self, raw_dir: Path | str):
        self.raw_dir = Path(raw_dir).resolve()
        super().__init__(self.raw_dir / self.BOOK)
        self._moves: list[tuple[Path, Path]] = []

    @contextlib.contextmanager
    def transaction(self):
        self._moves = []
        try:
            with super().transaction():
                yield
                for staged, final in self._moves:
                    os.replace(staged, final)
        finally:
            for staged, _ in self._moves:
                staged.unlink(missing_ok=True)
            self._moves = []

    def append(self, source: Source, table: str) -> None:
        folder = self._folder(source.name)
        (batch_id,), = self.con.execute(f"select min(_batch_id) from {table}").fetchall()
        name = "batch-" + "".join(c if c.isalnum() or c in "-_" else "_" for c in str(batch_id))
        staged = folder / f".{name}.parquet.tmp"  # hidden: Spark skips names starting with '.'
        self._copy(f"select {self._columns(raw_columns(source))} from {table}", staged)
        self._moves.append((staged, folder / f"{name}.parquet"))

    def publish(self) -> None:
        from orchestration.ingest.contract import load_contract
        from orchestration.ingest.loader import ERROR_COLUMNS, LEDGER_COLUMNS

        for name, columns in (("_load_ledger", LEDGER_COLUMNS), ("_load_errors", ERROR_COLUMNS)):
            self._replace(self._folder(name) / "part-0.parquet",
                          f"select {self._columns(columns)} from raw.{q(name)}")
        # a table's folder needs a file for Spark to read its columns from
        for source in load_contract().values():
            folder = self._folder(source.name)
            if not any(folder.glob("*.parquet")):
                self._replace(folder / "part-0.parquet",
                              f"select {self._columns(raw_columns(source))} from raw.{q(source.name)} limit 0")

    def _folder(self, table: str) -> Path:
        folder = self.raw_dir / table
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    @staticmethod
    def _columns(columns: dict[str, str]) -> str:
        # timestamps as UTC instants, which Spark reads as its own timestamp type
        return ", ".join(f"cast({q(c)} as timestamptz) as {q(c)}" if t == "timestamp" else q(c)
                         for c, t in columns.items())

    def _copy(self, select: str, path: Path) -> None:
        self.con.execute(f"copy ({select}) to {lit(str(path))} (format parquet)")

    def _replace(self, path: Path, select: str) -> None:
        staged = path.with_name(f".{path.name}.tmp")
        self._copy(select, staged)
        os.replace(staged, path)


def open_warehouse(target: str, duckdb_path: str | Path | None = None,
                   pg_conninfo: str | None = None, spark_raw_dir: str | Path | None = None) -> Warehouse:
    if target == "duckdb":
        return DuckDBWarehouse(duckdb_path)
    if target == "postgres":
        return PostgresWarehouse(pg_conninfo)
    if target == "spark":
        return SparkWarehouse(spark_raw_dir)
    raise ValueError(f"unknown target {target!r}: use 'duckdb', 'postgres' or 'spark' (CDP_TARGET)")
