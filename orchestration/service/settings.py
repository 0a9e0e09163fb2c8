"""The data service's settings, from the environment; a wrong value fails at start, naming the fix."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from orchestration import config

HOST = "127.0.0.1"  # never on a public interface: put a proxy in front to expose it
SCOPES = ("profile:read", "pii:read")
KEYS_EXAMPLE = "CDP_API_KEYS='key1=profile:read+pii:read,key2=profile:read'"
_KEY = re.compile(r"[A-Za-z0-9._~-]+")


class SettingsError(ValueError):
    pass


def api_port() -> int:
    value = os.environ.get("CDP_API_PORT") or "8000"
    if not value.isdigit() or not 0 < int(value) < 65536:
        raise SettingsError(f"CDP_API_PORT={value!r} is not a TCP port: use a number from 1 to 65535")
    return int(value)


def page_size() -> int:
    value = os.environ.get("CDP_API_PAGE_SIZE") or "100"
    if not value.isdigit() or not 0 < int(value) <= 1000:
        raise SettingsError(f"CDP_API_PAGE_SIZE={value!r}: use a whole number from 1 to 1000")
    return int(value)


def workers() -> int:
    """Server processes (CDP_API_WORKERS, default 1); each opens the serving copy read-only."""
    value = os.environ.get("CDP_API_WORKERS") or "1"
    if not value.isdigit() or not 0 < int(value) <= 32:
        raise SettingsError(f"CDP_API_WORKERS={value!r}: use a whole number from 1 to 32")
    return int(value)


def serving_dir(target: str | None = None) -> Path:
    """Where the serving copies and their CURRENT pointer live (CDP_SERVING_DIR; default next
    to the DuckDB warehouse, one folder per target so the two never overwrite each other)."""
    value = os.environ.get("CDP_SERVING_DIR")
    if value:
        path = Path(value)
        return path if path.is_absolute() else config.PROJECT_DIR / path
    return config.duckdb_path().parent / "serving" / (target or config.target())


@dataclass(frozen=True)
class ApiKey:
    name: str  # key#<position in CDP_API_KEYS>: what the log says instead of the key
    secret: str
    scopes: frozenset[str]


def api_keys(raw: str | None = None) -> list[ApiKey]:
    """Parse CDP_API_KEYS: comma-separated `key=scope+scope`. No keys, no data: an empty or
    malformed value is an error, not an open API."""
    raw = os.environ.get("CDP_API_KEYS", "") if raw is None else raw
    if not raw.strip():
        raise SettingsError(f"CDP_API_KEYS is not set: the API serves no data without keys; set e.g. {KEYS_EXAMPLE}")
    keys: dict[str, ApiKey] = {}
    for position, entry in enumerate(raw.split(","), start=1):
        secret, sep, scope_text = entry.strip().partition("=")
        if not sep or not _KEY.fullmatch(secret):
            raise SettingsError(f"CDP_API_KEYS entry {position} is not `key=scope+scope` (a key is letters, "
                                f"digits, . _ ~ -); write it like {KEYS_EXAMPLE}")
        scopes = frozenset(s.strip() for s in scope_text.split("+"))
        unknown = sorted(scopes - set(SCOPES))
        if unknown:
            raise SettingsError(f"CDP_API_KEYS entry {position} names unknown scope(s) {', '.join(unknown)}; "
                                f"known scopes: {', '.join(SCOPES)}")
        if secret in keys:
            raise SettingsError(f"CDP_API_KEYS entry {position} repeats a key: give each key once")
        keys[secret] = ApiKey(name=f"key#{position}", secret=secret, scopes=scopes)
    return list(keys.values())
