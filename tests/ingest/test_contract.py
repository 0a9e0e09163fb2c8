from pathlib import Path

import yaml

from orchestration.config import PROJECT_DIR
from orchestration.ingest.contract import CONTRACT_PATH, load_contract

SHARED = PROJECT_DIR.parent / "shared" / "contract" / "raw_sources.yml"


def test_project_copy_matches_the_shared_contract():
    # CI and every workplace clone have shared/ beside the project: its absence is a failure
    assert SHARED.exists(), f"{SHARED} is missing: the landing contract cannot be compared"
    assert CONTRACT_PATH.read_text() == SHARED.read_text(), (
        "orchestration/ingest/raw_sources.yml differs from shared/contract: copy it over")


def test_every_contract_source_has_a_dbt_source_with_its_columns():
    project = yaml.safe_load((PROJECT_DIR / "dbt_project.yml").read_text())
    declared = project["vars"]["tianwen_sources"]
    contract = load_contract()
    assert set(declared) == set(contract)
    tables = {}
    for path in Path(PROJECT_DIR / "models" / "staging").rglob("_*__sources.yml"):
        for source in yaml.safe_load(path.read_text())["sources"]:
            for table in source["tables"]:
                tables[(source["name"], table["name"])] = table
    for name, spec in declared.items():
        table = tables[tuple(spec["source"])]
        assert table["identifier"] == name
        columns = [c["name"] for c in table["columns"] if not c["name"].startswith("_")]
        assert columns == list(contract[name].columns)
        identifiers = {c["name"] for c in table["columns"]
                       if c.get("config", {}).get("meta", {}).get("identifier")}
        assert identifiers == set(contract[name].identifier_columns)
        # every identifier column of the contract feeds the identifier occurrences
        assert set(spec["identifiers"]) == set(contract[name].identifier_columns)


def test_every_staged_model_passes_on_the_build_stamp():
    """The record models after staging read only staged rows newer than what they hold
    (`built_at`), so every staged model of a registered source carries and documents it."""
    project = yaml.safe_load((PROJECT_DIR / "dbt_project.yml").read_text())
    documented = {}
    for path in Path(PROJECT_DIR / "models" / "staging").rglob("_*__models.yml"):
        for model in yaml.safe_load(path.read_text())["models"]:
            documented[model["name"]] = {c["name"] for c in model.get("columns", [])}
    missing = [spec["staged"] for spec in project["vars"]["tianwen_sources"].values()
               if "built_at" not in documented.get(spec["staged"], set())
               or "_built_at as built_at" not in next(
                   (PROJECT_DIR / "models" / "staging").rglob(f"{spec['staged']}.sql")).read_text()]
    assert not missing, f"select `_built_at as built_at` in these staged models and document it: {missing}"
