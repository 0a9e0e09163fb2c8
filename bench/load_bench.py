"""Benchmark of the loader alone (not a test: figures go to docs/benchmarks.md).

    python bench/load_bench.py --people 100000            generate, then load into DuckDB
    python bench/load_bench.py --people 100000 --target postgres   (CDP_PG_* set)

Reports rows, seconds and rows per second per format, and peak memory of this process.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from orchestration import config  # noqa: E402
from orchestration.ingest.loader import load_landing, open_warehouse  # noqa: E402
from orchestration.synthetic.generator import generate  # noqa: E402


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--people", type=int, default=100_000)
    p.add_argument("--days", type=int, default=3)
    p.add_argument("--target", choices=config.TARGETS, default="duckdb")
    args = p.parse_args()
    with tempfile.TemporaryDirectory(prefix="tianwen-load-bench-") as tmp:
        root = Path(tmp)
        t0 = time.monotonic()
        generate(root / "landing", root / "truth", people=args.people, days=args.days, quiet=True)
        print(f"generated {args.people:,} people in {time.monotonic() - t0:.1f}s")
        wh = (open_warehouse("duckdb", duckdb_path=root / "wh.duckdb") if args.target == "duckdb"
              else open_warehouse("postgres", pg_conninfo=config.pg_conninfo()))
        t0 = time.monotonic()
        try:
            report = load_landing(root / "landing", wh, quiet=True)
        finally:
            wh.close()
        total = time.monotonic() - t0
    per_format = defaultdict(int)
    for f in report.files:
        per_format[f.file.rsplit(".", 1)[-1]] += f.rows
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"loaded {report.rows:,} rows in {total:.1f}s ({report.rows / total:,.0f} rows/s) "
          f"on {args.target}; rows per format: {dict(per_format)}; peak memory {peak:,.0f} MB")


if __name__ == "__main__":
    main()
