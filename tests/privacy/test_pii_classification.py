"""Every column that holds personal data is classified in YAML meta (`pii: true` and a
`pii_category`), found by the column's name and by what its values look like. A column that
looks personal but is not (the blocklist's placeholder values) says so with `pii: false`."""

import json
import re

import pytest

from orchestration.dbt.project import prepare

CATEGORIES = {"contact", "identity", "device", "demographic", "location"}
# names that mean personal data wherever they appear
PERSONAL_NAME = re.compile(r"mobile|e_?mail|phone|full_name|nickname|birth_date|openid|unionid"
                           r"|idfa|imei|oaid|meid|device_id|anonymous_id|address|member_card_no"
                           r"|identifier_value|node_key")
# values that are personal data whatever the column is called: a mainland mobile (alone, in
# a node key or in a JSON line) or an e-mail address
PERSONAL_VALUE = {
    "duckdb": r"regexp_matches({c}, '(^|[:\"\s])(\+?86)?1[3-9][0-9]{{9}}($|[\"\s,])')"
              r" or regexp_matches({c}, '[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+\.[A-Za-z]{{2,}}')",
}
# relations the project writes outside dbt models, with what they hold
NON_DBT = {("intermediate", "int_identity_components__graph"): {"node_a", "node_b"},
           ("intermediate", "int_profile_records_resolved__identities"): {"identifier_value"}}


def _classified(manifest: dict) -> dict[tuple[str, str, str], dict]:
    """(schema, relation, column) -> meta, for every model, snapshot, seed and source column."""
    out = {}
    for node in [*manifest["nodes"].values(), *manifest["sources"].values()]:
        if node["resource_type"] not in ("model", "snapshot", "seed", "source"):
            continue
        name = node.get("identifier") or node.get("alias") or node["name"]
        for column, spec in node["columns"].items():
            meta = spec.get("meta") or spec.get("config", {}).get("meta") or {}
            out[(node["schema"], name, column)] = meta
    return out


def _declared(classified: dict, schema: str, table: str, column: str) -> bool:
    """pii: true with a category, or an explicit pii: false. A bi view's columns are the
    mart's, masked by the mart's meta."""
    if schema == "bi":
        schema = "marts"
    meta = classified.get((schema, table, column), {})
    return "pii" in meta or column in NON_DBT.get((schema, table), set())


def _project_columns(built) -> list[tuple[str, str, str, str]]:
    return built.query("duckdb", "select table_schema, table_name, column_name, data_type"
                                 " from information_schema.columns"
                                 " where table_schema not in ('information_schema', 'pg_catalog',"
                                 " 'main') order by 1, 2, 3")


@pytest.fixture(scope="module")
def manifest():
    return json.loads(prepare("duckdb", fresh=True).read_text())


def test_every_pii_column_has_a_known_category(manifest):
    wrong = [f"{s}.{t}.{c}: {meta.get('pii_category')!r}"
             for (s, t, c), meta in _classified(manifest).items()
             if meta.get("pii") and meta.get("pii_category") not in CATEGORIES]
    assert not wrong, f"pii columns need pii_category in {sorted(CATEGORIES)}: {wrong}"


def test_columns_named_like_personal_data_are_classified(built, manifest):
    classified = _classified(manifest)
    missing = []
    for schema, table, column, data_type in _project_columns(built):
        if not PERSONAL_NAME.search(column) or data_type.upper() == "BOOLEAN":
            continue
        if not _declared(classified, schema, table, column):
            missing.append(f"{schema}.{table}.{column}")
    assert not missing, f"mark these `pii: true` with a pii_category in their YAML: {missing}"


def test_columns_holding_personal_values_are_classified(built, manifest):
    """A column whose values contain a mobile number or an e-mail address is classified,
    whatever it is called (a raw line, a node key, a candidate value)."""
    classified = _classified(manifest)
    found, missing = [], []
    for schema, table, column, data_type in _project_columns(built):
        if data_type.upper() not in ("VARCHAR", "TEXT", "JSON"):
            continue
        test = PERSONAL_VALUE["duckdb"].format(c=f'cast("{column}" as varchar)')
        hits = built.query("duckdb", f'select count(*) from "{schema}"."{table}" where {test}')[0][0]
        if not hits:
            continue
        found.append(f"{schema}.{table}.{column}")
        if not _declared(classified, schema, table, column):
            missing.append(f"{schema}.{table}.{column} ({hits} rows)")
    # the scan itself works: the staged mobiles are found
    assert "staging.stg_crm__members.mobile" in found
    assert not missing, f"these columns hold mobiles or e-mails; classify them in YAML: {missing}"
