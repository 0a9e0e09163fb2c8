"""The main job: land → raw → staged → marts, then a short summary. Same code for the demo,
the tests and a deployment; only the environment (CDP_*) differs."""

from __future__ import annotations

from pathlib import Path

from orchestration import config
from orchestration.dbt.runner import run_dbt
from orchestration.ingest.loader import LoadReport, load_landing, open_warehouse


def warehouse(target: str):
    if target == "duckdb":
        return open_warehouse("duckdb", duckdb_path=config.duckdb_path())
    return open_warehouse("postgres", pg_conninfo=config.pg_conninfo())


def load(landing: Path, target: str, quiet: bool = False,
         sources: set[str] | None = None) -> LoadReport:
    wh = warehouse(target)
    try:
        return load_landing(landing, wh, quiet=quiet, sources=sources)
    finally:
        wh.close()  # DuckDB allows one writer: release the file before dbt opens it


def build(target: str, quiet: bool = False, full_refresh: bool = False) -> None:
    run_dbt(["build", *(["--full-refresh"] if full_refresh else [])], target, quiet=quiet)


def query(target: str, sql: str) -> list[tuple]:
    wh = warehouse(target)
    try:
        return list(wh.execute(sql).fetchall())
    finally:
        wh.close()


def summary(target: str) -> str:
    recon = query(target, "select source_name, landed_rows, staged_rows, duplicate_rows,"
                          " quarantined_rows, is_reconciled from marts.source_reconciliation"
                          " order by source_name")
    reasons = query(target, "select reason_code, count(*) from marts.quarantined_rows"
                            " group by reason_code order by count(*) desc, reason_code")
    ids = query(target, "select identifier_type, count(*), count(distinct identifier_value),"
                        " sum(case when is_junk then 1 else 0 end)"
                        " from intermediate.int_identifier_occurrences_unioned"
                        " group by identifier_type order by identifier_type")
    width = max((len(r[0]) for r in recon), default=10)
    lines = ["", f"Tianwen summary ({target})", "",
             f"{'source':<{width}}  {'landed':>10} {'staged':>10} {'duplicates':>10}"
             f" {'quarantined':>11}  reconciled"]
    for name, landed, staged, dups, quar, ok in recon:
        lines.append(f"{name:<{width}}  {landed:>10,} {staged:>10,} {dups:>10,} {quar:>11,}"
                     f"  {'yes' if ok else 'NO'}")
    totals = [sum(r[i] for r in recon) for i in range(1, 5)]
    lines.append(f"{'total':<{width}}  {totals[0]:>10,} {totals[1]:>10,} {totals[2]:>10,}"
                 f" {totals[3]:>11,}")
    lines += ["", "quarantined rows by reason:"]
    lines += [f"  {code:<20} {n:>10,}" for code, n in reasons] or ["  none"]
    lines += ["", "identifier occurrences (distinct values, junk occurrences):"]
    lines += [f"  {t:<16} {n:>10,} ({d:,} distinct, {j:,} junk)" for t, n, d, j in ids]
    stats = query(target, "select identifiers, edges, customers, singletons, largest_customer,"
                          " largest_component, rounds, recomputed_identifiers, conflicts"
                          " from marts.identity_graph_stats order by computed_at desc limit 1")
    if stats:
        (identifiers, edges, customers, singletons, largest_customer, largest_component, rounds,
         recomputed, conflicts) = stats[0]
        merges = query(target, "select reason, count(*) from marts.customer_id_merges"
                               " group by reason order by reason")
        lines += ["", "identity:",
                  f"  {customers:,} customers from {identifiers:,} identifiers and {edges:,} edges"
                  f" ({singletons:,} single-identifier customers, largest {largest_customer:,})",
                  f"  connected components: {rounds} rounds, largest component {largest_component:,},"
                  f" {recomputed:,} identifiers recomputed in this build",
                  f"  {conflicts:,} identifiers kept out of merging (marts.identity_conflicts)",
                  "  id changes so far: " + (", ".join(f"{n:,} {r}s" for r, n in merges) or "none")]
    return "\n".join(lines)


def run(landing: Path, target: str, quiet: bool = False) -> str:
    report = load(landing, target, quiet=quiet)
    build(target, quiet=quiet)
    from orchestration.ml.job import refresh  # predictive tags: train, score, rebuild score marts

    tags = refresh(target, quiet=quiet)
    text = summary(target) + "\n\n" + tags
    if report.count("failed"):
        text += f"\n\n{report.count('failed')} landing file(s) could not be loaded: see raw._load_errors"
    return text
