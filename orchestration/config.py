"""Settings from the environment, with the defaults the demo uses. No secret lives in a file."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
TARGETS = ("duckdb", "postgres")


def _path(var: str, default: str) -> Path:
    value = Path(os.environ.get(var) or default)
    return value if value.is_absolute() else PROJECT_DIR / value


def landing_dir() -> Path:
    return _path("CDP_LANDING_DIR", "data/landing")


def truth_dir() -> Path:
    return _path("CDP_TRUTH_DIR", "data/truth")


def duckdb_path() -> Path:
    return _path("CDP_DUCKDB_PATH", "warehouse/tianwen.duckdb")


def target() -> str:
    value = os.environ.get("CDP_TARGET", "duckdb")
    if value not in TARGETS:
        raise ValueError(f"CDP_TARGET={value!r} is not a target: use one of {', '.join(TARGETS)}")
    return value


def pg_conninfo() -> str:
    """libpq key/value string from CDP_PG_*; the password is read from the environment only."""
    missing = [v for v in ("CDP_PG_HOST", "CDP_PG_USER", "CDP_PG_DATABASE")
               if not os.environ.get(v)]
    if missing:
        raise ValueError(f"the postgres target needs {', '.join(missing)} set "
                         "(and CDP_PG_PORT, CDP_PG_PASSWORD if not the defaults)")
    parts = {
        "host": os.environ["CDP_PG_HOST"],
        "port": os.environ.get("CDP_PG_PORT", "5432"),
        "user": os.environ["CDP_PG_USER"],
        "dbname": os.environ["CDP_PG_DATABASE"],
    }
    if os.environ.get("CDP_PG_PASSWORD"):
        parts["password"] = os.environ["CDP_PG_PASSWORD"]
    return " ".join(f"{k}='{v}'" for k, v in parts.items())


def dbt_env() -> dict[str, str]:
    """The environment dbt runs with: telemetry off, paths resolved."""
    env = dict(os.environ)
    env.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
    env["DO_NOT_TRACK"] = "1"
    env["CDP_DUCKDB_PATH"] = str(duckdb_path())
    return env
