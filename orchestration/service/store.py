"""The API's view of the serving copy. Each request takes one `Snapshot` (one opened copy) and
asks it everything, so it never mixes two builds. When CURRENT names a new copy, a background
thread opens it (and builds its lookup index) while requests go on answering from the copy
they had; once it is ready, later requests use it. The old copy closes once no request holds it."""

from __future__ import annotations

import bisect
import logging
import os
import threading
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from orchestration import config
from orchestration.service.publish import POINTER

log = logging.getLogger("tianwen.service")


class NoServingCopy(RuntimeError):
    pass


class _Strings:
    """A pyarrow string array as one `bytes` object and its offsets, for cheap slicing in Python."""

    def __init__(self, array: pa.Array):
        array = array.cast(pa.string())  # int32 offsets: 2 GB of text per array at most
        _, offsets, data = array.buffers()
        self.data = data.to_pybytes() if data is not None else b""
        # a memoryview of the Arrow buffer (kept alive by it); indexing it gives Python ints
        self.offsets = memoryview(offsets).cast("i")[array.offset:]
        self.size = len(array)

    def __getitem__(self, i: int) -> bytes:
        return self.data[self.offsets[i]:self.offsets[i + 1]]


class LookupIndex:
    """identifier (type, canonical value) -> customer_id of one serving copy, in memory, so a
    lookup asks no SQL. Per identifier type the values sorted bytewise (one `bytes` object and
    int32 offsets) and each value's customer as a position in one array of customer ids: about
    30 bytes of data per identifier (3,000,000 identifiers of 1,000,000 customers: ~85 MB, ~140
    MB resident per worker process and copy). A lookup is a binary search, a few microseconds.
    Built from the copy's `identities` table when the copy is opened, owned by that Snapshot."""

    def __init__(self, con: duckdb.DuckDBPyConnection):
        # a customer is a position in the customer ids sorted (they are unique in `customers`)
        rows = con.sql("""
            with c as (select customer_id, (row_number() over (order by customer_id) - 1)::integer as pos
                       from customers)
            select i.identifier_type, i.identifier_value, c.pos
            from identities as i join c on i.customer_id = c.customer_id
            where i.identifier_value is not null""").to_arrow_table()
        customers = con.sql("select customer_id from customers order by customer_id").to_arrow_table()
        self._customers = _Strings(customers.column("customer_id").combine_chunks())
        self._types: dict[str, tuple[_Strings, memoryview]] = {}
        kinds = rows.column("identifier_type").combine_chunks()
        for kind in pc.unique(kinds).to_pylist():
            part = rows.filter(pc.equal(kinds, kind))
            part = part.take(pc.sort_indices(part, [("identifier_value", "ascending"), ("pos", "ascending")]))
            positions = part.column("pos").combine_chunks()
            self._types[kind] = (_Strings(part.column("identifier_value").combine_chunks()),
                                 memoryview(positions.buffers()[1]).cast("i")[positions.offset:])
        self.size = len(rows)

    def customer_id(self, identifier_type: str, value: str) -> str | None:
        """The customer of an identifier (type and value as the pipeline stores them), or None."""
        found = self._types.get(identifier_type)
        if found is None:
            return None
        values, positions = found
        target = value.encode()
        i = bisect.bisect_left(range(values.size), target, key=values.__getitem__)
        if i == values.size or values[i] != target:
            return None
        return self._customers[positions[i]].decode()


def _connect(path: Path) -> duckdb.DuckDBPyConnection:
    # one thread per query (requests run in parallel instead); a modest buffer pool, since two
    # copies are open for a moment around a swap
    return duckdb.connect(str(path), read_only=True,
                          config={"threads": 1, "memory_limit": config.duckdb_memory_limit()})


def _index(path: Path) -> LookupIndex:
    """The copy's lookup index, read through a connection of its own: closing it drops the
    blocks of `identities` its scan cached (lookups no longer read them), and the scratch memory
    of the sort goes back to the system (~350 MB less resident per worker at 1,000,000)."""
    con = _connect(path)
    try:
        return LookupIndex(con)
    finally:
        con.close()
        pa.default_memory_pool().release_unused()


class Snapshot:
    """One serving copy, opened read-only, with its lookup index; a cursor per thread (DuckDB
    cursors are not shared between threads)."""

    def __init__(self, path: Path, index: bool = True):
        self.path = path
        # the index first: a second connection to the file opened while this one is open would
        # share its database instance, and the cached blocks with it
        self.index = _index(path) if index else None
        self._con = _connect(path)
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
    """Follows the CURRENT pointer of a serving folder. The first copy is opened at start (no
    copy, no start); a later one is opened by a background thread, so no request waits for a
    copy to open and index: until the new copy is ready, requests answer from the previous one."""

    def __init__(self, folder: Path, index: bool = True):
        self.folder, self._index = folder, index
        self._lock = threading.Lock()
        self._loader: threading.Thread | None = None
        self._failed: tuple | None = None  # a pointer state whose copy did not open: not retried
        self._snapshot, self._seen = self._open()  # fail at start, not on the first request

    def _pointer_state(self) -> tuple | None:
        try:
            st = os.stat(self.folder / POINTER)
        except FileNotFoundError:
            return None
        return (st.st_ino, st.st_mtime_ns, st.st_size)

    def _open(self) -> tuple[Snapshot, tuple]:
        for _ in range(5):  # the named copy can be pruned by fast successive publishes
            state = self._pointer_state()
            if state is None:
                raise NoServingCopy(f"no serving copy in {self.folder}: run `tianwen publish` "
                                    "(or `tianwen run`, which publishes after a build)")
            name = (self.folder / POINTER).read_text().strip()
            try:
                return Snapshot(self.folder / name, self._index), state
            except duckdb.IOException:
                continue
        raise NoServingCopy(f"the serving copy in {self.folder} kept changing while opening it")

    def _load(self, state: tuple) -> None:
        try:
            fresh, seen = self._open()
        except Exception:  # noqa: BLE001 - keep serving the copy we have; say why in the log
            log.exception("could not open the new serving copy in %s; still serving build %s",
                          self.folder, self._snapshot.build_id)
            with self._lock:
                self._failed, self._loader = state, None
            return
        with self._lock:
            # the old snapshot is not closed here: requests still running on it finish on
            # it, and it closes (its index freed) when the last of them lets it go
            self._snapshot, self._seen, self._loader = fresh, seen, None
        log.info("serving build %s", fresh.build_id)

    def current(self) -> Snapshot:
        snapshot = self._snapshot
        state = self._pointer_state()
        if state == self._seen or state is None or state == self._failed:
            return snapshot  # the common case: one stat, no lock
        with self._lock:
            if self._loader is None and state != self._seen:
                self._loader = threading.Thread(target=self._load, args=(state,), daemon=True,
                                                name="serving-copy-loader")
                self._loader.start()
        return snapshot

    def wait_loaded(self, timeout: float | None = None) -> Snapshot:
        """The newest copy, waiting for one being opened (for tests and tools, not requests)."""
        self.current()
        loader = self._loader
        if loader is not None:
            loader.join(timeout)
        return self._snapshot
