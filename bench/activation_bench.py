"""Activation speed: diff and send an audience of N members to a local webhook (the receiver
in its own process on 127.0.0.1) and to a file drop, then change a share of the members and
sync again (only the changes go out). Each sync runs in a fresh process, so its peak memory
(ru_maxrss) is the sync's alone.

    .venv/bin/python bench/activation_bench.py --members 1000000 --change-share 0.01

Prints one line per run and a JSON summary (bench/results/activation_<members>.json)."""

from __future__ import annotations

import argparse
import json
import os
import resource
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SYNCS = {
    "webhook": """
source: {segment: seg}
destination: {type: webhook, url_env: BENCH_HOOK_URL, secret_env: BENCH_HOOK_SECRET,
              rate_limit_per_second: 1000, timeout_seconds: 120}
mode: mirror
consent_channel: sms
fields: {tier: loyalty_tier, city: city}
batch_size: 5000
""",
    "file_drop": """
source: {segment: seg}
destination: {type: file_drop, path: bench, format: parquet}
mode: mirror
consent_channel: sms
fields: {tier: loyalty_tier, city: city}
batch_size: 100000
""",
}


def build_warehouse(path: Path, members: int) -> None:
    import duckdb

    con = duckdb.connect(str(path))
    con.execute("create schema marts")
    con.execute(f"""create table marts.customer_profiles as
        select 'cus_' || lpad(i::varchar, 9, '0') as customer_id,
               ['gold', 'silver', 'bronze'][1 + i % 3] as loyalty_tier,
               ['上海', '北京', '杭州', '成都'][1 + i % 4] as city, null::varchar as email, null::varchar as mobile
        from range({members}) t(i)""")
    # 5% revoked sms consent: suppressed
    con.execute("""create table marts.customer_consents as
        select customer_id, 'sms' as channel, hash(customer_id) % 20 <> 0 as is_granted, false as is_erased,
               hash(customer_id) % 20 <> 0 as is_sendable from marts.customer_profiles""")
    con.execute("create table marts.segment_memberships as select 'seg' as segment_id, customer_id "
                "from marts.customer_profiles")
    con.execute("create table marts.customer_identities (customer_id varchar, identifier_type varchar, "
                "identifier_value varchar)")
    con.close()


def change(path: Path, share: float) -> int:
    import duckdb

    con = duckdb.connect(str(path))
    every = round(1 / share)
    n = con.execute(f"update marts.customer_profiles set loyalty_tier = 'platinum' "
                    f"where cast(substr(customer_id, 5) as integer) % {every} = 0").fetchall()[0][0]
    con.close()
    return n


def one_run(db: str, kind: str) -> None:
    """In a fresh process: one sync, then its figures as JSON on stdout."""
    os.environ["CDP_DUCKDB_PATH"] = db
    from orchestration.activation.config import load_file
    from orchestration.activation.runner import run_sync
    from orchestration.ingest.warehouse import DuckDBWarehouse

    sync = load_file(Path(os.environ["BENCH_SYNCS"]) / f"bench_{kind}.yml")
    wh = DuckDBWarehouse(db)
    started = time.perf_counter()
    r = run_sync(wh, sync)
    seconds = time.perf_counter() - started
    wh.close()
    sent = r.added + r.changed + r.removed
    print(json.dumps({"sync": kind, "members": r.members, "suppressed": r.suppressed, "sent": sent,
                      "added": r.added, "changed": r.changed, "unchanged": r.unchanged, "batches": r.batches,
                      "seconds": round(seconds, 2), "members_per_second": round(r.members / seconds),
                      "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}))


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--members", type=int, default=1_000_000)
    p.add_argument("--change-share", type=float, default=0.01)
    p.add_argument("--one-run", nargs=2, metavar=("DB", "KIND"), help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.one_run:
        one_run(*args.one_run)
        return
    work = Path(tempfile.mkdtemp(prefix="act-bench-"))
    db = work / "bench.duckdb"
    syncs = work / "syncs"
    syncs.mkdir()
    for kind, text in SYNCS.items():
        (syncs / f"bench_{kind}.yml").write_text(text)
    build_warehouse(db, args.members)
    key = secrets.token_hex(16)
    env = {**os.environ, "BENCH_HOOK_SECRET": key, "BENCH_SYNCS": str(syncs),
           "CDP_ACTIVATION_DIR": str(work / "out"), "CDP_DUCKDB_MEMORY_LIMIT": "4GB"}
    receiver = subprocess.Popen([sys.executable, "-m", "orchestration.activation.receiver", "--secret-env",
                                 "BENCH_HOOK_SECRET"], cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
    env["BENCH_HOOK_URL"] = receiver.stdout.readline().strip()
    results = []
    try:
        for label in ("first", "changed"):
            if label == "changed":
                print(f"changed {change(db, args.change_share):,} members' tier")
            for kind in SYNCS:
                out = subprocess.run([sys.executable, __file__, "--one-run", str(db), kind], cwd=ROOT, env=env,
                                     capture_output=True, text=True, check=True)
                row = {"run": label, **json.loads(out.stdout.strip().splitlines()[-1])}
                print(row)
                results.append(row)
    finally:
        receiver.terminate()
    load = os.getloadavg()
    summary = {"members": args.members, "change_share": args.change_share, "load_average": load, "runs": results}
    out_dir = ROOT / "bench" / "results"
    out_dir.mkdir(exist_ok=True)
    (out_dir / f"activation_{args.members}.json").write_text(json.dumps(summary, indent=2))
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
