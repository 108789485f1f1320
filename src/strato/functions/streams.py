"""A streamed answer on its way to its caller: the `ResponseStream` an InvokeWithResponseStream or
a RESPONSE_STREAM function URL hands the invoker, read back as the chunks arrive.

Memory stays bounded: past HIGH_WATER bytes waiting here, the writer (the runtime's connection,
or the link to the controller) is paused until the caller has taken them. A caller that goes
away abandons the stream: what comes after is dropped and the writer never waits for it (the
invocation runs to its end, as Lambda's does).

    waiting --open--> streaming --the invocation ends--> ended
    waiting --the invocation ends (a whole answer, or a refusal)--> ended
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncGenerator, Awaitable

from .records import InvokeResult, Pause

HIGH_WATER = 1024 * 1024


class StreamedAnswer:
    def __init__(self) -> None:
        self.content_type: str | None = None  # set when the runtime began streaming
        self._chunks: deque[bytes] = deque()
        self._size = 0
        self._pause: Pause | None = None
        self._paused = False
        self._abandoned = False
        self._task: asyncio.Task[InvokeResult] | None = None
        self._wake: asyncio.Future[None] | None = None

    # ResponseStream: the invoker's side.

    def open(self, content_type: str, pause: Pause) -> None:
        self.content_type = content_type
        self._pause = pause
        self._wake_up()

    def write(self, chunk: bytes) -> None:
        if self._abandoned or not chunk:
            return
        self._chunks.append(chunk)
        self._size += len(chunk)
        if self._size > HIGH_WATER and not self._paused and self._pause is not None:
            self._paused = True
            self._pause(True)
        self._wake_up()

    # The caller's side.

    def start(self, invoke: Awaitable[InvokeResult]) -> None:
        """Run the invocation (one that streams into this answer)."""
        self._task = asyncio.ensure_future(invoke)
        self._task.add_done_callback(self._ended_now)

    async def opened(self) -> bool:
        """Whether the runtime streams (True once it began), or answered otherwise (False: the
        invocation is over; `result` holds its answer or raises why there is none)."""
        try:
            while self.content_type is None and not self._ended:
                await self._wait()
        except asyncio.CancelledError:
            self.abandon()  # the caller went away while it waited
            raise
        return self.content_type is not None

    async def chunks(self) -> AsyncGenerator[bytes]:
        """The chunks in order, as they arrive, until the invocation ends (closed before:
        the caller went away)."""
        try:
            while True:
                while self._chunks:
                    chunk = self._chunks.popleft()
                    self._size -= len(chunk)
                    if self._paused and self._size <= HIGH_WATER // 2:
                        self._resume()
                    yield chunk
                if self._ended:
                    return
                await self._wait()
        finally:
            if not self._ended:
                self.abandon()

    def result(self) -> InvokeResult:
        """The invocation's result, once it ended (raises what the invoke raised)."""
        assert self._task is not None
        assert self._task.done()
        return self._task.result()

    def abandon(self) -> None:
        """The caller went away: drop what waits and what comes, and never pause the writer."""
        self._abandoned = True
        self._chunks.clear()
        self._size = 0
        if self._paused:
            self._resume()

    @property
    def _ended(self) -> bool:
        return self._task is not None and self._task.done()

    def _ended_now(self, task: asyncio.Task[InvokeResult]) -> None:
        if not task.cancelled():
            task.exception()  # retrieved here: a caller that went away never asks
        self._wake_up()

    def _resume(self) -> None:
        self._paused = False
        if self._pause is not None:
            self._pause(False)

    async def _wait(self) -> None:
        self._wake = asyncio.get_running_loop().create_future()
        try:
            await self._wake
        finally:
            self._wake = None

    def _wake_up(self) -> None:
        wake = self._wake
        if wake is not None and not wake.done():
            wake.set_result(None)
