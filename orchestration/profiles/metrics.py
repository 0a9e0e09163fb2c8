"""Numeric metadata for the profile, tag and segment marts (row counts, segment sizes),
which the Dagster UI plots over builds."""

from __future__ import annotations

from collections.abc import Callable

MODELS = {"customer_profiles", "customer_metrics", "customer_tags", "segment_memberships",
          "segment_sizes", "products", "stores"}


def collect(query: Callable[[str, str], list[tuple]], target: str) -> dict[str, dict[str, int]]:
    """{model: {metadata key: int}} for the models in MODELS that exist."""
    out: dict[str, dict[str, int]] = {}
    for model in sorted(MODELS - {"segment_sizes"}):
        try:
            out[model] = {"dagster/row_count": int(query(target, f"select count(*) from marts.{model}")[0][0])}
        except Exception:  # noqa: BLE001 - a mart not built (yet) has no metadata
            continue
    try:
        sizes = query(target, "select segment_id, members from marts.segment_sizes"
                              " where computed_at = (select max(computed_at) from marts.segment_sizes)")
    except Exception:  # noqa: BLE001
        sizes = []
    if sizes:
        out["segment_sizes"] = {f"segment/{s}": int(n) for s, n in sizes}
        out["segment_memberships"] = {**out.get("segment_memberships", {}),
                                      **out["segment_sizes"]}
    return out
