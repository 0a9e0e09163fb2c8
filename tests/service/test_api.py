"""The data service's endpoints against the real server process; every expected value comes
from the warehouse marts the pipeline built, not from the service's own code."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.service.conftest import KEYS

pytestmark = pytest.mark.slow


def customer_of(service_data, identifier_type: str, value: str) -> str | None:
    rows = service_data["wh"].query("duckdb", "select customer_id from marts.customer_identities where "
                                              f"identifier_type = '{identifier_type}' and identifier_value = '{value}'")
    return rows[0][0] if rows else None


@pytest.fixture(scope="module")
def ids(service_data):
    """B: the survivor of the merge (holds M1 now); A: M1's id before the merge."""
    wh = service_data["wh"]
    b = customer_of(service_data, "member_id", "M1")
    merges = wh.query("duckdb", "select old_customer_id, new_customer_id, reason from marts.customer_id_merges")
    assert len(merges) == 1 and merges[0][1] == b and merges[0][2] == "merge", merges
    return {"a": merges[0][0], "b": b}


def test_lookup_normalises_as_the_pipeline_does(api, ids, service_data):
    for typed in ("+86 138-0013-8000", "0086 13800138000", "(86)138.0013.8000", "13800138000"):
        r = api("/v1/customers/lookup", identifier_type="mobile", value=typed)
        assert r.status_code == 200, (typed, r.text)
        assert r.json()["customer_id"] == ids["b"]
    r = api("/v1/customers/lookup", identifier_type="EMAIL", value=" zhang.wei@qq.COM ")
    assert r.json()["customer_id"] == ids["b"]
    r = api("/v1/customers/lookup", identifier_type="member_card_no", value="6000-0000-0002")
    assert r.json()["customer_id"] == customer_of(service_data, "member_card_no", "600000000002") == ids["b"]


def test_unknown_types_and_malformed_values_get_a_4xx_naming_the_problem(api):
    r = api("/v1/customers/lookup", identifier_type="phone", value="13800138000")
    assert r.status_code == 400 and r.json()["code"] == "unknown_identifier_type"
    assert "phone" in r.json()["message"] and "mobile" in r.json()["message"]
    r = api("/v1/customers/lookup", identifier_type="mobile", value="+86 138-0013-800")  # a digit short
    assert r.status_code == 422 and r.json()["code"] == "malformed_identifier"
    assert "mobile" in r.json()["message"] and "0013" not in r.json()["message"]
    r = api("/v1/customers/lookup", identifier_type="mobile")
    assert r.status_code == 422 and "value" in r.json()["message"]
    r = api("/v1/customers/lookup", identifier_type="mobile", value="13811112222")
    assert r.status_code == 404 and r.json()["code"] == "identifier_not_found"
    r = api("/v1/customers/bad id!")
    assert r.status_code == 422 and r.json()["code"] == "malformed_customer_id"


def test_profile_tags_segments_and_consents_match_the_marts(api, ids, service_data):
    wh, b = service_data["wh"], ids["b"]
    r = api(f"/v1/customers/{b}")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["customer_id"] == b and body["merged"] is None
    (mobile, email, name, birth, city, tier, email_ok, sms_ok), = wh.query(
        "duckdb", "select mobile, email, full_name, cast(birth_date as varchar), city, loyalty_tier, "
                  f"has_email_consent, has_sms_consent from marts.customer_profiles where customer_id = '{b}'")
    assert (body["profile"]["mobile"], body["profile"]["email"], body["profile"]["full_name"]) == (mobile, email, name)
    profile = body["profile"]
    assert (profile["birth_date"], profile["city"], profile["loyalty_tier"]) == (birth, city, tier)
    assert body["consents"]["email"] is email_ok is True and body["consents"]["sms"] is sms_ok
    assert body["tags"] == dict(wh.query("duckdb", "select tag_name, tag_value from marts.customer_tags "
                                                   f"where customer_id = '{b}'"))
    expected = {s for (s,) in wh.query("duckdb", "select segment_id from marts.segment_memberships "
                                                 f"where customer_id = '{b}'")}
    assert expected and {s["segment_id"] for s in body["segments"]} == expected
    r = api(f"/v1/customers/{b}/segments")
    assert {s["segment_id"] for s in r.json()["segments"]} == expected


def test_fields_choose_what_comes_back(api, ids):
    body = api(f"/v1/customers/{ids['b']}", fields="city,consents").json()
    assert set(body) == {"customer_id", "merged", "profile", "consents"} and body["profile"] == {"city": "杭州"}
    body = api(f"/v1/customers/{ids['b']}", fields="tags").json()
    assert set(body) == {"customer_id", "merged", "tags"}
    r = api(f"/v1/customers/{ids['b']}", fields="tags,shoe_size")
    assert r.status_code == 400 and r.json()["code"] == "unknown_field" and "shoe_size" in r.json()["message"]


def test_without_pii_read_pii_is_masked(api, ids):
    full = api(f"/v1/customers/{ids['b']}", fields="profile,identifiers").json()
    masked = api(f"/v1/customers/{ids['b']}", key="masked", fields="profile,identifiers").json()
    assert full["profile"]["mobile"] == "13800138000" and masked["profile"]["mobile"] == "138****8000"
    assert full["profile"]["email"] == "zhang.wei@qq.com" and masked["profile"]["email"] == "z***@qq.com"
    assert full["profile"]["birth_date"] == "1990-11-05" and masked["profile"]["birth_date"] == "1990-11"
    assert masked["profile"]["full_name"] == "张*" and masked["profile"]["city"] == full["profile"]["city"]
    devices = [i["identifier_value"] for i in masked["identifiers"] if i["identifier_type"] == "device_id"]
    assert devices and all(d.startswith("sha256:") and "dev-0001" not in d for d in devices)
    assert {"identifier_type": "device_id", "identifier_value": "dev-0001-aaaa"} in full["identifiers"]
    assert "13800138000" not in str(masked) and "zhang.wei" not in str(masked)


def test_keys_and_scopes(api, ids):
    r = api(f"/v1/customers/{ids['b']}", key=None)
    assert r.status_code == 401 and r.json()["code"] == "missing_api_key"
    r = api(f"/v1/customers/{ids['b']}", key="not-a-key")
    assert r.status_code == 401 and r.json()["code"] == "invalid_api_key"
    r = api(f"/v1/customers/{ids['b']}", key="pii_only")
    assert r.status_code == 403 and r.json()["code"] == "insufficient_scope"
    for path in ("/v1/customers/lookup", "/v1/segments", f"/v1/customers/{ids['b']}/segments"):
        assert api(path, key=None, identifier_type="mobile", value="13800138000").status_code == 401


def test_a_merged_id_answers_with_the_survivor_and_says_so(api, ids):
    body = api(f"/v1/customers/{ids['a']}").json()
    assert body["customer_id"] == ids["b"]
    assert body["merged"]["requested_customer_id"] == ids["a"] and body["merged"]["reason"] == "merge"
    assert body["profile"]["mobile"] == "13800138000"
    body = api(f"/v1/customers/{ids['a']}/segments").json()
    assert body["customer_id"] == ids["b"] and body["merged"]["requested_customer_id"] == ids["a"]


def test_an_erased_person_is_not_found(api, service_data):
    wh = service_data["wh"]
    (erased,), = wh.query("duckdb", "select customer_id from marts.customer_profiles where has_erasure_request")
    assert customer_of(service_data, "member_id", "M9") == erased  # the warehouse still knows the id
    r = api("/v1/customers/lookup", identifier_type="mobile", value="13600000009")
    assert r.status_code == 404
    assert api("/v1/customers/lookup", identifier_type="member_id", value="m9").status_code == 404
    assert api(f"/v1/customers/{erased}").status_code == 404
    assert api(f"/v1/customers/{erased}/segments").status_code == 404
    for segment in api("/v1/segments").json()["segments"]:
        members = api(f"/v1/segments/{segment['segment_id']}/members", limit=1000).json()["members"]
        assert erased not in {m["customer_id"] for m in members}


def test_segment_members_are_paged_with_an_opaque_cursor(api, service_data):
    wh = service_data["wh"]
    erased = {c for (c,) in wh.query("duckdb", "select customer_id from marts.customer_profiles "
                                               "where has_erasure_request")}
    (segment, _), = wh.query("duckdb", "select segment_id, count(*) from marts.segment_memberships "
                                       "group by 1 order by 2 desc, 1 limit 1")
    expected = [c for (c,) in wh.query("duckdb", "select customer_id from marts.segment_memberships "
                                                 f"where segment_id = '{segment}' order by 1") if c not in erased]
    assert len(expected) >= 3, "the sample should give a segment worth paging"
    seen, cursor, pages = [], None, 0
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        body = api(f"/v1/segments/{segment}/members", **params).json()
        assert len(body["members"]) <= 2
        seen += [m["customer_id"] for m in body["members"]]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == expected and pages == (len(expected) + 1) // 2
    assert api(f"/v1/segments/{segment}/members", cursor="garbage!").json()["code"] == "invalid_cursor"
    other = api("/v1/segments/lapsed_buyers/members", cursor=api(f"/v1/segments/{segment}/members",
                                                                  limit=1).json()["next_cursor"])
    assert other.status_code in (400, 404)
    assert api("/v1/segments/no_such_segment/members").json()["code"] == "segment_not_found"
    sizes = {s["segment_id"]: s["members"] for s in api("/v1/segments").json()["segments"]}
    assert sizes[segment] == len(expected)


def test_openapi_docs_are_served(server):
    import httpx

    assert httpx.get(server["base"] + "/docs").status_code == 200
    paths = httpx.get(server["base"] + "/openapi.json").json()["paths"]
    assert {"/v1/customers/lookup", "/v1/customers/{customer_id}", "/v1/customers/{customer_id}/segments",
            "/v1/segments/{segment_id}/members"} <= set(paths)


def test_requests_are_logged_without_pii(api, ids, server):
    api("/v1/customers/lookup", identifier_type="mobile", value="+86 138-0013-8000")
    api("/v1/customers/lookup", identifier_type="email", value="zhang.wei@qq.com")
    api(f"/v1/customers/{ids['b']}", key="masked")
    log = server["log"].read_text()
    assert "GET /v1/customers/lookup 200" in log and "GET /v1/customers/{customer_id} 200" in log
    for secret in ("13800138000", "138-0013", "zhang.wei", "qq.com", KEYS["full"], KEYS["masked"]):
        assert secret not in log, secret


@pytest.mark.parametrize("value, fix", [("", "CDP_API_KEYS is not set"),
                                        ("k1=profile:read+pii:wrte", "pii:wrte"),
                                        ("k1", "key=scope+scope")])
def test_a_malformed_key_setting_stops_the_start(value, fix, service_data):
    env = {**os.environ, **service_data["wh"].env, "CDP_API_KEYS": value, "CDP_API_PORT": "1"}
    proc = subprocess.run([str(Path(sys.executable).parent / "tianwen"), "serve"], env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and fix in proc.stderr and "CDP_API_KEYS" in proc.stderr, proc.stderr
