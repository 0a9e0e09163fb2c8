"""Runs the dbt project as a subprocess with the project's profiles and per-target paths."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from orchestration import config

# What a scheduled or CLI run builds: every model, seed, snapshot and data test. dbt's unit
# tests check SQL logic against fixed inputs, not the data, so (as dbt recommends) they run in
# development and CI (`make test` runs them on every engine), not in every production build.
PRODUCTION_BUILD = ["build", "--exclude-resource-type", "unit_test"]


def dbt_executable() -> str:
    candidate = Path(sys.executable).parent / "dbt"
    return str(candidate) if candidate.exists() else "dbt"


def dbt_args(command: list[str], target: str) -> list[str]:
    # Each target gets its own target path: switching targets otherwise forces a re-parse.
    return [dbt_executable(), *command, "--project-dir", str(config.PROJECT_DIR),
            "--profiles-dir", str(config.PROJECT_DIR), "--target", target,
            "--target-path", str(config.dbt_target_dir() / target)]


def dbt_environment():
    """os.environ as dbt needs it (config.dbt_env(): paths made absolute, telemetry off) while
    the block runs: for dagster-dbt, which starts dbt with this process's environment."""
    return config.environment(**{k: v for k, v in config.dbt_env().items() if os.environ.get(k) != v})


def hand_over(target: str) -> None:
    """Before dbt runs: on Spark, stop this process's session (the metastore admits one)."""
    if target == "spark":
        from orchestration.engines import spark

        spark.release()


def run_dbt(command: list[str], target: str, quiet: bool = False) -> None:
    """Run `dbt <command>`; raise with dbt's own output when it fails."""
    hand_over(target)
    proc = subprocess.run(dbt_args(command, target), cwd=config.PROJECT_DIR,
                          env=config.dbt_env(), text=True, capture_output=quiet)
    if proc.returncode != 0:
        detail = (proc.stdout or "")[-4000:] if quiet else "see dbt's output above"
        raise RuntimeError(f"dbt {' '.join(command)} failed on target {target}:\n{detail}")
