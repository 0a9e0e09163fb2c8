"""The lookup's in-memory index and fast path: the index answers what the warehouse holds, the
fast path answers every request exactly as the FastAPI route does, and a serving store swaps
copies (each with its own index) in the background without ever losing the one it serves."""

from __future__ import annotations

import asyncio
import shutil

import duckdb
import httpx
import pytest

from orchestration.service import fast_lookup
from orchestration.service.app import create_app
from orchestration.service.publish import POINTER
from orchestration.service.store import ServingStore
from tests.service.conftest import KEYS, KEYS_ENV

pytestmark = pytest.mark.slow


def _current_copy(serving):
    return serving / (serving / POINTER).read_text().strip()


def test_the_index_answers_what_the_warehouse_holds(service_data, tmp_path):
    wh = service_data["wh"]
    # a copy of the copy: test_swap publishes into the shared folder
    folder = tmp_path / "serving"
    folder.mkdir()
    source = _current_copy(service_data["serving"])
    shutil.copy(source, folder / source.name)
    (folder / POINTER).write_text(source.name + "\n")
    snap = ServingStore(folder).current()
    con = duckdb.connect(str(source), read_only=True)
    built_from = "v1" if con.execute("select count(*) from merges").fetchone()[0] == 0 else "v2"
    con.close()
    warehouse = service_data["v1"] if built_from == "v1" else wh.env["CDP_DUCKDB_PATH"]
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        rows = con.execute("select i.identifier_type, i.identifier_value, i.customer_id, p.has_erasure_request "
                           "from marts.customer_identities as i join marts.customer_profiles as p "
                           "on i.customer_id = p.customer_id").fetchall()
    finally:
        con.close()
    assert len(rows) >= 10 and any(erased for *_, erased in rows)
    for kind, value, customer_id, erased in rows:
        assert snap.index.customer_id(kind, value) == (None if erased else customer_id), (kind, value)
    for kind, value in [("mobile", "13811112222"), ("email", "nobody@qq.com"), ("member_id", ""),
                        ("member_id", "M1 "), ("no_such_type", "M1"), ("mobile", "1380013800")]:
        assert snap.index.customer_id(kind, value) is None, (kind, value)


class InProcess:
    """Requests to an app in this process (no server): httpx over ASGI."""

    def __init__(self, app):
        self.app = app

    def request(self, method: str, url: str, headers=()) -> httpx.Response:
        async def go():
            transport = httpx.ASGITransport(app=self.app, raise_app_exceptions=False)
            async with httpx.AsyncClient(transport=transport, base_url="http://service") as client:
                return await client.request(method, url, headers=list(headers))
        return asyncio.run(go())

    def get(self, url: str, headers=()) -> httpx.Response:
        return self.request("GET", url, headers)


@pytest.fixture(scope="module")
def clients(service_data):
    env = {"CDP_SERVING_DIR": str(service_data["serving"]), "CDP_API_KEYS": KEYS_ENV}
    with pytest.MonkeyPatch.context() as mp:
        for name, value in env.items():
            mp.setenv(name, value)
        apps = create_app("duckdb"), create_app("duckdb", fast_lookup=False)
    yield tuple(InProcess(app) for app in apps)
    # closed, not left to the garbage collector: DuckDB refuses a later connection to the same
    # copy in this process with other settings (tests/service/test_postgres.py opens it)
    for app in apps:
        app.state.store.current().close()


LONG = "1" * 257
REQUESTS = [  # (query string, X-API-Key headers, answered by the fast path)
    ("identifier_type=mobile&value=%2B86%20138-0013-8000", [KEYS["full"]], True),
    ("identifier_type=mobile&value=13800138000", [KEYS["masked"]], True),
    ("identifier_type=EMAIL&value=%20zhang.wei%40qq.COM%20", [KEYS["full"]], True),
    ("identifier_type=member_card_no&value=6000-0000-0002", [KEYS["full"]], True),
    ("identifier_type=member_id&value=m9", [KEYS["full"]], True),  # erased: 404
    ("identifier_type=mobile&value=13811112222", [KEYS["full"]], True),  # nobody: 404
    ("identifier_type=phone&value=13800138000", [KEYS["full"]], True),  # 400
    ("identifier_type=mobile&value=%2B86%20138-0013-800", [KEYS["full"]], True),  # 422
    ("identifier_type=&value=13800138000", [KEYS["full"]], True),
    ("identifier_type=mobile&value=", [KEYS["full"]], True),
    ("value=13800138000&identifier_type=mobile", [KEYS["full"]], True),
    ("identifier_type=mobile&value=" + "1" * 256, [KEYS["full"]], True),
    ("identifier_type=mobile&value=" + LONG, [KEYS["full"]], False),  # too long: FastAPI's 422
    ("identifier_type=mobile", [KEYS["full"]], False),
    ("value=13800138000", [KEYS["full"]], False),
    ("", [KEYS["full"]], False),
    ("identifier_type=mobile&value=13800138000&value=13700000002", [KEYS["full"]], False),
    ("identifier_type=mobile&value=13800138000&extra=1", [KEYS["full"]], False),
    ("identifier_type=mobile&value=13800138000", [], False),
    ("identifier_type=mobile&value=13800138000", [""], False),
    ("identifier_type=mobile&value=13800138000", ["not-a-key"], False),
    ("identifier_type=mobile&value=13800138000", [KEYS["pii_only"]], False),
    ("identifier_type=mobile&value=13800138000", [KEYS["full"], KEYS["masked"]], False),
]


def test_the_fast_path_answers_as_the_fastapi_route_does(clients, monkeypatch):
    fast, plain = clients
    served = []
    original = fast_lookup.find_customer
    monkeypatch.setattr(fast_lookup, "find_customer", lambda *a: served.append(a) or original(*a))
    for query, keys, expect_fast in REQUESTS:
        headers = [("X-API-Key", k) for k in keys]
        before = len(served)
        a = fast.get("/v1/customers/lookup?" + query, headers=headers)
        b = plain.get("/v1/customers/lookup?" + query, headers=headers)
        assert (len(served) > before) is expect_fast, query
        assert (a.status_code, a.json()) == (b.status_code, b.json()), (query, keys)
        for header in ("content-type", "content-length", "x-serving-build"):
            assert a.headers.get(header) == b.headers.get(header), (query, keys, header)
    statuses = {fast.get("/v1/customers/lookup?" + q, headers=[("X-API-Key", k) for k in keys]).status_code
                for q, keys, _ in REQUESTS}
    assert {200, 400, 401, 403, 404, 422} <= statuses
    # other methods and paths are FastAPI's
    assert fast.request("POST", "/v1/customers/lookup?identifier_type=mobile&value=13800138000",
                        headers=[("X-API-Key", KEYS["full"])]).status_code == 405


def test_a_new_copy_opens_in_the_background_and_a_broken_one_is_not_served(service_data, tmp_path):
    folder = tmp_path / "serving"
    folder.mkdir()
    source = _current_copy(service_data["serving"])
    for name in ("serving-a.duckdb", "serving-b.duckdb"):
        shutil.copy(source, folder / name)
    (folder / POINTER).write_text("serving-a.duckdb\n")
    store = ServingStore(folder)
    first = store.current()
    assert first.path.name == "serving-a.duckdb" and first.index is not None

    (folder / POINTER).write_text("serving-gone.duckdb\n")  # names no file: logged, not served
    assert store.current() is first  # the request that notices a new copy does not wait for it
    assert store.wait_loaded(timeout=60) is first
    assert store.current() is first  # and the broken pointer is not retried on every request

    (folder / POINTER).write_text("serving-b.duckdb\n")
    second = store.wait_loaded(timeout=60)
    assert second.path.name == "serving-b.duckdb" and second is not first
    assert second.index is not first.index  # each copy has its own index
    assert store.current() is second
    (kind, value, customer_id), = second.all("select identifier_type, identifier_value, customer_id "
                                             "from identities order by all limit 1")
    assert first.index.customer_id(kind, value) == second.index.customer_id(kind, value) == customer_id
