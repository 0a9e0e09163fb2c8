"""Privacy as assets: the tables dbt's own hooks write (so the lineage shows where they come
from), and erasure (orchestration/privacy/erasure.py) with its deadline check."""

import dagster as dg

from orchestration import config
from orchestration.dbt.project import project_vars
from orchestration.observability.lineage import RETENTION_LOG_KEY


def _retained_bases() -> list[dg.AssetKey]:
    project = project_vars()
    return [dg.AssetKey(project["tianwen_sources"][name]["base"]) for name in project["event_retention_sources"]]


retention_log = dg.AssetSpec(
    RETENTION_LOG_KEY, group_name="privacy", kinds={"dbt"}, deps=_retained_bases(),
    description="What retention purged (privacy.retention_log): one row per purge that deleted raw "
                "rows, with the source, window, cutoff and count. Written by the purge_expired_events "
                "pre-hook when a retained source's base model builds (CDP_EVENT_RETENTION_DAYS); "
                "source_reconciliation adds the purged rows back.",
)

ERASURE_KEY = dg.AssetKey(["privacy", "erased_identifiers"])
OUTCOMES_KEY = dg.AssetKey(["privacy", "erasure_outcomes"])
DELETIONS_KEY = dg.AssetKey(["privacy", "erasure_deletions"])


@dg.multi_asset(name="erasure", group_name="privacy", can_subset=False, specs=[
    dg.AssetSpec(ERASURE_KEY, kinds={"python"},
                 description="The suppression list: keyed hashes of every erased person's identifiers."),
    dg.AssetSpec(OUTCOMES_KEY, kinds={"python"}, description="One outcome per erasure request carried out."),
    dg.AssetSpec(DELETIONS_KEY, kinds={"python"},
                 description="Rows deleted by erasure, per run and table (the build's pre-hooks add theirs)."),
])
def erasure(context: dg.AssetExecutionContext):
    """Carries out pending erasure requests against the last build: the person's identifiers
    go on the suppression list (keyed hashes), mirrored audiences are sent removals, exported
    files are rewritten, and their rows leave snapshots, activation state and scores. The base
    models downstream then delete the raw rows carrying a suppressed identifier (pre-hook) and
    rebuild without them. It reads the previous build's staged requests, so it is upstream of
    the models it cleans; the tianwen_erasure job runs it with everything downstream."""
    from orchestration.privacy.erasure import process

    report = process(config.target(), logger=context.log)  # alerts overdue requests if it fails
    context.log.info(report.line())  # counts and request ids only
    yield dg.MaterializeResult(asset_key=ERASURE_KEY, metadata={
        "erasure_run_id": dg.MetadataValue.text(report.run_id),
        "customers_erased": dg.MetadataValue.int(report.customers),
        "identifiers_suppressed": dg.MetadataValue.int(report.identifiers),
    })
    yield dg.MaterializeResult(asset_key=OUTCOMES_KEY, metadata={
        "requests": dg.MetadataValue.int(report.requests),
        **{f"requests_{o}": dg.MetadataValue.int(n) for o, n in sorted(report.outcomes.items())},
        "audiences_notified": dg.MetadataValue.int(report.audiences),
        "files_rewritten": dg.MetadataValue.int(report.files),
        "syncs_to_forward": dg.MetadataValue.text(", ".join(report.forward) or "none"),
        "carried_out_late": dg.MetadataValue.int(len(report.late)),
    })
    yield dg.MaterializeResult(asset_key=DELETIONS_KEY, metadata={
        "rows_deleted": dg.MetadataValue.int(sum(report.deleted.values())),
        "tables": dg.MetadataValue.int(len(report.deleted)),
    })


# on the log, which the daily pipeline and the erasure job both build: an erasure job that
# stopped running, or keeps failing, is caught by the daily run
@dg.asset_check(asset=dg.AssetKey("erasure_log"), name="erasure_deadline", blocking=False)
def erasure_deadline(context: dg.AssetCheckExecutionContext) -> dg.AssetCheckResult:
    """No erasure request is still pending CDP_ERASURE_DEADLINE_DAYS (default 30) after it was
    made; an overdue one fails this check and raises an alert."""
    from orchestration import pipeline
    from orchestration.privacy.erasure import alert_overdue, deadline_days, overdue_requests

    wh = pipeline.warehouse(config.target())
    try:
        overdue = overdue_requests(wh)
    finally:
        wh.close()
    if overdue:
        alert_overdue(overdue, logger=context.log)
    return dg.AssetCheckResult(passed=not overdue, severity=dg.AssetCheckSeverity.ERROR, metadata={
        "overdue_requests": dg.MetadataValue.int(len(overdue)),
        "deadline_days": dg.MetadataValue.int(deadline_days()),
    })


privacy_assets = [retention_log, erasure]
privacy_checks = [erasure_deadline]
