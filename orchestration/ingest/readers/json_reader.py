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


class _Repeated(dict):
    """A JSON object in which some key appears more than once."""

    repeated: list[str]


def _object(pairs: list[tuple[str, object]]) -> dict:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        obj = _Repeated(obj)
        keys = [k for k, _ in pairs]
        obj.repeated = sorted({k for k in keys if keys.count(k) > 1})
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
    """Rows column by column; how an object's keys map to columns is worked out once per
    key set (the objects of one file nearly always share it)."""

    def __init__(self, source: Source):
        self.source = source
        self.names = [*source.columns, "_extra", "_load_error", "_row_number"]
        self.data: dict[str, list] = {n: [] for n in self.names}
        self.keys: set[str] = set()
        self.extras: set[str] = set()
        self.collisions: set[str] = set()
        self.plans: dict[tuple, tuple[list, list]] = {}

    def bad(self, number: int, error: str) -> None:
        for n in self.source.columns:
            self.data[n].append(None)
        self.data["_extra"].append(None)
        self.data["_load_error"].append(error)
        self.data["_row_number"].append(number)

    def _plan(self, keys: tuple) -> tuple[list, list]:
        """([(column, key)], [extra keys]) for objects with these keys."""
        by_name: dict[str, list[str]] = {}
        for key in keys:
            by_name.setdefault(key.strip().lower(), []).append(key)
        columns, extra = [], []
        for name, spellings in by_name.items():
            if name in self.source.columns:
                chosen = name if name in spellings else spellings[0]
                columns.append((name, chosen))
                self.keys.add(name)
                others = [k for k in spellings if k != chosen]
                if others:
                    self.collisions.add("/".join(spellings))
                    extra += others
            else:
                self.extras.add(name)
                extra += spellings
        return columns, extra

    def add(self, number: int, value, where: str) -> None:
        if not isinstance(value, dict):
            kind = {list: "an array", str: "a string"}.get(type(value), type(value).__name__)
            self.bad(number, f"{where}: not a JSON object but {'null' if value is None else kind}")
            return
        if isinstance(value, _Repeated):
            self.bad(number, f"{where}: key(s) {', '.join(map(repr, value.repeated))} appear "
                             "more than once in one object: which value is meant?")
            return
        keys = tuple(value)
        plan = self.plans.get(keys)
        if plan is None:
            plan = self.plans[keys] = self._plan(keys)
        columns, extra = plan
        filled = set()
        for column, key in columns:
            self.data[column].append(_text(value[key]))
            filled.add(column)
        for column in self.source.columns:
            if column not in filled:
                self.data[column].append(None)
        self.data["_extra"].append(
            json_dumps({k: _text(value[k]) for k in extra}) if extra else None)
        self.data["_load_error"].append(None)
        self.data["_row_number"].append(number)

    def to_duckdb(self, con, batch: Batch, result: FileRead) -> None:
        table = pa.table({n: pa.array(v, type=pa.int64() if n == "_row_number" else pa.string())
                          for n, v in self.data.items()})
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
                rows.bad(number, f"line {number}: not valid JSON ({exc})")
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
