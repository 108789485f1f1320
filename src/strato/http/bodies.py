"""Bounded request-body readers: a body is either streamed in chunks or read whole only
when it is small by contract, and never past the length the client announced."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from strato.http.types import Receive


class BodyTooLarge(Exception):
    """The body is longer than the reader allows."""


class BodyIncomplete(Exception):
    """The client closed the connection or stopped before the announced length."""


class BodyTimeout(Exception):
    """The client sent nothing for IDLE_TIMEOUT seconds in the middle of a body."""


IDLE_TIMEOUT = 30.0


async def stream(receive: Receive, length: int | None, idle_timeout: float = IDLE_TIMEOUT) -> AsyncIterator[bytes]:
    """Chunks of the request body; ends exactly at `length` when it is known. A client that
    goes quiet mid-body is dropped after `idle_timeout` seconds."""
    received = 0
    while True:
        try:
            async with asyncio.timeout(idle_timeout):
                message = await receive()
        except TimeoutError:
            raise BodyTimeout(f"no data for {idle_timeout} s after {received} bytes") from None
        if message["type"] == "http.disconnect":
            raise BodyIncomplete(f"disconnected after {received} bytes")
        chunk: bytes = message.get("body", b"")
        if chunk:
            received += len(chunk)
            if length is not None and received > length:
                raise BodyTooLarge(str(length))
            yield chunk
        if not message.get("more_body", False):
            break
    if length is not None and received < length:
        raise BodyIncomplete(f"{received} of {length} bytes")


async def collect(chunks: AsyncIterator[bytes], limit: int) -> bytes:
    """A whole body that is small by contract, refused once it passes `limit` bytes."""
    parts: list[bytes] = []
    total = 0
    async for chunk in chunks:
        total += len(chunk)
        if total > limit:
            raise BodyTooLarge(str(limit))
        parts.append(chunk)
    return b"".join(parts)
