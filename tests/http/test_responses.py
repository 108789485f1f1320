"""Sending responses over ASGI: one start message, then the body; a failure mid-stream
aborts the stream and never turns into a second response."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from strato.http.responses import Response
from strato.http.types import Message


def sent(response: Response, head: bool = False) -> list[Message]:
    messages: list[Message] = []

    async def send(message: Message) -> None:
        messages.append(message)

    asyncio.run(response.send(send, head=head))
    return messages


async def pieces(*parts: bytes, fail: bool = False) -> AsyncIterator[bytes]:
    for part in parts:
        yield part
    if fail:
        raise OSError("disk went away")


def test_a_whole_body_gets_its_content_length() -> None:
    messages = sent(Response(200, [("content-type", "text/plain")], b"hello"))
    assert messages[0] == {
        "type": "http.response.start",
        "status": 200,
        "headers": [(b"content-type", b"text/plain"), (b"content-length", b"5")],
    }
    assert messages[1] == {"type": "http.response.body", "body": b"hello"}


def test_a_head_response_keeps_the_length_and_drops_the_body() -> None:
    messages = sent(Response(200, [], b"hello"), head=True)
    assert (b"content-length", b"5") in messages[0]["headers"]
    assert messages[1]["body"] == b""


def test_a_stream_is_sent_piece_by_piece_and_ended() -> None:
    messages = sent(Response(200, [("content-length", "4")], pieces(b"ab", b"cd")))
    assert [m.get("body") for m in messages[1:]] == [b"ab", b"cd", b""]
    assert [m.get("more_body", False) for m in messages[1:]] == [True, True, False]


def test_a_failure_mid_stream_aborts_after_the_one_start_message_and_still_closes() -> None:
    closed: list[bool] = []
    messages: list[Message] = []

    async def send(message: Message) -> None:
        messages.append(message)

    response = Response(
        200, [("content-length", "4")], pieces(b"ab", fail=True), close=lambda: closed.append(True)
    )
    with pytest.raises(OSError, match="disk went away"):
        asyncio.run(response.send(send))
    assert [m["type"] for m in messages] == ["http.response.start", "http.response.body"]
    assert closed == [True]
