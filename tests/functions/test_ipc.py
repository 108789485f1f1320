"""The worker <-> controller frames: cut whole from any split of the byte stream, and bounded;
a streamed invocation's frames, and the flow control they carry."""

from __future__ import annotations

import asyncio
import json
import struct
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from strato.functions.ipc import MAX_HEAD, ControllerClient, FrameReader, StreamRelay, encode_frame
from strato.functions.records import FunctionVersion, Invocation, InvokeResult, Pause
from strato.functions.streams import StreamedAnswer

Controller = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


def frames_of(*reads: bytes) -> list[tuple[dict[str, Any], bytes]]:
    seen: list[tuple[dict[str, Any], bytes]] = []
    reader = FrameReader(lambda head, payload: seen.append((head, payload)))
    for data in reads:
        reader.feed(data)
    return seen


def test_a_frame_read_whole_is_handed_on_with_its_payload() -> None:
    assert frames_of(encode_frame({"op": "invoke"}, b'{"a": 1}')) == [({"op": "invoke"}, b'{"a": 1}')]


def test_a_frame_split_byte_by_byte_arrives_once_and_whole() -> None:
    data = encode_frame({"op": "invoke", "name": "f"}, b"x" * 1000)
    assert frames_of(*(data[i:i + 1] for i in range(len(data)))) == [({"op": "invoke", "name": "f"}, b"x" * 1000)]


def test_frames_sharing_reads_are_cut_apart_in_order() -> None:
    data = encode_frame({"n": 1}) + encode_frame({"n": 2}, b"two") + encode_frame({"n": 3}, b"three")
    assert frames_of(data[:20], data[20:]) == [({"n": 1}, b""), ({"n": 2}, b"two"), ({"n": 3}, b"three")]


def test_a_head_past_its_limit_is_refused_before_it_is_read() -> None:
    with pytest.raises(ValueError, match="frame of"):
        frames_of((MAX_HEAD + 1).to_bytes(4, "big") + (0).to_bytes(4, "big"))


def test_a_head_that_is_not_an_object_is_refused() -> None:
    with pytest.raises(ValueError, match="not an object"):
        frames_of((2).to_bytes(4, "big") + (0).to_bytes(4, "big") + b"[]")


class Sent:
    """The frames a StreamRelay sends, and the pauses it asks of the runtime."""

    def __init__(self) -> None:
        self.frames: list[tuple[dict[str, Any], bytes]] = []
        self.pauses: list[bool] = []

    def send(self, head: dict[str, Any], payload: bytes) -> None:
        self.frames.append((head, payload))

    def pause(self, paused: bool) -> None:
        self.pauses.append(paused)


def test_a_relay_frames_the_stream_as_it_comes() -> None:
    sent = Sent()
    relay = StreamRelay(sent.send)
    relay.open("text/plain", sent.pause)
    relay.write(b"one")
    relay.write(b"two")
    assert sent.frames == [({"stream": "open", "content_type": "text/plain"}, b""), ({"stream": "chunk"}, b"one"),
                           ({"stream": "chunk"}, b"two")]


def test_a_relay_pauses_the_runtime_while_the_workers_socket_is_full() -> None:
    sent = Sent()
    relay = StreamRelay(sent.send)
    relay.backed_up(True)  # before the runtime began: it is paused as it begins
    relay.open("text/plain", sent.pause)
    relay.backed_up(False)
    relay.backed_up(True)
    assert sent.pauses == [True, False, True]


def test_a_relay_whose_worker_went_away_reads_the_runtime_on_and_drops_its_chunks() -> None:
    sent = Sent()
    relay = StreamRelay(sent.send)
    relay.open("text/plain", sent.pause)
    relay.backed_up(True)
    relay.gone()
    relay.write(b"unheard")
    relay.backed_up(True)
    assert sent.pauses == [True, False, False]
    assert len(sent.frames) == 1


def test_a_streamed_call_hands_its_chunks_to_the_stream_before_the_result(tmp_path: Path) -> None:
    """A controller (a plain Unix socket server here) answers a streamed invocation with its
    stream frames, then the result: the client passes the chunks on, then returns the result."""
    async def main() -> None:
        asked: list[dict[str, Any]] = []
        controller = _scripted([encode_frame({"stream": "open", "content_type": "text/plain"})
                                + encode_frame({"stream": "chunk"}, b"a") + encode_frame({"stream": "chunk"}, b"b")
                                + encode_frame({"executed_version": "$LATEST"})], asked)
        server = await asyncio.start_unix_server(controller, str(tmp_path / "controller.sock"))
        client = ControllerClient(tmp_path / "controller.sock", enqueue=_never)
        answer = StreamedAnswer()
        answer.start(client.invoke(Invocation(_function(tmp_path), "arn", b"{}", "req-1", stream=answer)))
        assert await answer.opened()
        assert answer.content_type == "text/plain"
        assert [chunk async for chunk in answer.chunks()] == [b"a", b"b"]
        assert answer.result() == InvokeResult(b"", "$LATEST")
        assert asked[0]["stream"] is True
        assert "lessee" not in asked[0]  # a streamed invocation never asks for a loan
        client.close()
        server.close()
        await server.wait_closed()
    asyncio.run(main())



class HeldBack:
    """A caller's stream that backs up on its first chunk and stays so: it holds what it got."""

    def __init__(self) -> None:
        self.content_types: list[str] = []

    def open(self, content_type: str, pause: Pause) -> None:
        self.content_types.append(content_type)
        self.pause = pause

    def write(self, chunk: bytes) -> None:
        self.pause(True)


def test_a_link_paused_by_a_stream_as_it_ended_carries_the_next_call(tmp_path: Path) -> None:
    """The link a streamed call used goes back to the idle ones: a pause its caller asked for as
    the result came in must not stop the next call on that link from hearing its answer."""
    async def main() -> None:
        controller = _scripted([encode_frame({"stream": "open", "content_type": "text/plain"})
                                + encode_frame({"stream": "chunk"}, b"held")
                                + encode_frame({"executed_version": "$LATEST"}),
                                encode_frame({})])
        server = await asyncio.start_unix_server(controller, str(tmp_path / "controller.sock"))
        client = ControllerClient(tmp_path / "controller.sock", enqueue=_never)
        invocation = Invocation(_function(tmp_path), "arn", b"{}", "req-1", stream=HeldBack())
        assert await client.invoke(invocation) == InvokeResult(b"", "$LATEST")
        assert await asyncio.wait_for(client.call({"op": "wake"}), 5) == ({}, b"")
        client.close()
        server.close()
        await server.wait_closed()
    asyncio.run(main())


def test_a_stream_opened_twice_is_opened_once_and_its_link_carries_the_next_call(tmp_path: Path) -> None:
    """A runtime may post its streamed answer on two connections at once (function code is not
    trusted): the controller then relays a second `open`. The stream keeps its first opening
    and its flow control, so the pause its caller asked for still ends with the call."""
    async def main() -> None:
        controller = _scripted([encode_frame({"stream": "open", "content_type": "text/plain"})
                                + encode_frame({"stream": "chunk"}, b"held")
                                + encode_frame({"stream": "open", "content_type": "text/html"})
                                + encode_frame({"executed_version": "$LATEST"}),
                                encode_frame({})])
        server = await asyncio.start_unix_server(controller, str(tmp_path / "controller.sock"))
        client = ControllerClient(tmp_path / "controller.sock", enqueue=_never)
        stream = HeldBack()
        assert await client.invoke(Invocation(_function(tmp_path), "arn", b"{}", "req-1", stream=stream)) == \
            InvokeResult(b"", "$LATEST")
        assert stream.content_types == ["text/plain"]
        assert await asyncio.wait_for(client.call({"op": "wake"}), 5) == ({}, b"")
        client.close()
        server.close()
        await server.wait_closed()
    asyncio.run(main())


def _scripted(answers: list[bytes], asked: list[dict[str, Any]] | None = None) -> Controller:
    """A controller (a plain Unix socket server) that answers each call with the next of
    `answers`, then hangs up; the heads of the calls go to `asked`."""
    async def controller(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        for answer in answers:
            head_size, size = struct.unpack(">II", await reader.readexactly(8))
            head = json.loads(await reader.readexactly(head_size))
            await reader.readexactly(size)
            if asked is not None:
                asked.append(head)
            writer.write(answer)
            await writer.drain()
        writer.close()
    return controller


async def _never(invocation: Invocation) -> None:
    raise AssertionError("nothing is queued here")


def _function(tmp_path: Path) -> FunctionVersion:
    return FunctionVersion("f", "$LATEST", "arn:aws:lambda:us-east-1:000000000000:function:f", "provided.al2023",
                           "h", 128, 3, {}, tmp_path, "sha", "rev")
