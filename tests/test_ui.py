"""End to end in a real browser: the Dagster webserver serves the code location; GraphQL
shows the asset graph, and headless Chromium shows the lineage from a landing source to
customer_identities (a screenshot is saved under target/ui/)."""

import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from orchestration import config

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def webserver(tmp_path_factory):
    home = tmp_path_factory.mktemp("dagster_home")
    shutil.copy(config.PROJECT_DIR / ".dagster_home" / "dagster.yaml", home / "dagster.yaml")
    port = _free_port()
    env = {**os.environ, "DAGSTER_HOME": str(home),
           "CDP_DUCKDB_PATH": str(home / "tianwen.duckdb")}
    exe = Path(sys.executable).parent / "dagster-webserver"
    proc = subprocess.Popen([str(exe), "-h", "127.0.0.1", "-p", str(port), "-m",
                             "orchestration.definitions"], cwd=config.PROJECT_DIR, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    while True:
        try:
            urllib.request.urlopen(f"{url}/server_info", timeout=2)
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail("dagster-webserver did not start")
            time.sleep(1)
    yield url
    proc.terminate()
    proc.wait(timeout=30)


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
    path, frontier = {}, ["customer_identities"]
    while frontier:  # walk upstream, remembering how we came
        node = frontier.pop()
        for dep in deps.get(node, ()):
            if dep not in path:
                path[dep] = node
                frontier.append(dep)
    assert "raw/crm_members" in path
    chain, node = ["raw/crm_members"], "raw/crm_members"
    while node != "customer_identities":
        node = path[node]
        chain.append(node)
    assert "stg_crm__members" in chain and "int_identifier_occurrences_unioned" in chain
    assert chain[-1] == "customer_identities"


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
        for name in ("crm_members", "stg_crm__members", "int_identity_nodes", "landing", "marts"):
            assert page.get_by_text(name, exact=True).first.is_visible(), name
        assert "customer_identities" in page.inner_text("body")
        page.screenshot(path=str(shot))
        browser.close()
    assert shot.stat().st_size > 10_000
