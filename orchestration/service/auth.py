"""API keys (CDP_API_KEYS) sent as X-API-Key, and their scopes: profile:read reads data,
pii:read unmasks PII. No key, no data."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Request, Security
from fastapi.security import APIKeyHeader

from orchestration.service.errors import ApiError
from orchestration.service.settings import ApiKey

HEADER = APIKeyHeader(name="X-API-Key", auto_error=False,
                      description="A key from CDP_API_KEYS; its scopes decide what it reads.")


def find_key(keys: list[ApiKey], presented: str) -> ApiKey | None:
    """The configured key `presented` is, compared with every key in constant time."""
    match = None
    for candidate in keys:
        if hmac.compare_digest(candidate.secret.encode(), presented.encode()):
            match = candidate
    return match


async def authenticate(request: Request, key: Annotated[str | None, Security(HEADER)]) -> ApiKey:
    if not key:
        raise ApiError(401, "missing_api_key", "send an API key in the X-API-Key header")
    match = find_key(request.app.state.keys, key)
    if match is None:
        raise ApiError(401, "invalid_api_key", "the X-API-Key is not one of CDP_API_KEYS")
    request.state.key_name = match.name  # logged instead of the key
    return match


async def profile_reader(key: Annotated[ApiKey, Security(authenticate)]) -> ApiKey:
    if "profile:read" not in key.scopes:
        raise ApiError(403, "insufficient_scope", "this key lacks the profile:read scope")
    return key
