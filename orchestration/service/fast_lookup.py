"""The lookup's fast path: an ASGI middleware that answers `GET /v1/customers/lookup` without
FastAPI's per-request machinery (dependency solving, parameter models, response model), which
costs more than the lookup itself: the whole app, in process, takes ~166 µs of CPU for a lookup
through the FastAPI route and ~56 µs through this path (docs/benchmarks.md, data service).

It answers only requests that the FastAPI route would get past authentication and parameter
validation with: exactly one X-API-Key that is a configured key with profile:read, and exactly
one `identifier_type` and one `value` (at most VALUE_MAX_LENGTH characters) and no other query
parameter. Its answer is then `routes.find_customer` on one snapshot, encoded as the route's
answer is (200, or the 400/404/422 error of errors.api_error). Every other request (no key, a
wrong key or scope, a missing, repeated or extra parameter, another path or method) goes to the
FastAPI route, which answers it as documented. tests/service/test_fast_lookup.py compares the
two answers on the same requests."""

from __future__ import annotations

from urllib.parse import parse_qsl

from starlette.responses import JSONResponse

from orchestration.service.auth import find_key
from orchestration.service.errors import ApiError, body
from orchestration.service.routes import LOOKUP_PATH, VALUE_MAX_LENGTH, find_customer, router

PATH = router.prefix + LOOKUP_PATH
ROUTE = next(r for r in router.routes if getattr(r, "path", None) == PATH)  # for the request log
_PARAMS = {"identifier_type", "value"}


class FastLookup:
    def __init__(self, app):
        self.app = app

    def _params(self, scope) -> dict[str, str] | None:
        pairs = parse_qsl(scope["query_string"].decode("latin-1"), keep_blank_values=True)
        params = dict(pairs)
        if len(pairs) != 2 or params.keys() != _PARAMS or len(params["value"]) > VALUE_MAX_LENGTH:
            return None
        return params

    def _key(self, scope, app):
        presented = [v for k, v in scope["headers"] if k == b"x-api-key"]
        if len(presented) != 1 or not presented[0]:
            return None
        key = find_key(app.state.keys, presented[0].decode("latin-1"))
        return key if key is not None and "profile:read" in key.scopes else None

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["path"] != PATH or scope["method"] != "GET":
            return await self.app(scope, receive, send)
        app = scope["app"]
        params, key = self._params(scope), self._key(scope, app)
        if params is None or key is None:
            return await self.app(scope, receive, send)  # FastAPI answers it (and its errors)
        scope["route"] = ROUTE
        scope.setdefault("state", {})["key_name"] = key.name  # the request log's key fingerprint
        snap = app.state.store.current()  # one snapshot for the whole answer
        try:
            response = JSONResponse(find_customer(snap, params["identifier_type"], params["value"]),
                                    headers={"X-Serving-Build": snap.build_id})
        except ApiError as exc:  # as errors.api_error answers it on the FastAPI route
            response = JSONResponse(body(exc.code, exc.message, **exc.extra), status_code=exc.status)
        await response(scope, receive, send)
