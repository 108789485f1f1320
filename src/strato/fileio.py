"""Reading files from an event loop without blocking it (shared by the storage engine and
the edge cache, neither of which may import the other)."""

from __future__ import annotations

import asyncio
import os

_NOWAIT = getattr(os, "RWF_NOWAIT", 0)


async def read_at(fd: int, size: int, offset: int) -> bytes:
    """`size` bytes at `offset` (fewer at end of file): from the page cache on the event loop
    when they are all there (preadv with RWF_NOWAIT never blocks), else from a worker thread."""
    if _NOWAIT:
        buffer = bytearray(size)
        try:
            got = os.preadv(fd, [buffer], offset, _NOWAIT)
        except OSError:  # BlockingIOError: not cached; anything else: let the thread report it
            got = -1
        if got == size:
            return bytes(buffer)
    return await asyncio.to_thread(os.pread, fd, size, offset)
