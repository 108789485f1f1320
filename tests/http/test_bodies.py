"""Bounded request bodies: streamed up to the announced length, never past it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from strato.http.bodies import BodyIncomplete, BodyTooLarge, collect, stream
from strato.http.types import Message


def receiving(*messages: Message) -> Callable[[], Awaitable[Message]]:
    queue = list(messages)

    async def receive() -> Message:
        return queue.pop(0)

    return receive


def chunk(body: bytes, more: bool = True) -> Message:
    return {"type": "http.request", "body": body, "more_body": more}


def read(chunks: AsyncIterator[bytes]) -> list[bytes]:
    async def run() -> list[bytes]:
        return [piece async for piece in chunks]

    return asyncio.run(run())


class TestStream:
    def test_the_chunks_arrive_as_sent(self) -> None:
        receive = receiving(chunk(b"ab"), chunk(b""), chunk(b"cd", more=False))
        assert read(stream(receive, 4)) == [b"ab", b"cd"]

    def test_a_body_of_unknown_length_ends_with_the_last_message(self) -> None:
        assert read(stream(receiving(chunk(b"x"), chunk(b"y", more=False)), None)) == [b"x", b"y"]

    def test_an_empty_body_yields_nothing(self) -> None:
        assert read(stream(receiving(chunk(b"", more=False)), 0)) == []

    def test_more_than_the_announced_length_is_refused(self) -> None:
        with pytest.raises(BodyTooLarge):
            read(stream(receiving(chunk(b"abc"), chunk(b"de", more=False)), 4))

    def test_less_than_the_announced_length_is_incomplete(self) -> None:
        with pytest.raises(BodyIncomplete):
            read(stream(receiving(chunk(b"abc", more=False)), 4))

    def test_a_disconnect_is_incomplete(self) -> None:
        with pytest.raises(BodyIncomplete):
            read(stream(receiving(chunk(b"abc"), {"type": "http.disconnect"}), None))


class TestCollect:
    def test_a_small_body_is_joined(self) -> None:
        async def run() -> bytes:
            return await collect(stream(receiving(chunk(b"ab"), chunk(b"c", more=False)), 3), limit=3)

        assert asyncio.run(run()) == b"abc"

    def test_a_body_past_the_limit_is_refused(self) -> None:
        async def run() -> bytes:
            return await collect(stream(receiving(chunk(b"ab"), chunk(b"c", more=False)), None), limit=2)

        with pytest.raises(BodyTooLarge):
            asyncio.run(run())
