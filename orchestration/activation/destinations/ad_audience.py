"""Ad-platform custom audiences: per batch, an add file and a remove file in the platform's
upload format under `<path>/<sync>/`, named by the batch's idempotency key, with a manifest
(row counts and sha256 of each file), written atomically. Only hashed identifiers leave:
`prepare` normalises and hashes them, and the state keeps the hashes (never the raw values)
so a later run can remove them.

Normalisation and hashing, by each platform's published rules:
- Tencent Ads (DMP 人群包): MD5, lower-case hex, of the 11-digit mainland mobile (country code
  and separators stripped), of the IMEI (15 digits; a 14-hex MEID in upper case), of the
  upper-case IDFA, of the OAID as given. One plain-text file per identifier type, one hash
  per line.
- Meta (Custom Audiences): SHA-256 of the trimmed lower-case e-mail, and of the phone in
  E.164 digits without the '+' (country code 86 added to a mainland number). CSV with
  headers `email,phone`.
- Google (Customer Match): SHA-256 of the trimmed lower-case e-mail, and of the phone in
  E.164 with the '+'. CSV with headers `Email,Phone`."""

from __future__ import annotations

import csv
import hashlib
import json
import re

from orchestration.activation.config import resolve
from orchestration.activation.destinations._files import atomic_path, sha256_file
from orchestration.activation.destinations.base import Batch, Destination
from orchestration.activation.state import ADD, CHANGE, REMOVE, BatchOutcome


def mainland_mobile(value: str | None) -> str | None:
    """The 11-digit mainland mobile, or None if the value is not one."""
    if not value:
        return None
    digits = re.sub(r"\D", "", value)
    if len(digits) == 13 and digits.startswith("86"):
        digits = digits[2:]
    return digits if re.fullmatch(r"1\d{10}", digits) else None


def e164(value: str | None) -> str | None:
    """+<country><number>; a bare mainland mobile gets +86."""
    if not value:
        return None
    raw = value.strip()
    digits = re.sub(r"\D", "", raw)
    if mobile := mainland_mobile(raw):
        return "+86" + mobile
    if raw.startswith("+") and 8 <= len(digits) <= 15:
        return "+" + digits
    return None


def md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()  # noqa: S324 - the platform's format, not security


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def tencent(kind: str, value: str | None) -> str | None:
    if not value or not value.strip():
        return None
    v = value.strip()
    if kind == "mobile":
        m = mainland_mobile(v)
        return md5(m) if m else None
    if kind == "imei":
        return md5(v if v.isdigit() else v.upper())
    if kind == "idfa":
        return md5(v.upper())
    if kind == "oaid":
        return md5(v)
    return None


def meta_or_google(platform: str, kind: str, value: str | None) -> str | None:
    if not value or not value.strip():
        return None
    if kind == "email":
        v = value.strip().lower()
        return sha256(v) if "@" in v else None
    if kind == "mobile":
        phone = e164(value)
        if phone is None:
            return None
        return sha256(phone if platform == "google" else phone.lstrip("+"))
    return None


COLUMNS = {"meta": {"email": "email", "mobile": "phone"}, "google": {"email": "Email", "mobile": "Phone"}}


class AdAudienceDestination(Destination):
    type = "ad_audience"
    keeps_payload = True  # the hashes, so a later run can remove them

    def __init__(self, sync):
        super().__init__(sync)
        self.platform = sync.destination.platform
        self.folder = resolve(sync.destination.path) / sync.name

    def prepare(self, row: dict) -> dict:
        hashed = {}
        for kind in self.sync.identifiers:
            h = (tencent(kind, row.get(kind)) if self.platform == "tencent"
                 else meta_or_google(self.platform, kind, row.get(kind)))
            if h:
                hashed[kind] = h
        return hashed

    def send(self, batch: Batch) -> BatchOutcome:
        manifest = self.folder / f"{batch.idempotency_key}.manifest.json"
        if manifest.exists():  # written by a run that died before recording it
            return BatchOutcome(acknowledged=list(batch.ops))
        adds = [o.payload for o in batch.ops if o.op in (ADD, CHANGE) and o.payload]
        removes = [o.previous for o in batch.ops if o.op in (REMOVE, CHANGE) and o.previous]
        files = {}
        for action, payloads in (("add", adds), ("remove", removes)):
            if self.platform == "tencent":
                for kind in self.sync.identifiers:
                    hashes = sorted({p[kind] for p in payloads if p.get(kind)})
                    if hashes:
                        files[f"{batch.idempotency_key}-{action}-{kind}.txt"] = ("txt", hashes)
            else:
                rows = [p for p in payloads if p]
                if rows:
                    files[f"{batch.idempotency_key}-{action}.csv"] = ("csv", rows)
        listing = {}
        for name, (kind, content) in files.items():
            path = self.folder / name
            with atomic_path(path) as tmp:
                if kind == "txt":
                    tmp.write_text("".join(h + "\n" for h in content), encoding="ascii")
                else:
                    header = COLUMNS[self.platform]
                    with tmp.open("w", newline="", encoding="ascii") as fh:
                        writer = csv.writer(fh)
                        writer.writerow([header[k] for k in self.sync.identifiers])
                        for p in content:
                            writer.writerow([p.get(k, "") for k in self.sync.identifiers])
            listing[name] = {"rows": len(content), "sha256": sha256_file(path)}
        with atomic_path(manifest) as tmp:
            tmp.write_text(json.dumps({"sync": batch.sync_id, "platform": self.platform, "batch": batch.number,
                                       "idempotency_key": batch.idempotency_key, "files": listing}, indent=2) + "\n")
        return BatchOutcome(acknowledged=list(batch.ops))
