"""The one interface every destination implements. A destination:

- `prepare(row)`: from a consented member's columns (customer_id, mapped profile columns,
  identifiers by type), the payload it will send: only the fields the sync maps, so a
  destination never receives PII it does not need;
- `send(batch)`: delivers one batch of ops (add, change, remove) and says which were
  acknowledged and which rejected (with the destination's message). Transient failures
  are retried inside `send`; an exception means nothing in the batch is known to be
  acknowledged (the runner stops, and the next run re-sends it with the same key);
- `keeps_payload`: True when removing a row later needs what was sent (hashed audience
  identifiers), so the state keeps the payload;
- `close()`."""

from __future__ import annotations

from dataclasses import dataclass

from orchestration.activation.config import Sync
from orchestration.activation.state import BatchOutcome, Op


class DestinationError(RuntimeError):
    """The destination failed for good (after retries, or a configuration problem)."""


@dataclass(frozen=True)
class Batch:
    sync_id: str
    run_id: str
    number: int
    idempotency_key: str
    ops: list[Op]


class Destination:
    type = "base"
    keeps_payload = False

    def __init__(self, sync: Sync):
        self.sync = sync

    def prepare(self, row: dict) -> dict:
        payload = {target: row.get(column) for target, column in self.sync.fields.items()}
        for identifier in self.sync.identifiers:
            payload.setdefault(identifier, row.get(identifier))
        return payload

    def send(self, batch: Batch) -> BatchOutcome:
        raise NotImplementedError

    def close(self) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
