"""Helpers for tests that run the Dagster definitions against a landing folder."""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest


@contextlib.contextmanager
def dagster_env(landing: Path, duckdb_path: Path, **extra):
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CDP_LANDING_DIR", str(landing))
        mp.setenv("CDP_DUCKDB_PATH", str(duckdb_path))
        mp.setenv("CDP_TARGET", "duckdb")
        for key, value in extra.items():
            mp.setenv(key, value)
        yield


def run_job(selection=None, instance=None):
    """Run the pipeline job (or a selection of assets) in process; return the result."""
    import dagster as dg

    from orchestration.definitions import defs

    job = defs.resolve_job_def("tianwen_pipeline")
    return job.execute_in_process(instance=instance or dg.DagsterInstance.ephemeral(),
                                  raise_on_error=False, asset_selection=selection)


def _events(result_or_events) -> list:
    """A run's Dagster events: an execute_in_process result's, or a list read back from the
    instance (`all_logs`)."""
    return getattr(result_or_events, "all_events", result_or_events)


def materialized(result_or_events) -> set[str]:
    return {e.event_specific_data.materialization.asset_key.to_user_string()
            for e in _events(result_or_events) if e.event_type_value == "ASSET_MATERIALIZATION"}


def check_results(result_or_events) -> dict[str, bool]:
    return {e.event_specific_data.asset_check_key.to_user_string(): e.event_specific_data.passed
            for e in _events(result_or_events) if e.event_type_value == "ASSET_CHECK_EVALUATION"}
