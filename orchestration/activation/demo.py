"""The end of `make demo`: the example syncs against local stand-ins for the channels: the
SMS gateway's webhook is a receiver on 127.0.0.1 (orchestration/activation/receiver.py, with
a fresh HMAC key; it starts empty, so its sync is a full resync), the push service's drop
folder and the Tencent audience files go to CDP_ACTIVATION_DIR (default data/activation).
Prints what was sent, suppressed and held out. The CRM sync (PostgreSQL) needs
CDP_SYNC_CRM_DSN and runs only when it is set.

`python -m orchestration.activation.demo` after `tianwen demo` (or any build)."""

from __future__ import annotations

import os
import secrets
import sys

from orchestration import config

DEMO_SYNCS = ("lapsed_buyers_sms", "browsed_never_bought_push", "high_value_at_risk_tencent", "new_members_crm")


def main() -> int:
    from orchestration import pipeline
    from orchestration.activation.cli import select
    from orchestration.activation.config import output_dir, resolve
    from orchestration.activation.receiver import Receiver
    from orchestration.activation.runner import run_sync

    key = secrets.token_hex(16)
    receiver = Receiver(key.encode())
    os.environ["CDP_SYNC_SMS_GATEWAY_URL"] = receiver.start()
    os.environ["CDP_SYNC_SMS_GATEWAY_SECRET"] = key
    names = [n for n in DEMO_SYNCS if n != "new_members_crm" or os.environ.get("CDP_SYNC_CRM_DSN")]
    print(f"\nActivation (syncs in activation/syncs/, files under {output_dir()}):")
    code = 0
    wh = pipeline.warehouse(config.target())
    try:
        for sync in select(names):
            try:
                # the local receiver starts empty each time: re-send its audience in full
                r = run_sync(wh, sync, full_resync=sync.destination.type == "webhook")
            except Exception as exc:  # noqa: BLE001 - the demo reports and goes on
                print(f"  {sync.name}: FAILED: {str(exc).splitlines()[0]}")
                code = 2
                continue
            reasons = ", ".join(f"{n:,} {why.replace('_', ' ')}" for why, n in sorted(r.suppressed_by_reason.items()))
            where = ("local webhook " + os.environ["CDP_SYNC_SMS_GATEWAY_URL"] if r.destination_type == "webhook"
                     else str(resolve(getattr(sync.destination, "path", "")) / sync.name)
                     if r.destination_type in ("file_drop", "ad_audience") else sync.destination.table)
            print(f"  {sync.name} ({sync.consent_channel} consent) -> {where}\n"
                  f"    {r.members:,} in segment {sync.source.asset_name}: {r.suppressed:,} suppressed"
                  f"{f' ({reasons})' if reasons else ''}, {r.held_out:,} held out"
                  f"{f' (campaign {sync.holdout.campaign})' if sync.holdout else ''}; "
                  f"sent {r.added:,} added, {r.changed:,} changed, {r.removed:,} removed, "
                  f"{r.unchanged:,} unchanged, {r.rejected:,} rejected, in {r.batches:,} batches")
    finally:
        wh.close()
        receiver.stop()
    print(f"  the webhook receiver verified {len(receiver.bodies)} signed batches "
          f"({receiver.bad_signatures} bad signatures) and holds {len(receiver.audience):,} recipients")
    if "new_members_crm" not in names:
        print("  new_members_crm (PostgreSQL upsert) skipped: set CDP_SYNC_CRM_DSN to run it")
    return code


if __name__ == "__main__":
    sys.exit(main())
