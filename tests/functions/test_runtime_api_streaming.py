"""Response streaming at the Runtime API, over real sockets: a POST .../response in Lambda's
streaming mode reaches the caller's stream chunk by chunk while the runtime is still writing,
its trailers name a mid-stream error, and a caller that takes the answer whole gets it joined."""

from __future__ import annotations

import asyncio
import base64
import json

from strato.functions.records import MAX_STREAMED, Pause
from strato.functions.runtime_api import RuntimeApiListener, RuntimeChannel
from strato.functions.runtime_api.connection import MAX_HEAD
from tests.functions.test_runtime_api import BASE, Client, Recorder, delivery, with_listener

STREAMING_HEAD = (f"POST {BASE}/invocation/req-1/response HTTP/1.1\r\nHost: x\r\n"
                  "Lambda-Runtime-Function-Response-Mode: streaming\r\nTransfer-Encoding: chunked\r\n"
                  "Content-Type: text/event-stream\r\n\r\n").encode()


def chunk(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


class Stream:
    """A caller's stream, reduced to a record of what reached it."""

    def __init__(self) -> None:
        self.content_type: str | None = None
        self.chunks: list[bytes] = []
        self.changed = asyncio.Event()

    def open(self, content_type: str, pause: Pause) -> None:
        self.content_type = content_type
        self.changed.set()

    def write(self, data: bytes) -> None:
        self.chunks.append(data)
        self.changed.set()

    async def holding(self, size: int) -> None:
        """Until `size` bytes have arrived."""
        while sum(map(len, self.chunks)) < size:
            self.changed.clear()
            await self.changed.wait()


async def invoked(channel: RuntimeChannel, listener: RuntimeApiListener, stream: Stream | None) -> Client:
    channel.submit(delivery(stream=stream))
    client = await Client.connect(listener)
    await client.request("GET", f"{BASE}/invocation/next")
    return client


def test_each_chunk_reaches_the_stream_while_the_runtime_still_writes() -> None:
    async def test(channel: RuntimeChannel, listener: RuntimeApiListener, recorder: Recorder) -> None:
        stream = Stream()
        client = await invoked(channel, listener, stream)
        client.writer.write(STREAMING_HEAD + chunk(b"first"))
        await stream.holding(5)
        assert stream.content_type == "text/event-stream"
        assert recorder.events[-1:] == [("started", "req-1")]  # not answered yet
        client.writer.write(chunk(b"second") + b"0\r\n\r\n")
        assert (await client.response())[0] == 202
        assert b"".join(stream.chunks) == b"firstsecond"
        assert recorder.events[-1:] == [("done", "req-1", "None")]
        assert recorder.payloads == [b""]  # the answer went to the stream
    with_listener(test)


def test_the_error_trailers_name_a_mid_stream_error() -> None:
    async def test(channel: RuntimeChannel, listener: RuntimeApiListener, recorder: Recorder) -> None:
        stream = Stream()
        client = await invoked(channel, listener, stream)
        document = json.dumps({"errorType": "Custom.Broken", "errorMessage": "mid-stream"}).encode()
        client.writer.write(STREAMING_HEAD + chunk(b"partial") + b"0\r\nLambda-Runtime-Function-Error-Type: "
                            b"Custom.Broken\r\nLambda-Runtime-Function-Error-Body: " + base64.b64encode(document)
                            + b"\r\n\r\n")
        assert (await client.response())[0] == 202
        assert stream.chunks == [b"partial"]
        assert recorder.events[-1] == ("done", "req-1", "Custom.Broken")
        assert recorder.payloads == [document]
    with_listener(test)


def test_a_caller_that_takes_the_answer_whole_gets_the_streamed_bytes_joined() -> None:
    async def test(channel: RuntimeChannel, listener: RuntimeApiListener, recorder: Recorder) -> None:
        client = await invoked(channel, listener, None)
        client.writer.write(STREAMING_HEAD + chunk(b"all ") + chunk(b"of it") + b"0\r\n\r\n")
        assert (await client.response())[0] == 202
        assert recorder.payloads == [b"all of it"]
    with_listener(test)


def test_trailers_are_bounded_as_a_head_is() -> None:
    async def test(channel: RuntimeChannel, listener: RuntimeApiListener, recorder: Recorder) -> None:
        client = await invoked(channel, listener, Stream())
        client.writer.write(STREAMING_HEAD + chunk(b"x") + b"0\r\nX-Filler: " + b"a" * 2 * MAX_HEAD)
        status, _, body = await client.response()
        assert status == 431
        assert json.loads(body)["errorType"] == "InvalidRequestFormat"
    with_listener(test)


def test_a_stream_past_its_limit_is_cut_there_and_answered_as_too_large() -> None:
    async def test(channel: RuntimeChannel, listener: RuntimeApiListener, recorder: Recorder) -> None:
        stream = Stream()
        client = await invoked(channel, listener, stream)
        piece = chunk(b"x" * (1024 * 1024))
        client.writer.write(STREAMING_HEAD)
        for _ in range(MAX_STREAMED // (1024 * 1024) + 1):
            client.writer.write(piece)
            await client.writer.drain()
        client.writer.write(b"0\r\n\r\n")
        assert (await client.response())[0] == 413
        assert MAX_STREAMED == 200 * 1024 * 1024  # Lambda's limit for a streamed answer
        assert sum(map(len, stream.chunks)) == MAX_STREAMED
        assert recorder.events[-1:] == [("done", "req-1", "Function.ResponseSizeTooLarge")]
    with_listener(test)


class BackedUp(Stream):
    """A caller whose link backs up on the stream's last chunk and stays so (a relay to a worker
    whose socket is full as the runtime ends its answer)."""

    def open(self, content_type: str, pause: Pause) -> None:
        super().open(content_type, pause)
        self.pause = pause

    def write(self, data: bytes) -> None:
        super().write(data)
        self.pause(True)


def test_a_stream_paused_as_it_ends_leaves_the_runtime_read_for_its_next_invocation() -> None:
    async def test(channel: RuntimeChannel, listener: RuntimeApiListener, recorder: Recorder) -> None:
        client = await invoked(channel, listener, BackedUp())
        client.writer.write(STREAMING_HEAD + chunk(b"last") + b"0\r\n\r\n")
        assert (await client.response())[0] == 202
        channel.submit(delivery("req-2"))
        status, fields, _ = await client.request("GET", f"{BASE}/invocation/next")
        assert (status, fields["Lambda-Runtime-Aws-Request-Id"]) == (200, "req-2")
    with_listener(test)
