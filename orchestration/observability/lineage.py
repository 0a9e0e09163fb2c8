"""How the lineage graph reads: one Dagster group per layer, each described, from the landing
files to the marts. dbt assets get their group from the translator (orchestration/dbt/assets.py);
this module adds the landing files, the load ledger and the raw layer around them."""

from __future__ import annotations

import dagster as dg

from orchestration.ingest.contract import load_contract

# Every group shown in the UI, in the order data flows. A new area of marts (profiles,
# segments, activation) adds a line here; tests/test_definitions.py checks none is missing.
GROUPS = {
    "landing": "Batch files as they arrive in CDP_LANDING_DIR/<source>/: not in the warehouse yet.",
    "raw": "Landing files loaded as text, one table per source, plus the load ledger; "
           "Great Expectations checks guard each new batch.",
    "reference": "Seeds (identifier blocklist, identity, survivorship and consent rules) and the bi "
                 "views' pseudonym key: reference data every run brings along.",
    "staging": "Typed, checked and deduplicated rows per source (base_ models) and the "
               "staged views (stg_) everything else reads.",
    "identity": "Identity resolution: identifier occurrences, the identity graph, customer ids, "
                "their history (snapshot), merges and conflicts.",
    "data_quality": "Quarantined rows with their reasons and the reconciliation of every landed row.",
    "profiles": "Customer profiles built from the identity marts.",
    "tags": "Customer tags from one registry (statistical, rule, predictive), long and wide, "
            "and the tag catalogue with coverage.",
    "products": "Products, stores and each customer's affinity to product categories.",
    "segments": "Customer segments: one model per audience, memberships, entry and exit events, sizes.",
    "ml": "Predictive tags: the feature mart's snapshots in, churn risk, purchase propensity and "
          "behaviour clusters out (scikit-learn, trained and scored in Python each run).",
    "bi": "Masked views of the marts for BI tools (PII masked by its YAML meta), the only "
          "schema the PostgreSQL role bi_reader may read, and the key of their pseudonyms.",
    "privacy": "Consent and suppression per customer and channel, what every channel sync obeys, "
               "the logs of what retention purged and erasure deleted, and the erasure suppression list.",
    "activation": "What goes out to channels: one asset per sync (activation/syncs/*.yml), its run log "
                  "and the campaign holdout assignments.",
    "service": "The data service's serving copy: profiles, tags, segments and consents published "
               "for the HTTP API after each successful build (docs/data-service.md).",
}

LEDGER_KEY = dg.AssetKey(["raw", "_load_ledger"])
# written by the retained sources' base models (a dbt pre-hook), read by the reconciliation
RETENTION_LOG_KEY = dg.AssetKey(["privacy", "retention_log"])


def landing_key(source: str) -> dg.AssetKey:
    return dg.AssetKey(["landing", source])


def landing_specs() -> list[dg.AssetSpec]:
    """The landing folders, as external assets upstream of their ingestion assets."""
    return [dg.AssetSpec(landing_key(name), group_name="landing", kinds={"file"},
                         description=f"Batch files in CDP_LANDING_DIR/{name}/. {spec.description}")
            for name, spec in load_contract().items()]


def as_raw_layer(assets: list[dg.AssetsDefinition]) -> list[dg.AssetsDefinition]:
    """Ingestion assets in group `raw`, each downstream of its landing folder."""
    return [a.map_asset_specs(lambda s: s.replace_attributes(group_name="raw")
                              .merge_attributes(deps=[landing_key(s.key.path[-1])]))
            for a in assets]
