"""The real API server (`tianwen serve`) on a free 127.0.0.1 port over the serving copy of the
merge scenario (tests/merge_scenario.py: the `service_data` and `service_pg` fixtures of
tests/conftest.py)."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

KEYS = {"full": "k-full-1", "masked": "k-masked-2", "pii_only": "k-pii-3"}
KEYS_ENV = f"{KEYS['full']}=profile:read+pii:read,{KEYS['masked']}=profile:read,{KEYS['pii_only']}=pii:read"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def running_server(env: dict, log_path: Path):
    """`tianwen serve` as its own process on a free port; its log goes to `log_path`."""
    port = free_port()
    env = {**os.environ, **env, "CDP_API_PORT": str(port), "CDP_API_KEYS": KEYS_ENV}
    with log_path.open("w") as log:
        proc = subprocess.Popen([str(Path(sys.executable).parent / "tianwen"), "serve"], env=env,
                                stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/v1/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"tianwen serve did not start: {log_path.read_text()[-2000:]}")
            time.sleep(0.2)
        yield {"base": base, "log": log_path, "proc": proc}
    finally:
        proc.terminate()
        proc.wait(timeout=20)


@pytest.fixture(scope="session")
def server(service_data):
    """The API over the DuckDB build's serving copy."""
    env = {**service_data["wh"].env, "CDP_TARGET": "duckdb"}
    with running_server(env, service_data["root"] / "server.log") as srv:
        yield srv


@pytest.fixture()
def api(server):
    def get(path: str, key: str | None = "full", **params) -> httpx.Response:
        headers = {"X-API-Key": KEYS.get(key, key)} if key else {}  # a name in KEYS, or a key as is
        return httpx.get(server["base"] + path, params=params, headers=headers, timeout=30)
    return get
