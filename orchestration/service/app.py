"""The FastAPI application and `serve()` (tianwen serve / make serve). Settings are read and
checked when the app is made: a malformed CDP_API_KEYS or a missing serving copy stops the
start with a message naming the fix."""

from __future__ import annotations

import logging
import time

from fastapi import FastAPI

from orchestration import config
from orchestration.service import settings
from orchestration.service.errors import HANDLERS
from orchestration.service.fast_lookup import FastLookup
from orchestration.service.routes import router
from orchestration.service.store import ServingStore

log = logging.getLogger("tianwen.service")


class RequestLog:
    """One line per request: method, the route's path template (never the values in the path
    or query: they can be PII), status, time and the key's fingerprint."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started, status = time.perf_counter(), [500]

        async def record(message):
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, record)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) or "(no route)"
            key = scope.get("state", {}).get("key_name", "-")
            log.info("%s %s %s %.1fms key=%s", scope["method"], template, status[0],
                     (time.perf_counter() - started) * 1000, key)


def _logging() -> None:
    if not logging.getLogger().handlers:  # each worker process configures its own
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")


def create_app(target: str | None = None, fast_lookup: bool = True) -> FastAPI:
    _logging()
    target = target or config.target()
    app = FastAPI(title="Tianwen data service",
                  description="Profiles, tags, segments and consents of the customer data platform, "
                              "from the serving copy the last successful build published. "
                              "Send a key from CDP_API_KEYS as X-API-Key.",
                  version="1", exception_handlers=HANDLERS)
    app.state.keys = settings.api_keys()
    app.state.page_size = settings.page_size()
    app.state.store = ServingStore(settings.serving_dir(target))
    app.include_router(router)
    if fast_lookup:  # inside the request log, which logs its requests like any other
        app.add_middleware(FastLookup)
    app.add_middleware(RequestLog)
    return app


def serve(target: str | None = None, port: int | None = None) -> None:
    import os

    import uvicorn

    target = target or config.target()
    port = settings.api_port() if port is None else port
    workers = settings.workers()
    # uvicorn's access log prints full URLs, query values included: off (RequestLog replaces it)
    options = {"host": settings.HOST, "port": port, "access_log": False, "log_level": "warning"}
    if workers == 1:
        app = create_app(target)  # also checks every setting before anything listens
        log.info("serving build %s on http://%s:%d with 1 worker (docs at /docs)",
                 app.state.store.current().build_id, settings.HOST, port)
        uvicorn.run(app, **options)
        return
    # worker processes make their own app (and lookup index) from the same environment; the
    # supervisor only checks the settings and the serving copy, and holds no index itself
    _logging()
    settings.api_keys()
    settings.page_size()
    store = ServingStore(settings.serving_dir(target), index=False)
    log.info("serving build %s on http://%s:%d with %d workers (docs at /docs)",
             store.current().build_id, settings.HOST, port, workers)
    store.current().close()
    del store
    os.environ["CDP_TARGET"] = target
    uvicorn.run("orchestration.service.app:create_app", factory=True, workers=workers, **options)
