"""Data subject access: everything the warehouse holds about one person, from one identifier,
as JSON (`tianwen export-subject --identifier mobile:13800138000`).

The identifier is normalised by the pipeline's own SQL (macros/identifiers/), compiled by dbt
with a placeholder and run with the value bound as a parameter, so the value never appears in
dbt's logs or compiled files. Nothing personal is logged: the command reports the customer id
and counts only."""

from __future__ import annotations

import datetime as dt
import decimal
import json
import os
import subprocess
from pathlib import Path

from orchestration import config
from orchestration.dbt.project import project_vars, relation
from orchestration.engines import dialect

PLACEHOLDER = "tianwen_subject_value"
INPUT_TABLE = "tianwen_subject_input"

# (section, model, how its rows belong to the customer): the marts and intermediate models
# that hold a person's data. A new area that stores people (activation's sends) adds a line;
# a model the project does not have yet is reported as absent, not skipped silently.
CUSTOMER_SECTIONS = [
    ("identifiers", "customer_identities", "customer_id"),
    ("profile", "customer_profiles", "customer_id"),
    ("profile_attribute_candidates", "customer_profile_attributes", "customer_id"),
    ("metrics", "customer_metrics", "customer_id"),
    ("tags", "customer_tags", "customer_id"),
    ("segments", "segment_memberships", "customer_id"),
    ("segment_events", "segment_membership_events", "customer_id"),
    ("scores", "customer_scores", "customer_id"),
    ("product_affinity", "customer_product_affinity", "customer_id"),
    ("orders", "int_orders_unioned", "customer_id"),
    ("events", "int_customer_events_unioned", "customer_id"),
    ("consents", "customer_consents", "customer_id"),
    ("sends", "activation.sync_state", "record_key"),
    ("rejected_sends", "activation.sync_rejections", "record_key"),
    ("campaign_assignments", "campaign_assignments", "customer_id"),
]


class SubjectAccessError(ValueError):
    """A request the export cannot answer; the message says what to change."""


def identifier_types() -> list[str]:
    return list(project_vars()["tianwen_enums"]["identifier_type"])


def parse_identifier(text: str) -> tuple[str, str]:
    kind, sep, value = text.partition(":")
    kind = kind.strip().lower()
    if not sep or not value.strip():
        raise SubjectAccessError("--identifier must be <type>:<value>, e.g. mobile:13800138000")
    if kind not in identifier_types():
        raise SubjectAccessError(f"unknown identifier type {kind!r}; use one of: "
                                 + ", ".join(identifier_types()))
    return kind, value


def normaliser_sql(identifier_type: str, target: str) -> str:
    """`select <the pipeline's normalisation> from <the input table>`, compiled by dbt for `target` (in its own
    process: dbt-duckdb keeps its connection open in the process that ran it)."""
    from orchestration.dbt.runner import dbt_args, hand_over

    hand_over(target)
    # reads a temporary table: the rules' regular expressions hold '?' and '%', which a
    # driver would take for parameter markers
    inline = (f"select {{{{ tianwen.normalize_identifier('{identifier_type}', '{PLACEHOLDER}') }}}}"
              f" as normalised from {INPUT_TABLE}")
    proc = subprocess.run(dbt_args(["compile", "--quiet", "--output", "json", "--inline", inline],
                                   target), cwd=config.PROJECT_DIR, env=config.dbt_env(),
                          capture_output=True, text=True)
    if proc.returncode != 0:
        raise SubjectAccessError("dbt could not compile the identifier rules: "
                                 + (proc.stdout + proc.stderr).strip()[-500:])
    return json.loads(proc.stdout)["compiled"]


def export_subject(identifier: str, target: str, out: Path | None = None) -> tuple[Path, dict]:
    """Writes the person's data to `out` (default CDP_EXPORTS_DIR/subject-<customer_id>.json, readable
    by its owner only); returns the path and the number of rows per section."""
    from orchestration import pipeline

    kind, value = parse_identifier(identifier)
    normaliser = normaliser_sql(kind, target)
    wh = pipeline.warehouse(target)
    try:
        wh.scratch(INPUT_TABLE, {PLACEHOLDER: "varchar"}, [(value,)])
        normalised = wh.execute(normaliser).fetchone()[0]
        if normalised is None:
            raise SubjectAccessError(f"that value is not a well-formed {kind}")
        found = wh.execute(f"select distinct customer_id from {relation('customer_identities', target)}"
                           " where identifier_type = ? and identifier_value = ?",
                           [kind, normalised]).fetchall()
        if not found:
            raise SubjectAccessError(f"no customer holds that {kind} (erased, or never seen)")
        customer_ids = sorted(c for (c,) in found)
        document = {"requested": {"identifier_type": kind, "identifier_value": normalised},
                    "exported_at": dt.datetime.now(dt.UTC).isoformat(),
                    "customer_ids": customer_ids, "absent_sections": []}
        for customer_id in customer_ids:
            document.setdefault("customers", {})[customer_id] = _customer(wh, target,
                                                                         customer_id, document)
    finally:
        wh.close()
    path = out or config.exports_dir() / f"subject-{customer_ids[0]}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    # owner-only from the first byte: the file is the person's whole record
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(document, fh, ensure_ascii=False, indent=2, default=_json_value)
    tmp.replace(path)
    counts: dict[str, int] = {}
    for customer in document["customers"].values():
        for section, rows in customer.items():
            n = sum(map(len, rows.values())) if isinstance(rows, dict) else len(rows)
            counts[section] = counts.get(section, 0) + n
    return path, counts


def _customer(wh, target: str, customer_id: str, document: dict) -> dict:
    out: dict = {}
    for section, model, column in CUSTOMER_SECTIONS:
        table = _relation_or_none(model, target)
        if table is None:
            if section not in document["absent_sections"]:
                document["absent_sections"].append(section)
            continue
        out[section] = _rows(wh, f"select * from {table} where {column} = ?", [customer_id])
    out["id_merges"] = _rows(wh, f"select * from {relation('customer_id_merges', target)}"
                                 " where old_customer_id = ? or new_customer_id = ?",
                             [customer_id, customer_id])
    out["source_records"] = _source_records(wh, target, customer_id)
    identifiers = [(r["identifier_type"], r["identifier_value"]) for r in out["identifiers"]]
    out["consent_events"] = _by_identifier(wh, relation("stg_privacy__consent_events", target), identifiers)
    out["erasure_requests"] = _by_identifier(wh, relation("stg_privacy__erasure_requests", target), identifiers)
    return out


def _source_records(wh, target: str, customer_id: str) -> dict[str, list[dict]]:
    """Each staged record resolved to the customer, whole, per source."""
    sources = project_vars()["tianwen_sources"]
    keys: dict[str, list[str]] = {}
    for source_name, record_key in wh.execute(
            f"select source_name, record_key from {relation('int_profile_records_resolved', target)}"
            " where customer_id = ?", [customer_id]).fetchall():
        keys.setdefault(source_name, []).append(record_key)
    out = {}
    for source_name, record_keys in sorted(keys.items()):
        spec = sources[source_name]
        marks = ", ".join("?" for _ in record_keys)
        out[source_name] = _rows(wh, f"select * from {relation(spec['staged'], target)}"
                                     f" where {dialect.as_text(target, spec['key'])} in ({marks})",
                                 record_keys)
    return out


def _by_identifier(wh, table: str, identifiers: list[tuple[str, str]]) -> list[dict]:
    rows: list[dict] = []
    for kind, value in identifiers:
        rows += _rows(wh, f"select * from {table}"
                          " where identifier_type = ? and identifier_value = ?", [kind, value])
    return rows


def _relation_or_none(model: str, target: str) -> str | None:
    try:
        return relation(model, target)
    except KeyError:
        return None


def _rows(wh, sql: str, params: list) -> list[dict]:
    cursor = wh.execute(sql, params)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _json_value(value):
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return float(value)
    return str(value)
