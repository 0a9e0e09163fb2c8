"""One `tianwen run` (load + dbt build) at a time per warehouse.

The loader has its own lock (warehouse.py); this one also covers the dbt build, so a second
run waits for the first to finish instead of meeting its DuckDB file lock inside dbt. Held as
an exclusive lock on `<database>.run-lock` (DuckDB) or a PostgreSQL session advisory lock;
a run that can't get it within CDP_LOCK_TIMEOUT_SECONDS stops with one clear line."""

from __future__ import annotations

import contextlib
from pathlib import Path

from orchestration.ingest.errors import IngestError, explain
from orchestration.ingest.warehouse import PG_LOCK_KEY, _retry, file_lock, lock_timeout

RUN_LOCK_KEY = PG_LOCK_KEY + 1


def _busy() -> IngestError:
    return IngestError(f"another tianwen run on this warehouse is in progress (waited "
                       f"{lock_timeout():g}s): wait for it, or raise CDP_LOCK_TIMEOUT_SECONDS")


@contextlib.contextmanager
def duckdb_run_lock(duckdb_path: Path):
    path = Path(duckdb_path)
    with file_lock(path.with_name(path.name + ".run-lock"), wait=lock_timeout()) as held:
        if not held:
            raise _busy()
        yield


@contextlib.contextmanager
def postgres_run_lock(conninfo: str):
    import psycopg

    try:
        con = psycopg.connect(conninfo, autocommit=True, connect_timeout=10)
    except psycopg.Error as exc:
        raise IngestError(f"cannot connect to PostgreSQL: {explain(exc) or exc}") from None
    try:
        def attempt() -> bool:
            return con.execute("select pg_try_advisory_lock(%s)", [RUN_LOCK_KEY]).fetchone()[0]

        if not _retry(attempt, lock_timeout(), lambda ok: ok is False):
            raise _busy()
        yield  # the lock goes with the session
    finally:
        con.close()
