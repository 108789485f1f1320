"""A short lane through the guarded protocol for requests small by contract (a Lambda Invoke:
at most 6 MB each way): the whole body is read in the parser's callbacks, the app runs as one
task with a plain receive and send, and the response goes out in one write.

uvicorn's request/response cycle (scope copies, an Event per body chunk, message checks, a
write for the head and one for the body) costs about as much as the rest of a warm invoke.
The lane keeps what matters of it: the app is the same ASGI app, a request pipelined behind
a lane request waits in uvicorn's own pipeline (the lane's stand-in cycle is unfinished until
its response is written), and the keep-alive and shutdown rules are uvicorn's.

Lane requests are chosen by the server (`LaneMatch`) and must be HTTP/1.1 keep-alive with a
Content-Length of at most `MAX_LANE_BODY` and no Expect or Upgrade; their responses must be
small (they are written whole, without flow control). A `Shortcut` may take one to answer
without the ASGI app (the app's own code, called directly): it calls `reply` once, now or
later, with or without a task of its own; when it declines the app answers.
"""

from __future__ import annotations

import asyncio
import functools
import http
import logging
import urllib.parse
from collections.abc import Callable
from typing import cast

import httptools

from strato.http.protocol import GuardedHttpProtocol
from strato.http.types import ASGIApp, Message, Scope

log = logging.getLogger("strato.http")

MAX_LANE_BODY = 6 * 1024 * 1024 + 1024
LaneMatch = Callable[[bytes, bytes, list[tuple[bytes, bytes]]], bool]  # (method, raw path, headers) -> the lane?
LaneAnswer = tuple[int, list[tuple[bytes, bytes]], bytes]  # status, headers, body
Reply = Callable[[LaneAnswer], None]
Shortcut = Callable[[Scope, bytes, Reply], bool]  # (scope, body, reply) -> taken?
_NOT_FOR_LANE = frozenset({b"expect", b"upgrade", b"transfer-encoding"})
_REASONS = {status.value: status.phrase.encode() for status in http.HTTPStatus}


class _LaneCycle:
    """What uvicorn sees of a lane request while it is answered: an unfinished cycle, which
    uvicorn marks disconnected (and wakes) when the connection is lost, and stops keeping
    alive when the server shuts down."""

    __slots__ = ("disconnected", "keep_alive", "message_event", "response_complete")

    def __init__(self) -> None:
        self.response_complete = False
        self.keep_alive = True
        self.disconnected = False
        self.message_event = asyncio.Event()


class LaneHttpProtocol(GuardedHttpProtocol):
    """A body that stops coming for `head_timeout` seconds is refused (RequestTimeout), as the
    app's own bounded body reads would refuse it on uvicorn's usual path."""

    lane_match: LaneMatch
    lane_shortcut: Shortcut | None
    lane_app: ASGIApp
    _lane: list[bytes] | None = None  # the body of the lane request being read
    _lane_heard = 0.0  # when the last bytes of that body came

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self._lane is not None:  # the body goes on in a later read
            self._lane_heard = self.loop.time()

    def _waiting_since(self) -> float | None:
        """A lane body is waited for from its last bytes (the connection's one timer checks it)."""
        return self._lane_heard if self._lane is not None else super()._waiting_since()

    def _waited_too_long(self) -> None:
        if self._lane is not None:
            self._refuse_stalled()
            return
        super()._waited_too_long()

    def on_headers_complete(self) -> None:
        if not self._fits_lane():
            super().on_headers_complete()
            return
        self._head_done()
        parsed = httptools.parse_url(self.url)
        path = parsed.path.decode("latin-1")
        scope = self.scope
        scope["method"] = self.parser.get_method().decode("ascii")
        scope["path"] = urllib.parse.unquote(path) if "%" in path else path
        scope["raw_path"] = parsed.path
        scope["query_string"] = parsed.query or b""
        self._lane = []
        self.cycle = _LaneCycle()  # type: ignore[assignment]

    def on_body(self, body: bytes) -> None:
        if self._lane is None:
            super().on_body(body)
        else:
            self._lane.append(body)

    def on_message_complete(self) -> None:
        lane = self._lane
        if lane is None:
            super().on_message_complete()
            return
        self._lane = None
        self._message_done()
        cycle = self.cycle
        assert isinstance(cycle, _LaneCycle)
        # The scope now: a request pipelined behind this one replaces self.scope before it is answered.
        scope = cast(Scope, self.scope)
        body = b"".join(lane)
        if self.lane_shortcut is not None:
            try:
                if self.lane_shortcut(scope, body, functools.partial(self._reply, cycle)):
                    return
            except Exception:
                log.exception("lane request failed")
                self._reply(cycle, None)
                return
        task = self.loop.create_task(self._answer(cycle, scope, body))
        task.add_done_callback(self.tasks.discard)
        self.tasks.add(task)

    def _fits_lane(self) -> bool:
        cycle: object = self.cycle
        if self.pipeline or not getattr(cycle, "response_complete", True):
            return False
        if self.flow.write_paused or self.transport.is_closing() or self._refusal_pending:
            return False
        if self.limit_concurrency is not None or self.parser.get_http_version() != "1.1":
            return False
        if not self.parser.should_keep_alive() or self.parser.should_upgrade():
            return False
        length = -1
        for name, value in self.headers:
            if name in _NOT_FOR_LANE:
                return False
            if name == b"content-length":
                if length >= 0 or not value.isdigit():
                    return False
                length = int(value)
        if not 0 <= length <= MAX_LANE_BODY:
            return False
        return self.lane_match(self.parser.get_method(), self.url.partition(b"?")[0], self.headers)

    async def _answer(self, cycle: _LaneCycle, scope: Scope, body: bytes) -> None:
        """The ASGI app's answer."""
        response = _LaneResponse(self.server_state.default_headers)
        received = False

        async def receive() -> Message:
            nonlocal received
            if received:
                return {"type": "http.disconnect"}  # as uvicorn answers once the body is read
            received = True
            return {"type": "http.request", "body": body, "more_body": False}

        try:
            await self.lane_app(scope, receive, response.send)
        except Exception:
            log.exception("lane request failed")
            response.fail()
        self._write(cycle, response)

    def _reply(self, cycle: _LaneCycle, answer: LaneAnswer | None) -> None:
        """A shortcut's answer (None: it failed)."""
        if cycle.response_complete:
            log.error("lane request: a second answer to one request")
            return
        response = _LaneResponse(self.server_state.default_headers)
        if answer is None:
            response.fail()
        else:
            response.start(answer[0], answer[1])
            response.add(answer[2], more=False)
        self._write(cycle, response)

    def _write(self, cycle: _LaneCycle, response: _LaneResponse) -> None:
        transport = self.transport
        if not transport.is_closing() and not cycle.disconnected:
            if not cycle.keep_alive:  # the server is shutting down
                response.keep_alive = False
            transport.write(response.output())
            if not response.keep_alive:
                transport.close()
        cycle.response_complete = True
        self.on_response_complete()


class _LaneResponse:
    """Collects one small response's messages into bytes."""

    __slots__ = ("_chunks", "_default_headers", "_framed", "_head", "complete", "keep_alive")

    def __init__(self, default_headers: list[tuple[bytes, bytes]]) -> None:
        self._default_headers = default_headers
        self._head: list[bytes] = []
        self._chunks: list[bytes] = []
        self._framed = False  # the app gave a Content-Length
        self.complete = False
        self.keep_alive = True

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.start(int(message["status"]), message.get("headers", []))
        elif message["type"] == "http.response.body":
            self.add(message.get("body", b""), message.get("more_body", False))

    def start(self, status: int, headers: list[tuple[bytes, bytes]]) -> None:
        head = [b"HTTP/1.1 %d %s\r\n" % (status, _REASONS.get(status, b""))]
        for name, value in self._default_headers:
            head += [name, b": ", value, b"\r\n"]
        for name, value in headers:
            lowered = name.lower()
            if lowered == b"content-length":
                self._framed = True
            elif lowered == b"connection" and value.lower() == b"close":
                self.keep_alive = False
            head += [name, b": ", value, b"\r\n"]
        self._head = head

    def add(self, body: bytes, more: bool) -> None:
        self._chunks.append(body)
        if not more:
            self.complete = True

    def fail(self) -> None:
        """The app raised, or never finished its answer: a 500 in its place (nothing of it is
        on the wire yet, and a cut answer written with its own length would pass for whole),
        and the connection closes."""
        self._head = [b"HTTP/1.1 500 Internal Server Error\r\ncontent-type: text/plain; charset=utf-8\r\n"]
        self._chunks = [b"Internal Server Error"]
        self._framed = False
        self.complete = True
        self.keep_alive = False

    def output(self) -> bytes:
        if not self.complete:
            log.error("lane request: the app returned without finishing its answer")
            self.fail()
        body = b"".join(self._chunks)
        framing = b"" if self._framed else b"content-length: %d\r\n" % len(body)
        closing = b"" if self.keep_alive else b"connection: close\r\n"
        return b"".join(self._head) + framing + closing + b"\r\n" + body


def lane_protocol(base: type[GuardedHttpProtocol], match: LaneMatch, shortcut: Shortcut | None,
                  app: ASGIApp) -> type[LaneHttpProtocol]:
    """The protocol class uvicorn instantiates, with a lane for what `match` picks: answered
    by `shortcut`, or by `app` when the shortcut declines."""
    attributes: dict[str, object] = {"lane_match": staticmethod(match), "lane_app": app,
                                     "lane_shortcut": None if shortcut is None else staticmethod(shortcut)}
    return type(f"Lane{base.__name__}", (LaneHttpProtocol, base), attributes)
