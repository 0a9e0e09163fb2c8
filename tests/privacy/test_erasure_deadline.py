"""When erasure cannot finish: a mirrored audience that cannot be told to drop the person stops
the erasure before anything is deleted (the request stays pending, to be retried), and a
request left pending past CDP_ERASURE_DEADLINE_DAYS fails the erasure_deadline check and
raises an alert. A hand-made warehouse holds just what the erasure step reads."""

from __future__ import annotations

import datetime as dt
import socket

import dagster as dg
import pytest
import yaml

from orchestration.activation import state
from orchestration.ingest.warehouse import DuckDBWarehouse

MOBILE = "13912345678"


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture()
def warehouse(tmp_path, monkeypatch):
    path = tmp_path / "w.duckdb"
    monkeypatch.setenv("CDP_DUCKDB_PATH", str(path))
    monkeypatch.setenv("CDP_TARGET", "duckdb")
    monkeypatch.setenv("CDP_ACTIVATION_SYNCS_DIR", str(tmp_path / "syncs"))
    monkeypatch.setenv("CDP_ACTIVATION_DIR", str(tmp_path / "out"))
    monkeypatch.setenv("CDP_EXPORTS_DIR", str(tmp_path / "exports"))
    wh = DuckDBWarehouse(path)
    asked = dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(days=40)
    for statement in [
        "create schema privacy", "create schema staging", "create schema marts", "create schema raw",
        "create table privacy.erasure_hash_key (hash_key varchar)",
        "insert into privacy.erasure_hash_key values ('k')",
        "create table privacy.erased_identifiers (identifier_type varchar, identifier_hash varchar, "
        "erasure_run_id varchar, suppressed_at timestamp)",
        "create table privacy.erasure_outcomes (request_id varchar, identifier_type varchar, requested_at "
        "timestamp, outcome varchar, erasure_run_id varchar, customers_erased integer, identifiers_suppressed "
        "integer, audiences_notified integer, syncs_to_forward varchar, files_rewritten integer, "
        "completed_at timestamp)",
        "create table privacy.erasure_deletions (erasure_run_id varchar, table_name varchar, source_name varchar, "
        "deleted_rows bigint, deleted_at timestamp)",
        "create table staging.stg_privacy__erasure_requests (request_id varchar, identifier_type varchar, "
        "identifier_value varchar, requested_at timestamp)",
        f"insert into staging.stg_privacy__erasure_requests values ('R1', 'mobile', '{MOBILE}', '{asked}')",
        "create table staging.base_privacy__erasure_requests (_file_name varchar, _row_number bigint, "
        "request_id varchar, identifier_type varchar, identifier_value varchar, raw_identifier_value varchar)",
        "create table marts.customer_identities (customer_id varchar, identifier_type varchar, "
        "identifier_value varchar)",
        f"insert into marts.customer_identities values ('cus_1', 'mobile', '{MOBILE}')",
        "insert into marts.customer_identities values ('cus_2', 'mobile', '13900000000')",
    ]:
        wh.execute(statement)
    state.ensure_tables(wh)
    wh.execute("insert into activation.sync_state values ('gateway', 'cus_1', 'h', null, now())")
    (tmp_path / "syncs").mkdir()
    (tmp_path / "syncs" / "gateway.yml").write_text(yaml.safe_dump({
        "source": {"segment": "seg"}, "mode": "mirror", "consent_channel": "sms",
        "destination": {"type": "webhook", "url_env": "GATEWAY_URL", "secret_env": "GATEWAY_KEY",
                        "max_attempts": 1, "backoff_seconds": 0.01}}))
    monkeypatch.setenv("GATEWAY_URL", f"http://127.0.0.1:{_closed_port()}/hook")
    monkeypatch.setenv("GATEWAY_KEY", "secret")
    wh.close()
    return path


def test_an_unreachable_audience_stops_erasure_before_anything_is_deleted(warehouse, webhook, monkeypatch):
    url, received = webhook
    monkeypatch.setenv("CDP_ALERT_WEBHOOK_URL", url)
    monkeypatch.setenv("CDP_ERASURE_DEADLINE_DAYS", "30")
    from orchestration.privacy.erasure import process

    with pytest.raises(RuntimeError, match="sync gateway .*could not be sent their removal.*Nothing was deleted"):
        process("duckdb")
    # the request was already past its deadline: the failure raised the alert too
    assert received and received[0]["title"] == "erasure requests overdue" and "R1" in received[0]["details"][0]
    wh = DuckDBWarehouse(warehouse)
    try:
        assert wh.execute("select count(*) from privacy.erased_identifiers").fetchone()[0] == 0
        assert wh.execute("select count(*) from privacy.erasure_outcomes").fetchone()[0] == 0
        assert wh.execute("select record_key from activation.sync_state").fetchall() == [("cus_1",)]
        assert wh.execute("select count(*) from marts.customer_identities").fetchone()[0] == 2
    finally:
        wh.close()


def test_an_overdue_request_fails_the_check_and_alerts(warehouse, webhook, monkeypatch):
    from orchestration.privacy.assets import erasure_deadline
    from orchestration.privacy.erasure import overdue_requests

    url, received = webhook
    monkeypatch.setenv("CDP_ALERT_WEBHOOK_URL", url)
    monkeypatch.setenv("CDP_ERASURE_DEADLINE_DAYS", "30")
    wh = DuckDBWarehouse(warehouse)
    try:
        assert overdue_requests(wh, days=30) == ["R1"]
        assert overdue_requests(wh, days=60) == []
    finally:
        wh.close()
    result = erasure_deadline(dg.build_asset_check_context())
    assert not result.passed and result.metadata["overdue_requests"].value == 1
    assert received and received[0]["title"] == "erasure requests overdue"
    assert "R1" in received[0]["details"][0] and MOBILE not in str(received)

    monkeypatch.setenv("CDP_ERASURE_DEADLINE_DAYS", "60")
    assert erasure_deadline(dg.build_asset_check_context()).passed


@pytest.mark.parametrize("days", ["0", "a month"])
def test_a_wrong_deadline_names_the_setting(days, monkeypatch):
    from orchestration.privacy.erasure import deadline_days

    monkeypatch.setenv("CDP_ERASURE_DEADLINE_DAYS", days)
    with pytest.raises(ValueError, match="CDP_ERASURE_DEADLINE_DAYS"):
        deadline_days()



def test_with_nothing_pending_or_nothing_built_erasure_does_nothing(warehouse, tmp_path, monkeypatch):
    from orchestration.privacy.erasure import process

    con = DuckDBWarehouse(warehouse)
    con.execute("insert into privacy.erasure_outcomes select request_id, identifier_type, requested_at, "
                "'erased', 'r', 1, 1, 0, null, 0, now() from staging.stg_privacy__erasure_requests")
    con.close()
    report = process("duckdb")
    assert (report.requests, report.deleted, report.customers) == (0, {}, 0)
    con = DuckDBWarehouse(warehouse)
    assert con.execute("select count(*) from marts.customer_identities").fetchone()[0] == 2
    assert con.execute("select count(*) from activation.sync_state").fetchone()[0] == 1
    con.close()
    # a warehouse never built (the UI's "Materialize all" on a fresh clone runs erasure first)
    monkeypatch.setenv("CDP_DUCKDB_PATH", str(tmp_path / "fresh.duckdb"))
    assert process("duckdb").requests == 0
