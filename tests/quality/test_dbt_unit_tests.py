"""dbt's unit tests (`unit_tests:` in models/**/_*__unit_tests.yml) on every engine.

Production builds leave them out (orchestration.dbt.runner.PRODUCTION_BUILD): they check the
SQL against fixed inputs, not the data, so they run here, against the built warehouses."""

import json
import subprocess

import pytest

from orchestration import config
from orchestration.dbt.runner import PRODUCTION_BUILD, dbt_args


def _dbt(command: list[str], target: str) -> subprocess.CompletedProcess:
    return subprocess.run(dbt_args(command, target), cwd=config.PROJECT_DIR, env=config.dbt_env(),
                          text=True, capture_output=True)


@pytest.mark.parametrize("target", ["duckdb", "postgres"])
def test_every_unit_test_passes_and_production_builds_leave_them_out(target, built):
    with built.active():
        declared = _dbt(["ls", "--resource-type", "unit_test", "--output", "name", "--quiet"], target)
        in_production = _dbt(["ls", *PRODUCTION_BUILD[1:], "--output", "name", "--quiet"], target)
        proc = _dbt(["test", "--select", "test_type:unit"], target)
    names = set(declared.stdout.split())
    assert len(names) >= 15, declared.stdout[-2000:]
    assert not names & set(in_production.stdout.split()), in_production.stdout[-2000:]
    assert proc.returncode == 0, proc.stdout[-4000:]
    results = json.loads((config.dbt_target_dir() / target / "run_results.json").read_text())["results"]
    ran = {r["unique_id"].split(".")[-1]: r["status"] for r in results if r["unique_id"].startswith("unit_test.")}
    assert set(ran) == names and set(ran.values()) == {"pass"}, ran
