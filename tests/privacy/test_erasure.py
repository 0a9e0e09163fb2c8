"""Erasure reaches everywhere: people who were built, synced to a mirrored webhook audience
and a file drop, exported (subject access) and published to the data service ask to be
erased; after the erasure step (the Dagster erasure job on DuckDB, `tianwen erase`'s function
on PostgreSQL) none of their identifiers or customer ids is in any text column of any table or
view in any schema, in the exported files or in the serving copy; the webhook audience dropped
them; the erasure log says what was done without their data; a late batch does not bring them
back; and the reconciliation still adds up."""

from __future__ import annotations

import datetime as dt
import json
import shutil

import dagster as dg
import duckdb
import pytest
import yaml

from orchestration.activation.receiver import Receiver
from orchestration.dbt.runner import PRODUCTION_BUILD, run_dbt
from tests.conftest import copy_landing

ENGINES = ["duckdb", "postgres"]
SECRET = "erasure-test-key"
REQUESTS = "request_id,identifier_type,identifier_value,requested_at\n"


def _syncs(folder, segment: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    common = {"source": {"segment": segment}, "mode": "mirror", "consent_channel": "push",
              "fields": {"tier": "loyalty_tier", "city": "city"}, "batch_size": 500}
    (folder / "erasure_hook.yml").write_text(yaml.safe_dump({
        **common, "identifiers": ["mobile"],
        "destination": {"type": "webhook", "url_env": "ERASURE_HOOK_URL", "secret_env": "ERASURE_HOOK_SECRET",
                        "rate_limit_per_second": 1000}}))
    (folder / "erasure_drop.yml").write_text(yaml.safe_dump({
        **common, "fields": {"tier": "loyalty_tier", "mobile": "mobile", "email": "email"},
        "destination": {"type": "file_drop", "path": "drop", "format": "csv"}}))


def _scan(wh, target: str, needles: set[str]) -> list[tuple]:
    """(schema.table.column, rows) for every text column of every table and view holding a
    needle, whatever its case."""
    wh.execute("create temp table if not exists needles (v varchar(500))")
    wh.execute("delete from needles")
    for value in sorted(needles):
        wh.execute("insert into needles values (?)", [value.lower()])
    text_types = ("character varying", "text", "varchar", "character", "json", "jsonb")
    columns = wh.execute(
        "select table_schema, table_name, column_name, data_type from information_schema.columns "
        "where table_catalog = current_database() "
        "and table_schema not in ('information_schema', 'pg_catalog', 'pg_toast') "
        "and table_schema not like 'pg_temp%'").fetchall()
    found = []
    for schema, table, column, data_type in columns:
        if data_type.lower() not in text_types and not data_type.upper().startswith("VARCHAR"):
            continue
        if table == "needles":
            continue
        col = f'"{column}"'
        n = wh.execute(f'select count(*) from "{schema}"."{table}" as t, needles '
                       f"where strpos(lower(cast(t.{col} as varchar)), needles.v) > 0").fetchone()[0]
        if n:
            found.append((f"{schema}.{table}.{column}", n))
    return found


def _serving_needles(folder, needles: set[str]) -> list[str]:
    copies = sorted(folder.glob("serving-*.duckdb"))
    found = []
    for path in copies:
        con = duckdb.connect(str(path), read_only=True)
        try:
            for table, column in con.execute(
                    "select table_name, column_name from information_schema.columns "
                    "where data_type = 'VARCHAR'").fetchall():
                values = {v for (v,) in con.execute(f'select distinct "{column}" from "{table}"').fetchall() if v}
                if any(n in v for v in values for n in needles):
                    found.append(f"{path.name}:{table}.{column}")
        finally:
            con.close()
    return found


def _run_erasure(warehouses, target: str):
    """DuckDB through the Dagster job (what the schedule runs); PostgreSQL through erase()
    (what `tianwen erase` runs)."""
    if target == "postgres":
        from orchestration.privacy.erasure import erase

        with warehouses.active():
            return erase(target, quiet=True)
    from orchestration import config, pipeline

    with warehouses.active(), config.environment(CDP_TARGET=target):
        pipeline._prepare_once(target)
        from orchestration.definitions import defs

        with dg.DagsterInstance.ephemeral() as instance:
            result = defs.resolve_job_def("tianwen_erasure").execute_in_process(instance=instance,
                                                                               raise_on_error=False)
        assert result.success, [e.message for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
        checks = {e.event_specific_data.asset_check_key.name: e.event_specific_data.passed
                  for e in result.all_events if e.event_type_value == "ASSET_CHECK_EVALUATION"}
        assert checks.get("erasure_deadline") is True, checks
        return result


@pytest.mark.slow
@pytest.mark.parametrize("target", ENGINES)
def test_erasure_reaches_everywhere(target, sample, warehouses, tmp_path, monkeypatch):
    for name, value in {"CDP_ACTIVATION_DIR": tmp_path / "activation",
                        "CDP_ACTIVATION_SYNCS_DIR": tmp_path / "syncs",
                        "CDP_EXPORTS_DIR": tmp_path / "exports",
                        "CDP_SERVING_DIR": tmp_path / "serving"}.items():
        monkeypatch.setenv(name, str(value))
    receiver = Receiver(SECRET.encode())
    monkeypatch.setenv("ERASURE_HOOK_URL", receiver.start())
    monkeypatch.setenv("ERASURE_HOOK_SECRET", SECRET)
    try:
        _erase_and_scan(target, sample, warehouses, tmp_path, receiver)
    finally:
        receiver.stop()


def _erase_and_scan(target, sample, warehouses, tmp_path, receiver):
    from orchestration.activation.config import load_syncs
    from orchestration.activation.runner import run_sync
    from orchestration.privacy.subject_access import export_subject
    from orchestration.service.publish import publish

    # 1. everything but the erasure requests, built, synced, exported and published
    landing = copy_landing(sample["landing"], tmp_path / "landing")
    held = tmp_path / "held_requests"
    shutil.move(landing / "erasure_requests", held)
    warehouses.load(landing, target)
    warehouses.build(target)
    q = lambda sql: warehouses.query(target, sql)  # noqa: E731
    segment, = q("select segment_id from marts.segment_memberships group by segment_id "
                 "order by count(*) desc, segment_id limit 1")[0]
    pushable = q(f"select m.customer_id from marts.segment_memberships as m inner join marts.customer_consents as c "
                 f"on m.customer_id = c.customer_id and c.channel = 'push' and c.is_sendable "
                 f"inner join marts.customer_profiles as p on p.customer_id = m.customer_id "
                 f"where m.segment_id = '{segment}' and p.mobile is not null and p.email is not null "
                 f"and exists (select 1 from marts.customer_identities as i where i.customer_id = m.customer_id "
                 f"and i.identifier_type = 'member_id') order by m.customer_id limit 3")
    chosen = [c for (c,) in pushable]
    assert len(chosen) == 3
    profile = {c: (m, e, mid) for c, m, e, mid in q(
        "select p.customer_id, p.mobile, p.email, min(i.identifier_value) from marts.customer_profiles as p "
        "inner join marts.customer_identities as i on p.customer_id = i.customer_id "
        "and i.identifier_type = 'member_id' where p.customer_id in "
        f"({', '.join(repr(c) for c in chosen)}) group by p.customer_id, p.mobile, p.email")}
    _syncs(tmp_path / "syncs", segment)
    with warehouses.connection(target) as wh:
        for sync in load_syncs():
            run_sync(wh, sync)
    with warehouses.active():
        export_subject(f"mobile:{profile[chosen[0]][0]}", target)
        publish(target)
    assert set(chosen) <= set(receiver.audience)

    # 2. the requests arrive (the sample's own, and three typed as people type them) and are staged
    shutil.move(held, landing / "erasure_requests")
    m, e, mid = profile[chosen[0]][0], profile[chosen[1]][1], profile[chosen[2]][2]
    asked = (dt.datetime.now(dt.UTC) - dt.timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    (landing / "erasure_requests" / "test-requests.csv").write_text(
        REQUESTS + f"T-ER-1,mobile,+86 {m[:3]}-{m[3:7]}-{m[7:]},{asked}\n"
        f"T-ER-2,email,{e.upper()},{asked}\nT-ER-3,member_id,{mid},{asked}\n")
    warehouses.load(landing, target)
    # erasure reads the staged requests and the identities of the last build: only the
    # requests need building here (the erasure step builds everything after it)
    with warehouses.active():
        run_dbt([*PRODUCTION_BUILD, "--select", "+stg_privacy__erasure_requests"], target, quiet=True)
    requests = {r for (r,) in q("select request_id from staging.stg_privacy__erasure_requests")}
    assert {"T-ER-1", "T-ER-2", "T-ER-3"} <= requests
    # everyone those requests name, with every identifier and customer id the graph gives them
    erased = {c for (c,) in q(
        "select distinct i.customer_id from marts.customer_identities as i inner join "
        "staging.stg_privacy__erasure_requests as r on i.identifier_type = r.identifier_type "
        "and i.identifier_value = r.identifier_value")}
    assert set(chosen) <= erased
    in_list = ", ".join(repr(c) for c in sorted(erased))
    needles = erased | {v for (v,) in q(f"select identifier_value from marts.customer_identities "
                                        f"where customer_id in ({in_list})")}
    needles |= {v for (v,) in q("select identifier_value from staging.stg_privacy__erasure_requests")}
    # and the requests' values as the people typed them
    needles |= {f"+86 {m[:3]}-{m[3:7]}-{m[7:]}", e.upper()}
    needles = {n for n in needles if n and len(n) >= 6}
    with warehouses.connection(target) as wh:
        assert _scan(wh, target, needles), "the scan finds nothing even before erasure"
    assert any((tmp_path / "exports").glob("*.json"))

    # 3. erase
    _run_erasure(warehouses, target)

    with warehouses.connection(target) as wh:
        found = _scan(wh, target, needles)
        assert found == [], (found, wh.execute("select * from raw.erasure_requests").fetchall())
    assert not set(chosen) & set(receiver.audience)  # the mirrored audience dropped them
    assert set(receiver.audience)  # and kept everyone else
    # a removal row names the customer id (the channel needs it); nothing else of theirs remains
    exported = [p for p in (tmp_path / "activation").rglob("*") if p.is_file()]
    assert any(p.suffix == ".csv" for p in exported)
    assert [(p.name, n) for p in exported for n in needles - erased if n.lower() in p.read_text().lower()] == []
    for manifest in (tmp_path / "activation").rglob("*.manifest.json"):
        body = json.loads(manifest.read_text())
        data = manifest.parent / body["file"]
        assert body["row_count"] == len(data.read_text().splitlines()) - 1
    assert not list((tmp_path / "exports").glob("*.json"))
    serving = list((tmp_path / "serving").glob("serving-*.duckdb"))
    assert len(serving) == 1 and _serving_needles(tmp_path / "serving", needles) == []

    log = {r[0]: r[1:] for r in q("select request_id, status, customers_erased, identifiers_suppressed, "
                                  "audiences_notified, run_deleted_rows, is_overdue from marts.erasure_log")}
    assert log["T-ER-1"][0] == "erased" and log["T-ER-1"][1] == 1 and log["T-ER-1"][2] >= 3
    assert log["T-ER-1"][3] == 2 and log["T-ER-1"][4] > 0
    assert all(r[0] != "pending" and not r[-1] for r in log.values()), log
    assert set(log) == requests
    recon = q("select source_name, erased_rows, is_reconciled from marts.source_reconciliation")
    assert all(r[2] for r in recon), recon
    assert {name for name, n, _ in recon if n} >= {"crm_members", "erasure_requests"}

    # 4. a late batch carrying an erased mobile is deleted before it is staged; a new request
    # for an erased person is answered already_erased. The suppression list has not changed
    # since the erasure's build checked all of raw, so this build checks only the new batch.
    checks_sql = ("select suppression_list_state, checked_at from privacy.erasure_checks"
                  " where table_name = 'raw.pos_transactions'")
    whole_check = q(checks_sql)
    suppressed = q("select count(*) from privacy.erased_identifiers")[0][0]
    assert len(whole_check) == 1 and whole_check[0][0].startswith(f"{suppressed} identifiers")
    columns = "txn_id,store_id,mobile,member_card_no,amount,payment_method,txn_at"
    late = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M:%SZ")
    (landing / "pos_transactions" / "late.csv").write_text(
        columns + f"\nT-LATE-1,S001,{m},,88.00,cash,{late}\n")
    (landing / "erasure_requests" / "again.csv").write_text(REQUESTS + f"T-ER-4,email,{e},{late}\n")
    warehouses.load(landing, target)
    # the late batch reaches raw, staging and identity (what the checks below read)
    warehouses.build(target, select="+source_reconciliation +customer_identities")
    assert q("select count(*) from raw.pos_transactions where txn_id = 'T-LATE-1'")[0][0] == 0
    assert q(checks_sql) == whole_check  # ... by the new batch alone, not all of raw again
    assert q("select count(*) from marts.customer_identities where identifier_value = "
             f"'{m}'")[0][0] == 0
    # the erasure step again, rebuilding only what reads its outcome (the whole rebuild ran in
    # step 3, and raw no longer holds anything of theirs)
    from orchestration.privacy.erasure import process

    with warehouses.active():
        process(target)
        run_dbt([*PRODUCTION_BUILD, "--select", "erasure_log source_reconciliation"], target, quiet=True)
    assert q("select status from marts.erasure_log where request_id = 'T-ER-4'") == [("already_erased",)]
    recon = q("select is_reconciled from marts.source_reconciliation")
    assert all(r[0] for r in recon)
    with warehouses.connection(target) as wh:
        assert _scan(wh, target, needles) == []
