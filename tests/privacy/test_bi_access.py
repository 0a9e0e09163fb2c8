"""The bi schema: every mart a BI tool reads, with PII masked by its YAML meta; on
PostgreSQL the bi_reader role reads that schema and nothing else."""

import json
import re
import secrets

import psycopg
import pytest

from tests.conftest import compile_inline

MASKED = {
    "mobile": re.compile(r"^1[3-9][0-9]\*{4}[0-9]{4}$"),
    "email": re.compile(r"^.\*{3}@[^@]+$"),
    "birth_date": re.compile(r"^[0-9]{4}-[0-9]{2}$"),
    "full_name": re.compile(r"^.\*\*$"),
}


@pytest.mark.parametrize("target", ["duckdb", "postgres"])
def test_bi_profiles_show_pii_masked_and_the_rest_as_is(built, target):
    cols = ", ".join(MASKED)
    rows = built.query(target, f"select customer_id, {cols}, city, loyalty_tier"
                               " from bi.customer_profiles order by customer_id")
    marts = {r[0]: r[1:] for r in built.query(
        target, f"select customer_id, {cols}, city, loyalty_tier from marts.customer_profiles")}
    assert len(rows) == len(marts) > 0
    seen = dict.fromkeys(MASKED, 0)
    for customer_id, *values in rows:
        original = marts[customer_id]
        for (name, pattern), value, raw in zip(MASKED.items(), values, original, strict=False):
            assert (value is None) == (raw is None), (name, customer_id)
            if value is not None:
                assert pattern.match(str(value)), (name, value)
                seen[name] += 1
        if original[0]:  # the mask keeps the first three and last four digits
            assert values[0][:3] == original[0][:3] and values[0][-4:] == original[0][-4:]
        assert values[4:] == list(original[4:])  # not personal: shown as is
    assert all(seen.values()), seen


@pytest.mark.parametrize("target", ["duckdb", "postgres"])
def test_no_bi_view_holds_a_mobile_or_an_email(built, target):
    """Scans every text column of every bi view for the staged mobiles and e-mails."""
    mobiles = {m for (m,) in built.query(target, "select mobile from staging.stg_crm__members"
                                                 " where mobile is not null")}
    emails = {e for (e,) in built.query(target, "select email from staging.stg_crm__members"
                                                " where email is not null")}
    assert mobiles and emails
    columns = built.query(target, "select table_name, column_name from information_schema.columns"
                                  " where table_schema = 'bi'"
                                  " and data_type in ('VARCHAR', 'character varying', 'text')")
    assert {t for t, _ in columns} >= {"customer_profiles", "customer_identities",
                                      "customer_profile_attributes", "customer_tags"}
    leaked = []
    for table, column in columns:
        values = {v for (v,) in built.query(target, f'select distinct "{column}" from bi."{table}"')}
        found = {str(v).split(":")[-1] for v in values if v} & (mobiles | emails)
        if found:
            leaked.append(f"bi.{table}.{column}: {len(found)} values")
    assert not leaked


@pytest.mark.parametrize("target", ["duckdb", "postgres"])
def test_pseudonyms_are_stable_and_join_across_views(built, target):
    """The same member id gets the same pseudonym in every view, so BI joins still work."""
    rows = built.query(target, "select count(*) from bi.customer_identities as i"
                               " join bi.customer_profile_attributes as a"
                               " on a.attribute_value = i.identifier_value"
                               " and a.customer_id = i.customer_id"
                               " where i.identifier_type = 'mobile' and a.attribute_name = 'mobile'")
    assert rows[0][0] > 0
    key = built.query(target, "select count(*) from privacy.bi_pseudonym_key")[0][0]
    assert key == 1


def _connect_as_bi_reader(built):
    env = built.env
    admin = dict(host=env["CDP_PG_HOST"], port=env["CDP_PG_PORT"], dbname=env["CDP_PG_DATABASE"])
    password = secrets.token_hex(8)
    with psycopg.connect(**admin, user=env["CDP_PG_USER"], password=env["CDP_PG_PASSWORD"] or None,
                         autocommit=True) as con:
        # the project creates the role without login; an admin lets a person in
        con.execute(f"alter role bi_reader login password '{password}'")
    return psycopg.connect(**admin, user="bi_reader", password=password, autocommit=True)


def test_bi_reader_reads_bi_views_and_nothing_else(built):
    with _connect_as_bi_reader(built) as con:
        n = con.execute("select count(*) from bi.customer_profiles").fetchone()[0]
        assert n > 0
        assert con.execute("select count(*) from bi.segment_memberships").fetchone()[0] >= 0
        for relation in ("raw.crm_members", "staging.stg_crm__members",
                         "intermediate.int_identity_assignments", "marts.customer_profiles",
                         "marts.customer_identities", "privacy.bi_pseudonym_key",
                         "snapshots.customer_profile_history"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                con.execute(f"select 1 from {relation} limit 1")


@pytest.fixture(scope="module")
def equal_rowcount(tmp_path_factory) -> tuple[str, dict]:
    """The equal_rowcount macro compiled by dbt for two tables against a mart named as the bi
    views name theirs (three rows against its two, two against two), and the manifest of
    that same fresh parse."""
    inline = ("select 'differ' as pair, * from"
              " ({{ tianwen.default__test_equal_rowcount('three', 'customer_profiles') }}) as a"
              " union all select 'equal' as pair, * from"
              " ({{ tianwen.default__test_equal_rowcount('two', 'customer_profiles') }}) as b")
    target_path = tmp_path_factory.mktemp("dbt-target")
    proc = compile_inline(inline, target_path)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc.stdout, json.loads((target_path / "manifest.json").read_text())


def test_each_bi_view_is_keyed_by_its_mart_one_row_for_one(equal_rowcount):
    """A bi view's primary-key test is equal_rowcount against the mart it masks, one row for
    one: the mart's own key test covers the view, whatever masking does to the key columns."""
    nodes = equal_rowcount[1]["nodes"]
    tests = [n for n in nodes.values() if n["resource_type"] == "test"]

    def kinds(uid: str) -> dict[str, list]:
        out: dict[str, list] = {}
        for t in tests:
            if t.get("attached_node") == uid:
                out.setdefault((t.get("test_metadata") or {}).get("name", "singular"), []).append(t)
        return out

    views = sorted(n["name"] for n in nodes.values()
                   if n["resource_type"] == "model" and n["name"].startswith("bi_") and n["name"] != "bi_pseudonym_key")
    assert len(views) >= 15
    for view in views:
        mart = nodes[f"model.tianwen.{view}"]["raw_code"].split("masked_view('")[1].split("'")[0]
        view_tests = kinds(f"model.tianwen.{view}")
        assert list(view_tests) == ["equal_rowcount"], (view, view_tests)
        test = view_tests["equal_rowcount"][0]
        assert test["test_metadata"]["kwargs"]["compare_model"] == mart, view
        # the test's only parent is the view: selecting the mart alone does not run it
        assert test["depends_on"]["nodes"] == [f"model.tianwen.{view}"], test["depends_on"]
        assert {"unique", "unique_combination_of_columns"} & set(kinds(f"model.tianwen.{mart}")), mart


def test_equal_rowcount_fails_only_when_the_counts_differ(equal_rowcount):
    """The compiled macro run by DuckDB: one failing row, with both counts, for the pair that
    differs; none for the pair that does not."""
    import duckdb

    con = duckdb.connect()
    con.execute("create table three as select * from range(3)")
    con.execute("create table two as select * from range(2)")
    # the mart's name is read through its relation, marts.customer_profiles
    con.execute("create schema marts")
    con.execute("create table marts.customer_profiles as select * from range(10, 12)")
    assert con.execute(equal_rowcount[0]).fetchall() == [("differ", 3, 2)]


def test_equal_rowcount_names_a_compare_model_that_is_no_model(tmp_path):
    proc = compile_inline("{{ tianwen.default__test_equal_rowcount('two', 'customer_profile') }}", tmp_path)
    assert proc.returncode != 0
    assert "compare_model 'customer_profile' is not a model" in proc.stdout + proc.stderr
