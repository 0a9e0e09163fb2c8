"""What every reader shares: the text encoding, the final select into `_batch`, control bytes."""

from __future__ import annotations

import codecs
import json
from dataclasses import dataclass, field
from pathlib import Path

from orchestration.ingest.contract import Source
from orchestration.ingest.warehouse import lit, q

# C0 control characters but tab, newline and carriage return, and DEL. PostgreSQL text can't
# hold NUL, so they are stripped (and counted) before either engine sees them.
CONTROL = r"[\x00-\x08\x0B\x0C\x0E-\x1F\x7F]"
FALLBACK_ENCODINGS = ("utf-8", "gb18030")  # GB18030 also decodes GBK and GB2312


@dataclass
class FileRead:
    """What a reader saw in one file."""

    encoding: str | None = None
    records: int = 0  # counted without the parser: lines outside quotes, JSON lines, footer rows
    rows: int = 0  # rows in `_batch`, malformed ones included
    malformed: int = 0
    control_rows: int = 0  # rows that had control bytes stripped
    extra_columns: list[str] = field(default_factory=list)
    missing_columns: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Batch:
    """Lineage columns every row of one file version gets."""

    batch_id: str
    file_name: str
    loaded_at: str


def detect_encoding(path: Path, declared: str | None) -> str:
    """The declared encoding, else UTF-8 if the bytes are valid UTF-8, else GB18030."""
    candidates = (declared,) if declared else FALLBACK_ENCODINGS
    problem = None
    for encoding in candidates:
        problem = _decode_problem(path, encoding)
        if problem is None:
            return encoding
    if declared:
        raise ValueError(f"not valid {declared} as declared for the source ({problem}): fix the "
                         "file or the source's `encoding:` in raw_sources.yml")
    raise ValueError(f"neither UTF-8 nor GB18030 ({problem}): declare the source's `encoding:` "
                     "in raw_sources.yml (any Python codec name)")


def _decode_problem(path: Path, encoding: str) -> str | None:
    try:
        decoder = codecs.getincrementaldecoder(encoding)("strict")
    except LookupError:
        return f"unknown encoding {encoding!r}"
    offset = 0
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                return f"byte 0x{chunk[exc.start]:02x} at offset {offset + exc.start} is invalid"
            offset += len(chunk)
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return "the file ends in the middle of a character"
    return None


def python_encoding(encoding: str) -> str:
    """The codec to read text with: a UTF-8 byte-order mark is dropped."""
    return "utf-8-sig" if codecs.lookup(encoding).name == "utf-8" else encoding


def json_object_sql(pairs: list[tuple[str, str]]) -> str | None:
    if not pairs:
        return None
    return "json_object(" + ", ".join(f"{lit(k)}, {v}" for k, v in pairs) + ")"


def finish(con, source: Source, columns: dict[str, str], extra_sql: str | None, batch: Batch,
           read: FileRead, table: str = "_batch") -> None:
    """`_file` (with `_load_error` and `_row_number`) into `table` in the raw layout.

    `columns` maps a contract column to the SQL for its value in `_file`; absent columns are
    null. Control bytes are stripped from every value and the rows that had any counted."""
    def clean(sql: str) -> str:
        return f"regexp_replace(cast({sql} as varchar), '{CONTROL}', '', 'g')"

    values = {c: columns.get(c) for c in source.columns}
    present = [v for v in values.values() if v] + ([extra_sql] if extra_sql else [])
    has_control = " or ".join(
        f"coalesce(regexp_matches(cast({v} as varchar), '{CONTROL}'), false)" for v in present)
    select = [f"{clean(v) if v else 'null'}::varchar as {q(c)}" for c, v in values.items()]
    select += [
        f"{clean(extra_sql) if extra_sql else 'null'}::varchar as _extra",
        "_load_error::varchar as _load_error",
        f"{lit(batch.batch_id)} as _batch_id",
        f"{lit(batch.file_name)} as _file_name",
        "_row_number::bigint as _row_number",
        f"timestamp {lit(batch.loaded_at)} as _loaded_at",
        f"({has_control or 'false'}) as _had_control",
    ]
    con.execute(f"create or replace temp table {table} as select {', '.join(select)} from _file")
    read.rows, read.malformed, read.control_rows = con.execute(
        f"select count(*), count(_load_error), count(*) filter (where _had_control) from {table}"
    ).fetchone()
    if read.control_rows:
        read.warnings.append(f"control bytes (NUL and the like) stripped from "
                             f"{read.control_rows:,} rows")


def json_dumps(value) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=float)
