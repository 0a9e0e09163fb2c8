"""Tables dbt's own hooks write, as assets, so the lineage shows where they come from."""

import dagster as dg

from orchestration.dbt.project import project_vars


def _retained_bases() -> list[dg.AssetKey]:
    project = project_vars()
    return [dg.AssetKey(project["tianwen_sources"][name]["base"]) for name in project["event_retention_sources"]]


retention_log = dg.AssetSpec(
    ["privacy", "retention_log"], group_name="privacy", kinds={"dbt"}, deps=_retained_bases(),
    description="What retention purged (privacy.retention_log): one row per purge that deleted raw "
                "rows, with the source, window, cutoff and count. Written by the purge_expired_events "
                "pre-hook when a retained source's base model builds (CDP_EVENT_RETENTION_DAYS); "
                "source_reconciliation adds the purged rows back.",
)
