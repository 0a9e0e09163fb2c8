"""The dbt project as Dagster sees it. The manifest is prepared by `dbt parse` when it is
missing, so importing the definitions works on a fresh clone."""

from __future__ import annotations

import subprocess

from dagster_dbt import DbtProject

from orchestration import config
from orchestration.dbt.runner import dbt_args


def target() -> str:
    return config.target()


def manifest_path():
    return config.PROJECT_DIR / "target" / target() / "manifest.json"


def ensure_manifest() -> None:
    if not manifest_path().exists():
        subprocess.run(dbt_args(["parse", "--quiet"], target()), cwd=config.PROJECT_DIR,
                       env=config.dbt_env(), check=True)


ensure_manifest()

dbt_project = DbtProject(
    project_dir=config.PROJECT_DIR,
    profiles_dir=config.PROJECT_DIR,
    target=target(),
    target_path=config.PROJECT_DIR / "target" / target(),
)
