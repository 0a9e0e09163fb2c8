"""File drop (SMS, e-mail or SFTP hand-off): each batch is one file in
`<path>/<sync>/` (csv, jsonl or parquet) with columns `op`, `key` and the mapped fields, and
a manifest beside it (`<file>.manifest.json`: sync, batch, idempotency key, format, columns,
row_count, sha256 of the file). Both are written atomically, data file first: a reader that
waits for the manifest never sees a half file.

Files are named by the batch's idempotency key: a resumed run that re-sends a batch already
dropped (acknowledged by the file system but not yet in the state) finds it there and does
not drop it twice."""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime

from orchestration.activation.config import resolve
from orchestration.activation.destinations._files import atomic_path, sha256_file
from orchestration.activation.destinations.base import Batch, Destination
from orchestration.activation.state import REMOVE, BatchOutcome


class FileDropDestination(Destination):
    type = "file_drop"

    def __init__(self, sync):
        super().__init__(sync)
        self.folder = resolve(sync.destination.path) / sync.name
        self.format = sync.destination.format

    def columns(self) -> list[str]:
        return ["op", "key", *self.sync.fields, *(i for i in self.sync.identifiers if i not in self.sync.fields)]

    def send(self, batch: Batch) -> BatchOutcome:
        stem = f"{batch.idempotency_key}"
        data = self.folder / f"{stem}.{self.format}"
        manifest = self.folder / f"{stem}.{self.format}.manifest.json"
        if manifest.exists():  # dropped by an earlier run that died before recording it
            return BatchOutcome(acknowledged=list(batch.ops))
        columns = self.columns()
        rows = [{"op": o.op, "key": o.key, **({} if o.op == REMOVE else o.payload)} for o in batch.ops]
        with atomic_path(data) as tmp:
            self._write(tmp, columns, rows)
        body = {"sync": batch.sync_id, "batch": batch.number, "run_id": batch.run_id,
                "idempotency_key": batch.idempotency_key, "file": data.name, "format": self.format,
                "columns": columns, "row_count": len(rows), "sha256": sha256_file(data),
                "created_at": datetime.now(UTC).isoformat(timespec="seconds")}
        with atomic_path(manifest) as tmp:
            tmp.write_text(json.dumps(body, indent=2) + "\n", encoding="utf-8")
        return BatchOutcome(acknowledged=list(batch.ops))

    def _write(self, path, columns: list[str], rows: list[dict]) -> None:
        if self.format == "csv":
            with path.open("w", newline="", encoding="utf-8") as fh:
                writer = csv.DictWriter(fh, fieldnames=columns, extrasaction="ignore")
                writer.writeheader()
                writer.writerows(rows)
        elif self.format == "jsonl":
            with path.open("w", encoding="utf-8") as fh:
                for row in rows:
                    fh.write(json.dumps({c: row.get(c) for c in columns}, ensure_ascii=False, default=str) + "\n")
        else:
            import pyarrow as pa
            import pyarrow.parquet as pq

            table = pa.table({c: [None if r.get(c) is None else str(r.get(c)) for r in rows] for c in columns},
                             schema=pa.schema([(c, pa.string()) for c in columns]))
            pq.write_table(table, path)
