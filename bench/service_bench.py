"""Data service latency: lookups (and profile reads) against `tianwen serve` over a serving copy
of N customers, with C concurrent clients for S seconds.

The serving copy is generated (the pipeline at 1,000,000 people takes too long for a latency
bench) and written by the service's own publisher (publish_tables), so its tables and indexes
are the ones a build publishes. The load generator is one asyncio process (on uvloop when it
is installed) with C kept-alive connections; it shares the machine's 2 cores with the server,
so the figures are an upper bound on latency. Each phase prints the server's and the load
generator's CPU time per request and the server processes' resident memory.
CDP_API_WORKERS (default 1) is passed on to the server.

Closed loop (default): each client sends its next request when it has the answer, so at
saturation the latency is queueing (clients / throughput). Open loop (--rate R): R requests per
second spread over the C clients at fixed times, latency counted from the planned send time.

    CDP_API_WORKERS=2 .venv/bin/python bench/service_bench.py --customers 1000000 --clients 1,50 --seconds 30
    CDP_API_WORKERS=2 .venv/bin/python bench/service_bench.py --clients 50 --rate 2000 --only lookup
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb
import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from orchestration.service.publish import publish_tables  # noqa: E402

SEGMENTS = ["birthday_this_month", "browsed_never_bought", "high_value_at_risk", "lapsed_buyers",
            "new_members_first_30d", "wechat_followers_never_bought", "browsed_or_carted_not_ordered_7d"]


def generate(customers: int, folder: Path) -> float:
    started = time.perf_counter()
    con = duckdb.connect()
    con.execute(f"create table ids as select range as n, printf('cus_%016x', hash(range)) as customer_id "
                f"from range({customers})")
    tables = {
        "src_profiles": con.sql("""
            select customer_id, printf('13%09d', n) as mobile, printf('user%d@qq.com', n) as email,
                '张' || (n % 100) as full_name, case when n % 2 = 0 then 'F' else 'M' end as gender,
                date '1980-01-01' + cast(n % 10000 as integer) as birth_date, '浙江' as province, '杭州' as city,
                'gold' as loyalty_tier, true as is_member, timestamp '2025-01-01' as member_since,
                'app' as register_channel, timestamp '2025-01-01' as first_seen_at,
                timestamp '2026-11-01' as last_seen_at, cast(3 as bigint) as identifier_count,
                'crm_members,shop_orders' as sources, 'app,web' as purchase_channels,
                n % 3 = 0 as is_wechat_follower, n % 2 = 0 as has_email_consent, n % 3 = 0 as has_sms_consent,
                false as has_push_consent, true as has_wechat_consent, false as has_ads_consent,
                n % 1000 = 999 as has_erasure_request
            from ids""").to_arrow_table(),
        "src_identities": con.sql("""
            select customer_id, 'mobile' as identifier_type, printf('13%09d', n) as identifier_value from ids
            union all select customer_id, 'email', printf('user%d@qq.com', n) from ids
            union all select customer_id, 'member_id', printf('M%d', n) from ids""").to_arrow_table(),
        "src_tags": con.sql("""
            select customer_id, tag_name, cast(n % 17 as varchar) as tag_value
            from ids, (values ('order_count'), ('lifetime_value'), ('member_tier'), ('rfm_segment'),
                              ('churn_risk')) as t(tag_name)""").to_arrow_table(),
        "src_memberships": con.sql(f"""
            select s.segment_id, customer_id, timestamp '2026-11-01' as entered_at
            from ids, (select unnest({SEGMENTS}) as segment_id, generate_subscripts({SEGMENTS}, 1) as k) as s
            where (n + s.k) % 5 = 0""").to_arrow_table(),
        "src_segment_sizes": con.sql(f"""
            select unnest({SEGMENTS}) as segment_id, 'bench' as description, 'bench' as owner_team,
                'sms' as channel, timestamp '2026-11-01' as computed_at""").to_arrow_table(),
        "src_merges": con.sql("""
            select printf('cus_old_%d', n) as old_customer_id, customer_id as new_customer_id,
                timestamp '2026-11-01' as merged_at, 'merge' as reason from ids where n % 1000 = 1""").to_arrow_table(),
    }
    publish_tables(tables, {"mobile", "email", "full_name", "birth_date"}, "bench", folder)
    return time.perf_counter() - started


async def _get(reader, writer, path: str, key: str) -> int:
    """One GET on a kept-alive connection; returns the status. A minimal HTTP/1.1 client: httpx
    costs the 2-core machine more CPU per request than the server does."""
    writer.write(f"GET {path} HTTP/1.1\r\nHost: bench\r\nX-API-Key: {key}\r\n\r\n".encode())
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = next(int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                  if line.lower().startswith(b"content-length:"))
    await reader.readexactly(length)
    return status


async def load(port: int, key: str, paths: list[str], clients: int, seconds: float,
               rate: float | None = None) -> dict:
    """Closed loop (rate None): each client sends its next request as soon as it has the answer.
    Open loop (rate in requests/s over all clients): client i sends its k-th request at
    start + (i + k * clients) / rate, and its latency counts from that planned time, so a late
    answer also counts the wait of the requests queued behind it (no coordinated omission)."""
    latencies, errors = [], 0
    started = time.perf_counter()
    deadline = started + seconds

    async def one_client(seed: int):
        nonlocal errors
        rnd = random.Random(seed)
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            k = 0
            while True:
                if rate:
                    planned = started + (seed + k * clients) / rate
                    k += 1
                    if planned >= deadline:
                        break
                    if planned > time.perf_counter():
                        await asyncio.sleep(planned - time.perf_counter())
                else:
                    planned = time.perf_counter()
                    if planned >= deadline:
                        break
                status = await _get(reader, writer, rnd.choice(paths), key)
                latencies.append(time.perf_counter() - planned)
                errors += status != 200
        finally:
            writer.close()

    await asyncio.gather(*(one_client(i) for i in range(clients)))
    elapsed = time.perf_counter() - started
    ms = sorted(x * 1000 for x in latencies)
    return {"requests": len(ms), "errors": errors, "rps": len(ms) / elapsed,
            "p50_ms": statistics.median(ms), "p99_ms": ms[int(len(ms) * 0.99) - 1]}


def _cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time of these processes (Linux /proc)."""
    total = 0
    for pid in pids:
        with contextlib.suppress(FileNotFoundError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def _rss_mb(pids: list[int]) -> list[int]:
    """Resident memory of these processes, MB."""
    out = []
    for pid in pids:
        with contextlib.suppress(FileNotFoundError):
            out.append(int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 10**6)
    return out


def _server_pids(pid: int) -> list[int]:
    """The server process and its workers (uvicorn forks them)."""
    children = Path(f"/proc/{pid}/task/{pid}/children")
    return [pid, *(int(c) for c in children.read_text().split())] if children.exists() else [pid]


def _run(coro):
    """The load generator on uvloop when it is installed (less of the shared CPU per request)."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coro)
    return uvloop.run(coro)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--customers", type=int, default=1_000_000)
    p.add_argument("--clients", default="1,50", help="concurrent clients, one load phase per number")
    p.add_argument("--seconds", type=float, default=30)
    p.add_argument("--port", type=int, default=0, help="default: a free port")
    p.add_argument("--rate", type=float, default=None,
                   help="open loop: this many requests per second over all clients (default: closed loop)")
    p.add_argument("--only", choices=("lookup", "profile"), default=None, help="one request kind only")
    args = p.parse_args()

    with tempfile.TemporaryDirectory(prefix="tianwen-service-bench-") as tmp:
        folder = Path(tmp) / "serving"
        built = generate(args.customers, folder)
        print(f"serving copy of {args.customers:,} customers written in {built:.1f} s "
              f"({sum(f.stat().st_size for f in folder.glob('serving-*.duckdb')) / 1e6:.0f} MB)")
        import socket

        with socket.socket() as s:
            s.bind(("127.0.0.1", args.port))
            port = s.getsockname()[1]
        env = {**os.environ, "CDP_SERVING_DIR": str(folder), "CDP_API_PORT": str(port),
               "CDP_API_KEYS": "bench-key=profile:read+pii:read"}
        server = subprocess.Popen([str(Path(sys.executable).parent / "tianwen"), "serve"], env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        base = f"http://127.0.0.1:{port}"
        try:
            for _ in range(300):
                try:
                    if httpx.get(base + "/v1/health").status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.2)
            rnd = random.Random(1)
            picks = [rnd.randrange(args.customers) for _ in range(5000)]
            lookups = [f"/v1/customers/lookup?identifier_type=mobile&value=%2B86%2013{n // 10**8}-"
                       f"{n // 10**4 % 10**4:04d}-{n % 10**4:04d}" for n in picks if n % 1000 != 999]
            ids = [httpx.get(base + lookups[0], headers={"X-API-Key": "bench-key"}).json()]
            assert "customer_id" in ids[0], ids
            con = duckdb.connect()
            profiles = [f"/v1/customers/{c}" for (c,) in con.execute(
                "select printf('cus_%016x', hash(n)) from unnest(?::bigint[]) as t(n)",
                [[n for n in picks if n % 1000 != 999]]).fetchall()]
            mode = f"open loop at {args.rate:g} requests/s" if args.rate else "closed loop"
            print(f"server workers: {os.environ.get('CDP_API_WORKERS') or 1}; {args.seconds:.0f} s per phase; {mode}")
            kinds = (("lookup", "lookup (mobile, typed +86 138-xxxx-xxxx)", lookups),
                     ("profile", "profile (default sections)", profiles))
            for clients in (int(c) for c in args.clients.split(",")):
                for kind, name, paths in kinds:
                    if args.only and kind != args.only:
                        continue
                    before, pids = os.getloadavg()[0], _server_pids(server.pid)
                    cpu = _cpu_seconds(pids), time.process_time()
                    r = _run(load(port, "bench-key", paths, clients, args.seconds, args.rate))
                    server_us = (_cpu_seconds(pids) - cpu[0]) / max(r["requests"], 1) * 1e6
                    bench_us = (time.process_time() - cpu[1]) / max(r["requests"], 1) * 1e6
                    print(f"{clients:>3} clients, {name}: {r['requests']:,} requests, {r['errors']} errors, "
                          f"{r['rps']:.0f} req/s, p50 {r['p50_ms']:.1f} ms, p99 {r['p99_ms']:.1f} ms; CPU per "
                          f"request: server {server_us:.0f} us, load generator {bench_us:.0f} us "
                          f"(load average before {before:.2f}, after {os.getloadavg()[0]:.2f}); server RSS MB "
                          f"{'/'.join(str(m) for m in _rss_mb(pids))}", flush=True)
        finally:
            server.terminate()
            server.wait(timeout=30)


if __name__ == "__main__":
    main()
