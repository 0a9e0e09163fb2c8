"""Parquet: DuckDB reads the file through a link in a private temp folder (never the landing
path, which could read as a glob pattern); the record count comes from the file's footer."""

from __future__ import annotations

import os
from pathlib import Path

import pyarrow.parquet as pq

from orchestration.ingest.contract import Source
from orchestration.ingest.readers.common import Batch, FileRead, finish, json_object_sql
from orchestration.ingest.warehouse import lit, q


def read(con, source: Source, path: Path, batch: Batch, tmp: Path) -> FileRead:
    result = FileRead()
    staged = tmp / "data.parquet"
    os.symlink(path.resolve(), staged)
    result.records = pq.ParquetFile(staged).metadata.num_rows
    header = [r[0] for r in con.execute(
        f"describe select * from read_parquet({lit(str(staged))})").fetchall()]
    names = [h.strip().lower() for h in header]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise ValueError("the file repeats column(s) " + ", ".join(repeated)
                         + " (compared without case): rename them upstream")
    present = dict(zip(names, header, strict=True))
    con.execute("create or replace temp table _file as select *, null::varchar as _load_error,"
                f" row_number() over () as _row_number from read_parquet({lit(str(staged))})")
    extras = [n for n in names if n not in source.columns]
    result.extra_columns = extras
    result.missing_columns = [c for c in source.columns if c not in present]
    finish(con, source, {c: q(present[c]) for c in source.columns if c in present},
           json_object_sql([(n, q(present[n])) for n in extras]), batch, result)
    return result
