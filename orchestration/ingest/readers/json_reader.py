"""JSON Lines (.jsonl: one object per line) and JSON documents (.json: an array of objects, or
one object), parsed with Python's json module in the file's encoding.

- Every non-blank line of a .jsonl file is a record; a line that is not a JSON object lands as
  a malformed row with the parser's own message.
- A key that appears twice in one object makes that record malformed (which value is meant?).
- Keys that differ only in case (`Mobile`, `mobile`): the contract's spelling wins, the other
  value is kept in `_extra` under its own spelling and the file gets a warning.
- Numbers keep their exact text; nested values are kept as JSON text."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pyarrow as pa

from orchestration.ingest.contract import Source
from orchestration.ingest.readers.common import Batch, FileRead, detect_encoding, finish, json_dumps, python_encoding
from orchestration.ingest.warehouse import q


class _Object(dict):
    """A JSON object that remembers its keys in order, repeats included."""

    keys_seen: list[str]


def _object(pairs: list[tuple[str, object]]) -> _Object:
    obj = _Object(pairs)
    obj.keys_seen = [k for k, _ in pairs]
    return obj


def _loads(text: str):
    # Decimal keeps a number's digits ("12.30" stays 12.30); strict=False lets control bytes
    # inside strings through, to be stripped and counted like in every other format
    return json.loads(text, object_pairs_hook=_object, parse_float=Decimal, strict=False)


def _text(value) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | Decimal):
        return str(value)
    return json_dumps(value)


class _Collector:
    def __init__(self, source: Source):
        self.source = source
        self.rows: list[dict] = []
        self.keys: set[str] = set()
        self.extras: set[str] = set()
        self.collisions: set[str] = set()

    def add(self, number: int, value, where: str) -> None:
        row = {"_row_number": number, "_load_error": None, "_extra": None}
        if not isinstance(value, dict):
            kind = type(value).__name__ if value is not None else "null"
            kind = {"list": "an array", "str": "a string", "_Object": "an object"}.get(kind, kind)
            row["_load_error"] = f"{where}: not a JSON object but {kind}"
            self.rows.append(row)
            return
        repeated = sorted({k for k in value.keys_seen if value.keys_seen.count(k) > 1})
        if repeated:
            row["_load_error"] = (f"{where}: key(s) {', '.join(map(repr, repeated))} appear "
                                  "more than once in one object: which value is meant?")
            self.rows.append(row)
            return
        by_name: dict[str, list[str]] = {}
        for key in value:
            by_name.setdefault(key.strip().lower(), []).append(key)
        extra = {}
        for name, keys in by_name.items():
            if name in self.source.columns:
                chosen = name if name in keys else keys[0]
                row[name] = _text(value[chosen])
                self.keys.add(name)
                others = [k for k in keys if k != chosen]
                if others:
                    self.collisions.add("/".join(keys))
                    extra.update({k: _text(value[k]) for k in others})
            else:
                self.extras.add(name)
                extra.update({k: _text(value[k]) for k in keys})
        row["_extra"] = json_dumps(extra) if extra else None
        self.rows.append(row)

    def to_duckdb(self, con, batch: Batch, result: FileRead) -> None:
        names = list(self.source.columns) + ["_extra", "_load_error"]
        table = pa.table({
            **{n: pa.array([r.get(n) for r in self.rows], type=pa.string()) for n in names},
            "_row_number": pa.array([r["_row_number"] for r in self.rows], type=pa.int64()),
        })
        con.register("_json_rows", table)
        try:
            con.execute("create or replace temp table _file as select * from _json_rows")
        finally:
            con.unregister("_json_rows")
        result.extra_columns = sorted(self.extras)
        result.missing_columns = [c for c in self.source.columns if c not in self.keys]
        if self.collisions:
            result.warnings.append(
                "keys differing only in case: " + ", ".join(sorted(self.collisions))
                + " (the contract's spelling is loaded, the other kept in _extra)")
        finish(con, self.source, {c: q(c) for c in self.source.columns if c in self.keys},
               "_extra", batch, result)


def read_lines(con, source: Source, path: Path, batch: Batch, tmp: Path) -> FileRead:
    result = FileRead(encoding=detect_encoding(path, source.encoding))
    rows = _Collector(source)
    # newline="\n": only a line feed ends a line; a stray control byte or CR does not
    with path.open(encoding=python_encoding(result.encoding), newline="\n") as fh:
        for number, line in enumerate(fh, 1):
            if not line.strip():
                continue
            result.records += 1
            try:
                value = _loads(line)
            except json.JSONDecodeError as exc:
                rows.rows.append({"_row_number": number, "_extra": None,
                                  "_load_error": f"line {number}: not valid JSON ({exc})"})
                continue
            rows.add(number, value, f"line {number}")
    rows.to_duckdb(con, batch, result)
    return result


def read_document(con, source: Source, path: Path, batch: Batch, tmp: Path) -> FileRead:
    result = FileRead(encoding=detect_encoding(path, source.encoding))
    text = path.read_text(encoding=python_encoding(result.encoding))
    try:
        document = _loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not a valid JSON document ({exc}); one object per line belongs in "
                         "a .jsonl file") from None
    items = document if isinstance(document, list) else [document]
    result.records = len(items)
    rows = _Collector(source)
    for number, item in enumerate(items, 1):
        rows.add(number, item, f"element {number}")
    rows.to_duckdb(con, batch, result)
    return result
