"""A claim on a piece of work shared by processes on one machine (or one shared folder):
an exclusive ``flock`` on a lock file, released when the holder ends, even by a kill."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def claim(path: Path, wait: bool) -> Iterator[bool]:
    """Holds the lock file ``path`` for the block. Yields True once held; without ``wait``,
    yields False at once when another process holds it (the block should then leave that
    work to it). The lock file is left in place: removing it would let two processes hold
    "the same" lock through two different files."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
    finally:
        os.close(handle)
