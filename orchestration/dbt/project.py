"""The dbt project as Dagster sees it. Importing this module does no work: `prepare()` runs
`dbt parse` when the manifest is missing, and every entry point (the CLI, `make ui`, the
tests) calls it before it imports the Dagster definitions."""

from __future__ import annotations

import json
import subprocess
from functools import cache
from pathlib import Path

from dagster_dbt import DbtProject

from orchestration import config
from orchestration.dbt.runner import dbt_args


def target_path(target: str | None = None) -> Path:
    # Each target gets its own target path: switching targets otherwise forces a re-parse.
    return config.dbt_target_dir() / (target or config.target())


def manifest_path(target: str | None = None) -> Path:
    return target_path(target) / "manifest.json"


def prepare(target: str | None = None, fresh: bool = False) -> Path:
    """The manifest of `target`, parsed first when it is missing, or always with `fresh` (a
    run must see the models as they are on disk now; partial parsing keeps that quick)."""
    target = target or config.target()
    if fresh or not manifest_path(target).exists():
        subprocess.run(dbt_args(["parse", "--quiet"], target), cwd=config.PROJECT_DIR,
                       env=config.dbt_env(), check=True)
    return manifest_path(target)


def project_vars() -> dict:
    """The `vars:` of dbt_project.yml as written (env_var defaults unrendered): the source
    registry and the settings Python reads alongside dbt."""
    import yaml

    return yaml.safe_load((config.PROJECT_DIR / "dbt_project.yml").read_text())["vars"]


def require_manifest() -> Path:
    path = manifest_path()
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: run `make manifest` (dbt parse) before "
                                "loading the Dagster definitions")
    return path


@cache
def _relations(path: Path, modified_ns: int) -> dict[str, str]:  # re-read after a re-parse
    manifest = json.loads(path.read_text())
    out = {}
    for node in manifest["nodes"].values():
        if node["resource_type"] in ("model", "seed", "snapshot"):
            out[node["name"]] = f"{node['schema']}.{node.get('alias') or node['name']}"
    for source in manifest["sources"].values():
        out[f"{source['source_name']}.{source['name']}"] = f"{source['schema']}.{source['identifier']}"
    return out


def relation(name: str, target: str | None = None) -> str:
    """`schema.table` of a model, seed or snapshot (by name) or a source ('crm.members'), as
    the dbt project places it: schema names live in dbt_project.yml, not in Python."""
    path = prepare(target)
    relations = _relations(path, path.stat().st_mtime_ns)
    if name not in relations:
        raise KeyError(f"{name} is not a model, seed, snapshot or source of the dbt project")
    return relations[name]


def source_relation(raw_table: str, target: str | None = None) -> str:
    """`schema.table` of the dbt source whose table is `raw_table` (a landing source's raw
    table, e.g. 'crm_members')."""
    path = prepare(target)
    relations = _relations(path, path.stat().st_mtime_ns)
    for name, rel in relations.items():
        if "." in name and rel.split(".", 1)[1] == raw_table:
            return rel
    raise KeyError(f"no dbt source reads a raw table {raw_table}: declare it in "
                   "models/staging/<source>/_<source>__sources.yml")


def dbt_project(target: str | None = None) -> DbtProject:
    target = target or config.target()
    return DbtProject(project_dir=config.PROJECT_DIR, profiles_dir=config.PROJECT_DIR,
                      target=target, target_path=target_path(target))
