"""Sending responses over ASGI: whole bodies and bounded streams.

Once the start message is sent, a failure can only abort the stream (the server closes the
connection); it never turns into a second response.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass, field

from strato.http.types import Message, Send

Headers = Iterable[tuple[str, str]]


@dataclass(slots=True)
class Response:
    """A response not yet sent: handlers return it, so that an error raised before sending
    still becomes a proper error response. `close` runs once the body is sent or abandoned."""

    status: int = 200
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes | AsyncIterator[bytes] = b""
    close: Callable[[], None] | None = None

    async def send(self, send: Send, head: bool = False) -> None:
        try:
            if isinstance(self.body, bytes):
                await send_body(send, self.status, self.headers, self.body, head)
            elif head:
                await send_body(send, self.status, self.headers, b"", head)
            else:
                await send_stream(send, self.status, self.headers, self.body)
        finally:
            if self.close is not None:
                self.close()


class Tracked:
    """A `send` that adds headers to the response start (a request id) and remembers whether
    the response has started: after that an error can only abort the stream."""

    __slots__ = ("extra", "send", "started")

    def __init__(self, send: Send, extra: list[tuple[bytes, bytes]]) -> None:
        self.send = send
        self.extra = extra
        self.started = False

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.started = True
            headers = message["headers"]
            assert isinstance(headers, list)
            headers.extend(self.extra)
        await self.send(message)


def _encode(headers: Headers) -> list[tuple[bytes, bytes]]:
    return [(name.encode("latin-1"), value.encode("latin-1", "replace")) for name, value in headers]


async def send_body(send: Send, status: int, headers: Headers, body: bytes = b"", head: bool = False) -> None:
    encoded = _encode(headers)
    if not any(name == b"content-length" for name, _ in encoded):
        encoded.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": encoded})
    await send({"type": "http.response.body", "body": b"" if head else body})


async def send_stream(send: Send, status: int, headers: Headers, chunks: AsyncIterator[bytes]) -> None:
    """Send a response whose headers (including Content-Length) are already known."""
    await send({"type": "http.response.start", "status": status, "headers": _encode(headers)})
    async for chunk in chunks:
        await send({"type": "http.response.body", "body": chunk, "more_body": True})
    await send({"type": "http.response.body", "body": b""})
