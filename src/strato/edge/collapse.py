"""Request collapsing: one origin fetch per cache key at a time.

A `Fill` is a body arriving from the origin: written to its file while any number of
readers stream what has arrived so far, so every waiter is answered as soon as the first
bytes come, and a large body never sits in memory (a small one with a declared length is
received in memory only, and the store writes it in one go). States:
    RECEIVING --complete()--> COMPLETE
    RECEIVING --fail(exc)--> FAILED   (readers past the received bytes get the error)
A body that arrived whole with its response's head is a Fill made COMPLETE (`Fill.whole`).
`Flights` registers the in-flight fetch of each key; a later request for the key joins it.
"""

from __future__ import annotations

import asyncio
import enum
import os
import weakref
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Generic, TypeVar

from strato.fileio import read_at, write_all

READ_CHUNK = 256 * 1024
R = TypeVar("R")


class FillState(enum.Enum):
    RECEIVING = "receiving"
    COMPLETE = "complete"
    FAILED = "failed"


class Fill:
    """One descriptor serves the writer and every reader (pread needs no shared position),
    and it stays open until the last reference goes: the file may meanwhile be evicted from
    the store, or unlinked on failure, under readers that are still streaming. Without a
    `path` the body is kept in memory only, up to `keep_in_memory_up_to` bytes (more fails)."""

    def __init__(self, path: Path | None, keep_in_memory_up_to: int = 0) -> None:
        self.path = path
        self._fd = -1
        if path is not None:
            self._fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
            weakref.finalize(self, os.close, self._fd)
        self.written = 0
        self.state = FillState.RECEIVING
        self.error: BaseException | None = None
        self._changed: asyncio.Event | None = None  # made when a reader waits for more
        # Every byte so far, while the body is small enough: readers are served from it.
        self._memory: bytearray | None = bytearray() if keep_in_memory_up_to > 0 else None
        self._memory_limit = keep_in_memory_up_to
        self._whole: bytes | None = None  # the memory copy, once complete

    @classmethod
    def whole(cls, body: bytes) -> Fill:
        """A body received whole, in memory: complete from the start."""
        fill = cls(None)
        fill.written, fill.state, fill._whole = len(body), FillState.COMPLETE, body
        return fill

    def append(self, chunk: bytes) -> None:
        """Written on the event loop: page-cache writes of one chunk do not block for long."""
        if self.path is not None:
            write_all(self._fd, chunk)
        elif self.written + len(chunk) > self._memory_limit:
            raise ConnectionError(f"the origin sent more than the {self._memory_limit} bytes it declared")
        self.written += len(chunk)
        if self._memory is not None:
            if self.written <= self._memory_limit:
                self._memory += chunk
            else:
                self._memory = None
        self._notify()

    def complete(self) -> None:
        self.state = FillState.COMPLETE
        if self._memory is not None:
            self._whole = bytes(self._memory)
        self._notify()

    def fail(self, error: BaseException) -> None:
        if self.state is FillState.RECEIVING:
            if self.path is not None:
                self.path.unlink(missing_ok=True)
            self.state, self.error = FillState.FAILED, error
            self._notify()

    @property
    def on_disk(self) -> bool:
        return self.path is not None

    def body(self) -> bytes | None:
        """The whole body, when it was small enough to keep in memory."""
        return self._whole

    def _notify(self) -> None:
        if self._changed is not None:
            self._changed.set()
            self._changed = None

    async def read(self, start: int = 0, end: int | None = None) -> AsyncIterator[bytes]:
        """Bytes [start, end) as they arrive; ends when the body does."""
        position = start
        while end is None or position < end:
            if position < self.written:
                limit = self.written if end is None else min(end, self.written)
                size = min(READ_CHUNK, limit - position)
                memory = self._memory if self._memory is not None else self._whole
                if memory is not None:
                    chunk = bytes(memory[position : position + size])
                else:
                    chunk = await read_at(self._fd, size, position)
                position += len(chunk)
                yield chunk
            elif self.state is FillState.COMPLETE:
                return
            elif self.state is FillState.FAILED:
                raise ConnectionError(f"origin body failed: {self.error!r}")
            else:
                if self._changed is None:
                    self._changed = asyncio.Event()
                await self._changed.wait()


class Flights(Generic[R]):
    """The in-flight fetch of each key, as a future every requester awaits."""

    def __init__(self) -> None:
        self._flights: dict[str, asyncio.Future[R]] = {}
        self.led = 0
        self.joined = 0

    def join(self, key: str) -> asyncio.Future[R] | None:
        future = self._flights.get(key)
        if future is not None:
            self.joined += 1
        return future

    def lead(self, key: str) -> asyncio.Future[R]:
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._flights[key] = future
        self.led += 1
        return future

    def land(self, key: str, future: asyncio.Future[R]) -> None:
        """The fetch is over (its body complete or failed): later requests start afresh."""
        if self._flights.get(key) is future:
            del self._flights[key]
