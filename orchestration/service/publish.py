"""Publish the serving copy: the marts the API reads, copied out of the warehouse (DuckDB or
PostgreSQL) into a new DuckDB file with indexes, then made current in one atomic step.

Layout of the serving folder (settings.serving_dir()):
    serving-<build_id>.duckdb   one finished copy per publish (the last few are kept)
    CURRENT                     the file name of the copy the API serves
A copy is written under a temporary name and renamed when complete; CURRENT is replaced with
os.replace. A reader therefore sees either the old copy or the new one, never half of one.
Erased people (an erasure request names one of their identifiers) are left out altogether."""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import os
import uuid
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa

from orchestration import config
from orchestration.service.settings import serving_dir

POINTER = "CURRENT"
KEEP = 3  # copies kept: a reader that read CURRENT just before a swap can still open its file

# the marts copied out of the warehouse: serving name -> (model, select list)
SOURCES = {
    "src_profiles": ("customer_profiles", "*"),
    "src_identities": ("customer_identities", "customer_id, identifier_type, identifier_value"),
    "src_tags": ("customer_tags", "customer_id, tag_name, tag_value"),
    "src_memberships": ("segment_memberships", "segment_id, customer_id, entered_at"),
    "src_segment_sizes": ("segment_sizes", "segment_id, description, owner_team, channel, computed_at"),
    "src_merges": ("customer_id_merges", "old_customer_id, new_customer_id, merged_at, reason"),
}

# the serving tables, built from the copies above inside the new file
SERVING_SQL = """
create table customers as
    select * exclude (has_erasure_request) from src_profiles
    where not coalesce(has_erasure_request, false) order by customer_id;
create table erased as
    select customer_id from src_profiles where coalesce(has_erasure_request, false);
create table identities as
    select i.identifier_type || ':' || i.identifier_value as lookup_key,
        i.identifier_type, i.identifier_value, i.customer_id
    from src_identities as i semi join customers as c on i.customer_id = c.customer_id
    order by i.identifier_type, i.identifier_value;
create table tags as
    select t.customer_id, t.tag_name, t.tag_value
    from src_tags as t semi join customers as c on t.customer_id = c.customer_id
    order by t.customer_id, t.tag_name;
create table memberships as
    select m.segment_id, m.customer_id, m.entered_at
    from src_memberships as m semi join customers as c on m.customer_id = c.customer_id
    order by m.segment_id, m.customer_id;
create table segments as
    with latest as (
        select *, row_number() over (partition by segment_id order by computed_at desc) as n
        from src_segment_sizes
    ),
    ids as (
        select segment_id from latest where n = 1 union select segment_id from memberships
    )
    select ids.segment_id, latest.description, latest.owner_team, latest.channel,
        (select count(*) from memberships as m where m.segment_id = ids.segment_id) as members
    from ids left join latest on ids.segment_id = latest.segment_id and latest.n = 1
    order by ids.segment_id;
create unique index customers_pk on customers (customer_id);
-- one column: DuckDB answers an equality on a single-column index from the index
create index identities_lookup on identities (lookup_key);
create index identities_customer on identities (customer_id);
create index tags_customer on tags (customer_id);
create index memberships_customer on memberships (customer_id);
create index memberships_segment on memberships (segment_id, customer_id);
create unique index segments_pk on segments (segment_id);
"""

# PostgreSQL types as Arrow types (and how to convert a value); any other type is served as text
_PG_TYPES = {"bool": (pa.bool_(), None), "int2": (pa.int64(), None), "int4": (pa.int64(), None),
             "int8": (pa.int64(), None), "float4": (pa.float64(), None), "float8": (pa.float64(), None),
             "numeric": (pa.float64(), float), "date": (pa.date32(), None),
             "timestamp": (pa.timestamp("us"), None), "timestamptz": (pa.timestamp("us", tz="UTC"), None)}


@dataclass
class Published:
    build_id: str
    path: Path
    customers: int
    identities: int
    segments: int
    erased: int


def _fetch(wh, target: str, sql: str) -> pa.Table:
    """A query's result as an Arrow table, typed even when empty."""
    if target == "duckdb":
        return wh.con.sql(sql).to_arrow_table()
    if target == "spark":
        return wh.execute(sql).arrow()
    from psycopg.postgres import types

    cur = wh.execute(sql)
    names = [d.name for d in cur.description]
    kinds = []
    for d in cur.description:
        info = types.get(d.type_code)
        kinds.append(_PG_TYPES.get(info.name if info else "", (pa.string(), str)))
    rows = cur.fetchall()
    columns = list(zip(*rows, strict=True)) if rows else [[] for _ in names]
    arrays = [pa.array([v if v is None or convert is None else convert(v) for v in col], type=kind)
              for col, (kind, convert) in zip(columns, kinds, strict=True)]
    return pa.table(arrays, names=names)


def _pii_columns(target: str) -> set[str]:
    """Profile columns the dbt project marks `meta: {pii: true}` (_profiles__models.yml)."""
    from orchestration.dbt.project import prepare

    manifest = json.loads(prepare(target).read_text())
    node = next(n for n in manifest["nodes"].values()
                if n["resource_type"] == "model" and n["name"] == "customer_profiles")
    out = set()
    for name, column in node["columns"].items():
        meta = {**column.get("meta", {}), **column.get("config", {}).get("meta", {})}
        if meta.get("pii"):
            out.add(name)
    return out


def _resolved_merges(merges: pa.Table) -> list[tuple]:
    """old id -> surviving id, following chains (a merged into b, later b into c: a -> c).
    A split has several successors and no single survivor: kept as is, reason 'split'."""
    rows = merges.to_pylist()
    merged = {}
    for r in sorted((r for r in rows if r["reason"] == "merge"), key=lambda r: r["merged_at"]):
        merged[r["old_customer_id"]] = r
    out = []
    for r in rows:
        if r["reason"] != "merge":
            out.append((r["old_customer_id"], r["new_customer_id"], r["reason"], r["merged_at"]))
            continue
        seen, current = {r["old_customer_id"]}, r["new_customer_id"]
        while current in merged and current not in seen and merged[current]["merged_at"] >= r["merged_at"]:
            seen.add(current)
            current = merged[current]["new_customer_id"]
        out.append((r["old_customer_id"], current, "merge", r["merged_at"]))
    return sorted(set(out), key=lambda t: (t[0], t[1]))


@contextlib.contextmanager
def _publish_lock(folder: Path):
    with (folder / ".publish-lock").open("a+") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)  # publishes queue: CURRENT moves forward in order
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def new_build_id() -> str:
    # sorts by time: the newest copy has the greatest name
    return dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ") + "-" + uuid.uuid4().hex[:6]


def publish(target: str | None = None) -> Published:
    """Copy the marts of `target` into a new serving file and make it current."""
    from orchestration import pipeline
    from orchestration.dbt.project import relation

    target = target or config.target()
    folder = serving_dir(target)

    wh = pipeline.warehouse(target)
    try:
        tables = {name: _fetch(wh, target, f"select {cols} from {relation(model, target)}")
                  for name, (model, cols) in SOURCES.items()}
        last_erasure = _last_erasure(wh)
    finally:
        wh.close()  # one writer per DuckDB file: hold the warehouse no longer than the copy
    return publish_tables(tables, _pii_columns(target), target, folder, drop_before=last_erasure)


def _last_erasure(wh) -> dt.datetime | None:
    """When the last erasure run finished: copies published before it still hold the people it
    erased, so a new copy replaces them all at once."""
    try:
        return wh.execute("select max(completed_at) from privacy.erasure_outcomes").fetchone()[0]
    except Exception:  # noqa: BLE001 - a warehouse built before erasure existed has no such table
        return None


def publish_tables(tables: dict[str, pa.Table], pii: set[str], target: str, folder: Path,
                   build_id: str | None = None, drop_before: dt.datetime | None = None) -> Published:
    """Write a serving copy from the marts' rows (`SOURCES` names -> Arrow tables) and make it
    current. bench/service_bench.py calls this with generated rows."""
    folder.mkdir(parents=True, exist_ok=True)
    build_id = build_id or new_build_id()
    final = folder / f"serving-{build_id}.duckdb"
    tmp = folder / f".serving-{build_id}.duckdb.tmp"
    con = duckdb.connect(str(tmp), config={"threads": config.duckdb_threads(),
                                           "memory_limit": config.duckdb_memory_limit()})
    try:
        con.execute("set enable_progress_bar = false")
        for name, table in tables.items():
            con.register(f"arrow_{name}", table)
            con.execute(f"create table {name} as select * from arrow_{name}")
            con.unregister(f"arrow_{name}")
        con.execute("create table merges (old_customer_id varchar, surviving_customer_id varchar, "
                    "reason varchar, merged_at timestamp)")
        resolved = _resolved_merges(tables["src_merges"])
        if resolved:
            con.executemany("insert into merges values (?, ?, ?, ?)", resolved)
        con.execute("create index merges_old on merges (old_customer_id)")
        con.execute(SERVING_SQL)
        columns = [r[0] for r in con.execute(
            "select column_name from information_schema.columns where table_name = 'customers' "
            "order by ordinal_position").fetchall()]
        con.execute("create table profile_columns (column_name varchar, is_pii boolean, position integer)")
        con.executemany("insert into profile_columns values (?, ?, ?)",
                        [(c, c in pii, i) for i, c in enumerate(columns)])
        counts = {t: con.execute(f"select count(*) from {t}").fetchone()[0]
                  for t in ("customers", "identities", "segments", "erased")}
        con.execute("create table build as select ? as build_id, ? as target, now() as published_at",
                    [build_id, target])
        for name in SOURCES:
            con.execute(f"drop table {name}")
        con.execute("checkpoint")
    finally:
        con.close()

    with _publish_lock(folder):
        os.replace(tmp, final)  # complete before anything names it
        pointer_tmp = folder / f".{POINTER}.{build_id}.tmp"
        pointer_tmp.write_text(final.name + "\n")
        os.replace(pointer_tmp, folder / POINTER)  # the swap: one rename
        copies = sorted(folder.glob("serving-*.duckdb"), key=lambda p: p.name)
        erased_since = [p for p in copies if drop_before is not None
                        and dt.datetime.fromtimestamp(p.stat().st_mtime, dt.UTC).replace(tzinfo=None) < drop_before]
        for old in copies[:-KEEP] + erased_since:
            if old != final:
                old.unlink(missing_ok=True)
    return Published(build_id, final, counts["customers"], counts["identities"], counts["segments"],
                     counts["erased"])
