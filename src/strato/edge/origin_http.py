"""A lean HTTP/1.1 client for the edge's origins: pooled keep-alive connections, responses
parsed by httptools, bodies streamed with backpressure both ways. (aiohttp cost a fifth of
the edge's CPU on a miss: URL objects, a task-heavy connector, header multidicts.)

A connection's states:
    BUSY (a request written, its response being read)
    BUSY --response read to its end, keep-alive--> IDLE (in the pool, reused by the next request)
    BUSY --response abandoned, Connection: close, error, timeout--> CLOSED
    IDLE --the origin closes it--> CLOSED (skipped when taken; a request that finds it closed
         before any answer is retried once on a new connection when it has no body to replay)
    IDLE --idle longer than the pool's keep-alive timeout--> CLOSED (by the edge, before an origin
         that closes idle connections itself does it while a request is on its way)
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections import deque
from collections.abc import AsyncIterator, Mapping
from typing import NoReturn, cast

import httptools

from strato.digits import is_digits

HIGH_WATER = 512 * 1024  # buffered body bytes at which reading from the origin pauses
LOW_WATER = 128 * 1024
# A body declared this small is awaited whole with its head (it is at most a read or two
# behind), so that its response is handed on complete and answered in one write.
WHOLE_UP_TO = 64 * 1024
# How long an idle connection is kept (CloudFront's OriginKeepaliveTimeout when left out; Node's
# http servers close theirs after 5 s, nginx's after 75 s).
KEEPALIVE_TIMEOUT = 5.0


class OriginConnection(asyncio.Protocol):
    def __init__(self, loop: asyncio.AbstractEventLoop, timeout: float) -> None:
        self._loop = loop
        self.idle_since = 0.0  # (time.monotonic) when it was last pooled
        self._timeout = timeout
        self._parser = httptools.HttpResponseParser(self)
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self.status = 0
        self.headers: list[tuple[str, str]] = []
        self._head: asyncio.Future[None] | None = None
        self._chunks: deque[bytes] = deque()
        self._buffered = 0
        self._reading_paused = False
        self._complete = False
        self._error: BaseException | None = None
        self._wakeup: asyncio.Future[None] | None = None
        self._paused = False  # the transport's write buffer is full (pause_writing)
        self._drained: asyncio.Future[None] | None = None  # made only while a write waits on it
        self._interim = False
        self._until_close = False
        self._whole_up_to = 0
        self._awaiting_body = False  # the head is in, its small body is awaited too
        self._bodiless = False  # the request was a HEAD: its response ends with its head
        self._keep_alive = False  # the response said the connection may carry another exchange
        self._cut = False  # the request's body was not all sent (the origin answered first)
        self._waiting: asyncio.Future[None] | None = None  # what the connection waits for from the origin
        self._waiting_since = 0.0
        self._watch: asyncio.TimerHandle | None = None

    # -- one exchange ---------------------------------------------------------------------------

    async def exchange(
        self, head: bytes, body: AsyncIterator[bytes] | None, chunked: bool, whole_up_to: int = 0,
        *, bodiless: bool = False,
    ) -> None:
        """Write a request, then wait for its response's status and fields, and for its whole
        body when it declares at most `whole_up_to` bytes. `bodiless` (a HEAD): the response ends
        with its head, whatever length it declares (RFC 9112 6.3), and the connection stays
        usable. A final answer arriving while the body is written ends the body there (RFC 9112 9.5: an
        origin refusing it, a 413 or a 403, may close without reading it): it is the response."""
        assert self.transport is not None
        self.status, self.headers, self._complete, self._error, self._keep_alive = 0, [], False, None, False
        self._cut = False
        self._whole_up_to, self._awaiting_body, self._bodiless = whole_up_to, False, bodiless
        self._chunks.clear()
        self._buffered = 0
        self._head = self._loop.create_future()
        self.transport.write(head)
        if body is not None:
            try:
                async for chunk in body:
                    if self.status:
                        self._cut = True
                        break
                    if chunk:
                        self.transport.write(b"%x\r\n%s\r\n" % (len(chunk), chunk) if chunked else chunk)
                        await self._drain()
            except ConnectionError:
                if not self.status:
                    self._give_up_head()
                    raise
                self._cut = True  # the origin closed after answering
            except BaseException:  # the request fails: no one waits for its answer (or its error)
                self._give_up_head()
                raise
            if chunked and not self._cut:
                self.transport.write(b"0\r\n\r\n")
        await self._wait(self._head)

    async def body(self) -> AsyncIterator[bytes]:
        """The response body as it arrives (HttpParser has decoded any chunked coding)."""
        while True:
            if self._chunks:
                chunk = self._chunks.popleft()
                self._buffered -= len(chunk)
                if self._reading_paused and self._buffered <= LOW_WATER and self.transport is not None:
                    self._reading_paused = False
                    self.transport.resume_reading()
                yield chunk
            elif self._complete:
                return
            elif self._error is not None:
                raise self._error
            else:
                self._wakeup = self._loop.create_future()
                await self._wait(self._wakeup)

    @property
    def complete(self) -> bool:
        return self._complete

    @property
    def reusable(self) -> bool:
        """Whether the connection can carry another exchange: its response said so, and its
        request went whole (the origin still waits for the rest of one cut short)."""
        return self._keep_alive and not self._cut

    def received(self) -> bytes | None:
        """The whole body, taken from the buffer, when the response has already ended (a small
        body usually arrives with its head); None while more is to come."""
        if not self._complete or self._reading_paused:
            return None
        body = b"".join(self._chunks)
        self._chunks.clear()
        self._buffered = 0
        return body

    def close(self) -> None:
        self.closed = True
        self._stop_watching()
        if self.transport is not None:
            self.transport.close()

    async def _wait(self, future: asyncio.Future[None]) -> None:
        self._waiting, self._waiting_since = future, self._loop.time()
        try:
            await future
        finally:
            self._waiting = None

    def _check(self) -> None:
        """The connection's one timer: a timer armed and cancelled around every wait cost a
        miss more than this check every `timeout` seconds. A wait that begins between two checks
        is never checked late: the next check is at most `timeout` away."""
        self._watch = None
        if self.closed:
            return
        delay = self._timeout
        waiting = self._waiting
        if waiting is not None and not waiting.done():
            waited = self._loop.time() - self._waiting_since
            if waited >= self._timeout:
                self._timed_out(waiting)
                return
            delay -= waited
        self._watch = self._loop.call_later(delay, self._check)

    def _stop_watching(self) -> None:
        if self._watch is not None:
            self._watch.cancel()
            self._watch = None

    def _timed_out(self, future: asyncio.Future[None]) -> None:
        if not future.done():
            future.set_exception(TimeoutError(f"the origin sent nothing for {self._timeout:g} s"))
        self.close()

    def _give_up_head(self) -> None:
        """No one will wait for the answer: its wait is cancelled, or the error it already holds
        taken (the request raises it), else asyncio logs it as never retrieved."""
        head = self._head
        if head is not None and head.done() and not head.cancelled():
            head.exception()
        elif head is not None:
            head.cancel()

    async def _drain(self) -> None:
        """Wait while the write buffer is full, unless an answer has come. The wait's future is
        made here, never in pause_writing: one made there, failed with the connection while no
        write waited (a huge request head, no body), was an exception no one retrieved."""
        if self._paused and not self.status:
            if self._error is not None:
                raise self._error
            self._drained = self._loop.create_future()
            await self._wait(self._drained)

    def _wake(self) -> None:
        """Something arrived: the final head (or an error) for `exchange`, anything for `body`."""
        head, wakeup = self._head, self._wakeup
        if head is not None and not head.done():
            if self._error is not None:
                head.set_exception(self._error)
            elif self.status and (self._complete or not self._awaiting_body):
                head.set_result(None)
        if wakeup is not None and not wakeup.done():
            wakeup.set_result(None)
        drained = self._drained
        if self.status and drained is not None and not drained.done():
            drained.set_result(None)  # an answer came: the body being written waits no more (exchange)

    def _fail(self, error: BaseException) -> None:
        if self._error is None and not self._complete:
            self._error = error
        drained = self._drained
        if drained is not None and not drained.done():
            drained.set_exception(error)
        self._wake()

    # -- asyncio.Protocol -----------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's transports do not subclass it
        self._watch = self._loop.call_later(self._timeout, self._check)

    def data_received(self, data: bytes) -> None:
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._fail(ConnectionError(f"the origin's response cannot be parsed: {exc}"))
            self.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self._stop_watching()
        if self.status and not self._complete and self._until_close and exc is None:
            self._complete = True  # RFC 9112 6.3: a body without a length ends when the connection does
            self._wake()
            return
        self._fail(exc or ConnectionResetError("the origin closed the connection"))

    def pause_writing(self) -> None:
        self._paused = True

    def resume_writing(self) -> None:
        self._paused = False
        drained, self._drained = self._drained, None
        if drained is not None and not drained.done():
            drained.set_result(None)

    # -- httptools callbacks ----------------------------------------------------------------------

    def on_message_begin(self) -> None:
        if self._complete:
            # RFC 9112 6.3: bytes after the response asked for (an origin that sent more than its
            # Content-Length) are never a response of their own; the connection is not used again.
            raise ConnectionError("the origin sent more than its response")
        self.headers = []

    def on_header(self, name: bytes, value: bytes) -> None:
        if not self.status:  # RFC 9110 6.5.1: fields after the final head are trailers, never merged into it
            self.headers.append((name.decode("latin-1"), value.decode("latin-1")))

    def on_headers_complete(self) -> None:
        status = self._parser.get_status_code()
        if 100 <= status < 200:  # an interim response (RFC 9110 15.2): the final one follows
            self._interim = True
            return
        if status > 599:  # RFC 9110 15: invalid, and no status line a client could be sent
            self._unusable(f"the origin answered status {status}, outside 100..599")
        self.status = status
        fields = {name.lower(): value for name, value in self.headers}
        codings = _list_items(self.headers, "transfer-encoding")
        chunked = bool(codings) and codings[-1] == "chunked"
        if any(coding != "identity" for coding in codings[:-1 if chunked else None]):
            # RFC 9112 6.1, 7: what is left of a transfer coding once chunked is undone would go on as
            # the content (nginx's "upstream sent unknown Transfer-Encoding", a 502 too).
            self._unusable(f"the origin's transfer coding {', '.join(codings)} cannot be passed on")
        # RFC 9112 6.3: without chunked as the final coding, or any length, the body ends with the connection.
        self._until_close = status not in (204, 304) and not chunked and (
            bool(codings) or "content-length" not in fields)
        declared = fields.get("content-length", "")
        self._awaiting_body = (status not in (204, 304) and "transfer-encoding" not in fields
                               and is_digits(declared) and 0 < int(declared) <= self._whole_up_to)
        if self._bodiless:
            # RFC 9112 6.3: an answer to a HEAD ends with its head, with a length or without. The
            # parser would wait for the declared body, or for the close when none is declared
            # (httptools cannot be told otherwise): the next response goes to a new one.
            self._until_close = False
            connection = set(_list_items(self.headers, "connection"))
            self._complete = True
            self._keep_alive = "close" not in connection and (
                self._parser.get_http_version() == "1.1" or "keep-alive" in connection)  # RFC 9112 9.3
            self._parser = httptools.HttpResponseParser(self)
        self._wake()

    def _unusable(self, reason: str) -> NoReturn:
        """Fail the exchange for `reason` and stop the parser (which names no reason of its own)."""
        error = ConnectionError(reason)
        self._fail(error)
        raise error

    def on_body(self, body: bytes) -> None:
        if self._interim:
            return
        if self._complete:  # bytes after an answer to a HEAD, which has no body
            raise ConnectionError("the origin sent more than its response")
        self._chunks.append(body)
        self._buffered += len(body)
        if self._buffered > HIGH_WATER and not self._reading_paused and self.transport is not None:
            self._reading_paused = True
            self.transport.pause_reading()
        self._wake()

    def on_message_complete(self) -> None:
        if self._interim:
            self._interim = False
            return
        if self._complete:  # an answer to a HEAD, over with its head (and its parser replaced)
            return
        self._complete = True
        self._keep_alive = self._parser.should_keep_alive()
        self._wake()


def loopback_or(host: str) -> str:
    """RFC 6761 6.3: a name under `localhost.` is the loopback address, whatever the system's
    resolver says (glibc resolves `localhost` alone): so a function URL's host on this machine,
    `<id>.lambda-url.<region>.localhost`, can be an origin."""
    name = host.lower().rstrip(".")
    return "127.0.0.1" if name == "localhost" or name.endswith(".localhost") else host


def _list_items(headers: list[tuple[str, str]], name: str) -> list[str]:
    """The members, lowercased, of every `name` field line of a list-valued field (RFC 9110 5.6.1:
    lines may be split or repeated, and empty members are ignored)."""
    items = (item.strip(" \t").lower() for field, value in headers if field.lower() == name
             for item in value.split(","))
    return [item for item in items if item]


class OriginPool:
    """At most `limit` connections to one origin (host, port, TLS or not); requests beyond wait."""

    def __init__(self, host: str, port: int, *, tls: bool, timeout: float, limit: int,
                 connect_timeout: float | None = None, connect_attempts: int = 1,
                 keepalive_timeout: float = KEEPALIVE_TIMEOUT) -> None:
        """`timeout`: the longest silence while an answer is awaited; `connect_timeout` (default
        `timeout`) and `connect_attempts`: how long a new connection may take, and how many
        times it is tried before the request fails; `keepalive_timeout`: how long a connection
        is kept idle."""
        self._host, self._port, self._timeout = host, port, timeout
        self._connect_timeout = timeout if connect_timeout is None else connect_timeout
        self._connect_attempts = max(1, connect_attempts)
        self._keepalive = keepalive_timeout
        self._ssl = ssl.create_default_context() if tls else None
        self._idle: list[OriginConnection] = []  # the most recently used last
        self._sweep: asyncio.TimerHandle | None = None
        self._loop: asyncio.AbstractEventLoop | None = None  # the connections', once there is one
        self._slots = asyncio.Semaphore(limit)
        self._closed = False  # no connection is pooled any more

    async def send(
        self, head: bytes, body: AsyncIterator[bytes] | None, chunked: bool, whole_up_to: int = 0,
        *, bodiless: bool = False,
    ) -> OriginConnection:
        """A connection holding the response's head (and its whole body, when it declares at
        most `whole_up_to` bytes; `bodiless`: the request is a HEAD); give it back with `done`."""
        await self._slots.acquire()
        try:
            while self._idle:
                connection = self._idle.pop()
                if connection.closed:
                    continue
                if connection.idle_since + self._keepalive <= time.monotonic():
                    connection.close()  # the rest were idle longer still
                    self._close_idle()
                    break
                try:
                    await connection.exchange(head, body, chunked, whole_up_to, bodiless=bodiless)
                    return connection
                except ConnectionError:  # closed by the origin while idle, before any answer
                    connection.close()
                    if body is not None:  # a streamed body cannot be sent again
                        raise
                except BaseException:
                    connection.close()
                    raise
            connection = await self._connect()
            try:
                await connection.exchange(head, body, chunked, whole_up_to, bodiless=bodiless)
            except BaseException:
                connection.close()
                raise
            return connection
        except BaseException:
            self._slots.release()
            raise

    def done(self, connection: OriginConnection) -> None:
        """The response is over: pool its connection if it can carry another (and the pool is
        open), else close it."""
        if connection.complete and connection.reusable and not connection.closed and not self._closed:
            connection.idle_since = time.monotonic()
            self._idle.append(connection)
            if self._sweep is None and self._loop is not None:
                self._sweep = self._loop.call_later(self._keepalive, self._close_stale)
        else:
            connection.close()
        self._slots.release()

    def _close_stale(self) -> None:
        """Close the connections idle for the keep-alive timeout; look again when the oldest left is due."""
        self._sweep = None
        idle = self._idle
        now = time.monotonic()
        stale = 0
        while stale < len(idle) and idle[stale].idle_since + self._keepalive <= now:
            idle[stale].close()
            stale += 1
        del idle[:stale]
        if idle and self._loop is not None:
            self._sweep = self._loop.call_later(idle[0].idle_since + self._keepalive - now, self._close_stale)

    def _close_idle(self) -> None:
        while self._idle:
            self._idle.pop().close()
        if self._sweep is not None:
            self._sweep.cancel()
            self._sweep = None

    async def _connect(self) -> OriginConnection:
        loop = self._loop = asyncio.get_running_loop()
        left = self._connect_attempts
        while True:
            left -= 1
            try:
                async with asyncio.timeout(self._connect_timeout):  # not wait_for, which may swallow a cancellation
                    _, connection = await loop.create_connection(
                        lambda: OriginConnection(loop, self._timeout), loopback_or(self._host), self._port,
                        ssl=self._ssl, server_hostname=self._host if self._ssl else None)
                return connection
            except OSError:  # refused, unreachable, timed out (TimeoutError is one)
                if not left:
                    raise

    def close(self) -> None:
        self._closed = True
        self._close_idle()


def request_head(method: str, target: str, host: str, headers: Mapping[str, str], *, body: bool) -> tuple[bytes, bool]:
    """The request line and fields (RFC 9112 3, 7.1), and whether the body goes chunked."""
    lines = [f"{method} {target} HTTP/1.1", f"host: {host}"]
    lines += [f"{name}: {value}" for name, value in headers.items() if name.lower() != "host"]
    chunked = body and not any(name.lower() == "content-length" for name in headers)
    if chunked:
        lines.append("transfer-encoding: chunked")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1", "replace"), chunked
