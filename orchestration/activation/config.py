"""Syncs declared in YAML (`activation/syncs/<name>.yml`, the file name is the sync's name),
validated on load with pydantic: a mistake fails before anything is read or sent, with a
message naming the file and the field.

Settings from the environment: CDP_ACTIVATION_SYNCS_DIR (default activation/syncs) and
CDP_ACTIVATION_DIR (default data/activation: where file drops and audience files go when a
sync gives a relative path). Secrets (HMAC keys, DSNs, URLs with tokens) are never in the
YAML: a sync names the environment variable that holds them."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from orchestration.config import PROJECT_DIR, _path

CHANNELS = ("email", "sms", "push", "wechat", "ads", "all")
# Identifiers an audience may send, and where each comes from (consent.py reads them).
IDENTIFIERS = ("email", "mobile", "imei", "idfa", "oaid")
NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")


class SyncConfigError(ValueError):
    """A sync file that cannot be used; the message names the file and the field."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _env_name(value: str) -> str:
    if not re.fullmatch(r"[A-Z][A-Z0-9_]*", value):
        raise ValueError(f"{value!r} is not an environment variable name (upper case, digits, _)")
    return value


class Source(_Strict):
    """What to send: a segment (marts.segment_memberships) or a mart with a customer_id column."""
    segment: str | None = None
    model: str | None = None

    @model_validator(mode="after")
    def _one(self):
        if (self.segment is None) == (self.model is None):
            raise ValueError("give exactly one of segment (a segment_id) or model (a mart name)")
        for value in (self.segment, self.model):
            if value is not None and not NAME.match(value):
                raise ValueError(f"{value!r} is not a model or segment name (lower case, digits, _)")
        return self

    @property
    def asset_name(self) -> str:
        return self.segment or self.model


class Webhook(_Strict):
    """JSON batches POSTed to a URL, signed with HMAC-SHA256."""
    type: Literal["webhook"]
    url_env: str = Field(description="environment variable holding the URL")
    secret_env: str = Field(description="environment variable holding the HMAC key")
    rate_limit_per_second: float = Field(10.0, gt=0)
    timeout_seconds: float = Field(30.0, gt=0)
    max_attempts: int = Field(6, ge=1, le=20)
    backoff_seconds: float = Field(1.0, ge=0, description="first retry's mean wait; doubles each time")
    max_backoff_seconds: float = Field(60.0, ge=0)

    _env = field_validator("url_env", "secret_env")(_env_name)


class FileDrop(_Strict):
    """Files (csv, jsonl or parquet) and a manifest per batch in a folder."""
    type: Literal["file_drop"]
    path: str
    format: Literal["csv", "jsonl", "parquet"] = "csv"


class AdAudience(_Strict):
    """Custom-audience upload files (add and remove lists) in the platform's format."""
    type: Literal["ad_audience"]
    platform: Literal["tencent", "meta", "google"]
    path: str


class Postgres(_Strict):
    """Rows upserted into (and, mirroring, deleted from) a PostgreSQL table."""
    type: Literal["postgres"]
    dsn_env: str
    table: str = Field(pattern=r"^[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)?$")

    _env = field_validator("dsn_env")(_env_name)


Destination = Annotated[Webhook | FileDrop | AdAudience | Postgres, Field(discriminator="type")]


class Holdout(_Strict):
    campaign: str = Field(pattern=NAME.pattern)
    share: float = Field(gt=0, lt=1, description="control share, e.g. 0.1 holds out 10%")


class Trigger(_Strict):
    """after_segment: the sync runs whenever its segment builds (Dagster automation);
    schedule: a cron expression (Asia/Shanghai)."""
    after_segment: bool = False
    schedule: str | None = None

    @model_validator(mode="after")
    def _one(self):
        if self.after_segment == (self.schedule is not None):
            raise ValueError("give exactly one of after_segment: true or schedule: '<cron>'")
        if self.schedule is not None and len(self.schedule.split()) != 5:
            raise ValueError(f"schedule {self.schedule!r} is not a 5-field cron expression")
        return self


class Sync(_Strict):
    name: str
    description: str = ""
    source: Source
    destination: Destination
    mode: Literal["mirror", "upsert", "insert"]
    consent_channel: Literal[CHANNELS]  # type: ignore[valid-type]
    fields: dict[str, str] = Field(default_factory=dict,
                                   description="destination field -> column of marts.customer_profiles")
    identifiers: list[Literal[IDENTIFIERS]] = Field(default_factory=list)  # type: ignore[valid-type]
    holdout: Holdout | None = None
    trigger: Trigger = Trigger(after_segment=True)
    batch_size: int = Field(500, ge=1, le=100_000)

    @field_validator("fields")
    @classmethod
    def _fields(cls, value: dict[str, str]) -> dict[str, str]:
        for target, column in value.items():
            if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", target):
                raise ValueError(f"destination field {target!r}: letters, digits and _ only")
            if not NAME.match(column):
                raise ValueError(f"{target}: {column!r} is not a column name")
        return value

    @model_validator(mode="after")
    def _fits_destination(self):
        if isinstance(self.destination, AdAudience):
            if not self.identifiers:
                raise ValueError("an ad_audience sync needs identifiers (email, mobile, imei, idfa, oaid)")
            if self.fields:
                raise ValueError("an ad_audience sync sends hashed identifiers only: remove fields")
            if self.mode != "mirror":
                raise ValueError("an ad_audience sync mirrors its audience: use mode: mirror")
            usable = {"tencent": {"mobile", "imei", "idfa", "oaid"}, "meta": {"email", "mobile"},
                      "google": {"email", "mobile"}}[self.destination.platform]
            if set(self.identifiers) - usable:
                raise ValueError(f"{self.destination.platform} takes {', '.join(sorted(usable))}, "
                                 f"not {', '.join(sorted(set(self.identifiers) - usable))}")
        return self

    @property
    def sync_id(self) -> str:
        return self.name


def syncs_dir() -> Path:
    return _path("CDP_ACTIVATION_SYNCS_DIR", "activation/syncs")


def output_dir() -> Path:
    return _path("CDP_ACTIVATION_DIR", "data/activation")


def resolve(path: str) -> Path:
    """A destination path: absolute as given, else under CDP_ACTIVATION_DIR."""
    p = Path(os.path.expandvars(path))
    return p if p.is_absolute() else output_dir() / p


def _where(loc: tuple) -> str:
    # pydantic names the union member in the location (destination.webhook.url_env): drop it
    parts = [str(p) for i, p in enumerate(loc) if not (i == 1 and loc[0] == "destination")]
    return ".".join(parts) or "(top level)"


def load_file(path: Path) -> Sync:
    """One sync file, validated. Raises SyncConfigError naming the file and the field."""
    rel = path.relative_to(PROJECT_DIR) if path.is_relative_to(PROJECT_DIR) else path
    name = path.stem
    if not NAME.match(name):
        raise SyncConfigError(f"{rel}: the file name is the sync's name: lower case letters, digits "
                              "and _ only, starting with a letter")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise SyncConfigError(f"{rel}: not valid YAML: {str(exc).splitlines()[0]}") from None
    if not isinstance(data, dict):
        raise SyncConfigError(f"{rel}: expected a mapping of settings (source, destination, mode, ...)")
    if "name" in data:
        raise SyncConfigError(f"{rel}: name: the file name is the sync's name; remove the name field")
    try:
        return Sync(name=name, **data)
    except ValidationError as exc:
        lines = [f"{rel}: {_where(e['loc'])}: {e['msg']}" for e in exc.errors()]
        raise SyncConfigError("\n".join(lines)) from None


def load_syncs(folder: Path | None = None) -> list[Sync]:
    """Every sync in the folder, sorted by name; every broken file reported at once."""
    folder = folder or syncs_dir()
    if not folder.is_dir():
        return []
    syncs, errors = [], []
    for path in sorted(folder.glob("*.y*ml")):
        try:
            syncs.append(load_file(path))
        except SyncConfigError as exc:
            errors.append(str(exc))
    if errors:
        raise SyncConfigError("\n".join(errors))
    return syncs
