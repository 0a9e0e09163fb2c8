"""Errors as JSON: {"code": ..., "message": ...}. Messages name the problem, never a PII value."""

from __future__ import annotations

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, **extra):
        super().__init__(message)
        self.status, self.code, self.message, self.extra = status, code, message, extra


def body(code: str, message: str, **extra) -> dict:
    return {"code": code, "message": message, **extra}


async def api_error(_: Request, exc: ApiError) -> JSONResponse:
    return JSONResponse(body(exc.code, exc.message, **exc.extra), status_code=exc.status)


async def invalid_request(_: Request, exc: RequestValidationError) -> JSONResponse:
    problems = []
    for e in exc.errors():
        where = ".".join(str(p) for p in e.get("loc", ()) if p not in ("query", "path", "header"))
        problems.append(f"{where}: {e.get('msg')}")  # pydantic's message, without the input
    return JSONResponse(body("invalid_request", "; ".join(problems) or "invalid request"), status_code=422)


async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
    code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
    return JSONResponse(body(code, str(exc.detail)), status_code=exc.status_code)


HANDLERS = {ApiError: api_error, RequestValidationError: invalid_request,
            StarletteHTTPException: http_error}
