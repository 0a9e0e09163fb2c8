"""dbt's unit tests (`unit_tests:` in models/**/_*__unit_tests.yml) on every engine.

Production builds leave them out (orchestration.dbt.runner.PRODUCTION_BUILD): they check the
SQL against fixed inputs, not the data, so they run here, against the built warehouses."""

import json

import pytest

from orchestration import config
from orchestration.dbt.runner import run_dbt


@pytest.mark.parametrize("target", ["duckdb", "postgres"])
def test_every_unit_test_runs_and_passes(target, built):
    with built.active():
        run_dbt(["test", "--select", "test_type:unit"], target, quiet=True)  # raises with dbt's output
    artifacts = config.dbt_target_dir() / target
    declared = set(json.loads((artifacts / "manifest.json").read_text())["unit_tests"])
    results = json.loads((artifacts / "run_results.json").read_text())["results"]
    ran = {r["unique_id"]: r["status"] for r in results if r["unique_id"].startswith("unit_test.")}
    assert len(declared) >= 15
    assert set(ran) == declared and set(ran.values()) == {"pass"}, ran
