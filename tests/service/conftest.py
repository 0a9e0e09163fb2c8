"""A tiny hand-made landing folder built twice by the project's own pipeline (the second batch
merges two customers), and the real API server (`tianwen serve`) on a free 127.0.0.1 port over
the serving copy the pipeline's `serving_store` asset published."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import Warehouses

CRM = ("member_id,mobile,email,member_card_no,full_name,gender,birth_date,province,city,"
       "register_channel,loyalty_tier,registered_at,updated_at")
SHOP = "order_id,member_id,mobile,email,device_id,channel,status,amount,currency,ordered_at,updated_at"
POS = "txn_id,store_id,mobile,member_card_no,amount,payment_method,txn_at"
APP = ("event_id,device_id,idfa,imei,oaid,member_id,mobile,event_type,os,app_version,event_at,"
       "received_at")
CONSENT = "event_id,identifier_type,identifier_value,channel,status,source,event_at"
ERASURE = "request_id,identifier_type,identifier_value,requested_at"

KEYS = {"full": "k-full-1", "masked": "k-masked-2", "pii_only": "k-pii-3"}
KEYS_ENV = f"{KEYS['full']}=profile:read+pii:read,{KEYS['masked']}=profile:read,{KEYS['pii_only']}=pii:read"


def write(landing: Path, source: str, batch: str, header: str, rows: list[str]) -> None:
    (landing / source).mkdir(parents=True, exist_ok=True)
    (landing / source / f"{batch}.csv").write_text("\n".join([header, *rows]) + "\n")


def first_batch(landing: Path) -> None:
    # M1 (A): a gold member with an online order and an e-mail consent; M2..M5: more members;
    # M9: a member who asked to be erased; B: a till customer known by mobile and card
    members = ["M1,13800138000,Zhang.Wei@QQ.com,,张伟,M,1990-11-05,浙江,杭州,app,gold,"
               "2026-10-20 10:00:00,2026-10-20 10:00:00"]
    members += [f"M{i},1370000000{i},,,李{i},F,1991-01-0{i},江苏,南京,web,silver,"
                f"2026-10-2{i} 10:00:00,2026-10-2{i} 10:00:00" for i in range(2, 6)]
    members += ["M9,13600000009,erase.me@163.com,,王九,F,1985-03-09,广东,广州,app,bronze,"
                "2026-10-21 10:00:00,2026-10-21 10:00:00"]
    write(landing, "crm_members", "2026-11-01", CRM, members)
    write(landing, "shop_orders", "2026-11-01", SHOP,
          ["SO1,M1,,,,web,paid,100.00,CNY,2026-10-25 10:00:00,2026-10-25 10:00:00"])
    write(landing, "pos_transactions", "2026-11-01", POS,
          ["T1,S01,13900000002,600000000002,10.50,cash,2025-12-01 10:00:00"])
    write(landing, "consent_events", "2026-11-01", CONSENT,
          ["C1,member_id,M1,email,granted,app,2026-10-21 10:00:00"])
    write(landing, "erasure_requests", "2026-11-01", ERASURE,
          ["R1,mobile,13600000009,2026-10-30 10:00:00"])


def second_batch(landing: Path) -> None:
    # an SMS login ties member M1 to B's mobile: A merges into B
    write(landing, "app_events", "2026-11-02", APP,
          ["E1,dev-0001-aaaa,,,,M1,13900000002,login,android,6.0.0,2026-11-02 10:00:00,"
           "2026-11-02 10:00:01"])


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def service_data(tmp_path_factory):
    """Warehouse v1 (first batch, kept as a copy) and v2 (both batches, live), each built by the
    pipeline, whose serving_store asset published into one serving folder."""
    root = tmp_path_factory.mktemp("service")
    landing, serving = root / "landing", root / "serving"
    wh = Warehouses(root / "warehouse" / "tianwen.duckdb", {})
    wh.env["CDP_SERVING_DIR"] = str(serving)
    first_batch(landing)
    wh.run(landing, "duckdb")
    v1 = root / "v1" / "tianwen.duckdb"
    v1.parent.mkdir()
    shutil.copy(root / "warehouse" / "tianwen.duckdb", v1)
    second_batch(landing)
    wh.run(landing, "duckdb")
    return {"wh": wh, "v1": v1, "serving": serving, "root": root}


@contextlib.contextmanager
def running_server(env: dict, log_path: Path):
    """`tianwen serve` as its own process on a free port; its log goes to `log_path`."""
    port = free_port()
    env = {**os.environ, **env, "CDP_API_PORT": str(port), "CDP_API_KEYS": KEYS_ENV}
    with log_path.open("w") as log:
        proc = subprocess.Popen([str(Path(sys.executable).parent / "tianwen"), "serve"], env=env,
                                stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/v1/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"tianwen serve did not start: {log_path.read_text()[-2000:]}")
            time.sleep(0.2)
        yield {"base": base, "log": log_path, "proc": proc}
    finally:
        proc.terminate()
        proc.wait(timeout=20)


@pytest.fixture(scope="session")
def server(service_data):
    """The API over the DuckDB build's serving copy."""
    env = {**service_data["wh"].env, "CDP_TARGET": "duckdb"}
    with running_server(env, service_data["root"] / "server.log") as srv:
        yield srv


@pytest.fixture()
def api(server):
    def get(path: str, key: str | None = "full", **params) -> httpx.Response:
        headers = {"X-API-Key": KEYS.get(key, key)} if key else {}  # a name in KEYS, or a key as is
        return httpx.get(server["base"] + path, params=params, headers=headers, timeout=30)
    return get
