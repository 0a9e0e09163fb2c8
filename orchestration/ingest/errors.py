"""Turn what the operating system, DuckDB and PostgreSQL raise into one line a person can act on.

The loader and the CLI print these lines instead of a traceback: each names the cause and
the fix. Anything not recognised keeps its own message, folded onto one line."""

from __future__ import annotations

import errno


class IngestError(RuntimeError):
    """A failure with a message fit for the operator; the CLI prints it and exits 2."""


DISK_FULL = ("the disk is full: free space on the volume of the warehouse (or of the temp "
             "folder) and run again; nothing of the failed file was kept")
READ_ONLY = ("the warehouse path is read-only: point CDP_DUCKDB_PATH at a writable location "
             "or fix the folder's permissions")
LOCKED = ("the DuckDB warehouse is in use by another process (a running load, dbt build or "
          "Dagster run): wait for it to finish, or raise CDP_LOCK_TIMEOUT_SECONDS to wait longer")
PG_DOWN = "no PostgreSQL server answers: start it, or fix CDP_PG_HOST and CDP_PG_PORT"
PG_NO_DB = ("the PostgreSQL database does not exist: create it (createdb) or fix "
            "CDP_PG_DATABASE")
PG_NO_USER = "PostgreSQL does not know the user: check CDP_PG_USER"
PG_BAD_PASSWORD = ("PostgreSQL refused the user or password: check CDP_PG_USER and "
                   "CDP_PG_PASSWORD")

# (substring of the lower-cased message, line); the first that matches wins.
_KNOWN = (
    ("no space left on device", DISK_FULL),
    ("disk full", DISK_FULL),
    ("could not set lock on file", LOCKED),
    ("conflicting lock", LOCKED),
    ("read-only file system", READ_ONLY),
    ("cannot open file", READ_ONLY),  # DuckDB on a path it may not create
    ("read-only", READ_ONLY),
    ("password authentication failed", PG_BAD_PASSWORD),
    ("no password supplied", "PostgreSQL wants a password: set CDP_PG_PASSWORD"),
    ("is the server running", PG_DOWN),
    ("connection refused", PG_DOWN),
    ("could not translate host name", "the PostgreSQL host name is unknown: fix CDP_PG_HOST"),
    ("timeout expired", "the PostgreSQL server did not answer in time: check that it runs "
     "and CDP_PG_HOST / CDP_PG_PORT"),
    ("server closed the connection", "the PostgreSQL server went away: check that it runs"),
)


def explain(exc: BaseException) -> str | None:
    """One line naming the cause and the fix of a known infrastructure failure, else None."""
    if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
        return DISK_FULL
    if isinstance(exc, OSError) and exc.errno in (errno.EROFS, errno.EACCES):
        return READ_ONLY
    text = str(exc).lower()
    if "does not exist" in text and "database" in text:
        return PG_NO_DB
    if "does not exist" in text and "role" in text:
        return PG_NO_USER
    for needle, line in _KNOWN:
        if needle in text:
            return line
    return None


def is_infrastructure(exc: BaseException) -> bool:
    """A failure of the machine or the server (disk, permissions, connection), which every
    later file would meet too, as opposed to a problem of one file's content. Judged by type:
    a parse error may quote a line that happens to say "permission denied"."""
    import duckdb

    infra = (OSError, duckdb.IOException, duckdb.FatalException, duckdb.OutOfMemoryException)
    try:
        import psycopg

        infra += (psycopg.OperationalError, psycopg.InterfaceError)
    except ImportError:  # pragma: no cover - psycopg is a dependency
        pass
    return isinstance(exc, infra) and explain(exc) is not None


def first_line(exc: BaseException, limit: int = 10_000) -> str:
    """The whole message on one line (newlines folded), capped so a log row stays readable."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:limit]
