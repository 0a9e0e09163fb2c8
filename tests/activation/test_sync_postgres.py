"""PostgreSQL: the table-upsert destination on a real server, and the whole sync with the
warehouse itself on PostgreSQL (state, run log, holdouts, consent query)."""

from __future__ import annotations

import psycopg
import pytest
from sync_helpers import MiniWarehouse, make_sync, new_database

from orchestration.activation.runner import run_sync
from orchestration.ingest.warehouse import PostgresWarehouse


@pytest.fixture()
def crm(pg_server, monkeypatch):
    dsn = new_database(pg_server)
    monkeypatch.setenv("TEST_CRM_DSN", dsn)
    return dsn


def crm_sync(**kw):
    return make_sync(destination={"type": "postgres", "dsn_env": "TEST_CRM_DSN", "table": "crm.welcome"},
                     fields={"tier": "loyalty_tier", "city": "city"}, **kw)


def rows(dsn):
    with psycopg.connect(dsn) as con:
        return sorted(con.execute("select key, tier, city from crm.welcome").fetchall())


def test_postgres_upserts_changes_and_deletes(mini, crm):
    with psycopg.connect(crm, autocommit=True) as con:
        con.execute("create schema crm")
    for i in range(4):
        mini.customer(f"c{i}", city="成都")
    sync = crm_sync()
    assert run_sync(mini.wh, sync).added == 4
    assert rows(crm) == [(f"c{i}", "gold", "成都") for i in range(4)]
    mini.customer("c1", tier="silver", city="成都", segment=None)
    mini.leave("c3")
    second = run_sync(mini.wh, sync)
    assert (second.changed, second.removed) == (1, 1)
    assert rows(crm) == [("c0", "gold", "成都"), ("c1", "silver", "成都"), ("c2", "gold", "成都")]
    with psycopg.connect(crm) as con:  # only the mapped fields: no e-mail, mobile or name column
        cols = {r[0] for r in con.execute("select column_name from information_schema.columns "
                                          "where table_name = 'welcome'").fetchall()}
    assert cols == {"key", "tier", "city", "synced_at"}


def test_rows_the_database_refuses_are_rejected_and_the_rest_applied(mini, crm):
    with psycopg.connect(crm, autocommit=True) as con:
        con.execute("create schema crm")
        con.execute("create table crm.welcome (key text primary key, tier text check (tier <> 'banned'), "
                    "city text, synced_at timestamptz not null default now())")
    mini.customer("c0")
    mini.customer("c1", tier="banned")
    mini.customer("c2")
    result = run_sync(mini.wh, crm_sync())
    assert (result.added, result.rejected) == (2, 1)
    assert [r[0] for r in rows(crm)] == ["c0", "c2"]
    (key, message), = mini.one("select record_key, message from activation.sync_rejections")
    assert key == "c1" and "check constraint" in message
    mini.customer("c1", tier="gold")  # fixed upstream: the retry next run goes through
    assert run_sync(mini.wh, crm_sync()).added == 1


def test_a_sync_runs_with_the_warehouse_on_postgresql(pg_server, receiver):
    wh = PostgresWarehouse(new_database(pg_server))
    try:
        mini = MiniWarehouse(wh=wh)
        for i in range(5):
            mini.customer(f"c{i}")
        mini.customer("c_erased", erased=True)
        sync = make_sync(holdout={"campaign": "pg", "share": 0.3})
        first = run_sync(wh, sync)
        assert first.suppressed == 1 and first.added + first.held_out == 5
        mini.leave("c0")
        mini.leave("c1")
        second = run_sync(wh, sync)
        assert second.added == 0 and second.unchanged + second.removed == first.added
        assert set(receiver.audience) == set(mini.state(sync.sync_id))
        assert mini.one("select count(*) from activation.campaign_assignments") == [(5,)]
        assert [r[0] for r in mini.one("select status from activation.sync_runs order by started_at")] == [
            "succeeded", "succeeded"]
    finally:
        wh.close()


def test_a_second_run_of_the_same_sync_waits_its_turn(pg_server, receiver):
    dsn = new_database(pg_server)
    wh = PostgresWarehouse(dsn)
    try:
        mini = MiniWarehouse(wh=wh)
        mini.customer("c0")
        with psycopg.connect(dsn, autocommit=True) as other:  # a run in progress elsewhere
            other.execute("select pg_advisory_lock(hashtext('tianwen-sync:test_sync'))")
            with pytest.raises(RuntimeError, match="test_sync is already running"):
                run_sync(wh, make_sync())
            assert receiver.requests == 0
            other.execute("select pg_advisory_unlock(hashtext('tianwen-sync:test_sync'))")
        assert run_sync(wh, make_sync()).added == 1  # the other run is over: this one goes
    finally:
        wh.close()
