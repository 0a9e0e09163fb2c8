"""End to end in a real browser: `make ui` (dagster dev: webserver and daemon) serves the code
location on a sample landing folder; GraphQL shows the asset graph, headless Chromium shows the
lineage from a landing source to customer_identities (a screenshot is saved under target/ui/),
and clicking "Materialize all" runs every asset to success."""

import contextlib
import itertools
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from orchestration import config
from tests.conftest import copy_landing

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def webserver(tmp_path_factory, sample):
    """`python -m orchestration.ui` (what `make ui` runs) on a copy of the sample landing
    folder, with a Dagster instance and a DuckDB file of its own."""
    home = tmp_path_factory.mktemp("dagster_home")
    shutil.copy(config.PROJECT_DIR / ".dagster_home" / "dagster.yaml", home / "dagster.yaml")
    # the sample's first day: a file of every source (what the run does is tested elsewhere)
    landing = copy_landing(sample["landing"], home / "landing", batches=["2026-11-18"])
    port = _free_port()
    env = {**os.environ, "DAGSTER_HOME": str(home), "CDP_UI_PORT": str(port),
           "CDP_LANDING_DIR": str(landing), "CDP_DUCKDB_PATH": str(home / "tianwen.duckdb"),
           # no channel syncs: their destinations are not here (tests/activation covers them)
           "CDP_ACTIVATION_SYNCS_DIR": str(home / "no-syncs")}
    # its own session: dagster dev starts a webserver, a daemon and code servers; the whole
    # group is stopped at the end
    proc = subprocess.Popen([sys.executable, "-m", "orchestration.ui"], cwd=config.PROJECT_DIR,
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 300
    try:
        while True:
            try:
                urllib.request.urlopen(f"{url}/server_info", timeout=2)
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail("dagster dev did not start")
                time.sleep(1)
        yield url
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


def _graphql(url: str, query: str) -> dict:
    request = urllib.request.Request(f"{url}/graphql", data=json.dumps({"query": query}).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())["data"]


def test_graphql_shows_the_path_from_landing_to_customer_identities(webserver):
    # the code location loads in the background: ask until its assets are there
    for _ in range(60):
        nodes = _graphql(webserver, "{ assetNodes { assetKey { path } dependencyKeys { path } } }")
        if nodes["assetNodes"]:
            break
        time.sleep(1)
    deps = {"/".join(n["assetKey"]["path"]): {"/".join(d["path"]) for d in n["dependencyKeys"]}
            for n in nodes["assetNodes"]}

    def upstream(start: str) -> set[str]:
        seen, frontier = set(), [start]
        while frontier:
            for dep in deps.get(frontier.pop(), ()):
                if dep not in seen:
                    seen.add(dep)
                    frontier.append(dep)
        return seen

    # raw -> staging -> identity -> the mart, each hop upstream of the next
    hops = ["raw/crm_members", "stg_crm__members", "int_identifier_occurrences_unioned",
            "customer_identities"]
    for before, after in itertools.pairwise(hops):
        assert before in upstream(after), (before, after)


def test_lineage_view_in_chromium(webserver):
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(chromium).exists():
        pytest.fail("Chromium is missing: `make browser` installs Debian's chromium")
    shot = config.PROJECT_DIR / "target" / "ui" / "lineage.png"
    shot.parent.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1800, "height": 1000})
        page.goto(f"{webserver}/assets/customer_identities?view=lineage"
                  "&lineageScope=upstream&lineageDepth=10")
        page.get_by_text("stg_crm__members", exact=True).wait_for(timeout=60_000)
        # Dagster's first-visit newsletter dialog covers the graph: dismiss it when it shows
        with contextlib.suppress(PlaywrightTimeout):
            page.get_by_role("button", name="Skip").click(timeout=15_000)
        page.wait_for_timeout(1000)
        assert not page.get_by_text("Join the Dagster community").is_visible()
        for name in ("crm_members", "stg_crm__members", "int_identity_nodes", "raw", "identity"):
            assert page.get_by_text(name, exact=True).first.is_visible(), name
        assert "customer_identities" in page.inner_text("body")
        page.screenshot(path=str(shot))
        browser.close()


def _runs(url: str) -> list[dict]:
    data = _graphql(url, "{ runsOrError { ... on Runs { results { runId status jobName } } } }")
    return data["runsOrError"]["results"]


def test_materialize_all_in_the_browser_succeeds(webserver, sample):
    """The first button a data team clicks: every asset of the code location, in one run,
    without steps racing for the DuckDB file."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    before = {r["runId"] for r in _runs(webserver)}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1800, "height": 1000})
        page.goto(f"{webserver}/asset-groups")
        button = page.get_by_role("button", name="Materialize all")
        button.wait_for(timeout=120_000)
        with contextlib.suppress(PlaywrightTimeout):
            page.get_by_role("button", name="Skip").click(timeout=10_000)
        button.click()
        deadline = time.monotonic() + 120
        while not (new := [r for r in _runs(webserver) if r["runId"] not in before]):
            assert time.monotonic() < deadline, "no run was launched"
            time.sleep(2)
        run_id = new[0]["runId"]
        page.goto(f"{webserver}/runs/{run_id}")
        # the run page shows the run's status; wait for it to end (slow on a shared machine)
        page.get_by_text("Success", exact=True).first.wait_for(timeout=1_200_000)
        browser.close()
    status = {r["runId"]: r["status"] for r in _runs(webserver)}[run_id]
    assert status == "SUCCESS"
    query = ('{ runOrError(runId: "RUN") { ... on Run { assetMaterializations'
             ' { assetKey { path } } } } }').replace("RUN", run_id)
    data = _graphql(webserver, query)
    done = {"/".join(m["assetKey"]["path"]) for m in data["runOrError"]["assetMaterializations"]}
    assert {f"raw/{s}" for s in sample["manifest"]["sources"]} <= done
    assert {"stg_crm__members", "customer_identities", "source_reconciliation",
            "customer_identity_history", "identity_rules"} <= done
