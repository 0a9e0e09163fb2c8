"""What is in a landing folder, and which files are ready to load.

Every entry under the landing folder ends in exactly one of these (docs/ingestion.md):
- a candidate: a regular .csv/.jsonl/.json/.parquet file anywhere under a source folder
  (nested partition folders such as crm_members/2025/11/21.csv are fine);
- rejected with a reason: outside a source folder, unknown source, unsupported type, not a
  regular file (FIFO, socket, device, broken link), a link to a folder (not followed);
- ignored on purpose: hidden files (".name", upload tools' temp files) and done markers.

A candidate is ready when it is stable: its size and modification time have not changed for
CDP_LANDING_STABLE_SECONDS (default 5). When CDP_LANDING_DONE_MARKER names a marker file
(e.g. `_SUCCESS`), a file is ready only once its folder holds that marker, and then at once.
The loader and the landing sensor both ask `ready()`."""

from __future__ import annotations

import os
import stat
import time
from dataclasses import dataclass
from pathlib import Path

from orchestration.ingest.contract import Source, load_contract

FORMATS = {".csv": "csv", ".parquet": "parquet", ".jsonl": "jsonl", ".json": "json"}
DEFAULT_MARKERS = ("_SUCCESS",)


@dataclass(frozen=True)
class Entry:
    rel: str  # path under the landing folder, '/'-separated: the file's identity
    path: Path
    source: Source | None = None
    fmt: str | None = None
    reason: str | None = None  # why it is not loaded (rejected entries only)


def stable_seconds() -> float:
    value = os.environ.get("CDP_LANDING_STABLE_SECONDS", "5")
    try:
        return max(0.0, float(value))
    except ValueError:
        raise ValueError(f"CDP_LANDING_STABLE_SECONDS={value!r} is not a number of "
                         "seconds") from None


def done_marker() -> str | None:
    return os.environ.get("CDP_LANDING_DONE_MARKER") or None


def _markers() -> set[str]:
    return {*DEFAULT_MARKERS, *([done_marker()] if done_marker() else [])}


def _rel(landing: Path, path: Path) -> str:
    return path.relative_to(landing).as_posix()


def scan(landing: Path) -> tuple[list[Entry], list[Entry]]:
    """(candidates, rejected) under `landing`, each in path order."""
    contract = load_contract()
    candidates, rejected = [], []
    for entry in sorted(os.scandir(landing), key=lambda e: e.name):
        path = Path(entry.path)
        if entry.name.startswith(".") or entry.name in _markers():
            continue
        if entry.is_dir(follow_symlinks=False):
            if entry.name in contract:
                _walk(landing, path, contract[entry.name], candidates, rejected)
            else:
                files = _all_files(path)
                reason = (f"unknown source: '{entry.name}' is not a source of the landing "
                          "contract (orchestration/ingest/raw_sources.yml)")
                rejected += [Entry(_rel(landing, p), p, reason=reason) for p in files] or [
                    Entry(_rel(landing, path) + "/", path, reason=reason)]
        else:
            rejected.append(Entry(_rel(landing, path), path, reason=_kind(entry) or (
                "outside a source folder: put it in <landing>/<source>/")))
    return candidates, rejected


def _walk(landing: Path, folder: Path, source: Source, candidates: list, rejected: list) -> None:
    for entry in sorted(os.scandir(folder), key=lambda e: e.name):
        path = Path(entry.path)
        if entry.name.startswith(".") or entry.name in _markers():
            continue
        if entry.is_dir(follow_symlinks=False):
            _walk(landing, path, source, candidates, rejected)
            continue
        problem = _kind(entry)
        fmt = FORMATS.get(path.suffix.lower())
        if problem:
            rejected.append(Entry(_rel(landing, path), path, source, reason=problem))
        elif fmt is None:
            rejected.append(Entry(_rel(landing, path), path, source, reason=(
                "unsupported type: only .csv, .jsonl, .json and .parquet files are loaded")))
        else:
            candidates.append(Entry(_rel(landing, path), path, source, fmt))


def _kind(entry: os.DirEntry) -> str | None:
    """Why an entry is not a regular file, or None if it is one."""
    if entry.is_symlink() and entry.is_dir():
        return "a link to a folder: not followed; move the files into the source folder"
    try:
        mode = entry.stat().st_mode
    except OSError:
        return "not a regular file (a broken link)"
    if stat.S_ISREG(mode):
        return None
    kind = ("a FIFO" if stat.S_ISFIFO(mode) else "a socket" if stat.S_ISSOCK(mode)
            else "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else "a special file")
    return f"not a regular file ({kind})"


def _all_files(folder: Path) -> list[Path]:
    out = []
    for root, dirs, files in os.walk(folder):
        dirs.sort()
        out += [Path(root) / f for f in sorted(files) if not f.startswith(".")]
    return out


def signature(path: Path) -> tuple[int, int]:
    st = path.stat()
    return st.st_size, st.st_mtime_ns


def _waiting_for_marker(entry: Entry, marker: str | None) -> bool:
    return marker is not None and not (entry.path.parent / marker).exists()


def ready(candidates: list[Entry], wait: bool = True) -> tuple[list[Entry], list[Entry]]:
    """(ready, still being written). With `wait`, a file younger than the stability window
    is watched until the window has passed (once for all files) before it is judged."""
    window, marker = stable_seconds(), done_marker()
    waiting = [e for e in candidates if _waiting_for_marker(e, marker)]
    rest = [e for e in candidates if not _waiting_for_marker(e, marker)]
    if marker:  # the marker says the folder is complete: no need to watch the files
        return rest, [_pending(e, f"waiting for the done marker {marker}") for e in waiting]
    now = time.time_ns()
    seen = {e.rel: signature(e.path) for e in rest}
    young = [e for e in rest if now - seen[e.rel][1] < window * 1e9]
    if young and wait:
        newest = max(seen[e.rel][1] for e in young)
        time.sleep(max(0.0, (newest + window * 1e9 - now) / 1e9))
        now = time.time_ns()
    ok, pending = [], []
    for e in rest:
        try:
            sig = signature(e.path)
        except OSError:
            pending.append(_pending(e, "vanished while being checked"))
            continue
        if sig != seen[e.rel] or now - sig[1] < window * 1e9:
            pending.append(_pending(e, f"still being written: changed within the last "
                                       f"{window:g}s (CDP_LANDING_STABLE_SECONDS)"))
        else:
            ok.append(e)
    return ok, pending


def _pending(e: Entry, reason: str) -> Entry:
    return Entry(e.rel, e.path, e.source, e.fmt, reason)


def ready_snapshot(landing: Path) -> dict[str, list]:
    """Ready files without waiting: rel path -> [size, mtime_ns]. For the landing sensor,
    which fires only once a file has settled (and its done marker is there, if required)."""
    if not landing.is_dir():
        return {}
    candidates, _ = scan(landing)
    ok, _ = ready(candidates, wait=False)
    return {e.rel: list(signature(e.path)) for e in ok}
