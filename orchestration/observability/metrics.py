"""Numeric metadata for the assets that summarise a build, read from the marts."""

from __future__ import annotations

import dagster as dg

from orchestration import pipeline
from orchestration.dbt.project import relation
from orchestration.profiles import metrics as profile_metrics

# dbt outputs (by model name) that get run metrics as metadata
MODELS = {"source_reconciliation", "quarantined_rows", "identity_graph_stats",
          "customer_identities", "customer_id_merges"} | profile_metrics.MODELS


def collect(target: str) -> dict[str, dict]:
    recon = pipeline.query(target, "select sum(landed_rows), sum(staged_rows),"
                                   " sum(duplicate_rows), sum(quarantined_rows),"
                                   " sum(case when is_reconciled then 0 else 1 end)"
                                   f" from {relation('source_reconciliation')}")[0]
    landed, staged, dups, quarantined, unreconciled = (int(v or 0) for v in recon)
    stats = pipeline.query(target, "select identifiers, edges, customers, singletons,"
                                   " largest_component, rounds, conflicts"
                                   f" from {relation('identity_graph_stats')}"
                                   " order by computed_at desc limit 1")
    merges = pipeline.query(target, f"select count(*) from {relation('customer_id_merges')}")[0][0]
    rows = {"landed_rows": landed, "staged_rows": staged, "duplicate_rows": dups,
            "quarantined_rows": quarantined, "unreconciled_sources": unreconciled}
    out = {"source_reconciliation": rows,
           "quarantined_rows": {"dagster/row_count": quarantined, **rows}}
    if stats:
        identifiers, edges, customers, singletons, largest, rounds, conflicts = stats[0]
        identity = {"identifiers": identifiers, "edges": edges, "customers": customers,
                    "singletons": singletons, "largest_component": largest, "rounds": rounds,
                    "conflicts": conflicts, "merges": int(merges)}
        out["identity_graph_stats"] = identity
        out["customer_identities"] = {"dagster/row_count": identifiers, **identity}
        out["customer_id_merges"] = {"dagster/row_count": int(merges), "merges": int(merges)}
    out.update(profile_metrics.collect(pipeline.query, target))
    return {name: {k: dg.MetadataValue.int(int(v or 0)) for k, v in md.items()}
            for name, md in out.items()}
