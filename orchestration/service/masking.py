"""PII as a caller without the pii:read scope sees it: enough to recognise, not to contact."""

from __future__ import annotations

import datetime as dt
import hashlib


def mobile(value: str) -> str:
    return value[:3] + "*" * (len(value) - 7) + value[-4:] if len(value) > 7 else "*" * len(value)


def email(value: str) -> str:
    local, at, domain = value.partition("@")
    return (local[:1] + "***" + at + domain) if at else "***"


def name(value: str) -> str:
    return value[:1] + "*" * (len(value) - 1)


def birth_date(value) -> str:
    """Year and month, no day."""
    if isinstance(value, dt.date):
        return value.strftime("%Y-%m")
    return str(value)[:7]


def hashed(value: str) -> str:
    """Device ids and other tokens: a stable hash (the same person gives the same hash, so a
    caller can still join on it) that does not reveal the id."""
    return "sha256:" + hashlib.sha256(value.encode()).hexdigest()[:16]


_BY_COLUMN = {"mobile": mobile, "email": email, "birth_date": birth_date, "full_name": name}


def column(column_name: str, value):
    """Mask one PII profile column; a PII column without its own rule is hashed."""
    if value is None:
        return None
    return _BY_COLUMN.get(column_name, lambda v: hashed(str(v)))(value)


def identifier(identifier_type: str, value: str) -> str:
    if identifier_type == "mobile":
        return mobile(value)
    if identifier_type == "email":
        return email(value)
    return hashed(value)
