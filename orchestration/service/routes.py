"""The /v1 endpoints. Every request reads one serving snapshot (request.state.snapshot), so
its answer comes from one build; the build's id is in the X-Serving-Build header."""

from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response

from orchestration.service import masking
from orchestration.service.auth import profile_reader
from orchestration.service.errors import ApiError
from orchestration.service.normalise import MalformedIdentifier, UnknownIdentifierType, normalise
from orchestration.service.settings import ApiKey
from orchestration.service.store import Snapshot

router = APIRouter(prefix="/v1")
LOOKUP_PATH = "/customers/lookup"
VALUE_MAX_LENGTH = 256
Reader = Annotated[ApiKey, Depends(profile_reader)]
SECTIONS = ("profile", "tags", "segments", "consents", "identifiers")
DEFAULT_SECTIONS = ("profile", "tags", "segments", "consents")
_ID = re.compile(r"[A-Za-z0-9_.:-]{1,128}")
_CONSENT = re.compile(r"has_(.+)_consent")


# dependencies are async: they do no blocking work to speak of (a stat), and a sync one would
# cost each request a thread-pool hop; the endpoints, which query DuckDB, stay sync
async def snapshot(request: Request, response: Response) -> Snapshot:
    snap = request.app.state.store.current()
    request.state.snapshot = snap
    response.headers["X-Serving-Build"] = snap.build_id
    return snap


Snap = Annotated[Snapshot, Depends(snapshot)]


def _check_id(customer_id: str) -> None:
    if not _ID.fullmatch(customer_id):
        raise ApiError(422, "malformed_customer_id",
                       "customer_id must be 1 to 128 letters, digits or _ . : -")


def resolve(snap: Snapshot, customer_id: str) -> tuple[str, dict | None, tuple | None]:
    """The live id for `customer_id`, how it got there when it was merged away, and the
    profile row when it is the requested id itself (one query fewer on the common path)."""
    _check_id(customer_id)
    row = snap.one("select * from customers where customer_id = ?", [customer_id])
    if row:
        return customer_id, None, row
    rows = snap.all("select m.surviving_customer_id, m.reason, m.merged_at from merges as m "
                    "semi join customers as c on m.surviving_customer_id = c.customer_id "
                    "where m.old_customer_id = ? order by m.surviving_customer_id", [customer_id])
    if len(rows) == 1 and rows[0][1] == "merge":
        return rows[0][0], {"requested_customer_id": customer_id, "reason": "merge",
                            "merged_at": rows[0][2]}, None
    if rows:
        raise ApiError(409, "customer_split",
                       f"customer_id {customer_id} was split into {len(rows)} customers; use one of them",
                       successor_customer_ids=[r[0] for r in rows])
    raise ApiError(404, "customer_not_found", f"no customer with id {customer_id}")


def _sections(fields: str | None, snap: Snapshot) -> tuple[set[str], set[str] | None]:
    """Sections asked for, and the profile columns (None: all of them)."""
    if not fields:
        return set(DEFAULT_SECTIONS), None
    columns = set(snap.profile_columns) - {"customer_id"}
    asked = {f.strip() for f in fields.split(",") if f.strip()}
    unknown = sorted(asked - set(SECTIONS) - columns)
    if unknown:
        raise ApiError(400, "unknown_field", f"unknown field(s) {', '.join(unknown)}; fields are the sections "
                       f"{', '.join(SECTIONS)} or profile attributes ({', '.join(sorted(columns))})")
    picked = asked & columns
    sections = asked & set(SECTIONS)
    if picked:
        sections.add("profile")
    return sections, (picked or None) if "profile" not in asked else None


def _segments(snap: Snapshot, customer_id: str) -> list[dict]:
    rows = snap.all("select segment_id, entered_at from memberships where customer_id = ? order by segment_id",
                    [customer_id])
    return [{"segment_id": r[0], "entered_at": r[1], "channel": snap.segment_channels.get(r[0])} for r in rows]


def find_customer(snap: Snapshot, identifier_type: str, value: str) -> dict:
    """The lookup's answer from one snapshot's in-memory index (no SQL); an ApiError otherwise.
    Used by the route below and by its fast path (fast_lookup.py)."""
    try:
        kind, canonical = identifier_type.strip().lower(), normalise(identifier_type, value)
    except UnknownIdentifierType as exc:
        raise ApiError(400, "unknown_identifier_type", str(exc)) from None
    except MalformedIdentifier as exc:
        raise ApiError(422, "malformed_identifier", str(exc)) from None
    customer_id = snap.index.customer_id(kind, canonical)
    if customer_id is None:
        raise ApiError(404, "identifier_not_found", f"no customer has this {kind}")
    return {"customer_id": customer_id, "identifier_type": kind}


@router.get(LOOKUP_PATH, summary="Find a customer by any identifier")
async def lookup(snap: Snap, key: Reader,
                 identifier_type: Annotated[str, Query(description="member_id, mobile, email, anonymous_id, "
                                                       "device_id, idfa, imei, oaid, openid, unionid or "
                                                       "member_card_no")],
                 value: Annotated[str, Query(description="As typed: normalised by the pipeline's rules",
                                             max_length=VALUE_MAX_LENGTH)]) -> dict:
    # async: no SQL, so no thread-pool hop; the requests whose key and parameters are in order
    # do not even get here, fast_lookup.FastLookup answers them with find_customer too
    return find_customer(snap, identifier_type, value)


@router.get("/customers/{customer_id}", summary="Golden profile, tags, segments and consents")
def customer(customer_id: str, snap: Snap, key: Reader,
             fields: Annotated[str | None, Query(description="Comma-separated: sections (profile, tags, segments, "
                                                 "consents, identifiers) and/or profile attributes")] = None) -> dict:
    live_id, merged, row = resolve(snap, customer_id)
    sections, picked = _sections(fields, snap)
    pii = "pii:read" in key.scopes
    out: dict = {"customer_id": live_id, "merged": merged}
    if sections & {"profile", "consents"}:
        row = row or snap.one("select * from customers where customer_id = ?", [live_id])
        values = dict(zip(snap.profile_columns, row, strict=True))
        if "profile" in sections:
            profile = {}
            for column, value in values.items():
                if column == "customer_id" or _CONSENT.fullmatch(column) or (picked and column not in picked):
                    continue
                masked = column in snap.pii_columns and not pii
                profile[column] = masking.column(column, value) if masked else value
            out["profile"] = profile
        if "consents" in sections:
            out["consents"] = {m.group(1): values[c] for c in snap.profile_columns if (m := _CONSENT.fullmatch(c))}
    if "tags" in sections:
        out["tags"] = dict(snap.all("select tag_name, tag_value from tags where customer_id = ? order by tag_name",
                                    [live_id]))
    if "segments" in sections:
        out["segments"] = _segments(snap, live_id)
    if "identifiers" in sections:
        rows = snap.all("select identifier_type, identifier_value from identities where customer_id = ? "
                        "order by 1, 2", [live_id])
        out["identifiers"] = [{"identifier_type": t, "identifier_value": v if pii else masking.identifier(t, v)}
                              for t, v in rows]
    return out


@router.get("/customers/{customer_id}/segments", summary="The segments a customer is in")
def customer_segments(customer_id: str, snap: Snap, key: Reader) -> dict:
    live_id, merged, _ = resolve(snap, customer_id)
    return {"customer_id": live_id, "merged": merged, "segments": _segments(snap, live_id)}


@router.get("/segments", summary="Every segment with its size")
def segments(snap: Snap, key: Reader) -> dict:
    rows = snap.all("select segment_id, description, owner_team, channel, members from segments order by 1")
    names = ("segment_id", "description", "owner_team", "channel", "members")
    return {"segments": [dict(zip(names, r, strict=True)) for r in rows]}


def _encode_cursor(segment_id: str, after: str) -> str:
    raw = json.dumps({"s": segment_id, "a": after}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str, segment_id: str) -> str:
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        ok = isinstance(data, dict) and data.get("s") == segment_id and isinstance(data.get("a"), str)
    except (binascii.Error, ValueError):
        ok = False
    if not ok:
        raise ApiError(400, "invalid_cursor", "cursor is not a next_cursor this segment's member list returned")
    return data["a"]


@router.get("/segments/{segment_id}/members", summary="A segment's members, a page at a time")
def segment_members(segment_id: str, request: Request, snap: Snap, key: Reader,
                    cursor: Annotated[str | None, Query(description="next_cursor of the previous page")] = None,
                    limit: Annotated[int | None, Query(ge=1, le=1000, description="page size")] = None) -> dict:
    """Pages are ordered by customer_id and continue after the last id of the previous page, so
    a cursor stays valid when a new build is published between pages (the next page then
    comes from the new build)."""
    _check_id(segment_id)
    if snap.one("select 1 from segments where segment_id = ?", [segment_id]) is None:
        raise ApiError(404, "segment_not_found", f"no segment {segment_id}")
    size = limit or request.app.state.page_size
    after = _decode_cursor(cursor, segment_id) if cursor else ""
    rows = snap.all("select customer_id, entered_at from memberships where segment_id = ? and customer_id > ? "
                    "order by customer_id limit ?", [segment_id, after, size + 1])
    page = rows[:size]
    more = len(rows) > size
    return {"segment_id": segment_id,
            "members": [{"customer_id": r[0], "entered_at": r[1]} for r in page],
            "next_cursor": _encode_cursor(segment_id, page[-1][0]) if more else None}


@router.get("/health", summary="Liveness and the build served (no key needed, no data)")
def health(snap: Snap) -> dict:
    return {"status": "ok", "build_id": snap.build_id}
