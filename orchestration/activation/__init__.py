"""Activation: reverse-ETL syncs of segments to channels (docs/activation.md).

One module per concern: `config` (the YAML syncs, validated), `consent` (the central
consent and suppression filter), `holdout` (campaign control groups), `state` (what each
destination acknowledged, and the diff against it), `destinations/` (one small interface,
one module per kind), `runner` (one sync run, batch by batch), `assets` (Dagster)."""
