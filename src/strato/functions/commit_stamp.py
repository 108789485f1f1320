"""A token every writer of a database renews after it commits, in a small shared file that
each process maps: readers that cache what they read compare 8 bytes of memory per use
instead of asking SQLite (a read transaction: two lock system calls and the pager) whether
anything changed.

A fresh random token (not a counter) needs no atomic increment: two writers racing leave
one of their tokens, and either differs from what a reader last saw.
"""

from __future__ import annotations

import mmap
import os
from pathlib import Path

SIZE = 8


class CommitStamp:
    def __init__(self, path: Path) -> None:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            if os.fstat(fd).st_size < SIZE:
                os.ftruncate(fd, SIZE)
            self._map = mmap.mmap(fd, SIZE)
        finally:
            os.close(fd)

    def read(self) -> bytes:
        return self._map[:SIZE]

    def renew(self) -> None:
        """After a commit: readers holding the old token read again."""
        self._map[:SIZE] = os.urandom(SIZE)

    def close(self) -> None:
        self._map.close()
