"""Great Expectations validations of warehouse queries, with suites from `expectations/`.

The route depends on the engine: on PostgreSQL, GX's SQL datasource validates in the
warehouse (a query asset); on DuckDB, GX 1.x's SQL datasource fails through duckdb-engine,
and on Spark a session in this process would lock dbt out of the metastore, so the query
result goes to GX's pandas datasource. Either way the suite, the checkpoint and
the Data Docs are the same; Data Docs are built into target/gx/ (CDP_DBT_TARGET_DIR) (offline, a local folder)."""

from __future__ import annotations

import contextlib
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

from orchestration import config

SUITES_DIR = config.PROJECT_DIR / "expectations"


def gx_root() -> Path:
    return config.dbt_target_dir() / "gx"


@dataclass
class Validation:
    suite: str
    success: bool
    evaluated: int
    failed: list[str]
    docs: Path | None


def load_suite(name: str) -> dict:
    path = SUITES_DIR / f"{name}.json"
    if not path.exists():
        raise FileNotFoundError(f"no suite {name}: add {path.relative_to(config.PROJECT_DIR)}")
    return json.loads(path.read_text())


def _pg_url() -> str:
    host = os.environ.get("CDP_PG_HOST", "127.0.0.1")
    user = os.environ.get("CDP_PG_USER", "postgres")
    password = os.environ.get("CDP_PG_PASSWORD", "")
    port = os.environ.get("CDP_PG_PORT", "5432")
    db = os.environ.get("CDP_PG_DATABASE", "tianwen")
    auth = f"{user}:{password}" if password else user
    if host.startswith("/"):  # a socket directory
        return f"postgresql+psycopg2://{auth}@/{db}?host={host}&port={port}"
    return f"postgresql+psycopg2://{auth}@{host}:{port}/{db}"


def _frame(sql: str, target: str):
    """The rows of `sql` as a pandas frame (DuckDB's file read-only; Spark's shared session)."""
    if target == "spark":
        from orchestration.engines import spark

        return spark.connect().execute(sql).df()
    import duckdb

    con = duckdb.connect(str(config.duckdb_path()), read_only=True, config=config.duckdb_config())
    try:
        return con.sql(sql).df()
    finally:
        con.close()


def validate(suite_name: str, sql: str, target: str, build_docs: bool = True) -> Validation:
    """Run `suite_name` on the rows of `sql` in the warehouse of `target`."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import great_expectations as gx
    from great_expectations.checkpoint import UpdateDataDocsAction

    root = gx_root()
    root.mkdir(parents=True, exist_ok=True)
    context = gx.get_context(mode="file", project_root_dir=str(root))
    # no progress bars in a pipeline's log
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    spec = load_suite(suite_name)
    suite = context.suites.add_or_update(gx.ExpectationSuite(
        name=suite_name, expectations=spec["expectations"], meta=spec.get("meta", {})))
    name = re.sub(r"[^a-z0-9_]", "_", suite_name)
    source_name = f"{target}_{name}"
    # datasource, validation and checkpoint per suite and engine, made afresh each run: the
    # rows (and the PostgreSQL database) may differ from the last run
    for store in (context.checkpoints, context.validation_definitions):
        with contextlib.suppress(Exception):
            store.delete(source_name)
    if source_name in [d.name for d in context.data_sources.all().values()]:
        context.data_sources.delete(source_name)
    if target == "postgres":
        # the generic SQL datasource: the postgres one insists on a TCP host, not a socket
        source = context.data_sources.add_sql(source_name, connection_string=_pg_url())
        batch_definition = source.add_query_asset(name, query=sql).add_batch_definition_whole_table("all")
        batch_parameters = None
    else:
        source = context.data_sources.add_pandas(source_name)
        batch_definition = source.add_dataframe_asset(name).add_batch_definition_whole_dataframe("all")
        batch_parameters = {"dataframe": _frame(sql, target)}
    definition = context.validation_definitions.add(
        gx.ValidationDefinition(name=source_name, data=batch_definition, suite=suite))
    actions = [UpdateDataDocsAction(name="data_docs")] if build_docs else []
    checkpoint = context.checkpoints.add(
        gx.Checkpoint(name=source_name, validation_definitions=[definition], actions=actions))
    result = checkpoint.run(batch_parameters=batch_parameters)
    run = next(iter(result.run_results.values()))
    failed = [f"{r.expectation_config.type}({_describe(r.expectation_config.kwargs)})"
              for r in run.results if not r.success]
    docs = root / "gx" / "uncommitted" / "data_docs" / "local_site" / "index.html"
    return Validation(suite_name, bool(result.success), len(run.results), failed,
                      docs if docs.exists() else None)


def _describe(kwargs: dict) -> str:
    return ", ".join(f"{k}={v}" for k, v in kwargs.items() if k not in ("batch_id",))
