"""`make ui`: the Dagster UI (webserver and daemon) on 127.0.0.1 with the project's
DAGSTER_HOME and telemetry off.

A shell that starts a program in the background makes it ignore SIGINT; `dagster dev` then
ignores SIGINT and SIGTERM. Restoring the default handler before exec lets SIGTERM stop it."""

import os
import signal
import sys
from pathlib import Path

from orchestration import config


def main() -> None:
    home = Path(os.environ.get("DAGSTER_HOME") or config.PROJECT_DIR / ".dagster_home")
    home.mkdir(exist_ok=True)
    os.environ["DAGSTER_HOME"] = str(home)
    os.environ.update(config.dbt_env())
    from orchestration.dbt.project import prepare

    prepare()  # the manifest the definitions are built from
    port = os.environ.get("CDP_UI_PORT", "3000")
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    dagster = str(Path(sys.executable).parent / "dagster")
    os.execv(dagster, [dagster, "dev", "-h", "127.0.0.1", "-p", port,
                       "-m", "orchestration.definitions", "--working-directory",
                       str(config.PROJECT_DIR)])


if __name__ == "__main__":
    main()
