"""The main job: land → raw → staged → marts, then a short summary. Same code for the demo,
the tests and a deployment; only the environment (CDP_*) differs.

`run` materialises every asset of the Dagster code location in dependency order, in one
process, against the project's Dagster instance (DAGSTER_HOME, default .dagster_home): the
UI then shows the CLI's runs, materialisations and checks too. `load`, `build` and `query`
are the building blocks the assets (and the tests) call."""

from __future__ import annotations

import os
from pathlib import Path

from orchestration import config
from orchestration.dbt.runner import PRODUCTION_BUILD, run_dbt
from orchestration.ingest.loader import LoadReport, load_landing, open_warehouse
from orchestration.ingest.locking import duckdb_run_lock, postgres_run_lock
from orchestration.ingest.report import RunSummary


def warehouse(target: str):
    """A connection to the warehouse: `execute`, `delete`, `transaction`, `close`. On Spark,
    this process's shared session (orchestration/engines/spark.py)."""
    if target == "spark":
        from orchestration.engines import spark

        return spark.connect()
    return loader_warehouse(target)


def loader_warehouse(target: str):
    """What the loader writes to (Spark: the raw Parquet folders, orchestration/ingest/warehouse.py)."""
    if target == "duckdb":
        return open_warehouse("duckdb", duckdb_path=config.duckdb_path())
    if target == "spark":
        return open_warehouse("spark", spark_raw_dir=config.spark_raw_dir())
    return open_warehouse("postgres", pg_conninfo=config.pg_conninfo())


def run_lock(target: str):
    """Held by `run`: one run at a time per warehouse (orchestration/ingest/locking.py)."""
    if target == "duckdb":
        return duckdb_run_lock(config.duckdb_path())
    if target == "spark":
        return duckdb_run_lock(config.spark_raw_dir() / "_loader.duckdb")
    return postgres_run_lock(config.pg_conninfo())


def load(landing: Path, target: str, quiet: bool = False,
         sources: set[str] | None = None) -> LoadReport:
    wh = loader_warehouse(target)
    try:
        return load_landing(landing, wh, quiet=quiet, sources=sources)
    finally:
        wh.close()  # DuckDB allows one writer: release the file before dbt opens it
        if target == "spark":
            from orchestration.engines import spark

            spark.raw_changed()


def build(target: str, quiet: bool = False, full_refresh: bool = False,
          select: str | None = None) -> None:
    """The production `dbt build`; `select` is dbt's node selection (all nodes when None)."""
    run_dbt([*PRODUCTION_BUILD, *(["--full-refresh"] if full_refresh else []),
             *(["--select", select] if select else [])], target, quiet=quiet)


def query(target: str, sql: str) -> list[tuple]:
    wh = warehouse(target)
    try:
        return list(wh.execute(sql).fetchall())
    finally:
        wh.close()


def summary(target: str) -> str:
    from orchestration.observability.summary import summary as _summary

    return _summary(target)


def dagster_home() -> Path:
    home = Path(os.environ.get("DAGSTER_HOME") or config.PROJECT_DIR / ".dagster_home")
    home.mkdir(parents=True, exist_ok=True)
    return home


_PARSED: set[tuple[str, str]] = set()


def _prepare_once(target: str) -> None:
    """Parse the project (`dbt parse`) the first time this process runs on `target`: the
    definitions it imports are built from that manifest, so a later parse in the same process
    could not change them (a new `tianwen` command, or the UI's code server, parses again)."""
    from orchestration.dbt.project import prepare

    key = (target, str(config.dbt_target_dir()))
    if key not in _PARSED:
        prepare(target, fresh=True)
        _PARSED.add(key)


def materialize_all(landing: Path, target: str, quiet: bool = False, gx_checks: bool = True):
    """Run the `tianwen_pipeline` job (every asset and check, dependency order, one process)
    on the project's Dagster instance; return Dagster's result. gx_checks=False leaves out
    the Great Expectations checks (dbt's tests still run): for hand-made test batches of a
    few rows, which batch-level expectations are not meant for."""
    import dagster as dg

    if not Path(landing).is_dir():
        raise FileNotFoundError(f"landing folder {landing} does not exist: set CDP_LANDING_DIR "
                                "or pass --landing")
    # a wrong setting fails here, naming the variable, not in the middle of a run
    if target == "postgres":
        config.pg_conninfo()
    else:
        config.duckdb_config()
    with config.environment(CDP_LANDING_DIR=str(Path(landing).resolve()), CDP_TARGET=target,
                   DAGSTER_HOME=str(dagster_home())):
        _prepare_once(target)
        from orchestration.definitions import defs

        job = defs.resolve_job_def("tianwen_pipeline")
        if not gx_checks:
            from orchestration.runs.jobs import PIPELINE_SELECTION

            graph = defs.resolve_asset_graph()
            job = job.get_subset(
                asset_selection={k for k in PIPELINE_SELECTION.resolve(graph)
                                 if graph.get(k).is_materializable},
                asset_check_selection={k for k in graph.asset_check_keys
                                       if not k.name.startswith("gx_")})
        level = "WARNING" if quiet else "INFO"
        with dg.DagsterInstance.get() as instance:
            return job.execute_in_process(
                instance=instance, raise_on_error=False, tags={"tianwen/via": "cli"},
                run_config={"loggers": {"console": {"config": {"log_level": level}}}})


def _failures(result) -> list[str]:
    out = []
    for event in result.all_events:
        if event.event_type_value == "STEP_FAILURE":
            out.append(f"step {event.step_key} failed: {event.event_specific_data.error.message.strip()[:2000]}")
        elif event.event_type_value == "ASSET_CHECK_EVALUATION" and not event.event_specific_data.passed:
            out.append(f"check {event.event_specific_data.asset_check_key.to_user_string()} failed")
    return out


def _load_outcome(result) -> tuple[int, str]:
    """The worst exit code the run's loads reported (ingestion and ledger assets' metadata)
    and what each of them could not load."""
    code, notes = 0, []
    for event in result.get_asset_materialization_events():
        materialization = event.event_specific_data.materialization
        metadata = materialization.metadata
        if "exit_code" in metadata and metadata["exit_code"].value:
            code = max(code, int(metadata["exit_code"].value))
            if "not_loaded" in metadata:
                name = materialization.asset_key.path[-1]
                notes.append(f"{name}: {metadata['not_loaded'].value}")
    return code, "\n".join(notes)


def run(landing: Path, target: str, quiet: bool = False, gx_checks: bool = True) -> RunSummary:
    """Every asset through Dagster, one run per warehouse at a time. The summary text's
    `exit_code` is 0, or 3 when landing files or lines were rejected (raw._load_errors)."""
    with run_lock(target):
        result = materialize_all(landing, target, quiet=quiet, gx_checks=gx_checks)
    if not result.success:
        detail = "\n".join(_failures(result)) or "see the run in the Dagster UI (make ui)"
        raise RuntimeError(f"Dagster run {result.run_id} failed on target {target}:\n{detail}")
    code, not_loaded = _load_outcome(result)
    return RunSummary.of(summary(target) + f"\n\nDagster run {result.run_id} (make ui shows it)",
                         code, not_loaded)
