"""Reading a local Spark warehouse from Python.

dbt builds Spark's tables in its own process (dbt-spark, `method: session`). Python reads
them through a short-lived Spark session in a child process: the local metastore (Derby)
admits one process at a time, so a session kept open here would lock dbt out. The session
gets the settings of the `spark` output of profiles.yml, rendered as dbt renders them."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
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


def query_many(sqls: list[str]) -> list[list[tuple]]:
    """Each query's rows, in one Spark session started for them (about 10 s on two cores)."""
    proc = subprocess.run([sys.executable, "-m", "orchestration.engines.spark", "--child"],
                          input=pickle.dumps((session_settings(), sqls)), capture_output=True,
                          cwd=config.PROJECT_DIR, env={**os.environ, **config.dbt_env()})
    if proc.returncode != 0:
        lines = proc.stderr.decode(errors="replace").splitlines()
        # Python's traceback ends with the exception and Spark's message under it
        starts = [i for i, line in enumerate(lines) if line.startswith("pyspark.errors") or "Error:" in line]
        detail = "\n".join(lines[starts[-1]:starts[-1] + 6] if starts else lines[-20:])
        raise RuntimeError(f"Spark query failed: {detail}")
    return pickle.loads(proc.stdout)


def query(sql: str) -> list[tuple]:
    return query_many([sql])[0]


def _child() -> None:
    from pyspark.sql import SparkSession

    settings, sqls = pickle.loads(sys.stdin.buffer.read())
    Path(settings.get("spark.sql.warehouse.dir", ".")).parent.mkdir(parents=True, exist_ok=True)
    builder = SparkSession.builder.enableHiveSupport()
    for key, value in settings.items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    try:
        results = [[tuple(row) for row in session.sql(sql).collect()] for sql in sqls]
    finally:
        session.stop()
    sys.stdout.buffer.write(pickle.dumps(results))


if __name__ == "__main__" and sys.argv[1:] == ["--child"]:
    _child()
