"""Tables dbt's own hooks write, as assets, so the lineage shows where they come from."""

import dagster as dg
import yaml

from orchestration import config


def _retained_bases() -> list[dg.AssetKey]:
    project = yaml.safe_load((config.PROJECT_DIR / "dbt_project.yml").read_text())
    sources = project["vars"]["tianwen_sources"]
    return [dg.AssetKey(sources[name]["base"]) for name in project["vars"]["event_retention_sources"]]


retention_log = dg.AssetSpec(
    ["privacy", "retention_log"], group_name="privacy", kinds={"dbt"}, deps=_retained_bases(),
    description="What retention purged (privacy.retention_log): one row per purge that deleted raw "
                "rows, with the source, window, cutoff and count. Written by the purge_expired_events "
                "pre-hook when a retained source's base model builds (CDP_EVENT_RETENTION_DAYS); "
                "source_reconciliation adds the purged rows back.",
)
