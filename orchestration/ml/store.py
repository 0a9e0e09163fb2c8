"""The warehouse as the predictive-tags job sees it: read the feature mart, write the `ml`
tables. The only module of orchestration/ml that talks to the warehouse (through the
pipeline's connection helper), so a change of warehouse interface touches this file alone."""

from __future__ import annotations

from collections.abc import Sequence

from orchestration import pipeline

# Rows per INSERT statement: few round trips, well under PostgreSQL's 65,535 parameters.
CHUNK = 1000


def read(target: str, sql: str) -> list[tuple]:
    return pipeline.query(target, sql)


def _insert(wh, table: str, columns: Sequence[str], rows: Sequence[Sequence]) -> None:
    marks = "(" + ", ".join("?" for _ in columns) + ")"
    for start in range(0, len(rows), CHUNK):
        chunk = rows[start:start + CHUNK]
        wh.execute(f"insert into {table} ({', '.join(columns)}) values "
                   + ", ".join(marks for _ in chunk), [v for row in chunk for v in row])


def write(target: str, replace: dict[str, tuple[Sequence[str], list]],
          append: dict[str, tuple[Sequence[str], list]]) -> None:
    """In one transaction: replace the rows of the `replace` tables, append to the others."""
    wh = pipeline.warehouse(target)
    try:
        with wh.transaction():
            for table, (columns, rows) in replace.items():
                wh.delete(table)
                _insert(wh, table, columns, rows)
            for table, (columns, rows) in append.items():
                _insert(wh, table, columns, rows)
    finally:
        wh.close()
