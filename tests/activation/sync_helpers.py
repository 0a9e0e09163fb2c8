"""A small warehouse of hand-made marts for the activation tests (a DuckDB file of the test's
own): customers, their consents, a segment, identities; and a live webhook receiver."""

from __future__ import annotations

import pytest

from orchestration.activation import state
from orchestration.activation.config import Sync
from orchestration.activation.receiver import Receiver
from orchestration.ingest.warehouse import DuckDBWarehouse

SECRET = "test-hmac-key"


class MiniWarehouse:
    def __init__(self, path=None, wh=None):
        self.wh = wh or DuckDBWarehouse(path)
        self.wh.execute("create schema if not exists marts")
        self.wh.execute("create table marts.customer_profiles (customer_id varchar primary key, email varchar, "
                        "mobile varchar, full_name varchar, loyalty_tier varchar, city varchar)")
        self.wh.execute("create table marts.customer_consents (customer_id varchar, channel varchar, "
                        "is_granted boolean, is_erased boolean, is_sendable boolean)")
        self.wh.execute("create table marts.segment_memberships (segment_id varchar, customer_id varchar)")
        self.wh.execute("create table marts.customer_identities (customer_id varchar, identifier_type varchar, "
                        "identifier_value varchar)")
        state.ensure_tables(self.wh)

    def customer(self, cid: str, segment: str | None = "seg", channels=("sms", "email", "push", "ads"),
                 granted=True, erased=False, email=None, mobile=None, tier="gold", city="上海", name="张三"):
        self.wh.execute("delete from marts.customer_profiles where customer_id = ?", [cid])
        self.wh.execute("insert into marts.customer_profiles values (?, ?, ?, ?, ?, ?)",
                        [cid, email or f"{cid}@example.com", mobile, name, tier, city])
        self.wh.execute("delete from marts.customer_consents where customer_id = ?", [cid])
        for ch in channels:
            self.wh.execute("insert into marts.customer_consents values (?, ?, ?, ?, ?)",
                            [cid, ch, granted, erased, granted and not erased])
        if segment:
            self.wh.execute("insert into marts.segment_memberships values (?, ?)", [segment, cid])

    def leave(self, cid: str, segment: str = "seg"):
        self.wh.execute("delete from marts.segment_memberships where customer_id = ? and segment_id = ?",
                        [cid, segment])

    def consent(self, cid: str, channel: str, granted: bool):
        self.wh.execute("update marts.customer_consents set is_granted = ?, is_sendable = ? and not is_erased "
                        "where customer_id = ? and channel = ?", [granted, granted, cid, channel])

    def state(self, sync_id: str) -> dict:
        return {k: h for k, (h, _) in state.load(self.wh, sync_id).items()}

    def one(self, sql: str, params=None):
        return self.wh.execute(sql, params or None).fetchall()


def new_database(dsn: str) -> str:
    """A fresh database on the test PostgreSQL server; its DSN."""
    import uuid

    import psycopg

    name = f"act_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(dsn, autocommit=True) as con:
        con.execute(f'create database "{name}"')
    params = psycopg.conninfo.conninfo_to_dict(dsn)
    params["dbname"] = name
    return psycopg.conninfo.make_conninfo(**params)


@pytest.fixture()
def mini(tmp_path):
    w = MiniWarehouse(tmp_path / "mini.duckdb")
    yield w
    w.wh.close()


@pytest.fixture()
def receiver(monkeypatch):
    """A real HTTP receiver on 127.0.0.1 (orchestration/activation/receiver.py) with its URL
    and HMAC key in the environment a webhook sync names."""
    r = Receiver(SECRET.encode())
    monkeypatch.setenv("TEST_HOOK_URL", r.start())
    monkeypatch.setenv("TEST_HOOK_SECRET", SECRET)
    yield r
    r.stop()


def make_sync(**overrides) -> Sync:
    data = {"name": "test_sync", "source": {"segment": "seg"}, "mode": "mirror", "consent_channel": "sms",
            "destination": {"type": "webhook", "url_env": "TEST_HOOK_URL", "secret_env": "TEST_HOOK_SECRET",
                            "rate_limit_per_second": 1000, "backoff_seconds": 0.01, "max_backoff_seconds": 0.05},
            "fields": {"tier": "loyalty_tier"}, "batch_size": 3}
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(data.get(key), dict) and key != "fields" and "type" not in value:
            data[key] = {**data[key], **value}
        else:
            data[key] = value
    return Sync(**data)


def compiled_sql(model: str, folder: str, layer: str = "marts") -> str:
    """The model's SQL as dbt compiles it for DuckDB, with the database name dropped, so it
    runs on any DuckDB connection holding the schemas it reads."""
    import os
    import re

    from orchestration.config import dbt_target_dir
    from orchestration.dbt.runner import run_dbt
    from tests.conftest import worker_duckdb_path

    before = os.environ.get("CDP_DUCKDB_PATH")
    os.environ["CDP_DUCKDB_PATH"] = str(worker_duckdb_path())  # the worker's: no full re-parse
    try:
        run_dbt(["compile", "--select", model], "duckdb", quiet=True)
    finally:
        if before is None:
            os.environ.pop("CDP_DUCKDB_PATH", None)
        else:
            os.environ["CDP_DUCKDB_PATH"] = before
    text = (dbt_target_dir() / "duckdb" / "compiled" / "tianwen" / "models" / layer / folder /
            f"{model}.sql").read_text()
    return re.sub(r'"[^"]+"\.("(?:marts|staging|seeds|intermediate)")', r"\1", text)
