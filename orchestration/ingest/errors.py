"""Turn what the operating system, DuckDB and PostgreSQL raise into one line a person can act on.

The loader and the CLI print these lines instead of a traceback: each names the cause and
the fix. Anything not recognised keeps its own first line."""

from __future__ import annotations

import errno


class IngestError(RuntimeError):
    """A failure with a message fit for the operator; the CLI prints it and exits 2."""


# (substring of the lower-cased message, cause and fix); the first that matches wins.
_KNOWN = (
    ("no space left on device", "the disk is full: free space on the volume of the warehouse "
     "(or of the temp folder) and run again; nothing of the failed file was kept"),
    ("disk full", "the disk is full: free space on the volume of the warehouse and run again"),
    ("could not set lock on file", "the DuckDB warehouse is in use by another process (a running "
     "load, dbt build or Dagster run): wait for it to finish, or raise CDP_LOCK_TIMEOUT_SECONDS "
     "to wait longer"),
    ("conflicting lock", "the DuckDB warehouse is in use by another process: wait for it to "
     "finish, or raise CDP_LOCK_TIMEOUT_SECONDS"),
    ("read-only file system", "the warehouse path is on a read-only file system: point "
     "CDP_DUCKDB_PATH at a writable location"),
    ("permission denied", "no permission to write the warehouse: point CDP_DUCKDB_PATH at a "
     "writable location or fix the folder's permissions"),
    ("read-only", "the warehouse is read-only: point CDP_DUCKDB_PATH at a writable file"),
    ("password authentication failed", "PostgreSQL refused the user or password: check "
     "CDP_PG_USER and CDP_PG_PASSWORD"),
    ("no password supplied", "PostgreSQL wants a password: set CDP_PG_PASSWORD"),
    ("role", "PostgreSQL does not know the user: check CDP_PG_USER"),
    ("does not exist", "the PostgreSQL database does not exist: create it (createdb) or fix "
     "CDP_PG_DATABASE"),
    ("connection refused", "no PostgreSQL server answers: start it, or fix CDP_PG_HOST and "
     "CDP_PG_PORT"),
    ("could not translate host name", "the PostgreSQL host name is unknown: fix CDP_PG_HOST"),
    ("timeout expired", "the PostgreSQL server did not answer in time: check that it runs and "
     "CDP_PG_HOST / CDP_PG_PORT"),
    ("server closed the connection", "the PostgreSQL server went away: check that it runs"),
)


def explain(exc: BaseException) -> str | None:
    """One line naming the cause and the fix of a known infrastructure failure, else None."""
    if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
        return _KNOWN[0][1]
    if isinstance(exc, OSError) and exc.errno == errno.EROFS:
        return _KNOWN[4][1]
    text = str(exc).lower()
    if "database" in text and "does not exist" in text:
        return _KNOWN[10][1]
    if "role" in text and "does not exist" in text:
        return _KNOWN[9][1]
    for needle, message in _KNOWN:
        if needle in ("role", "does not exist"):
            continue
        if needle in text:
            return message
    return None


def first_line(exc: BaseException, limit: int = 10_000) -> str:
    """The whole message on one line (newlines folded), capped so a log row stays readable."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:limit]
