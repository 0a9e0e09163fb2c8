"""A tiny hand-made landing folder in two batches, built on each engine once per session: the
first batch holds a gold member A with an online order, more members, one who asked to be
erased and a till customer B; the second ties A to B's mobile, so A merges into B. The data
service tests read it (tests/service) and so does the merge test (tests/profiles). `write` and
the headers serve the tests that script batches of their own (tests/test_identity.py)."""

from __future__ import annotations

import shutil
from pathlib import Path

CRM = ("member_id,mobile,email,member_card_no,full_name,gender,birth_date,province,city,"
       "register_channel,loyalty_tier,registered_at,updated_at")
SHOP = "order_id,member_id,mobile,email,device_id,channel,status,amount,currency,ordered_at,updated_at"
POS = "txn_id,store_id,mobile,member_card_no,amount,payment_method,txn_at"
APP = ("event_id,device_id,idfa,imei,oaid,member_id,mobile,event_type,os,app_version,event_at,"
       "received_at")
CONSENT = "event_id,identifier_type,identifier_value,channel,status,source,event_at"
ERASURE = "request_id,identifier_type,identifier_value,requested_at"


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


def build_both_batches(wh, target: str, root: Path, keep_first) -> None:
    """Each batch loaded, built (`dbt build`, as a run builds it) and published to the serving
    folder (what the run's serving_store asset does; tests/runs and the `built` fixture run
    the Dagster job itself). `keep_first()` keeps a copy of the warehouse between the two."""
    from orchestration.service.publish import publish

    landing = root / "landing"
    for batch in (first_batch, second_batch):
        batch(landing)
        wh.update(landing, target)
        with wh.active():
            publish(target)
        if batch is first_batch:
            keep_first()


def copy_duckdb(src: Path, dst: Path) -> Path:
    dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(src, dst)
    return dst
