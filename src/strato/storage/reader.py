"""Reading objects: byte ranges from an inline body or from blob segments.

Page-cached blob data is read on the event loop; only reads that must go to disk take a trip
through a worker thread (strato.fileio.read_at).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator

from strato.fileio import read_at
from strato.storage.blobs import BlobStore
from strato.storage.errors import IncompleteBody
from strato.storage.records import ObjectVersion

READ_CHUNK = 256 * 1024


class ObjectReader:
    """An open object: byte ranges stream from its inline body or its blob segments."""

    def __init__(self, obj: ObjectVersion, blobs: BlobStore, opened: dict[int, int]) -> None:
        self.obj = obj
        self._blobs = blobs
        self._opened = opened

    async def iter_range(self, start: int, end: int) -> AsyncIterator[bytes]:
        """Bytes [start, end) of the object, in chunks of at most READ_CHUNK."""
        if self.obj.inline is not None:
            for offset in range(start, end, READ_CHUNK):
                yield self.obj.inline[offset : min(end, offset + READ_CHUNK)]
            return
        base = 0
        for index, segment in enumerate(self.obj.segments):
            low, high = max(start, base) - base, min(end, base + segment.size) - base
            base += segment.size
            if low >= high:
                continue
            fd = self._opened.pop(index, None)
            if fd is None:
                fd = self._blobs.open(segment.blob)
            try:
                while low < high:
                    chunk = await read_at(fd, min(READ_CHUNK, high - low), low)
                    if not chunk:
                        raise IncompleteBody(segment.blob)
                    low += len(chunk)
                    yield chunk
            finally:
                os.close(fd)

    def close(self) -> None:
        for fd in self._opened.values():
            os.close(fd)
        self._opened.clear()
