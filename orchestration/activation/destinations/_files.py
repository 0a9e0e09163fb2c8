"""Writing a file so a reader never sees half of it: a hidden temporary file in the same
folder, flushed and fsynced, then renamed (atomic on one file system)."""

from __future__ import annotations

import contextlib
import hashlib
import os
from pathlib import Path


@contextlib.contextmanager
def atomic_path(final: Path):
    """Yields a temporary path to write; renamed to `final` when the block succeeds."""
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = final.with_name(f".{final.name}.{os.getpid()}.tmp")
    try:
        yield tmp
        with tmp.open("rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, final)
        dir_fd = os.open(final.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    finally:
        tmp.unlink(missing_ok=True)


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()
