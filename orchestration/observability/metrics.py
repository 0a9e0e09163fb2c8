"""Numeric metadata for the assets that summarise a build, read from the marts."""

from __future__ import annotations

import dagster as dg

from orchestration import pipeline
from orchestration.dbt.project import relation
from orchestration.profiles import metrics as profile_metrics

# dbt outputs (by model name) that get run metrics as metadata
MODELS = {"source_reconciliation", "quarantined_rows", "identity_graph_stats",
          "customer_identities", "customer_id_merges"} | profile_metrics.MODELS


def collect(target: str, built: set[str]) -> dict[str, dict]:
    """Metadata for the `built` models: a dbt step of a split run builds only some marts."""
    out: dict[str, dict] = {}
    if "source_reconciliation" in built:
        out.update(_reconciliation(target))
    if "quarantined_rows" in built:
        n = pipeline.query(target, f"select count(*) from {relation('quarantined_rows')}")[0][0]
        # counted from the mart itself: the reconciliation may be built in another step
        out["quarantined_rows"] = {"dagster/row_count": n, "quarantined_rows": n}
    if built & {"identity_graph_stats", "customer_identities", "customer_id_merges"}:
        out.update(_identity(target))
    if built & profile_metrics.MODELS:
        out.update(profile_metrics.collect(pipeline.query, target))
    return {name: {k: dg.MetadataValue.int(int(v or 0)) for k, v in md.items()}
            for name, md in out.items() if name in built}


def _reconciliation(target: str) -> dict[str, dict]:
    recon = pipeline.query(target, "select sum(landed_rows), sum(staged_rows),"
                                   " sum(duplicate_rows), sum(quarantined_rows),"
                                   " sum(case when is_reconciled then 0 else 1 end)"
                                   f" from {relation('source_reconciliation')}")[0]
    landed, staged, dups, quarantined, unreconciled = (int(v or 0) for v in recon)
    rows = {"landed_rows": landed, "staged_rows": staged, "duplicate_rows": dups,
            "quarantined_rows": quarantined, "unreconciled_sources": unreconciled}
    return {"source_reconciliation": rows}


def _identity(target: str) -> dict[str, dict]:
    out = {}
    stats = pipeline.query(target, "select identifiers, edges, customers, singletons,"
                                   " largest_component, rounds, conflicts"
                                   f" from {relation('identity_graph_stats')}"
                                   " order by computed_at desc limit 1")
    merges = pipeline.query(target, f"select count(*) from {relation('customer_id_merges')}")[0][0]
    if stats:
        identifiers, edges, customers, singletons, largest, rounds, conflicts = stats[0]
        identity = {"identifiers": identifiers, "edges": edges, "customers": customers,
                    "singletons": singletons, "largest_component": largest, "rounds": rounds,
                    "conflicts": conflicts, "merges": int(merges)}
        out["identity_graph_stats"] = identity
        out["customer_identities"] = {"dagster/row_count": identifiers, **identity}
        out["customer_id_merges"] = {"dagster/row_count": int(merges), "merges": int(merges)}
    return out
