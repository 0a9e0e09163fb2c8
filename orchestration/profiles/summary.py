"""The profiles section of the pipeline summary: customers, segment sizes and a few tag
distributions. Counts only: no profile value (PII) is ever printed."""

from __future__ import annotations

from collections.abc import Callable

from orchestration.engines.dialect import table_exists_sql

Query = Callable[[str, str], list[tuple]]
DISTRIBUTIONS = ("lifecycle_stage", "rfm_group", "preferred_channel", "member_tier")


def _exists(query: Query, target: str, table: str) -> bool:
    return bool(query(target, table_exists_sql(target, "marts", table)))


def profiles_summary(query: Query, target: str) -> list[str]:
    """Summary lines; nothing when the profile marts are not built yet."""
    if not _exists(query, target, "customer_metrics"):
        return []
    customers, buyers, ltv = query(target, "select count(*), count(case when order_count > 0 then 1 end),"
                                           " coalesce(sum(lifetime_value), 0) from marts.customer_metrics")[0]
    lines = ["", "profiles:",
             f"  {customers:,} golden profiles, {buyers:,} buyers, lifetime value {float(ltv):,.2f} CNY"]
    tags = query(target, "select tag_name, tag_value, count(*) from marts.customer_tags where tag_name in ("
                         + ", ".join(f"'{t}'" for t in DISTRIBUTIONS) + ") group by 1, 2 order by 1, 3 desc, 2")
    for name in DISTRIBUTIONS:
        values = [(v, n) for t, v, n in tags if t == name]
        if values:
            lines.append(f"  {name}: " + ", ".join(f"{v} {n:,}" for v, n in values))
    if _exists(query, target, "segment_memberships"):
        sizes = query(target, "select segment_id, members, entered, exited from marts.segment_sizes"
                              " where computed_at = (select max(computed_at) from marts.segment_sizes)"
                              " order by segment_id")
        lines += ["", "segments (members, entered, exited in the last build):"]
        width = max((len(s) for s, *_ in sizes), default=10)
        lines += [f"  {s:<{width}} {m:>10,} {e:>8,} {x:>8,}" for s, m, e, x in sizes] or ["  none"]
    return lines
