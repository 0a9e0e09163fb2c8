"""CSV: RFC 4180, header row, comma separated; UTF-8 (with or without BOM), GB18030/GBK or the
source's declared encoding.

DuckDB's CSV reader parses (fast, with a rejects table), but never sees the landing path: it
reads a link or a UTF-8 copy in a private temp folder, so no file name is ever taken as a glob
pattern. Records are counted in Python first (lines outside quotes); a quote left open at the
end of the file would swallow every later line into one bad row, so those lines are cut off
before parsing and each lands as a malformed row of its own."""

from __future__ import annotations

import csv
import os
from pathlib import Path

from orchestration.ingest.contract import Source
from orchestration.ingest.readers.common import (
    Batch,
    FileRead,
    detect_encoding,
    finish,
    json_object_sql,
    python_encoding,
)
from orchestration.ingest.warehouse import lit, q

# DuckDB's default (2 MB) rejects a long free-text field; a longer line is still rejected
# with DuckDB's whole message.
MAX_LINE_BYTES = 256 * 1024 * 1024


def read(con, source: Source, path: Path, batch: Batch, tmp: Path) -> FileRead:
    result = FileRead(encoding=detect_encoding(path, source.encoding))
    staged = tmp / "data.csv"
    records, open_at = _scan(path, result.encoding)
    tail = _stage(path, result.encoding, staged, open_at)
    result.records = max(records - 1, 0)  # minus the header
    with staged.open(encoding="utf-8-sig", newline="") as fh:
        header = next(csv.reader(fh), [])
    names = [h.strip().lower() for h in header]
    if not any(names):
        raise ValueError("the header row is missing or empty: the first line must name the "
                         "columns")
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise ValueError("the header repeats column(s) " + ", ".join(repeated)
                         + " (compared without case): rename them upstream")
    present = dict(zip(names, header, strict=True))
    columns = "{" + ", ".join(f"{lit(h)}: 'VARCHAR'" for h in header) + "}"
    con.execute("drop table if exists reject_errors; drop table if exists reject_scans")
    con.execute(
        "create or replace temp table _parsed as select *, row_number() over () as _row_number"
        f" from read_csv({lit(str(staged))}, header=true, auto_detect=false, delim=',',"
        f" quote='\"', escape='\"', columns={columns}, store_rejects=true,"
        f" max_line_size={MAX_LINE_BYTES})")
    con.execute("create or replace temp table _tail (line bigint, msg varchar)")
    if tail:
        con.executemany("insert into _tail values (?, ?)", [
            [n, f"unterminated quoted field opened at line {open_at}: the rest of the file "
                "can't be split into records"] for n in tail])
    extras = [n for n in names if n not in source.columns]
    extra_sql = json_object_sql([(n, q(present[n])) for n in extras])
    empty = ", ".join(f"null as {q(h)}" for h in header)
    con.execute(f"""
        create or replace temp table _file as
        select *, null::varchar as _load_error from _parsed
        union all
        select {empty}, (select count(*) from _parsed) + row_number() over (order by line),
            'line ' || line || ': ' || msg
        from (
            select line, string_agg(error_message, '; ' order by error_message) as msg
            from reject_errors group by line
            union all
            select line, msg from _tail
        )""")
    result.extra_columns = extras
    result.missing_columns = [c for c in source.columns if c not in present]
    finish(con, source, {c: q(present[c]) for c in source.columns if c in present},
           extra_sql, batch, result)
    return result


def _stage(path: Path, encoding: str, staged: Path, open_at: int | None) -> list[int]:
    """A UTF-8 file for DuckDB at `staged` (a link when no change is needed). When a quote is
    left open at the end of the file, the copy stops before the line that opened it; returns
    the numbers of the non-blank lines left out."""
    tail: list[int] = []
    if encoding.replace("-", "").lower() in ("utf8", "utf8sig") and open_at is None:
        os.symlink(path.resolve(), staged)
        return tail
    with path.open(encoding=python_encoding(encoding), newline="") as src, \
            staged.open("w", encoding="utf-8", newline="") as dst:
        for n, line in enumerate(_lines(src), 1):
            if open_at is None or n < open_at:
                dst.write(line)
            elif line.strip("\r\n"):
                tail.append(n)
    return tail


def _lines(fh):
    """Physical lines ending in '\\n' (a lone '\\r' or a control byte does not end a line)."""
    pending: list[str] = []  # pieces of a line longer than a chunk: joined once, not re-split
    while chunk := fh.read(1 << 20):
        *lines, rest = chunk.split("\n")
        if lines:
            lines[0] = "".join(pending) + lines[0]
            pending = []
            for line in lines:
                yield line + "\n"
        pending.append(rest)
    if "".join(pending):
        yield "".join(pending)


def _scan(path: Path, encoding: str) -> tuple[int, int | None]:
    """Records outside quotes (blank lines are none), the header included, and the line whose
    quote is still open at the end of the file (None if every quote closes). Each non-blank
    line from that one on counts as a record: the parser must not swallow them."""
    records, in_quote, start, inside = 0, False, None, 0
    with path.open(encoding=python_encoding(encoding), newline="") as fh:
        for n, line in enumerate(_lines(fh), 1):
            blank = not line.strip("\r\n")
            if not in_quote:
                start = n
                records += not blank
            else:
                inside += not blank
            if line.count('"') % 2:
                in_quote = not in_quote
                inside = 0  # opened, or closed: lines within a closed quote are one record
    if in_quote:
        records += inside
    return records, (start if in_quote else None)
