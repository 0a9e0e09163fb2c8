"""`tianwen export-subject`: everything held about one person, from one identifier typed as a
person would, written as JSON for them and never echoed to the terminal."""

import json
import os
import stat
import subprocess
import sys

import pytest

from orchestration import config


def _export(built, target, identifier, out):
    with built.active():
        return subprocess.run([sys.executable, "-m", "orchestration.cli", "export-subject",
                               "--identifier", identifier, "--target", target, "--out", str(out)],
                              cwd=config.PROJECT_DIR, capture_output=True, text=True,
                              env={**os.environ, **built.env}, check=False)


@pytest.mark.parametrize("target", ["duckdb", "postgres"])
def test_one_mobile_exports_the_whole_person(built, target, tmp_path):
    # a member with orders and a mobile, chosen from the staged CRM rows
    mobile, member_id = built.query(
        target, "select m.mobile, m.member_id from staging.stg_crm__members as m"
                " join marts.customer_identities as i"
                " on i.identifier_type = 'mobile' and i.identifier_value = m.mobile"
                " join marts.customer_metrics as c on c.customer_id = i.customer_id"
                " where c.order_count > 0 order by m.member_id limit 1")[0]
    typed = f"+86 {mobile[:3]}-{mobile[3:7]}-{mobile[7:]}"
    out = tmp_path / "subject.json"
    proc = _export(built, target, f"mobile:{typed}", out)
    assert proc.returncode == 0, proc.stderr
    assert mobile not in proc.stdout + proc.stderr  # counts only on the terminal
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    document = json.loads(out.read_text())
    assert document["requested"] == {"identifier_type": "mobile", "identifier_value": mobile}
    (customer_id,) = document["customer_ids"]
    person = document["customers"][customer_id]
    # every identifier the graph holds for the customer, and the profile
    expected = {(t, v) for t, v in built.query(
        target, "select identifier_type, identifier_value from marts.customer_identities"
                f" where customer_id = '{customer_id}'")}
    assert {(r["identifier_type"], r["identifier_value"]) for r in person["identifiers"]} == expected
    assert ("member_id", member_id) in expected
    assert person["profile"][0]["customer_id"] == customer_id
    # the staged CRM record itself, and every order of the customer
    assert member_id in {r["member_id"] for r in person["source_records"]["crm_members"]}
    orders = built.query(target, "select count(*) from intermediate.int_orders_unioned"
                                 f" where customer_id = '{customer_id}'")[0][0]
    assert len(person["orders"]) == orders > 0
    assert {t["tag_name"] for t in person["tags"]} >= {"order_count", "lifetime_value"}
    # every section the project holds people in is there (what was sent, too), none absent
    assert document["absent_sections"] == []
    assert {"sends", "rejected_sends", "consents", "campaign_assignments"} <= set(person)


@pytest.mark.parametrize(("identifier", "message"), [
    ("phone:13800138000", "unknown identifier type 'phone'; use one of: member_id, mobile"),
    ("mobile:12345", "not a well-formed mobile"),
    ("mobile:13912345678", "no customer holds that mobile"),
    ("13800138000", "must be <type>:<value>"),
])
def test_bad_requests_get_a_clear_answer(built, tmp_path, identifier, message):
    held = built.query("duckdb", "select count(*) from marts.customer_identities"
                                 " where identifier_value = '13912345678'")[0][0]
    assert held == 0  # the unknown mobile above is really unknown
    proc = _export(built, "duckdb", identifier, tmp_path / "x.json")
    assert proc.returncode == 2
    assert message in proc.stderr
    assert not (tmp_path / "x.json").exists()
