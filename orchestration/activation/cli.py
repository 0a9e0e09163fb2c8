"""`tianwen sync`: run the activation syncs (all, or the ones named) against the warehouse.

--dry-run prints, per sync, the diff counts and a sample of keys (never field values) and
sends nothing; --full-resync re-sends every row whatever the destination acknowledged.
Exit codes: 0 every sync succeeded, 3 some rows were rejected (in activation.sync_rejections,
retried next run), 2 a sync failed (the alert is raised)."""

from __future__ import annotations

import argparse

from orchestration import config


def add_parser(sub) -> None:
    s = sub.add_parser("sync", help="send segments to channels (activation/syncs/*.yml)",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    s.add_argument("--target", choices=config.TARGETS, default=None, help="default: CDP_TARGET or duckdb")
    s.add_argument("--sync", action="append", dest="syncs", metavar="NAME",
                   help="only this sync (repeatable); default: every sync")
    s.add_argument("--dry-run", action="store_true", help="print diff counts and a sample; send nothing")
    s.add_argument("--full-resync", action="store_true", help="re-send every row, not only the changes")


def select(names: list[str] | None):
    from orchestration.activation.config import load_syncs, syncs_dir

    syncs = load_syncs()
    if not names:
        return syncs
    known = {s.name: s for s in syncs}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise ValueError(f"no sync named {', '.join(unknown)} in {syncs_dir()} "
                         f"(there are: {', '.join(known) or 'none'})")
    return [known[n] for n in names]


def run(args) -> int:
    from orchestration import pipeline
    from orchestration.activation.runner import run_sync
    from orchestration.observability.alerts import send_alert

    target = args.target or config.target()
    syncs = select(args.syncs)
    if not syncs:
        print("no syncs declared: add one to activation/syncs/ (docs/activation.md)")
        return 0
    code = 0
    wh = pipeline.warehouse(target)
    try:
        for sync in syncs:
            try:
                result = run_sync(wh, sync, dry_run=args.dry_run, full_resync=args.full_resync)
            except Exception as exc:  # noqa: BLE001 - every sync gets its turn; the failure is reported
                reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
                send_alert(f"activation sync {sync.name} failed", reason)
                print(f"{sync.name}: FAILED: {reason}")
                code = 2
                continue
            print(result.line())
            if args.dry_run and result.sample:
                print("  sample: " + ", ".join(f"{op} {key}" for op, key in result.sample))
            if result.rejected and code == 0:
                code = 3
    finally:
        wh.close()
    return code
