"""The bi schema: every mart a BI tool reads, with PII masked by its YAML meta; on
PostgreSQL the bi_reader role reads that schema and nothing else."""

import re
import secrets

import psycopg
import pytest

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
