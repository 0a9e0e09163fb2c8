"""Settings from the environment, with the defaults the demo uses. No secret lives in a file."""

from __future__ import annotations

import contextlib
import os
import re
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
TARGETS = ("duckdb", "postgres", "spark")
# Defaults that leave room for the rest of a shared 2-core machine; profiles.yml repeats them.
DUCKDB_MEMORY_LIMIT = "4GB"
DUCKDB_THREADS = 2


def _path(var: str, default: str) -> Path:
    value = Path(os.environ.get(var) or default)
    return value if value.is_absolute() else PROJECT_DIR / value


def landing_dir() -> Path:
    return _path("CDP_LANDING_DIR", "data/landing")


def exports_dir() -> Path:
    """Subject access exports (CDP_EXPORTS_DIR, default exports/, git-ignored); erasure deletes
    the ones that name an erased person."""
    return _path("CDP_EXPORTS_DIR", "exports")


def truth_dir() -> Path:
    return _path("CDP_TRUTH_DIR", "data/truth")


def dbt_target_dir() -> Path:
    """Where dbt writes its artifacts (one folder per target below it) and GX its Data Docs.
    Two processes building at once (parallel test workers) each need their own."""
    return _path("CDP_DBT_TARGET_DIR", "target")


def duckdb_path() -> Path:
    return _path("CDP_DUCKDB_PATH", "warehouse/tianwen.duckdb")


def spark_dir() -> Path:
    """A local Spark session's warehouse: its tables and its Derby metastore (CDP_SPARK_DIR)."""
    return _path("CDP_SPARK_DIR", "warehouse/spark")


def spark_raw_dir() -> Path:
    """Where the loader writes Spark's raw tables as Parquet folders (CDP_SPARK_RAW_DIR); a
    cluster must see the same path (a shared or object-store mount)."""
    return _path("CDP_SPARK_RAW_DIR", str(spark_dir() / "raw"))


def duckdb_memory_limit() -> str:
    """DuckDB's memory cap (CDP_DUCKDB_MEMORY_LIMIT, e.g. '4GB'); DuckDB's own default is 80%
    of the machine, too much on a shared host."""
    value = os.environ.get("CDP_DUCKDB_MEMORY_LIMIT") or DUCKDB_MEMORY_LIMIT
    if not re.fullmatch(r"\d+(\.\d+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)", value, re.IGNORECASE):
        raise ValueError(f"CDP_DUCKDB_MEMORY_LIMIT={value!r} is not a size: write it like 4GB or 512MB")
    return value


def duckdb_threads() -> int:
    value = os.environ.get("CDP_DUCKDB_THREADS") or str(DUCKDB_THREADS)
    if not value.isdigit() or int(value) < 1:
        raise ValueError(f"CDP_DUCKDB_THREADS={value!r} is not a positive whole number")
    return int(value)


def duckdb_temp_dir() -> Path:
    """Where DuckDB spills what does not fit under the memory cap: by default a `tmp` folder
    beside the database file (same disk), made here because DuckDB makes only the last level."""
    folder = _path("CDP_DUCKDB_TEMP_DIR", str(duckdb_path().parent / "tmp"))
    folder.parent.mkdir(parents=True, exist_ok=True)
    return folder


def duckdb_config() -> dict[str, str | int]:
    """Settings for every DuckDB connection the project opens (duckdb.connect(config=...));
    dbt gets the same through profiles.yml."""
    return {"memory_limit": duckdb_memory_limit(), "threads": duckdb_threads(),
            "temp_directory": str(duckdb_temp_dir())}


def _switch(var: str, default: bool) -> bool:
    value = (os.environ.get(var) or ("on" if default else "off")).lower()
    if value not in ("on", "off"):
        raise ValueError(f"{var}={value!r}: use on or off")
    return value == "on"


def schedule_on() -> bool:
    """Whether the daily schedule starts running in a new Dagster instance (CDP_SCHEDULE,
    default on: the marts' freshness policies expect a daily build)."""
    return _switch("CDP_SCHEDULE", True)


def landing_sensor_on() -> bool:
    """Whether the landing sensor starts running (CDP_LANDING_SENSOR, default off)."""
    return _switch("CDP_LANDING_SENSOR", False)


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
    env["CDP_DUCKDB_TEMP_DIR"] = str(duckdb_temp_dir())
    env["CDP_SPARK_DIR"] = str(spark_dir())
    env["CDP_SPARK_RAW_DIR"] = str(spark_raw_dir())
    return env


@contextlib.contextmanager
def environment(**values: str):
    """os.environ with `values` set while the block runs, restored afterwards."""
    before = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in before.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
