"""The PostgreSQL target publishes the same serving copy (a DuckDB file built from the PG marts),
and the API answers from it exactly as it does on DuckDB."""

from __future__ import annotations

import duckdb
import httpx
import pytest

from tests.service.conftest import KEYS, running_server

pytestmark = pytest.mark.slow


def _copy(folder) -> duckdb.DuckDBPyConnection:
    name = (folder / "CURRENT").read_text().strip()
    return duckdb.connect(str(folder / name), read_only=True)


def test_the_postgres_build_publishes_its_marts_minus_the_erased(service_pg):
    wh = service_pg["wh"]
    con = _copy(service_pg["root"] / "serving")
    assert con.execute("select target from build").fetchall() == [("postgres",)]
    live = {c for (c,) in wh.query("postgres", "select customer_id from marts.customer_profiles "
                                               "where not has_erasure_request")}
    assert len(live) >= 5 and {c for (c,) in con.execute("select customer_id from customers").fetchall()} == live
    identities = {r for r in wh.query("postgres", "select identifier_type, identifier_value, customer_id "
                                                  "from marts.customer_identities") if r[2] in live}
    assert set(con.execute("select identifier_type, identifier_value, customer_id from identities").fetchall()) \
        == identities
    merges = wh.query("postgres", "select old_customer_id, new_customer_id from marts.customer_id_merges")
    assert len(merges) == 1
    assert con.execute("select old_customer_id, surviving_customer_id from merges").fetchall() == merges


def test_the_api_answers_the_same_on_both_targets(service_pg, service_data, server):
    con_pg, con_duck = _copy(service_pg["root"] / "serving"), _copy(service_data["serving"])
    types = "select column_name, data_type from information_schema.columns where table_name = 'customers' order by 1"
    assert con_pg.execute(types).fetchall() == con_duck.execute(types).fetchall()
    env = {**service_pg["wh"].env, "CDP_TARGET": "postgres"}
    (old_id,), = con_pg.execute("select old_customer_id from merges").fetchall()
    with running_server(env, service_pg["root"] / "server.log") as pg_srv:
        for key in ("full", "masked"):
            for path in (f"/v1/customers/{old_id}?fields=profile,consents,segments,identifiers",
                         "/v1/customers/lookup?identifier_type=mobile&value=%2B86%20138-0013-8000",
                         "/v1/segments"):
                answers = [httpx.get(base + path, headers={"X-API-Key": KEYS[key]}).json()
                           for base in (pg_srv["base"], server["base"])]
                for answer in answers:  # entered_at and merged_at are when each build ran
                    for s in answer.get("segments", []):
                        s.pop("entered_at", None)
                    if answer.get("merged"):
                        answer["merged"].pop("merged_at")
                assert answers[0] == answers[1], path
