"""Identifier normalisation for lookups: the rules of macros/identifiers/normalize_identifier.sql,
in Python, so a value typed by a caller finds what the pipeline stored. tests/service checks
them against the dbt macro itself (compiled by dbt, evaluated by DuckDB) on awkward values.

SQL's [[:space:]] is ASCII white space only (Python's \\s would also take U+3000 and the like).
DuckDB's trim() strips Unicode space separators (U+0020, U+3000, ...), PostgreSQL's only
U+0020: `_trim` does what DuckDB does; on PostgreSQL a value with such an edge was rejected
by the pipeline, so trimming it here can only find the identifier the caller meant."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

_SPACE = "[ \t\n\v\f\r]"


def _trim(value: str) -> str:
    start, end = 0, len(value)
    while start < end and unicodedata.category(value[start]) == "Zs":
        start += 1
    while end > start and unicodedata.category(value[end - 1]) == "Zs":
        end -= 1
    return value[start:end]


def _mobile(value: str) -> str | None:
    digits = re.sub(r"[ \t\n\v\f\r()+.\-]", "", value)
    return digits[-11:] if re.fullmatch(r"(0086|86)?1[3-9][0-9]{9}", digits) else None


def _email(value: str) -> str | None:
    cleaned = re.sub(_SPACE, "", value).lower()
    ok = re.fullmatch(r"[a-z0-9._%+\-]+@[a-z0-9\-]+([.][a-z0-9\-]+)*[.][a-z]{2,}", cleaned)
    return cleaned if ok else None


def _idfa(value: str) -> str | None:
    cleaned = _trim(value).upper()
    ok = re.fullmatch(r"[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}", cleaned)
    return cleaned if ok else None


def _luhn_ok(digits: str) -> bool:
    total = 0
    for position, char in enumerate(digits, start=1):
        d = int(char)
        if (len(digits) - position) % 2 == 1:
            d = d * 2 - 9 if d * 2 > 9 else d * 2
        total += d
    return total % 10 == 0


def _imei(value: str) -> str | None:
    cleaned = re.sub(r"[ \t\n\v\f\r\-]", "", value).upper()
    if re.fullmatch(r"[0-9]{15}", cleaned):
        return cleaned if _luhn_ok(cleaned) else None
    return cleaned if re.fullmatch(r"[0-9A-F]{14}", cleaned) else None


def _uuid_like(value: str) -> str | None:
    cleaned = _trim(value).lower()
    return cleaned if re.fullmatch(r"[0-9a-z][0-9a-z_\-]{7,63}", cleaned) else None


def _wechat_id(value: str) -> str | None:
    cleaned = _trim(value)
    return cleaned if re.fullmatch(r"[A-Za-z0-9_\-]{16,64}", cleaned) else None


def _member_id(value: str) -> str | None:
    cleaned = _trim(value).upper()
    return cleaned if re.fullmatch(r"[A-Z0-9_\-]{1,64}", cleaned) else None


def _member_card_no(value: str) -> str | None:
    cleaned = re.sub(r"[ \t\n\v\f\r\-]", "", value).upper()
    return cleaned if re.fullmatch(r"[0-9A-Z]{4,32}", cleaned) else None


NORMALISERS: dict[str, Callable[[str], str | None]] = {
    "member_id": _member_id,
    "mobile": _mobile,
    "email": _email,
    "anonymous_id": _uuid_like,
    "device_id": _uuid_like,
    "idfa": _idfa,
    "imei": _imei,
    "oaid": _uuid_like,
    "openid": _wechat_id,
    "unionid": _wechat_id,
    "member_card_no": _member_card_no,
}

# what a caller is told when a value does not normalise
EXPECTED = {
    "member_id": "1 to 64 letters, digits, _ or -",
    "mobile": "a mainland mobile: 11 digits starting 13-19, optionally +86/86/0086, spaces, dashes, dots or brackets",
    "email": "local@domain.tld",
    "anonymous_id": "8 to 64 letters, digits, _ or -",
    "device_id": "8 to 64 letters, digits, _ or -",
    "idfa": "an upper- or lower-case UUID",
    "imei": "15 digits with a valid Luhn check digit, or a 14-hex-digit MEID",
    "oaid": "8 to 64 letters, digits, _ or -",
    "openid": "16 to 64 letters, digits, _ or -",
    "unionid": "16 to 64 letters, digits, _ or -",
    "member_card_no": "4 to 32 letters or digits (spaces and dashes ignored)",
}


class UnknownIdentifierType(ValueError):
    pass


class MalformedIdentifier(ValueError):
    pass


def normalise(identifier_type: str, value: str) -> str:
    """The canonical spelling, or an error that says what was expected."""
    kind = identifier_type.strip().lower()
    if kind not in NORMALISERS:
        raise UnknownIdentifierType(
            f"unknown identifier_type {identifier_type!r}; known: {', '.join(NORMALISERS)}")
    result = NORMALISERS[kind](value)
    if result is None:
        raise MalformedIdentifier(f"value is not a well-formed {kind}: expected {EXPECTED[kind]}")
    return result
