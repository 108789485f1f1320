"""The edge's HTTP/1.1 protocol: the guarded uvicorn protocol, plus fresh hits answered in
the parser's headers-complete callback by HitPath, as one write per response, and misses
answered when their fetch lands (MissPath), as one write too.

A request takes the fast path only when nothing else is owed on the connection: no response
in progress or queued (pipelined requests keep their order through the ASGI queue), the
transport accepting writes (a client that does not read stops being answered here, so its
buffered answers stay bounded), HTTP/1.1 keep-alive, and no request body, Expect or Upgrade.
Everything else goes to the ASGI app, whose responses are also written once when small: the
head uvicorn writes first is held until the first body bytes (_HeldHead).

A miss gets uvicorn's request cycle as any request does (so that requests pipelined behind it
queue, and a lost connection or a stopping server is seen by it), but no ASGI task: when the
fetch lands, the answer is written and the cycle completed here, or the cycle's task is started
then with the app MissPath hands over.
"""

from __future__ import annotations

import asyncio
import logging
import time
from functools import partial
from typing import cast

import httptools
from uvicorn.protocols.http.httptools_impl import RequestResponseCycle

from strato.edge.delivery import ABORT
from strato.edge.hitpath import HitPath
from strato.edge.misspath import Miss
from strato.edge.proxy import FetchResult
from strato.edge.rules import DEFAULT_SITE
from strato.http.protocol import GuardedHttpProtocol
from strato.http.types import ASGIApp

log = logging.getLogger("strato.edge")
_BODY_OR_UPGRADE = frozenset({b"content-length", b"transfer-encoding", b"expect", b"upgrade"})


class EdgeHttpProtocol(GuardedHttpProtocol):
    hits: HitPath
    _answered = False  # the current request was answered by HitPath
    _fetching = False  # uvicorn is making the cycle of a miss, whose task is not started now

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._answered = False

    def on_headers_complete(self) -> None:
        response = self._answer_now()
        if isinstance(response, Miss):
            self._fetch(response)
            return
        if response is None:
            before = self.cycle
            super().on_headers_complete()
            if self.cycle is not before:
                _hold_heads(self.cycle)
            return
        self._answered = True
        self._head_done()
        self.transport.writelines(response)
        self.on_response_complete()

    def on_body(self, body: bytes) -> None:
        if not self._answered:
            super().on_body(body)

    def on_message_complete(self) -> None:
        if self._answered:
            self._message_done()
        else:
            super().on_message_complete()

    def _fetch(self, miss: Miss) -> None:
        self._fetching = True
        try:
            super().on_headers_complete()
        finally:
            self._fetching = False
        future = self.hits.misses.fetch(miss)
        future.add_done_callback(partial(self._fetched, self.cycle, miss))

    def _fetched(self, cycle: RequestResponseCycle, miss: Miss, future: asyncio.Future[FetchResult]) -> None:
        outcome = future.result()
        again = self.hits.misses.again(miss, outcome)
        if again is not None:
            again.add_done_callback(partial(self._fetched, cycle, miss))
            return
        try:
            wire = self.hits.misses.finish(miss, outcome, keep_alive=cycle.keep_alive)
        except Exception:  # the ASGI app answers it (a 500, logged by uvicorn, if it fails the same way)
            log.exception("answering a miss in the protocol failed")
            wire = None
        if wire is None:
            _hold_heads(cycle)
            self._start_asgi_task(cycle, self.hits.misses.handover(miss, outcome))
            return
        if cycle.disconnected:  # as uvicorn's send: nothing more once the client is gone
            return
        self.transport.writelines(wire)
        cycle.response_complete = True
        cycle.on_response()

    def _refuse(self, code: str, message: str) -> int:
        """The guarded protocol's 400 (a request it cannot parse, a head too long or too slow),
        logged as every answer is, as nginx logs its 400s: without the method and target it
        could not read."""
        sent = super()._refuse(code, message)
        proxy = self.hits.proxy
        proxy.observe(proxy.metrics.site(DEFAULT_SITE), self.client[0] if self.client else "", "-", b"-", 400, sent,
                      time.perf_counter())
        return sent

    def _start_asgi_task(self, cycle: RequestResponseCycle, app: ASGIApp) -> None:  # type: ignore[override]
        if not self._fetching:
            super()._start_asgi_task(cycle, app)  # type: ignore[arg-type]

    def _answer_now(self) -> list[bytes] | Miss | None:
        if self.pipeline or not getattr(self.cycle, "response_complete", True):
            return None
        if self.flow.write_paused or self.transport.is_closing() or self._refusal_pending:
            return None
        if self.limit_concurrency is not None:
            return None
        method = self.parser.get_method()
        if method not in (b"GET", b"HEAD") or self.parser.get_http_version() != "1.1":
            return None
        if not self.parser.should_keep_alive() or self.parser.should_upgrade():
            return None
        headers: dict[str, str] = {}
        for raw_name, raw_value in self.headers:
            if raw_name in _BODY_OR_UPGRADE:
                return None
            name, value = raw_name.decode("latin-1"), raw_value.decode("latin-1")
            if name not in headers:
                headers[name] = value
            elif name == "host":  # refused by the ASGI app (RFC 9112 3.2)
                return None
            else:
                headers[name] = f"{headers[name]},{value}"
        try:
            url = httptools.parse_url(self.url)
        except httptools.HttpParserInvalidURLError:
            return None
        client = self.client[0] if self.client else ""
        return self.hits.answer(method.decode("ascii"), url.path, url.query or b"", headers, client)


class _HeldHead:
    """The transport one ASGI request/response cycle writes to: uvicorn writes a response's
    head on http.response.start and its body on the next message; the head is held and goes
    out with the first body bytes, or when the response completes or the connection closes
    (a HEAD, a bodiless answer), so that a small response is one write, not two."""

    def __init__(self, transport: asyncio.Transport, cycle: RequestResponseCycle) -> None:
        self._transport = transport
        self._cycle = cycle
        self._held: bytes | None = None
        self._head_seen = False

    def write(self, data: bytes) -> None:
        if self._held is not None:
            data, self._held = self._held + data, None
        elif self._cycle.response_started and not self._head_seen:  # uvicorn's write of the head
            self._head_seen = True
            self._held = data
            return
        self._transport.write(data)

    def flush(self) -> None:
        if self._held is not None:
            held, self._held = self._held, None
            self._transport.write(held)

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def is_closing(self) -> bool:
        return self._transport.is_closing()


def _hold_heads(cycle: RequestResponseCycle) -> None:
    transport = _HeldHead(cycle.transport, cycle)
    completed = cycle.on_response

    def on_response() -> None:
        transport.flush()
        completed()

    cycle.transport = cast(asyncio.Transport, transport)
    cycle.on_response = on_response
    cast(dict[str, object], cycle.scope)[ABORT] = partial(_cut, cycle, transport)


def _cut(cycle: RequestResponseCycle, transport: _HeldHead) -> None:
    """End an answer that cannot be finished (its body failed once begun): what was sent goes,
    then the connection closes, so its client sees it cut short (RFC 9112 6.3, 8); uvicorn, told
    the client is gone, sends nothing more and logs no 'Exception in ASGI application'."""
    cycle.disconnected = True
    transport.close()


def edge_protocol(head_timeout: float, hits: HitPath) -> type[EdgeHttpProtocol]:
    """The protocol class uvicorn instantiates per connection, bound to one edge's HitPath."""
    return type("BoundEdgeHttpProtocol", (EdgeHttpProtocol,), {"head_timeout": head_timeout, "hits": hits})
