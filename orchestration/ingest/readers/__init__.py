"""One reader per landing format. Each turns one file into the temp table `_batch` (the raw
layout: contract columns as text, `_extra`, `_load_error`, lineage columns) on an in-process
DuckDB connection, and counts the file's records without its parser (`records`), so a parser
that swallows lines shows as a mismatch in the ledger and in source_reconciliation."""

from __future__ import annotations

from orchestration.ingest.readers import csv_reader, json_reader, parquet_reader
from orchestration.ingest.readers.common import FileRead

READERS = {"csv": csv_reader.read, "jsonl": json_reader.read_lines,
           "json": json_reader.read_document, "parquet": parquet_reader.read}

__all__ = ["READERS", "FileRead"]
