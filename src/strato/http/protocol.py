"""uvicorn's httptools protocol, guarded against hostile clients.

- A request line plus headers longer than MAX_REQUEST_HEAD bytes is refused: httptools
  accumulates a header value (and uvicorn the URL) without bound, so a client that never
  ends its headers would otherwise grow the process without limit. Bytes are counted while
  a head is being read; the overshoot is at most one read.
- A head that is not complete HEAD_TIMEOUT seconds after the connection opened or the
  request began is refused, so a client trickling headers cannot hold a connection forever.
- A keep-alive connection idle for uvicorn's `timeout_keep_alive` is closed by the same
  timer: uvicorn arms and cancels a timer of its own around every request, which cost a
  fresh hit at the edge about a tenth of its time.
- Unparseable requests get the protocol's own error body (`refusal`), set by the server. When
  the bytes that cannot be parsed follow a request still being answered (a body longer than
  its Content-Length, say), that request's response is sent first, then the refusal.
- A response to an HTTP/1.0 request without a Content-Length is ended by closing the
  connection, never framed chunked (RFC 9112 6.1): uvicorn chunks it whatever the version.
  One of known length to a request asking for keep-alive keeps the connection (9.3), where
  uvicorn closes every HTTP/1.0 connection.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol, RequestResponseCycle

from strato.http.types import Message

MAX_REQUEST_HEAD = 64 * 1024
HEAD_TIMEOUT = 30.0

# (code, message) -> (content type, body)
Refusal = Callable[[str, str], tuple[str, bytes]]


def _plain(code: str, message: str) -> tuple[str, bytes]:
    return "text/plain; charset=utf-8", f"{code}: {message}".encode()


class GuardedHttpProtocol(HttpToolsProtocol):
    refusal: Refusal = staticmethod(_plain)
    head_timeout: float = HEAD_TIMEOUT

    _head_open = True
    _head_bytes = 0
    _head_since: float | None = None  # when the head being read began (None: no head is)
    _head_timer: asyncio.TimerHandle | None = None
    _idle_since: float | None = None  # when the last response was done and no request followed yet
    _refusal_pending = False

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._head_since = self.loop.time()
        self._head_timer = self.loop.call_later(self._check_period(), self._head_check)

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_head_timer()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._head_open:
            self._head_bytes += len(data)
        super().data_received(data)
        if self._head_open and self._head_bytes > MAX_REQUEST_HEAD and not self.transport.is_closing():
            self.logger.warning("Request head longer than %d bytes refused.", MAX_REQUEST_HEAD)
            self._refuse("RequestHeaderSectionTooLarge",
                         "Your request header section exceeds the maximum allowed size.")

    def on_message_begin(self) -> None:
        super().on_message_begin()
        # Idle time ends when a request begins (here, also for a request pipelined behind one
        # answered in the parser's callbacks), not when bytes come: an empty line begins none.
        self._idle_since = None
        self._head_open = True
        self._head_since = self.loop.time()

    def on_headers_complete(self) -> None:
        self._head_done()
        before = self.cycle
        super().on_headers_complete()
        if self.cycle is not before and self.scope.get("http_version") == "1.0":
            self.cycle.keep_alive = self.parser.should_keep_alive()  # Connection: keep-alive
            _for_http_1_0(self.cycle)

    def on_message_complete(self) -> None:
        self._message_done()
        super().on_message_complete()

    def _head_done(self) -> None:
        self._head_open = False
        self._head_bytes = 0
        self._head_since = None

    def _message_done(self) -> None:
        """What arrives after a complete request is the next request's head, counted from its
        first byte (on a keep-alive connection as on a new one)."""
        self._head_open = True

    def send_400_response(self, msg: str) -> None:
        if not getattr(self.cycle, "response_complete", True):  # a request is still being answered
            self._refusal_pending = True  # answered once the request in flight has its response
            return
        self._refuse("BadRequest", "An error occurred when parsing the HTTP request.")

    def on_response_complete(self) -> None:
        """uvicorn's, with the keep-alive wait noted for the connection's one timer."""
        self.server_state.total_requests += 1
        if self._refusal_pending and not self.pipeline:
            self._refusal_pending = False
            if not self.transport.is_closing():
                self._refuse("BadRequest", "An error occurred when parsing the HTTP request.")
            return
        if self.transport.is_closing():
            return
        self.flow.resume_reading()
        if self.pipeline:
            cycle, app = self.pipeline.pop()
            self._start_asgi_task(cycle, app)
        else:
            self._idle_since = self.loop.time()

    def _unset_keepalive_if_required(self) -> None:
        """uvicorn calls this on every read; bytes that begin no request (the empty lines RFC 9112
        2.2 lets a server ignore) do not end the idle time: on_message_begin does."""

    def _cancel_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_check(self) -> None:
        """One timer per connection, checking what the connection waits for (`_waiting_since`)
        and how long it has been idle: arming and cancelling a timer for every request cost more
        than the check. It never waits longer than the shorter timeout, so a wait that begins
        between two checks is never checked late."""
        self._head_timer = None
        if self.transport.is_closing():
            return
        now = self.loop.time()
        since = self._waiting_since()
        idle = self._idle_since
        if since is not None and now - since >= self.head_timeout:
            self._waited_too_long()
            return
        if idle is not None and now - idle >= self.timeout_keep_alive:
            self.timeout_keep_alive_handler()
            return
        delay = self._check_period()
        if since is not None:
            delay = min(delay, since + self.head_timeout - now)
        if idle is not None:
            delay = min(delay, idle + self.timeout_keep_alive - now)
        self._head_timer = self.loop.call_later(delay, self._head_check)

    def _check_period(self) -> float:
        """The longest the one timer waits: the shorter timeout, so that no wait is checked late."""
        return min(self.head_timeout, self.timeout_keep_alive)

    def _waiting_since(self) -> float | None:
        """Since when the connection waits for bytes it must have within `head_timeout` (None:
        for none): here, the request head being read."""
        return self._head_since

    def _waited_too_long(self) -> None:
        if self._head_bytes == 0 and self.cycle is None:
            self.transport.close()  # a connection that never sent a byte
            return
        if self._head_open:
            self._refuse_stalled()

    def _refuse_stalled(self) -> None:
        self._refuse("RequestTimeout", "Your socket connection to the server was not read from or written to "
                     "within the timeout period.")

    def _refuse(self, code: str, message: str) -> int:
        """Answer 400 and close the connection: the body's length."""
        content_type, body = self.refusal(code, message)
        head = (
            b"HTTP/1.1 400 Bad Request\r\n"
            + f"content-type: {content_type}\r\ncontent-length: {len(body)}\r\n".encode()
            + b"connection: close\r\n\r\n"
        )
        self.transport.write(head + body)
        self.transport.close()
        return len(body)


def _for_http_1_0(cycle: RequestResponseCycle) -> None:
    """RFC 9112 6.1, 6.3: an HTTP/1.0 client reads no chunked coding, so a response to it with a
    body of no Content-Length goes without Transfer-Encoding, as it is, ended by the close, as
    nginx answers one. Any other answer to a client asking for keep-alive (its cycle's keep_alive)
    says Connection: keep-alive and leaves the connection open (9.3), unless the server stops."""
    send = cycle.send
    unframed = False

    async def sending(message: Message) -> None:
        nonlocal unframed
        if message["type"] == "http.response.start":
            headers = [(name, value) for name, value in message.get("headers", ())
                       if name.lower() != b"transfer-encoding"]
            names = {name.lower() for name, _ in headers}
            if b"content-length" not in names and cycle.scope["method"] != "HEAD" and message["status"] not in (
                    204, 304):
                unframed = True
                cycle.chunked_encoding = False  # so uvicorn adds no Transfer-Encoding
                cycle.keep_alive = False
            elif cycle.keep_alive and b"connection" not in names:
                headers.append((b"connection", b"keep-alive"))
            message = {**message, "headers": headers}
        elif unframed and message["type"] == "http.response.body":
            cycle.expected_content_length = len(message.get("body", b""))  # uvicorn's check of its length holds
        await send(message)  # type: ignore[arg-type]

    cycle.send = sending  # type: ignore[method-assign,assignment]
