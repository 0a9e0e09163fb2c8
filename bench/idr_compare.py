"""Side by side with dbt_idr (anilkulkarni87/sql-identity-resolution) on the same records.

    python bench/idr_compare.py --idr-repo /path/to/sql-identity-resolution --rows 500000
    python bench/idr_compare.py --idr-repo ... --rows 5000000 --runs 3 --memory-limit 4GB

dbt_idr's own generator (benchmarks/duckdb/idr_scale_test.py) is ported here, vectorised
(NumPy picks, DuckDB builds the strings): `--rows` counts the records of its five tables
(crm.customer, sales.transactions, loyalty.loyalty_accounts, digital.web_events,
store.store_visits), 60% overlap, 45 days of timestamps. Each peer record becomes one landing
record keyed by the peer's entity key (`<table>:<key>`):

    with an e-mail       -> shop_orders       (member_id = LOYALTY_ID, mobile, email)
    loyalty id only      -> app_events        (member_id, mobile)
    phone only           -> pos_transactions  (mobile)
    nothing              -> web_events        (no identifier)

The peer's PHONE ('9' + 9 digits) becomes the valid mobile '13' + its last 9 digits (one to
one). dbt_idr's code is run from the checkout given on the command line (never copied here):
its DDL (sql/duckdb/core/00_ddl_all.sql), then `idr_run.py --run-mode=FULL`. Tianwen runs
`dbt build --select +customer_identities` on the loaded landing records. Each run starts from
a fresh copy of its loaded database; the two tools alternate (interleaved) so both see the
same machine load, and the minimum of the runs is reported. DuckDB is capped at
`--memory-limit` for both (dbt through a bench profile, dbt_idr through its connect call).

The partitions are compared record by record (a record's customer is the customer of its
highest-priority identifier): pairwise precision and recall of Tianwen against dbt_idr.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from orchestration import config  # noqa: E402
from orchestration.dbt.runner import PRODUCTION_BUILD, dbt_executable  # noqa: E402

PEER_TABLES = {  # table_id: (fqn, key expression, watermark column)
    "customer": ("crm.customer", "customer_id", "rec_create_dt"),
    "transactions": ("sales.transactions", "order_id || '-' || line_id", "load_ts"),
    "loyalty_accounts": ("loyalty.loyalty_accounts", "loyalty_account_id", "updated_at"),
    "web_events": ("digital.web_events", "event_id", "event_ts"),
    "store_visits": ("store.store_visits", "visit_id", "visit_ts"),
}
FIRST = ['Sameer', 'Govind', 'Asha', 'Rohan', 'Maya', 'Vikram', 'Neha', 'Arjun', 'Priya', 'Kiran',
         'Raj', 'Sita', 'Kavita', 'Suresh', 'Anita', 'Deepak', 'Meera', 'Rahul', 'Pooja', 'Amit']
LAST = ['Kulkarni', 'Sharma', 'Patel', 'Reddy', 'Gupta', 'Iyer', 'Nair', 'Singh', 'Das', 'Khan',
        'Verma', 'Joshi', 'Rao', 'Kumar', 'Mehta', 'Shah', 'Pandey', 'Thakur', 'Yadav', 'Mishra']
DOMAINS = ['gmail.com', 'yahoo.com', 'outlook.com', 'example.com', 'company.com']


# ---------------------------------------------------------------- dbt_idr's generator, vectorised


def _sql_list(values: list[str]) -> str:
    return "[" + ", ".join(f"'{v}'" for v in values) + "]"


def generate_peer(con: duckdb.DuckDBPyConnection, total_rows: int, overlap: float, seed: int) -> None:
    """dbt_idr's five source tables (total_rows records in all) in `con`."""
    n_rows = total_rows // 5
    n_people = int(n_rows * overlap)
    rng = np.random.default_rng(seed)
    pid = np.arange(1, n_people + 1)
    con.register("people_np", {"pid": pid, "phone_n": rng.integers(0, 10**9, n_people)})
    # person pool: the same e-mail, phone and loyalty id formulas as the peer's generator
    con.execute(f"""
        create or replace temp table person_pool as
        select pid,
            lower({_sql_list(FIRST)}[pid % 20 + 1]) || '.' || lower({_sql_list(LAST)}[(pid // 20) % 20 + 1])
                || pid || '@' || {_sql_list(DOMAINS)}[pid % 5 + 1] as email,
            '9' || lpad(cast(phone_n as varchar), 9, '0') as phone,
            'L' || (100000 + pid) as loyalty_id
        from people_np""")
    span = 45 * 24 * 3600
    start = "now()::timestamp - interval 45 day"

    def picks(name: str, null_rates: dict[str, float], extra: dict | None = None) -> None:
        cols = {"i": np.arange(1, n_rows + 1), "p": rng.integers(1, n_people + 1, n_rows),
                "ts": rng.integers(0, span, n_rows), "case_r": rng.random(n_rows)}
        for col, rate in null_rates.items():
            cols[f"null_{col}"] = rng.random(n_rows) < rate
        cols.update(extra or {})
        con.register(name, cols)

    def email(expr: str = "pp.email") -> str:
        # case_variant: 17% upper, 18% title case, the rest as is
        return (f"case when case_r < 0.17 then upper({expr}) when case_r < 0.35 then "
                f"upper(left({expr}, 1)) || substr({expr}, 2) else {expr} end")

    for schema in ("crm", "sales", "loyalty", "digital", "store"):
        con.execute(f"create schema if not exists {schema}")
    picks("g_customer", {"email": 0.05, "phone": 0.1, "loyalty": 0.15})
    con.execute(f"""create or replace table crm.customer as select
        'C' || lpad(i::varchar, 8, '0') as customer_id, null::varchar as first_name,
        null::varchar as last_name,
        case when not null_email then {email()} end as email,
        case when not null_phone then pp.phone end as phone,
        case when not null_loyalty then pp.loyalty_id end as loyalty_id,
        {start} + to_seconds(ts) as rec_create_dt, {start} + to_seconds(ts) as rec_update_dt
        from g_customer join person_pool pp on pp.pid = p order by i""")
    picks("g_tx", {"email": 0.15, "phone": 0.2}, {"line": rng.integers(1, 4, n_rows)})
    con.execute(f"""create or replace table sales.transactions as select
        'O' || lpad(i::varchar, 10, '0') as order_id, line::varchar as line_id,
        case when not null_email then {email()} end as customer_email,
        case when not null_phone then pp.phone end as customer_phone,
        {start} + to_seconds(ts) as load_ts
        from g_tx join person_pool pp on pp.pid = p order by i""")
    picks("g_la", {"email": 0.2, "phone": 0.2})
    con.execute(f"""create or replace table loyalty.loyalty_accounts as select
        'LA' || lpad(i::varchar, 10, '0') as loyalty_account_id, pp.loyalty_id,
        case when not null_email then pp.email end as email,
        case when not null_phone then pp.phone end as phone,
        'GOLD' as tier, 0 as points, {start} + to_seconds(ts) as updated_at
        from g_la join person_pool pp on pp.pid = p order by i""")
    picks("g_web", {"email": 0.35, "phone": 0.7})
    con.execute(f"""create or replace table digital.web_events as select
        'E' || lpad(i::varchar, 12, '0') as event_id,
        'anon_' || lpad(((i * 7919) % 10000 + 1)::varchar, 6, '0') as anonymous_id,
        'page_view' as event_type,
        case when not null_email then pp.email end as email,
        case when not null_phone then pp.phone end as phone,
        {start} + to_seconds(ts) as event_ts
        from g_web join person_pool pp on pp.pid = p order by i""")
    picks("g_store", {"email": 0.4, "phone": 0.4, "loyalty": 0.25})
    con.execute(f"""create or replace table store.store_visits as select
        'V' || lpad(i::varchar, 12, '0') as visit_id, 'S0001' as store_id,
        case when not null_email then pp.email end as email,
        case when not null_phone then pp.phone end as phone,
        case when not null_loyalty then pp.loyalty_id end as loyalty_id,
        {start} + to_seconds(ts) as visit_ts
        from g_store join person_pool pp on pp.pid = p order by i""")


def peer_metadata(con: duckdb.DuckDBPyConnection, idr_repo: Path) -> None:
    """dbt_idr's DDL and the metadata its scale test inserts (sources, rules, mappings)."""
    con.execute((idr_repo / "sql/duckdb/core/00_ddl_all.sql").read_text())
    for table in ("source_table", "source", "rule", "identifier_mapping"):
        con.execute(f"delete from idr_meta.{table}")
    con.executemany("insert into idr_meta.source_table values (?, ?, 'PERSON', ?, ?, 0, true)",
                    [(t, fqn, key, wm) for t, (fqn, key, wm) in PEER_TABLES.items()])
    con.executemany("insert into idr_meta.source values (?, ?, ?, true)", [
        ("customer", "CRM", 1), ("loyalty_accounts", "Loyalty", 1), ("store_visits", "Store", 2),
        ("transactions", "POS", 3), ("web_events", "Digital", 4)])
    con.executemany("insert into idr_meta.rule values (?, ?, true, ?, ?, ?, true, true, 10000)", [
        ("R_EMAIL_EXACT", "Email exact match", 1, "EMAIL", "LOWERCASE"),
        ("R_PHONE_EXACT", "Phone exact match", 2, "PHONE", "NONE"),
        ("R_LOYALTY_EXACT", "Loyalty ID exact match", 3, "LOYALTY_ID", "NONE")])
    mapping = {"customer": ("email", "phone", "loyalty_id"),
               "transactions": ("customer_email", "customer_phone", None),
               "loyalty_accounts": ("email", "phone", "loyalty_id"),
               "web_events": ("email", "phone", None),
               "store_visits": ("email", "phone", "loyalty_id")}
    rows = []
    for table, cols in mapping.items():
        for kind, col in zip(("EMAIL", "PHONE", "LOYALTY_ID"), cols, strict=True):
            if col:
                rows.append((table, kind, col))
    con.executemany("insert into idr_meta.identifier_mapping values (?, ?, ?, false)", rows)


# ---------------------------------------------------------------- to Tianwen's landing contract


def peer_records_sql() -> str:
    """One row per peer record: entity_key, email, phone, loyalty_id, observed timestamp."""
    cols = {"customer": ("email", "phone", "loyalty_id"),
            "transactions": ("customer_email", "customer_phone", "null"),
            "loyalty_accounts": ("email", "phone", "loyalty_id"),
            "web_events": ("email", "phone", "null"),
            "store_visits": ("email", "phone", "loyalty_id")}
    parts = []
    for t, (fqn, key, wm) in PEER_TABLES.items():
        e, p, lo = cols[t]
        parts.append(f"select '{t}:' || cast(({key}) as varchar) as entity_key, {e} as email,"
                     f" {p} as phone, {lo} as loyalty_id, {wm} as ts from {fqn}")
    return " union all ".join(parts)


def write_landing(con: duckdb.DuckDBPyConnection, landing: Path) -> dict[str, int]:
    con.execute(f"""create or replace temp table peer_records as
        select entity_key, email, '13' || right(phone, 9) as mobile, loyalty_id as member_id,
            strftime(ts, '%Y-%m-%d %H:%M:%S') as ts from ({peer_records_sql()})""")
    targets = {
        "shop_orders": ("email is not null", "entity_key as order_id, member_id, mobile, email,"
                        " null as device_id, 'app' as channel, 'paid' as status, '1.00' as amount,"
                        " 'CNY' as currency, ts as ordered_at, ts as updated_at"),
        "app_events": ("email is null and member_id is not null",
                       "entity_key as event_id, null as device_id, null as idfa, null as imei,"
                       " null as oaid, member_id, mobile, 'app_open' as event_type, 'ios' as os,"
                       " '1.0' as app_version, ts as event_at, ts as received_at"),
        "pos_transactions": ("email is null and member_id is null and mobile is not null",
                             "entity_key as txn_id, 'S0001' as store_id, mobile,"
                             " null as member_card_no, '1.00' as amount, 'cash' as payment_method,"
                             " ts as txn_at"),
        "web_events": ("email is null and member_id is null and mobile is null",
                       "entity_key as event_id, null as anonymous_id, null as member_id,"
                       " 'page_view' as event_type, null as page_url, null as referrer,"
                       " null as utm_source, null as utm_medium, null as utm_campaign,"
                       " ts as event_at, ts as received_at"),
    }
    counts = {}
    for source, (where, select) in targets.items():
        folder = landing / source
        folder.mkdir(parents=True, exist_ok=True)
        rel = f"select {select} from peer_records where {where}"
        con.execute(f"copy ({rel}) to '{folder / '2026-11-01.parquet'}' (format parquet)")
        counts[source] = con.execute(f"select count(*) from peer_records where {where}").fetchone()[0]
    return counts


# ---------------------------------------------------------------- running both


def bench_profile(folder: Path, db: Path, memory_limit: str, threads: int) -> Path:
    """A profiles.yml like the project's, with DuckDB capped (same path every run: partial parsing holds)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "profiles.yml").write_text(
        "tianwen:\n  target: duckdb\n  outputs:\n    duckdb:\n      type: duckdb\n"
        f"      path: '{db}'\n      schema: main\n      threads: {threads}\n"
        f"      settings:\n        memory_limit: '{memory_limit}'\n        threads: {threads}\n")
    return folder


def dbt_cmd(command: list[str], profiles: Path, target_path: Path) -> list[str]:
    return [dbt_executable(), *command, "--project-dir", str(ROOT), "--profiles-dir", str(profiles),
            "--target", "duckdb", "--target-path", str(target_path)]


def run_tianwen(work: Path, pristine: Path, profiles: Path, select: str) -> dict:
    db = work / "tianwen.duckdb"
    shutil.copyfile(pristine, db)
    target_path = work / "target"
    env = {**config.dbt_env(), "CDP_DUCKDB_PATH": str(db)}
    start = time.perf_counter()
    proc = subprocess.run(dbt_cmd([*PRODUCTION_BUILD, "--select", select], profiles, target_path),
                          cwd=ROOT, env=env, text=True, capture_output=True)
    seconds = time.perf_counter() - start
    if proc.returncode:
        raise SystemExit(proc.stdout[-4000:])
    results = json.loads((target_path / "run_results.json").read_text())["results"]
    timings = {r["unique_id"].split(".")[-1]: r["execution_time"] for r in results
               if r["unique_id"].startswith("model.")}
    identity = sum(t for name, t in timings.items()
                   if name.startswith("int_identi") or name == "customer_identities")
    tests = sum(r["execution_time"] for r in results if r["unique_id"].startswith("test."))
    return {"seconds": seconds, "identity_models": identity, "tests": tests, "models": timings}


def run_idr(work: Path, pristine: Path, idr_repo: Path, memory_limit: str, threads: int) -> dict:
    db = work / "idr.duckdb"
    shutil.copyfile(pristine, db)
    script = idr_repo / "sql/duckdb/core/idr_run.py"
    # dbt_idr opens its own connection: cap it through duckdb.connect, nothing else changes
    boot = (
        "import duckdb, runpy, sys\n"
        "_connect = duckdb.connect\n"
        f"duckdb.connect = lambda *a, **k: _connect(*a, config={{'memory_limit': '{memory_limit}',"
        f" 'threads': {threads}}}, **k)\n"
        f"sys.argv = [{str(script)!r}, '--db={db}', '--run-mode=FULL', '--max-iters=50']\n"
        f"runpy.run_path({str(script)!r}, run_name='__main__')\n")
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", boot], text=True, capture_output=True)
    seconds = time.perf_counter() - start
    if proc.returncode:
        raise SystemExit(proc.stdout[-3000:] + proc.stderr[-3000:])
    return {"seconds": seconds}


def compare_partitions(work: Path) -> dict:
    """Pairwise precision/recall of Tianwen's record partition against dbt_idr's."""
    con = duckdb.connect()
    con.execute(f"attach '{work / 'idr.duckdb'}' as idr (read_only)")
    con.execute(f"attach '{work / 'tianwen.duckdb'}' as tw (read_only)")
    con.execute("""
        create temp table ours as
        with occ as (
            select o.record_key, c.customer_id, r.priority
            from tw.intermediate.int_identifier_occurrences_unioned as o
            inner join tw.marts.customer_identities as c
                on o.identifier_type = c.identifier_type and o.identifier_value = c.identifier_value
            inner join tw.seeds.identity_rules as r on o.identifier_type = r.identifier_type
        )
        select record_key, arg_min(customer_id, priority) as cluster from occ group by record_key""")
    row = con.execute("""
        with joined as (
            select m.entity_key, m.resolved_id as theirs, coalesce(o.cluster, m.entity_key) as ours
            from idr.idr_out.identity_resolved_membership_current as m
            left join ours as o on o.record_key = m.entity_key
        ),
        both_ as (select count(*) as n from joined group by ours, theirs),
        ours_ as (select count(*) as n from joined group by ours),
        theirs_ as (select count(*) as n from joined group by theirs)
        select (select sum(n * (n - 1) / 2) from both_), (select sum(n * (n - 1) / 2) from ours_),
               (select sum(n * (n - 1) / 2) from theirs_), (select count(*) from joined),
               (select count(*) from ours_), (select count(*) from theirs_)""").fetchone()
    both, ours, theirs, records, n_ours, n_theirs = row
    return {"records": records, "tianwen_clusters": n_ours, "idr_clusters": n_theirs,
            "pairwise_precision": round(both / max(ours, 1), 6),
            "pairwise_recall": round(both / max(theirs, 1), 6)}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--idr-repo", type=Path, required=True,
                   help="a checkout of anilkulkarni87/sql-identity-resolution")
    p.add_argument("--rows", type=int, default=500_000, help="peer records in all (five tables)")
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--memory-limit", default="4GB")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--select", default="+customer_identities")
    p.add_argument("--work", type=Path, help="work folder (default: a new temp folder)")
    args = p.parse_args()
    if not (args.idr_repo / "sql/duckdb/core/idr_run.py").exists():
        raise SystemExit(f"--idr-repo {args.idr_repo}: no sql/duckdb/core/idr_run.py there;"
                         " pass a checkout of anilkulkarni87/sql-identity-resolution")
    from orchestration import pipeline

    work = args.work or Path(tempfile.mkdtemp(prefix="idr-compare-"))
    work.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    idr_pristine = work / "idr.pristine.duckdb"
    idr_pristine.unlink(missing_ok=True)
    con = duckdb.connect(str(idr_pristine))
    generate_peer(con, args.rows, 0.6, args.seed)
    peer_metadata(con, args.idr_repo)
    landing = work / "landing"
    shutil.rmtree(landing, ignore_errors=True)
    counts = write_landing(con, landing)
    con.close()
    gen_s = time.perf_counter() - t0

    tw_pristine = work / "tianwen.pristine.duckdb"
    tw_pristine.unlink(missing_ok=True)
    os.environ["CDP_DUCKDB_PATH"] = str(tw_pristine)
    t0 = time.perf_counter()
    pipeline.load(landing, "duckdb", quiet=True)
    load_s = time.perf_counter() - t0
    print(json.dumps({"rows": args.rows, "landing": counts, "generate_s": round(gen_s, 1),
                      "load_s": round(load_s, 1), "work": str(work)}), flush=True)

    profiles = bench_profile(work / "profile", work / "tianwen.duckdb", args.memory_limit, args.threads)
    env = {**config.dbt_env(), "CDP_DUCKDB_PATH": str(work / "tianwen.duckdb")}
    subprocess.run(dbt_cmd(["parse"], profiles, work / "target"), cwd=ROOT, env=env,
                   check=True, capture_output=True)  # later runs parse partially
    idr_runs, tw_runs = [], []
    for i in range(args.runs):
        order = (run_idr, run_tianwen) if i % 2 == 0 else (run_tianwen, run_idr)
        for fn in order:
            if fn is run_idr:
                r = run_idr(work, idr_pristine, args.idr_repo, args.memory_limit, args.threads)
                idr_runs.append(r)
                print(json.dumps({"run": i + 1, "tool": "dbt_idr", "seconds": round(r["seconds"], 2)}),
                      flush=True)
            else:
                r = run_tianwen(work, tw_pristine, profiles, args.select)
                tw_runs.append(r)
                print(json.dumps({"run": i + 1, "tool": "tianwen", "seconds": round(r["seconds"], 2),
                                  "identity_models_s": round(r["identity_models"], 2),
                                  "tests_s": round(r["tests"], 2),
                                  "models": {k: round(v, 2) for k, v in r["models"].items()}}),
                      flush=True)
    agreement = compare_partitions(work)
    idr_s = min(r["seconds"] for r in idr_runs)
    tw_s = min(r["seconds"] for r in tw_runs)
    ident_s = min(r["identity_models"] for r in tw_runs)
    summary = {"rows": args.rows, "memory_limit": args.memory_limit, "runs": args.runs,
               "load_avg": os.getloadavg()[0],
               "idr_run_s": round(idr_s, 2), "tianwen_build_s": round(tw_s, 2),
               "tianwen_identity_models_s": round(ident_s, 2),
               "ratio_build": round(tw_s / idr_s, 3), "ratio_identity_models": round(ident_s / idr_s, 3),
               # each run's pair ran back to back: the median of their ratios is the fairer one
               # on a shared machine whose load drifts between runs
               "paired_ratio_build_median": round(statistics.median(
                   t["seconds"] / i["seconds"] for t, i in zip(tw_runs, idr_runs, strict=True)), 3),
               "paired_ratio_identity_models_median": round(statistics.median(
                   t["identity_models"] / i["seconds"] for t, i in zip(tw_runs, idr_runs, strict=True)), 3),
               **agreement}
    print(json.dumps(summary), flush=True)


if __name__ == "__main__":
    main()
