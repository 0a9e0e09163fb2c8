"""Time the Dagster pipeline job (`tianwen_pipeline`) on a generated sample, step by step.

    .venv/bin/python bench/dagster_run_bench.py [--people 1500] [--days 3] [--runs 2]

Each run gets a fresh DuckDB warehouse and Dagster instance (in /dev/shm when the machine has
it), runs the job in process with the Great Expectations checks (what `make run` does), and
prints one JSON line: the run's wall time, the time before its first step (imports, `dbt
parse`, the planned-materialisation events) and each dbt step's seconds, read from the
instance's event log (STEP_START to STEP_SUCCESS)."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _scratch() -> Path:
    shm = Path("/dev/shm")
    return Path(tempfile.mkdtemp(prefix="tianwen-dagster-bench-",
                                 dir=shm if shm.is_dir() and os.access(shm, os.W_OK) else None))


def one_run(landing: Path) -> dict:
    """Runs in a child process (a fresh interpreter per run, as `tianwen run` is)."""
    work = _scratch()
    try:
        (work / "dagster").mkdir()
        (work / "dagster" / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
        os.environ.update(DAGSTER_HOME=str(work / "dagster"), CDP_DUCKDB_PATH=str(work / "wh.duckdb"),
                          CDP_TARGET="duckdb", CDP_LANDING_DIR=str(landing),
                          CDP_SERVING_DIR=str(work / "serving"), DBT_SEND_ANONYMOUS_USAGE_STATS="false")
        started = time.time()
        import dagster as dg

        from orchestration import pipeline

        result = pipeline.materialize_all(landing, "duckdb", quiet=True)
        wall = time.time() - started
        starts, steps = {}, []
        for record in dg.DagsterInstance.get().all_logs(result.run_id):
            event = record.dagster_event
            if event is None:
                continue
            if event.event_type_value == "STEP_START":
                starts[event.step_key] = record.timestamp
            elif event.event_type_value in ("STEP_SUCCESS", "STEP_FAILURE") and event.step_key in starts:
                steps.append((event.step_key, round(record.timestamp - starts[event.step_key], 1)))
        return {"success": result.success, "wall_s": round(wall, 1),
                "before_first_step_s": round(min(starts.values()) - started, 1) if starts else None,
                "dbt_steps_s": {key: s for key, s in steps if key.startswith("tianwen_dbt")},
                "all_steps_s": round(sum(s for _, s in steps), 1)}
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=1500)
    parser.add_argument("--days", type=int, default=3)
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--one-run", type=Path, help=argparse.SUPPRESS)  # the child's entry
    args = parser.parse_args()
    if args.one_run:
        print("RESULT " + json.dumps(one_run(args.one_run)), flush=True)
        return
    from orchestration.synthetic.generator import generate

    sample = _scratch()
    try:
        generate(sample / "landing", sample / "truth", quiet=True, people=args.people, days=args.days,
                 seed=7, end_date=date(2026, 11, 20))
        for _ in range(args.runs):
            out = subprocess.run([sys.executable, __file__, "--one-run", str(sample / "landing")],
                                 cwd=ROOT, capture_output=True, text=True, check=True).stdout
            print(next(line[len("RESULT "):] for line in out.splitlines() if line.startswith("RESULT ")))
    finally:
        shutil.rmtree(sample, ignore_errors=True)


if __name__ == "__main__":
    main()
