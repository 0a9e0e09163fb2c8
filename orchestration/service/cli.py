"""`tianwen publish` and `tianwen serve`."""

from __future__ import annotations

from orchestration.service.settings import SettingsError
from orchestration.service.store import NoServingCopy


def run_service_command(command: str, target: str) -> None:
    try:
        if command == "publish":
            from orchestration.service.publish import publish

            done = publish(target)
            print(f"published serving copy {done.build_id}: {done.customers:,} customers, "
                  f"{done.identities:,} identifiers, {done.segments} segments, {done.erased} erased left out "
                  f"({done.path})")
        else:
            from orchestration.service.app import serve

            serve(target)
    except (SettingsError, NoServingCopy) as exc:
        raise ValueError(str(exc)) from None  # the CLI prints it on one line, exit code 2
