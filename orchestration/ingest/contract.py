"""The landing contract: which sources, columns, keys and identifier columns upstream hands us.

The project keeps its own copy (`raw_sources.yml` beside this module) so a clone works on its
own; `tests/ingest/test_contract.py` checks it still equals the shared contract when present.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

CONTRACT_PATH = Path(__file__).with_name("raw_sources.yml")

# Columns the loader adds to every raw row; staging reads them for dedup and lineage.
LOAD_COLUMNS = {
    "_extra": "text",  # JSON object of columns the contract does not name
    "_load_error": "text",  # why a line could not be parsed (the row is otherwise empty)
    "_batch_id": "text",
    "_file_name": "text",
    "_row_number": "bigint",  # position of the record in its file, 1-based
    "_loaded_at": "timestamp",
}


@dataclass(frozen=True)
class Source:
    name: str
    description: str
    primary_key: tuple[str, ...]
    version_column: str | None
    columns: dict[str, dict]
    # Text encoding of the source's files (a Python codec name, e.g. gb18030); None means
    # detect: UTF-8 (with or without BOM), else GB18030 (which also reads GBK).
    encoding: str | None = None

    @property
    def identifier_columns(self) -> dict[str, str]:
        return {c: spec["identifier"] for c, spec in self.columns.items() if "identifier" in spec}


@cache
def load_contract(path: Path = CONTRACT_PATH) -> dict[str, Source]:
    spec = yaml.safe_load(Path(path).read_text())
    return {
        name: Source(
            name=name,
            description=s.get("description", ""),
            primary_key=tuple(s["primary_key"]),
            version_column=s.get("version_column"),
            columns=dict(s["columns"]),
            encoding=s.get("encoding"),
        )
        for name, s in spec["sources"].items()
    }
