"""The API's view of the serving copy. Each request takes one `Snapshot` (one opened copy) and
asks it everything, so it never mixes two builds. When CURRENT names a new copy, the next
request opens it and later requests use it; the old copy closes once no request holds it."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import duckdb

from orchestration import config
from orchestration.service.publish import POINTER


class NoServingCopy(RuntimeError):
    pass


class Snapshot:
    """One serving copy, opened read-only; a cursor per thread (DuckDB cursors are not
    shared between threads)."""

    def __init__(self, path: Path):
        self.path = path
        # one thread per query (requests run in parallel instead); a modest buffer pool, since
        # two copies are open for a moment around a swap
        self._con = duckdb.connect(str(path), read_only=True,
                                   config={"threads": 1, "memory_limit": config.duckdb_memory_limit()})
        self._local = threading.local()
        self.build_id = self.one("select build_id from build")[0]
        rows = self.all("select column_name, is_pii from profile_columns order by position")
        self.profile_columns = [r[0] for r in rows]
        self.pii_columns = {r[0] for r in rows if r[1]}
        self.segment_channels = dict(self.all("select segment_id, channel from segments"))

    def _cursor(self):
        cur = getattr(self._local, "cursor", None)
        if cur is None:
            cur = self._local.cursor = self._con.cursor()
        return cur

    def all(self, sql: str, params=()) -> list[tuple]:
        return self._cursor().execute(sql, list(params)).fetchall()

    def one(self, sql: str, params=()) -> tuple | None:
        rows = self.all(sql, params)
        return rows[0] if rows else None

    def close(self) -> None:
        self._con.close()


class ServingStore:
    """Follows the CURRENT pointer of a serving folder."""

    def __init__(self, folder: Path):
        self.folder = folder
        self._lock = threading.Lock()
        self._snapshot: Snapshot | None = None
        self._seen: tuple | None = None
        self.current()  # fail at start, not on the first request

    def _pointer_state(self) -> tuple | None:
        try:
            st = os.stat(self.folder / POINTER)
        except FileNotFoundError:
            return None
        return (st.st_ino, st.st_mtime_ns, st.st_size)

    def current(self) -> Snapshot:
        state = self._pointer_state()
        snapshot = self._snapshot
        if snapshot is not None and state == self._seen:
            return snapshot  # the common case: one stat, no lock
        with self._lock:
            if self._snapshot is not None and self._pointer_state() == self._seen:
                return self._snapshot
            for _ in range(5):  # the named copy can be pruned by fast successive publishes
                state = self._pointer_state()
                if state is None:
                    raise NoServingCopy(f"no serving copy in {self.folder}: run `tianwen publish` "
                                        "(or `tianwen run`, which publishes after a build)")
                name = (self.folder / POINTER).read_text().strip()
                try:
                    fresh = Snapshot(self.folder / name)
                except duckdb.IOException:
                    continue
                # the old snapshot is not closed here: requests still running on it finish
                # on it, and it closes when the last of them lets it go
                self._snapshot, self._seen = fresh, state
                return fresh
            raise NoServingCopy(f"the serving copy in {self.folder} kept changing while opening it")
