"""One HTTP/1.1 connection from a runtime to its environment's Runtime API listener.

Function code is untrusted, so everything is bounded: the request head (MAX_HEAD bytes, large
enough for awslambdaric's X-Ray error-cause header of up to 1 MiB), the body (kept only for
a post about the invocation in hand, and only up to MAX_RESULT bytes; the rest is counted and
dropped), and the connections per listener (MAX_CONNECTIONS). Unparseable bytes get a 400,
then the connection lingers LINGER seconds, discarding input, so the client can read the
refusal before the close (closing on unread input would reset it). Pipelining past a parked
GET next closes the connection, and so do MAX_REFUSALS refused requests (a runtime
spinning on bad requests costs the server, not only itself). `Expect: 100-continue` (curl
sends it for large bodies, as in shell `bootstrap` runtimes) is answered at once.

A streamed answer (POST .../response with `Lambda-Runtime-Function-Response-Mode: streaming`,
chunked) for an invocation whose caller takes a stream goes on chunk by chunk as it is read,
up to MAX_STREAMED bytes; the caller's flow control pauses reading it. Its trailers
(`Lambda-Runtime-Function-Error-Type` / `-Error-Body`, base64) name a mid-stream error. Trailers
count against MAX_HEAD, as a head does. A streamed answer for a caller that takes it whole is
kept as any other (up to MAX_RESULT).

The 202 for an accepted result is held for one loop callback (with anything sent after it,
in order): the invocation's caller hears of the result first, the runtime a moment later.
When the runtime pipelines its GET next behind the result (strato's own runtime client does),
the 202 waits for the next invocation and goes out with it in one write: the runtime wakes
once per invocation instead of twice.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import os
from collections.abc import Callable
from typing import cast

import httptools

from ..flow import ReadPause
from ..records import MAX_STREAMED, ResponseStream
from . import wire
from .channel import RuntimeChannel
from .wire import Reply

MAX_HEAD = 2 * 1024 * 1024
MAX_CONNECTIONS = 4
LINGER = 1.0
MAX_REFUSALS = 32
_PREFIX = b"/2018-06-01/runtime/"
_NEXT = b"invocation/next"
_INIT_ERROR = b"init/error"
_INVOCATION = b"invocation/"


Admit = Callable[[tuple[str, int], tuple[str, int]], bool]  # (peer, local) -> may it talk here?
# None: the connection was made for the runtime (a socket pair at launch, a lent connection).


class RuntimeConnection(asyncio.Protocol):
    def __init__(self, channel: RuntimeChannel, connections: set[RuntimeConnection], admit: Admit | None) -> None:
        self._channel = channel
        self._admit = admit
        self._connections = connections
        self._transport: asyncio.Transport | None = None
        self._parser = httptools.HttpRequestParser(self)
        self._head_open = True
        self._head_bytes = 0
        self._url = b""
        self._error_type: str | None = None
        self._streaming = False  # the post says it streams (Lambda-Runtime-Function-Response-Mode)
        self._content_type = b""
        self._error_body = b""  # a streamed answer's error trailer (base64)
        self._stream: ResponseStream | None = None  # where the streamed answer in progress goes
        self._stream_id = ""  # for which invocation
        self._flow: ReadPause | None = None  # its caller's flow control over this connection
        self._trailing = False  # between chunks or in the trailers: bytes read count as head bytes
        self._keep_alive = True
        self._parked = False
        self._chunks: list[bytes] = []
        self._body_size = 0
        self._keep_body = False
        self._refused = False
        self._refusals = 0
        self._held: list[bytes] | None = None  # writes waiting for the caller to hear first
        self._close_held = False
        self._held_for_next = False  # the 202 waits for the next invocation (a pipelined GET next)

    # asyncio.Protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass
        admit = self._admit
        if (len(self._connections) >= MAX_CONNECTIONS or self._channel.closed or (
                admit is not None and not admit(transport.get_extra_info("peername"),
                                                transport.get_extra_info("sockname")))):
            transport.abort()
            return
        self._connections.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self._connections.discard(self)
        self._stream = self._flow = None
        if self._parked:
            self._parked = False
            self._channel.forget(self)
        self._chunks = []

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return
        if self._head_open or self._trailing:
            self._head_bytes += len(data)
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError:
            self._refuse(wire.BAD_REQUEST)
            return
        if (self._head_open or self._trailing) and self._head_bytes > MAX_HEAD:
            self._refuse(wire.HEAD_TOO_LARGE)

    def close(self) -> None:
        if self._transport is not None:
            self._transport.abort()

    # Lending (lending.py): the socket goes to another process while its runtime waits.

    def lend(self) -> int:
        """Stop reading and return a duplicate of the socket's descriptor, to pass on."""
        transport = self._transport
        assert transport is not None
        self.flush()
        transport.pause_reading()
        return os.dup(transport.get_extra_info("socket").fileno())

    def take_back(self, waiting: bool) -> None:
        """The borrower is done with the socket: read it again. Parked only if the runtime waits
        on a GET next the borrower read; the one this side parked on before the lend was the
        borrower's to answer, so the runtime's next request is no pipelining past it."""
        self._parked = waiting
        if self._transport is not None and not self._transport.is_closing():
            self._transport.resume_reading()

    def adopt(self) -> None:
        """This connection was lent by another process while its runtime waited on GET next."""
        self._parked = True
        self._channel.adopt(self)

    @property
    def waiting(self) -> bool:
        """Parked on GET next, nothing after it read: the socket can change hands (after a flush)."""
        return self._parked and self._head_bytes == 0

    # httptools callbacks

    def on_message_begin(self) -> None:
        if self._parked:  # a request pipelined behind a parked GET next
            self._parked = False
            self._channel.forget(self)
            self.close()
        self._head_open = True
        self._url = b""
        self._error_type = None
        self._streaming = False
        self._content_type = b""
        self._error_body = b""
        self._stream = None
        self._trailing = False
        self._chunks = []
        self._body_size = 0
        self._keep_body = False

    def on_url(self, url: bytes) -> None:
        self._url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        name = name.lower()
        if name == wire.ERROR_TYPE_HEADER:
            self._error_type = value[:256].decode("latin-1")
        elif name == wire.RESPONSE_MODE_HEADER:
            self._streaming = value.lower() == wire.STREAMING
        elif name == b"content-type":
            self._content_type = value[:256]
        elif name == wire.ERROR_BODY_TRAILER:
            self._error_body = value
        elif name == b"expect" and value.lower() == b"100-continue" and self._transport is not None:
            self._transport.write(wire.CONTINUE)

    def on_headers_complete(self) -> None:
        self._head_open = False
        self._head_bytes = 0
        self._keep_alive = self._parser.should_keep_alive()
        path = self._url.partition(b"?")[0]
        if path.startswith(_PREFIX):
            rest = path[len(_PREFIX):]
            if rest == _INIT_ERROR:
                self._keep_body = True
            elif rest.startswith(_INVOCATION):
                request_id, _, kind = rest[len(_INVOCATION):].rpartition(b"/")
                rid = request_id.decode("latin-1")
                self._keep_body = self._channel.expects_answer(rid)
                if self._keep_body and self._streaming and kind == b"response":
                    self._open_stream(rid)

    def _open_stream(self, request_id: str) -> None:
        """The runtime begins a streamed answer: on to its caller, if it takes a stream."""
        stream = self._channel.streaming(request_id)
        if stream is None:
            return
        self._stream = stream
        self._stream_id = request_id
        self._flow = ReadPause(self._transport)
        stream.open(self._content_type.decode("latin-1") or "application/octet-stream", self._flow)

    def on_chunk_header(self) -> None:
        self._trailing = True

    def on_body(self, body: bytes) -> None:
        self._body_size += len(body)
        if self._trailing:
            self._trailing = False
            self._head_bytes = 0
        stream = self._stream
        if stream is not None:
            if self._body_size <= MAX_STREAMED and self._channel.expects_answer(self._stream_id):
                stream.write(body)
            return
        if self._keep_body:
            if self._body_size <= wire.MAX_RESULT:
                self._chunks.append(body)
            else:
                self._chunks = []

    def on_message_complete(self) -> None:
        self._head_open = True
        self._trailing = False
        self._head_bytes = 0
        if self._transport is None or self._transport.is_closing():
            return
        reply = self._dispatch()
        self._chunks = []
        if reply is not None:
            if reply.status >= 400:
                self._refusals += 1
                if self._refusals >= MAX_REFUSALS:
                    self._keep_alive = False
            self._send([reply.render(self._keep_alive)])

    # The Runtime API

    def _dispatch(self) -> Reply | None:
        path = self._url.partition(b"?")[0]
        if not path.startswith(_PREFIX):
            return wire.NOT_FOUND
        rest = path[len(_PREFIX):]
        method = self._parser.get_method()
        if rest == _NEXT:
            if method != b"GET":
                return wire.METHOD_NOT_ALLOWED
            self._parked = True
            self._held_for_next = self._held is not None
            reply = self._channel.next(self)
            if reply is not None:
                self._parked = False
            return reply
        if rest == _INIT_ERROR:
            if method != b"POST":
                return wire.METHOD_NOT_ALLOWED
            return self._channel.init_error(self._body(), self._error_type)
        if rest.startswith(_INVOCATION):
            request_id, _, kind = rest[len(_INVOCATION):].rpartition(b"/")
            if kind not in (b"response", b"error"):
                return wire.NOT_FOUND
            if method != b"POST":
                return wire.METHOD_NOT_ALLOWED
            error_type = (self._error_type or "") if kind == b"error" else None
            body = self._body()
            if kind == b"response" and self._streaming and self._error_type is not None:
                error_type, body = self._error_type, _decoded(self._error_body)  # a mid-stream error
            streamed, self._stream = self._stream is not None, None
            if self._flow is not None:
                self._flow.end()  # the runtime's next request is read, whatever the caller holds
                self._flow = None
            reply = self._channel.answer(request_id.decode("latin-1"), body, error_type, self._body_size,
                                         MAX_STREAMED if streamed else wire.MAX_RESULT)
            if reply.status == 202 and self._held is None:
                self._held = []
                asyncio.get_running_loop().call_soon(self._release)
            return reply
        return wire.NOT_FOUND

    def _body(self) -> bytes:
        chunks = self._chunks
        if len(chunks) == 1:
            return chunks[0]
        return b"".join(chunks)

    def deliver(self, data: list[bytes]) -> None:
        """The invocation for a parked GET next (after the 202 that waited for it, if one did)."""
        self._parked = False
        if self._held_for_next:
            held, self._held, self._held_for_next = self._held or [], None, False
            data = held + data
        self._send(data)

    def _send(self, data: list[bytes]) -> None:
        held = self._held
        if held is not None:
            if not self._close_held:
                held.extend(data)
                self._close_held = not self._keep_alive
            return
        transport = self._transport
        if transport is None or transport.is_closing():
            return
        transport.write(data[0] if len(data) == 1 else b"".join(data))  # one write: one wakeup of the runtime
        if not self._keep_alive:
            transport.close()

    def _release(self) -> None:
        if not self._held_for_next:
            self.flush()

    def flush(self) -> None:
        """Send what was held, in order, in one write."""
        held = self._held
        if held is None:
            return
        self._held = None
        self._held_for_next = False
        transport = self._transport
        if transport is None or transport.is_closing():
            return
        transport.write(b"".join(held))
        if self._close_held:
            transport.close()

    def _refuse(self, reply: Reply) -> None:
        self.flush()
        transport = self._transport
        if transport is not None and not transport.is_closing() and not self._refused:
            self._refused = True
            transport.write(reply.render(keep_alive=False))
            transport.write_eof()
            asyncio.get_running_loop().call_later(LINGER, transport.abort)


def _decoded(text: bytes) -> bytes:
    """A streamed answer's error document, from its base64 trailer (empty when it is not base64)."""
    try:
        return base64.b64decode(text, validate=True)
    except binascii.Error:
        return b""
