"""The Spark warehouse as Python's code sees it: the same `execute` / `fetchall` / `delete` /
`transaction` the DuckDB and PostgreSQL connections offer (orchestration/ingest/warehouse.py).

dbt builds Spark's tables in its own process (dbt-spark, `method: session`). Python's SQL goes
to a Spark session in one child process (`python -m orchestration.engines.spark --serve`),
started on first use and shared by everything in this process until `release()`: starting a
session costs seconds, and a run's checks, training, publishing and summary make dozens of
queries. The local metastore (Derby) admits one process at a time, so the child must be gone
before dbt starts: `orchestration.dbt.runner` and the dbt asset call `release()` first. The
session gets the settings of the `spark` output of profiles.yml, rendered as dbt renders them.

Spark's Parquet tables have neither transactions nor `delete`: `transaction()` groups
statements without making them atomic, and `delete()` rewrites the table through a work
table, as the `spark_delete` macro does for dbt's hooks."""

from __future__ import annotations

import atexit
import contextlib
import os
import pickle
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import jinja2
import yaml

from orchestration import config


def session_settings() -> dict[str, str]:
    """The `server_side_parameters` of profiles.yml's spark output, with env_var() applied
    to the same environment dbt gets."""
    profile = yaml.safe_load((config.PROJECT_DIR / "profiles.yml").read_text())
    output = profile["tianwen"]["outputs"]["spark"]
    env = config.dbt_env()

    def env_var(name: str, default: str | None = None) -> str:
        if name in env:
            return env[name]
        if default is None:
            raise ValueError(f"profiles.yml needs {name} set")
        return default

    jinja = jinja2.Environment()
    jinja.globals["env_var"] = env_var
    if jinja.from_string(output["method"]).render() != "session":
        raise ValueError("reading Spark from Python needs CDP_SPARK_METHOD=session (a local "
                         "session); for a cluster, query it with its own tools")
    return {k: jinja.from_string(str(v)).render() for k, v in output["server_side_parameters"].items()}


# A rewrite's work table (`<table>__keep`) and the property that marks it complete.
WORK_SUFFIX = "__keep"
REWRITE_MARK = "tianwen.rewrite"


class SparkError(RuntimeError):
    """A statement Spark refused; the message is Spark's, first lines only."""


class Result:
    """A statement's rows, as a DB-API cursor offers them (and as Arrow or pandas)."""

    def __init__(self, table):
        self._table = table
        self._rows: list[tuple] | None = None
        self._next = 0

    @property
    def description(self) -> list[tuple]:
        return [(name, None, None, None, None, None, None) for name in self._table.column_names]

    def _all(self) -> list[tuple]:
        if self._rows is None:
            columns = [self._table.column(i).to_pylist() for i in range(self._table.num_columns)]
            self._rows = list(zip(*columns, strict=True)) if columns else []
        return self._rows

    def fetchall(self) -> list[tuple]:
        rest = self._all()[self._next:]
        self._next = len(self._all())
        return rest

    def fetchone(self) -> tuple | None:
        rows = self._all()
        if self._next >= len(rows):
            return None
        self._next += 1
        return rows[self._next - 1]

    def arrow(self):
        return self._table

    def df(self):
        return self._table.to_pandas()


class SparkConnection:
    """One Spark session in a child process, driven over its standard input and output."""

    placeholder = "?"
    dialect = "spark"

    def __init__(self, settings: dict[str, str]):
        self.settings = settings
        self._log = tempfile.TemporaryFile()  # noqa: SIM115 - open while the child lives
        self._lock = threading.Lock()
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "orchestration.engines.spark", "--serve"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._log,
            cwd=config.PROJECT_DIR, env=config.dbt_env())
        self._send(settings)
        self._receive()  # the session is up
        self._declare_raw()
        self.finish_rewrites()

    def _declare_raw(self) -> None:
        """The loader's Parquet folders as the `raw` tables, as the create_raw_tables hook
        declares them for dbt: the checks of a fresh warehouse read raw before dbt first runs."""
        raw = config.spark_raw_dir()
        folders = sorted(p for p in raw.iterdir() if p.is_dir() and not p.name.startswith(".")) if raw.is_dir() else []
        if folders:
            self.execute("create schema if not exists raw")
        for folder in folders:
            location = str(folder.resolve()).replace("\\", "\\\\").replace("'", "\\'")
            self.execute(f"create table if not exists raw.{folder.name} using parquet location '{location}'")
            self.execute(f"refresh table raw.{folder.name}")  # the session caches file lists

    def _send(self, message) -> None:
        pickle.dump(message, self._proc.stdin)
        self._proc.stdin.flush()

    def _receive(self):
        try:
            reply = pickle.load(self._proc.stdout)
        except EOFError:
            self._log.seek(0)
            tail = self._log.read().decode(errors="replace").splitlines()[-15:]
            raise SparkError("the Spark session stopped:\n" + "\n".join(tail)) from None
        if reply[0] == "error":
            raise SparkError(reply[1])
        return reply[1]

    @property
    def alive(self) -> bool:
        return self._proc.poll() is None

    def _call(self, request):
        with self._lock:
            self._send(request)
            return self._receive()

    def execute(self, sql: str, params=None) -> Result:
        return Result(self._call(("sql", sql, list(params) if params else None)))

    def executemany(self, sql: str, rows, chunk: int = 500) -> None:
        """`insert ... values (?, ...)` for many rows, a few hundred rows per statement."""
        match = re.fullmatch(r"(?is)(.*\bvalues\s*)(\([\s?,]*\))\s*", sql)
        if not match:
            raise ValueError("executemany on Spark takes `insert ... values (?, ...)`")
        head, marks = match.groups()
        rows = [tuple(r) for r in rows]
        for start in range(0, len(rows), chunk):
            part = rows[start:start + chunk]
            self.execute(head + ", ".join(marks for _ in part), [v for row in part for v in row])

    def scratch(self, name: str, columns: dict[str, str], rows) -> None:
        """A temporary view `name` in this session holding `rows` (replaced on each call)."""
        rows = [tuple(r) for r in rows]
        typed = ", ".join(f"cast({c} as {_spark_type(t)}) as {c}" for c, t in columns.items())
        if not rows:
            nulls = ", ".join(f"null as {c}" for c in columns)
            self.execute(f"create or replace temporary view {name} as select {typed}"
                         f" from (select {nulls}) where false")
            return
        marks = "(" + ", ".join("?" for _ in columns) + ")"
        self.execute(f"create or replace temporary view {name} as select {typed} from values "
                     + ", ".join(marks for _ in rows) + f" as t({', '.join(columns)})",
                     [v for row in rows for v in row])

    def base_tables(self) -> dict[tuple[str, str], set[str]]:
        """Every table of the catalog (no views), with its lower-case column names."""
        return self._call(("tables",))

    def columns(self, table: str) -> dict[str, str]:
        """The table's columns in order, with their Spark types."""
        rows = self.execute(f"describe table {table}").fetchall()
        out = {}
        for name, data_type, *_ in rows:
            if not name or name.startswith("#"):  # partitioning and details follow a blank row
                break
            out[name] = data_type
        return out

    def _rewrite(self, table: str, select: str, params=None) -> None:
        """Replace the table's rows with what `select` returns, through a work table: Spark
        cannot overwrite a table it is reading. The overwrite is not atomic, so the work table
        is marked complete before it starts and is the copy a later run restores from
        (`finish_rewrites`); the spark_rewrite macro takes the same steps."""
        self._finish_rewrite(table)
        work = f"{table}{WORK_SUFFIX}"
        self.execute(f"create table {work} using parquet as {select}", params)
        self.execute(f"alter table {work} set tblproperties ('{REWRITE_MARK}' = 'complete')")
        self.execute(f"insert overwrite table {table} select * from {work}")
        self.execute(f"drop table {work}")

    def _finish_rewrite(self, table: str) -> None:
        """The work table a killed rewrite left: a complete one overwrites the table again
        (the overwrite may have stopped half-way), a partial one is dropped (the table was not
        touched yet)."""
        schema, name = table.replace("`", "").split(".")
        if not self.execute(f"show tables in {schema} like '{name}{WORK_SUFFIX}'").fetchall():
            return
        work = f"{schema}.{name}{WORK_SUFFIX}"
        if dict(self.execute(f"show tblproperties {work}").fetchall()).get(REWRITE_MARK) == "complete":
            self.execute(f"insert overwrite table {schema}.{name} select * from {work}")
        self.execute(f"drop table {work}")

    def finish_rewrites(self) -> None:
        """Every rewrite a killed process left, finished before anything reads the tables (as
        the finish_rewrites hook does before dbt's models)."""
        for (schema,) in self.execute("show databases").fetchall():
            for _, work, *_ in self.execute(f"show tables in {schema} like '*{WORK_SUFFIX}'").fetchall():
                self._finish_rewrite(f"{schema}.{work.removesuffix(WORK_SUFFIX)}")

    def delete(self, table: str, where: str | None = None, params=None) -> None:
        """`delete from <table> [where <where>]` on a table that has no delete."""
        if where is None:
            self.execute(f"truncate table {table}")
            return
        # a row stays unless the condition is true, as delete decides
        self._rewrite(table, f"select * from {table} where not coalesce(({where}), false)", params)

    def update(self, table: str, values: dict, where: str, params=()) -> None:
        """`update ... set ... where ...` as a rewrite: each set column becomes `case when`."""
        select, args = [], []
        for column, data_type in self.columns(table).items():
            if column in values:
                select.append(f"case when coalesce(({where}), false) then cast(? as {_spark_type(data_type)})"
                              f" else {column} end as {column}")
                args += [*params, values[column]]
            else:
                select.append(column)
        self._rewrite(table, f"select {', '.join(select)} from {table}", args)

    def upsert(self, table: str, keys: tuple[str, ...], columns: tuple[str, ...], rows,
               replace: bool = True) -> None:
        """As the warehouses' `insert ... on conflict`: the rows go to a temporary view, then
        either replace their keys' rows (one rewrite) or only the new keys are appended."""
        rows = [tuple(r) for r in rows]
        if not rows:
            return
        types = self.columns(table)
        self.scratch("_upsert_rows", {c: types[c] for c in columns}, rows)
        new = ", ".join(f"u.{c}" if c in columns else f"cast(null as {_spark_type(t)}) as {c}"
                        for c, t in types.items())
        on = " and ".join(f"t.{k} = u.{k}" for k in keys)
        if replace:
            self._rewrite(table, f"select t.* from {table} as t left anti join _upsert_rows as u on {on}"
                                 f" union all select {new} from _upsert_rows as u")
        else:
            self.execute(f"insert into {table} select {new} from _upsert_rows as u"
                         f" left anti join {table} as t on {on}")

    def try_lock(self, name: str):
        """A lock file under the Spark directory: one holder among this machine's processes
        (the Python steps run beside the local session)."""
        from orchestration.ingest.warehouse import file_lock, named_lock

        return file_lock(named_lock(config.spark_dir() / "locks", name))

    @contextlib.contextmanager
    def transaction(self):
        yield  # no transactions on Parquet tables: each statement stands alone

    def close(self) -> None:
        """Leaves the shared session running; `release()` stops it."""

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            self._send(None)
            self._proc.stdin.close()
        try:
            self._proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        self._log.close()


_shared: SparkConnection | None = None


def connect() -> SparkConnection:
    """This process's Spark session, started when first needed (and again when the settings,
    such as CDP_SPARK_DIR, have changed since)."""
    global _shared
    settings = session_settings()
    if _shared is not None and (not _shared.alive or _shared.settings != settings):
        release()
    if _shared is None:
        _shared = SparkConnection(settings)
    return _shared


def raw_changed() -> None:
    """The loader wrote raw files: a running session lists them again."""
    if _shared is not None and _shared.alive:
        _shared._declare_raw()


def release() -> None:
    """Stop this process's Spark session, if any: dbt's session needs the metastore."""
    global _shared
    if _shared is not None:
        _shared.stop()
        _shared = None


atexit.register(release)


def _spark_type(data_type: str) -> str:
    """A column type as a cast names it (Spark casts to string, not to varchar(n))."""
    return "string" if re.match(r"(?i)(var)?char\b", data_type) else data_type


def _naive_utc(table):
    """Timestamps as naive UTC values, as DuckDB and psycopg return `timestamp` columns."""
    import pyarrow as pa

    fields = [pa.field(f.name, pa.timestamp(f.type.unit)) if pa.types.is_timestamp(f.type) and f.type.tz
              else f for f in table.schema]
    return table.cast(pa.schema(fields))


def _first_lines(exc: Exception) -> str:
    text = re.sub(r"\n\s*JVM stacktrace:.*", "", str(exc), flags=re.S)
    return "\n".join(text.strip().splitlines()[:6])


def _tables(session) -> dict[tuple[str, str], set[str]]:
    out = {}
    for database in session.catalog.listDatabases():
        for table in session.catalog.listTables(database.name):
            if table.tableType != "VIEW" and not table.isTemporary:
                columns = session.catalog.listColumns(table.name, database.name)
                out[(database.name, table.name)] = {c.name.lower() for c in columns}
    return out


def _serve() -> None:
    # the protocol owns the real standard output; the JVM and pyspark print to standard error
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    stdin = sys.stdin.buffer
    os.environ["TZ"] = "UTC"  # naive datetimes in parameters are UTC, as the session is
    time.tzset()
    from pyspark.sql import SparkSession

    settings = pickle.load(stdin)
    Path(settings.get("spark.sql.warehouse.dir", ".")).parent.mkdir(parents=True, exist_ok=True)
    builder = SparkSession.builder.enableHiveSupport()
    for key, value in settings.items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()

    def reply(message) -> None:
        pickle.dump(message, out)
        out.flush()

    reply(("ok", None))
    try:
        while True:
            try:
                request = pickle.load(stdin)
            except EOFError:
                break
            if request is None:
                break
            try:
                if request[0] == "tables":
                    reply(("ok", _tables(session)))
                    continue
                _, sql, params = request
                frame = session.sql(sql, args=params) if params else session.sql(sql)
                reply(("ok", _naive_utc(frame.toArrow())))
            except Exception as exc:  # noqa: BLE001 - Spark's message goes back to the caller
                reply(("error", _first_lines(exc)))
    finally:
        session.stop()


def query_many(sqls: list[str]) -> list[list[tuple]]:
    """Each query's rows, through this process's session."""
    con = connect()
    return [con.execute(sql).fetchall() for sql in sqls]


def _check_args() -> None:
    if sys.argv[1:] != ["--serve"]:
        raise SystemExit("usage: python -m orchestration.engines.spark --serve (started by "
                         "orchestration.engines.spark.connect())")


if __name__ == "__main__":
    _check_args()
    _serve()
