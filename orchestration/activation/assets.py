"""Each sync as a Dagster asset (`activation/<sync>`, group `activation`), downstream of its
segment's dbt asset, with the run's counts and per-batch outcomes as metadata. A sync with
`trigger: {after_segment: true}` materialises when its segment has (eager automation); one
with `trigger: {schedule: <cron>}` on that cron (Asia/Shanghai), once its segment is fresh.
A failed sync raises the project's alert (CDP_ALERT_WEBHOOK_URL), then fails the step.

The syncs are not part of `tianwen_pipeline`: sending to channels is an outward act that
the automation, `tianwen sync` or a click in the UI does, never a side effect of a rebuild.
The tables the syncs write (activation.sync_runs, sync_state, sync_rejections,
campaign_assignments) appear as assets downstream of the syncs, upstream of their dbt marts."""


import dagster as dg

from orchestration import config
from orchestration.activation.config import Sync, load_syncs

TABLES = {
    "sync_runs": "Every sync run: members, suppressed, held out, added, removed, changed, rejected, status.",
    "campaign_assignments": "Holdout and treatment groups per campaign, written by the syncs.",
    "sync_state": "What each destination holds now: one row per sync and customer, with the payload last sent.",
    "sync_rejections": "Rows a destination rejected, with its reason; retried by the next run.",
}


def _automation(sync: Sync) -> dg.AutomationCondition:
    if sync.trigger.schedule:
        return dg.AutomationCondition.on_cron(sync.trigger.schedule, cron_timezone="Asia/Shanghai")
    return dg.AutomationCondition.eager()


def sync_asset(sync: Sync) -> dg.AssetsDefinition:
    @dg.asset(
        key=["activation", sync.name], name=None, group_name="activation",
        deps=[dg.AssetKey([sync.source.asset_name])], kinds={"python", sync.destination.type},
        description=(sync.description or f"Sync {sync.name}") + f" (activation/syncs/{sync.name}.yml)",
        automation_condition=_automation(sync),
        metadata={"destination": sync.destination.type, "mode": sync.mode,
                  "consent_channel": sync.consent_channel,
                  "holdout": f"{sync.holdout.campaign} {sync.holdout.share:.0%}" if sync.holdout else "none"},
    )
    def _sync(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
        from orchestration import pipeline
        from orchestration.activation.runner import run_sync
        from orchestration.observability.alerts import send_alert

        wh = pipeline.warehouse(config.target())
        try:
            result = run_sync(wh, sync)
            batches = wh.execute("select batch_number, operations, acknowledged, rejected, attempts "
                                 "from activation.sync_batches where run_id = ? order by batch_number limit 50",
                                 [result.run_id]).fetchall()
        except Exception as exc:
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            send_alert(f"activation sync {sync.name} failed", reason, logger=context.log)
            raise
        finally:
            wh.close()
        context.log.info(result.line())
        table = "\n".join(["| batch | ops | acknowledged | rejected | attempts |", "|---|---|---|---|---|",
                           *(f"| {n} | {o} | {a} | {r} | {t} |" for n, o, a, r, t in batches)])
        return dg.MaterializeResult(metadata={
            "run_id": result.run_id,
            "members": dg.MetadataValue.int(result.members),
            "suppressed": dg.MetadataValue.int(result.suppressed),
            "held_out": dg.MetadataValue.int(result.held_out),
            "dagster/row_count": dg.MetadataValue.int(result.intended),
            "rows_added": dg.MetadataValue.int(result.added),
            "rows_removed": dg.MetadataValue.int(result.removed),
            "rows_changed": dg.MetadataValue.int(result.changed),
            "rows_rejected": dg.MetadataValue.int(result.rejected),
            "batches": dg.MetadataValue.int(result.batches),
            "batch_outcomes": dg.MetadataValue.md(table),
        })

    return _sync


def build_assets(syncs: list[Sync] | None = None) -> list:
    syncs = load_syncs() if syncs is None else syncs
    keys = [dg.AssetKey(["activation", s.name]) for s in syncs]
    tables = [dg.AssetSpec(["activation", name], group_name="activation", kinds={"python"}, description=text,
                           deps=keys)
              for name, text in TABLES.items()]
    return [*(sync_asset(s) for s in syncs), *tables]


activation_assets = build_assets()

# Evaluates the syncs' triggers. Starts stopped, like the landing sensor: a fresh instance
# (a laptop, a test) never sends to channels until someone means it (CDP_ACTIVATION_AUTOMATION=on
# starts it running; or switch it on in the UI, Automation).
activation_automation = dg.AutomationConditionSensorDefinition(
    "activation_automation", target=dg.AssetSelection.key_prefixes(["activation"]),
    default_status=dg.DefaultSensorStatus.RUNNING if config._switch("CDP_ACTIVATION_AUTOMATION", False)
    else dg.DefaultSensorStatus.STOPPED,
    description="Runs each sync when its trigger says: after its segment built, or on its cron.",
)
