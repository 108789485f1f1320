"""Misses answered by the edge's HTTP protocol, outside ASGI, as fresh hits are (edge/hitpath.py).

A GET or HEAD that finds nothing stored joins the fetch in flight for its key, or leads one in
a task of its own (EdgeProxy.flight); its connection waits, with no ASGI task, scope or
messages. When the fetch lands, a response received whole in memory (a body with a declared
length up to MEMORY_OBJECT_MAX, the common small miss) is answered in one write, shaped by the
functions the ASGI path uses (EdgeProxy.fill_headers, delivery.plan_answer, delivery.in_memory),
counted and logged as it is. Whatever else a fetch produces (a body still arriving, an
uncacheable response, an origin error, an error page the distribution replaces) is handed to
the ASGI app together with the fetch's outcome (EdgeProxy.serving), which answers it as it
answers any miss, without fetching again.

A miss's states:
    FETCHING --outcome another variant's (Vary)--> FETCHING its own variant (once)
    FETCHING --outcome held whole in memory--> ANSWERED (one write)
    FETCHING --anything else, or the server stopping--> HANDED OVER (to the ASGI app)
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from strato.edge import heads, policy
from strato.edge.delivery import in_memory, plan_answer, too_many_requests
from strato.edge.proxy import EdgeProxy, FetchResult, own_variant
from strato.edge.response_fields import add_fields
from strato.edge.rules import Rules
from strato.edge.viewer import under_rules
from strato.http.types import ASGIApp


@dataclass(slots=True)
class Miss:
    """One request waiting for a fetch: `headers` are the client's fields, `forwarded` the
    ones that go to the origin and choose the stored variant; `key` its primary cache key."""

    method: str
    raw_target: bytes  # for its log line: metrics.logged_target
    headers: dict[str, str]
    forwarded: dict[str, str]
    key: str
    host: str
    target: str
    rules: Rules
    client: str
    started: float
    fwd: str  # why it goes forward (RFC 9211 2.2): uri-miss, or vary-miss when other variants are stored
    variant: str | None = None  # set once a fetch it joined was another variant's: its own is awaited
    collapsed: bool = False  # its fetch is another request's (RFC 9211 2.6)


class MissPath:
    def __init__(self, proxy: EdgeProxy) -> None:
        self.proxy = proxy

    def begin(self, miss: Miss) -> Miss | list[bytes] | None:
        """The miss, holding one of its client's concurrent request slots until `finish`; the
        answer to a rate-limited client; or None to let the ASGI app answer (only-if-cached
        with nothing stored, the client's slots all taken)."""
        if "cache-control" in miss.forwarded and policy.decide(
            miss.forwarded, None, time.time()
        ) is not policy.Action.FETCH:
            return None
        limited = refusal(self.proxy, miss.rules, miss.client, miss.method, miss.raw_target, miss.started,
                          miss.headers)
        if limited is not None:
            return limited
        if not self.proxy.connections.acquire(miss.client):
            return None
        return miss

    def fetch(self, miss: Miss) -> asyncio.Future[FetchResult]:
        """The fetch for the miss, joined or started."""
        future, miss.collapsed = self.proxy.flight(miss.key, miss.host, miss.target, miss.forwarded, miss.rules,
                                                   miss.client)
        return future

    def again(self, miss: Miss, outcome: FetchResult) -> asyncio.Future[FetchResult] | None:
        """The fetch of the miss's own variant when `outcome` is another's (the miss joined a
        fetch before its response's Vary was known, RFC 9111 4.1); None when `outcome` answers it."""
        if miss.variant is not None:
            return None
        miss.variant = own_variant(outcome, miss.forwarded)
        if miss.variant is None:
            return None
        future, miss.collapsed = self.proxy.flight(miss.key, miss.host, miss.target, miss.forwarded, miss.rules,
                                                   miss.client, miss.variant)
        return future

    def finish(self, miss: Miss, outcome: FetchResult, *, keep_alive: bool = True) -> list[bytes] | None:
        """The whole answer (buffers for one writev), or None to hand it over. `keep_alive`
        False: the server is stopping, and the ASGI app's answer says it closes the connection."""
        proxy = self.proxy
        proxy.connections.release(miss.client)
        fill, meta = outcome.fill, outcome.meta
        whole = fill.body() if fill is not None else None
        if (not keep_alive or fill is None or whole is None or meta is None
                or miss.rules.error_page(meta.status) is not None):
            return None
        fields = proxy.fill_headers(meta, fill, miss.fwd, miss.collapsed)
        planned = plan_answer(miss.headers, miss.method, meta.status, fields, len(whole), miss.rules.compress)
        answer, compressed = in_memory(planned, whole, proxy.store.copies(meta))
        # The response headers policy's fields go on the answer as planned, as the ASGI app adds them.
        add_fields(answer.headers, miss.rules.response.chosen(miss.headers, miss.method))
        head = heads.head(answer)
        if head is None:
            return None
        body = [part for part in answer.body or () if isinstance(part, bytes)]
        site = proxy.metrics.site(miss.rules.site)
        if compressed:
            site.compressions += 1
        proxy.observe(site, miss.client, miss.method, miss.raw_target, answer.status, sum(map(len, body)), miss.started)
        return [head, *body]

    def handover(self, miss: Miss, outcome: FetchResult) -> ASGIApp:
        """The ASGI app that answers the miss from its fetch's outcome (an error the
        distribution has a page for replaced by it, as for any request, edge/viewer.py)."""
        app = self.proxy.serving(outcome, miss.host, miss.target, miss.forwarded, miss.rules, miss.started, miss.fwd,
                                 miss.collapsed)
        return under_rules(app, self.proxy, miss.rules)


def refusal(
    proxy: EdgeProxy, rules: Rules, client: str, method: str, raw_target: bytes, started: float,
    headers: dict[str, str],
) -> list[bytes] | None:
    """RFC 6585 4: the 429 a rate-limited client gets, counted and logged, with the response
    headers policy's fields for the request (`headers`), as the ASGI app's 429 has them; None when
    the limiter (if any) lets the request through."""
    if proxy.limiter is None:
        return None
    wait = proxy.limiter.check(client, time.time())
    if wait <= 0:
        return None
    limited = too_many_requests(wait)
    add_fields(limited.headers, rules.response.chosen(headers, method))
    head = heads.head(limited)
    assert head is not None, "the edge's own fields and a policy's (checked when it is made) are valid"
    if method == "HEAD" or limited.body is None:
        wire, sent = [head], 0
    else:
        wire, sent = [head, *(part for part in limited.body if isinstance(part, bytes))], heads.body_length(limited)
    proxy.observe(proxy.metrics.site(rules.site), client, method, raw_target, 429, sent, started)
    return wire
