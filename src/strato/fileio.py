"""Files at the descriptor level, shared by the storage engine, the edge cache and function
logs (which may not import each other): reading without blocking an event loop, and writing
a buffer whole."""

from __future__ import annotations

import asyncio
import os

_NOWAIT = getattr(os, "RWF_NOWAIT", 0)


def read_cached(fd: int, size: int, offset: int) -> bytes | None:
    """`size` bytes at `offset` if the page cache holds them all (preadv with RWF_NOWAIT never
    blocks); None when it does not, on errors, and where the kernel has no RWF_NOWAIT."""
    if not _NOWAIT:
        return None
    buffer = bytearray(size)
    try:
        got = os.preadv(fd, [buffer], offset, _NOWAIT)
    except OSError:  # BlockingIOError: not cached; anything else: a blocking read will report it
        return None
    return bytes(buffer) if got == size else None


async def read_at(fd: int, size: int, offset: int) -> bytes:
    """`size` bytes at `offset` (fewer at end of file): from the page cache on the event loop
    when they are all there, else from a worker thread."""
    cached = read_cached(fd, size, offset)
    if cached is not None:
        return cached
    return await asyncio.to_thread(os.pread, fd, size, offset)


def write_all(fd: int, data: bytes | memoryview) -> None:
    """os.write until all of `data` is written (a write may take only part of it)."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]
