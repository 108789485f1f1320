"""A streamed answer's flow control over the socket it is read from (the runtime's connection,
a worker's link to the controller), for as long as that answer lasts.

The socket outlives the answer: the runtime asks for its next invocation on it, a worker's link
carries its next call. So once the answer ends the socket is read again whatever its reader
last asked, and a late word from that reader (a caller still draining what it holds) changes
nothing.
"""

from __future__ import annotations

import asyncio


class ReadPause:
    __slots__ = ("_paused", "_transport")

    def __init__(self, transport: asyncio.Transport | None) -> None:
        self._transport = transport
        self._paused = False

    def __call__(self, paused: bool) -> None:
        """A `Pause`: True stops reading the socket for now, False reads on."""
        transport = self._transport
        if transport is None or transport.is_closing() or paused == self._paused:
            return
        self._paused = paused
        if paused:
            transport.pause_reading()
        else:
            transport.resume_reading()

    def end(self) -> None:
        """The answer is over: the socket is read on, and later calls do nothing."""
        self(False)
        self._transport = None
