"""Benchmark of profiles, tags and segments (not a test: figures go to docs/benchmarks.md).

    python bench/profiles_bench.py --people 1000000      DuckDB: full build, then the daily run

Generates the people over `--days` daily batches, loads all but the last batch and runs
`dbt build` (the full build), then loads the last batch and runs `dbt build` again (the daily
run). Reports wall seconds of each build, the seconds dbt spent in the profile, tag, segment
and product nodes (models, snapshots and their tests, from run_results.json) and in each
layer, the slowest nodes, and the peak RSS of each dbt process (GNU time). The machine may be
shared: say so with the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from orchestration import config, pipeline  # noqa: E402
from orchestration.dbt.runner import PRODUCTION_BUILD, dbt_args  # noqa: E402
from orchestration.synthetic.generator import generate  # noqa: E402

OURS = ("models/intermediate/profiles/", "models/marts/profiles/", "models/marts/tags/",
        "models/marts/segments/", "models/marts/products/", "snapshots/profile_history.yml")
# dbt seconds per layer (models, snapshots and their tests, by the file that declares them)
LAYERS = {"staging": ("models/staging/",),
          "identity": ("models/intermediate/identity/", "models/marts/identity/",
                       "snapshots/customer_identity_history"),
          "profiles, tags, segments, products": OURS}


def _build(target: str, keep_results: Path | None = None) -> dict:
    start = time.perf_counter()
    # dbt's own peak through GNU time: this process's children's ru_maxrss would count the
    # pages a fork copies from this process (the generator's gigabytes) before exec
    proc = subprocess.run(["/usr/bin/time", "-f", "peak_kb=%M", *dbt_args(PRODUCTION_BUILD, target)],
                          cwd=ROOT, env=config.dbt_env(), text=True, capture_output=True)
    if proc.returncode:
        raise SystemExit(proc.stdout[-3000:])
    wall = time.perf_counter() - start
    peak_kb = int(proc.stderr.rsplit("peak_kb=", 1)[1].split()[0])
    results_file = ROOT / "target" / target / "run_results.json"
    if keep_results:
        shutil.copy(results_file, keep_results)
    results = json.loads(results_file.read_text())
    manifest = json.loads((ROOT / "target" / target / "manifest.json").read_text())
    nodes = {**manifest["nodes"], **manifest.get("unit_tests", {})}

    def ours(uid: str) -> bool:
        node = nodes.get(uid, {})
        path = node.get("original_file_path", "")
        return path.startswith(OURS)

    ours_seconds = sum(r["execution_time"] for r in results["results"] if ours(r["unique_id"]))
    layers = {name: 0.0 for name in [*LAYERS, "other"]}
    for r in results["results"]:
        path = nodes.get(r["unique_id"], {}).get("original_file_path", "")
        layer = next((name for name, prefixes in LAYERS.items() if path.startswith(prefixes)), "other")
        layers[layer] += r["execution_time"]
    slowest = sorted(((r["execution_time"], r["unique_id"].split(".")[-1]) for r in results["results"]),
                     reverse=True)[:8]
    return {"wall_seconds": round(wall, 1), "profile_nodes_seconds": round(ours_seconds, 1),
            "layer_seconds": {name: round(v, 1) for name, v in layers.items()},
            "slowest": [(n, round(s, 1)) for s, n in slowest],
            "dbt_peak_rss_mb": round(peak_kb / 1024)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=4)
    parser.add_argument("--keep", action="store_true",
                        help="keep the warehouse, a copy of it after the full build and both builds'"
                             " run_results.json, to time changes")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="tianwen-profiles-bench-"))
    os.environ["CDP_DUCKDB_PATH"] = str(work / "bench.duckdb")
    t0 = time.perf_counter()
    manifest = generate(work / "all", work / "truth", people=args.people, days=args.days, quiet=True)
    generated = time.perf_counter() - t0
    last = sorted(f.stem for f in (work / "all" / "crm_members").iterdir())[-1]
    landing = work / "landing"
    folders = [f for f in (work / "all").iterdir() if f.is_dir()]  # beside them: the generator's marker
    for folder in folders:
        (landing / folder.name).mkdir(parents=True)
        for f in folder.iterdir():
            if f.stem != last:
                shutil.copy(f, landing / folder.name / f.name)
    pipeline.load(landing, "duckdb", quiet=True)
    full = _build("duckdb", work / "full_run_results.json" if args.keep else None)
    history = "select count(*) from snapshots.customer_tag_history"
    full["tag_history_rows"] = pipeline.query("duckdb", history)[0][0]
    if args.keep:
        shutil.copy(work / "bench.duckdb", work / "after-full-build.duckdb")
        os.sync()  # the copy's writeback would otherwise slow the daily run
    for folder in folders:
        for f in folder.iterdir():
            if f.stem == last:
                shutil.copy(f, landing / folder.name / f.name)
    pipeline.load(landing, "duckdb", quiet=True)
    daily = _build("duckdb", work / "daily_run_results.json" if args.keep else None)
    daily["tag_history_rows"] = pipeline.query("duckdb", history)[0][0]
    customers = pipeline.query("duckdb", "select count(*) from marts.customer_profiles")[0][0]
    tags = pipeline.query("duckdb", "select count(*) from marts.customer_tags")[0][0]
    out = {"people": args.people, "landed_rows": sum(s["landed"] for s in manifest["sources"].values()),
           "generate_seconds": round(generated, 1), "customers": customers, "tag_rows": tags,
           "full_build": full, "daily_run": daily}
    print(json.dumps(out, indent=2))
    if args.keep:
        print(f"kept: {work}", file=sys.stderr)
    else:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
