"""The edge's ASGI app: a caching reverse proxy (RFC 9111) in front of one origin.

GET and HEAD are answered from the cache when the pure policy (policy.decide) allows it;
otherwise one fetch per key goes to the origin (collapse.Flights) and every waiting request
streams the body from its Fill as it arrives. Other methods pass through and invalidate
what they change (RFC 9111 §4.4). Responses carry Age, Via and Cache-Status (RFC 9211).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from strato.digits import is_digits
from strato.edge import cachekey, policy
from strato.edge.cloudfront_fields import viewer_of
from strato.edge.collapse import Fill, FillState, Flights
from strato.edge.delivery import (
    ABORT,
    VIA,
    Answer,
    compressed,
    deliver,
    encoded_fields,
    negotiate,
    plain,
    respond,
    send_answer,
    send_bodiless,
    too_many_requests,
)
from strato.edge.entry import Entry
from strato.edge.metrics import OBSERVED, EdgeMetrics, Observed, SiteMetrics, logged_target
from strato.edge.origins import Origin, OriginResponse
from strato.edge.ratelimit import ConnectionLimiter, RateLimiter
from strato.edge.response_fields import Fields, add_fields
from strato.edge.rules import (
    OPEN,
    Rules,
    RuleSource,
    edge_target,
    flight_key,
    forwarded_headers,
    freshened_expiration,
    key_target,
    keyed_fields,
    method_not_allowed,
    refused_signature,
    stored_fields,
)
from strato.edge.store import MEMORY_OBJECT_MAX, EdgeStore
from strato.http import bodies
from strato.http.conditionals import format_http_date
from strato.http.request import MalformedRequest, Request
from strato.http.types import ASGIApp, Receive, Scope, Send, client_host

log = logging.getLogger("strato.edge")
MAX_TARGET = 8192  # RFC 9112 3: at least 8000 octets of request-line should be supported
_SERVE_STORED = (policy.Action.FRESH, policy.Action.STALE, policy.Action.STALE_WHILE_REVALIDATE)
# What an access log line writes as \xXX, as nginx does: `"` and `\` (which would end or escape
# its quoted request field) and the bytes outside printable ASCII.
_LOG_ESCAPES = {code: f"\\x{code:02X}" for code in (*range(0x20), 0x22, 0x5C, *range(0x7F, 0x100))}
# A body read by byte range: (start, end or None for "to the end") -> chunks.
BodyRange = Callable[[int, int | None], AsyncIterator[bytes]]


@dataclass(slots=True)
class FetchResult:
    """What a flight to the origin produced, for everyone who waited on it.

    `entry` set: serve that stored entry (fresh, freshened by a 304, or stale on error).
    `fill` set: a new cacheable body, streaming in. `passed` set: an uncacheable response
    only its first claimant may use (the others fetch for themselves). `error`: the origin failed.
    """

    entry: Entry | None = None
    fill: Fill | None = None
    meta: Entry | None = None
    passed: OriginResponse | None = None
    error: BaseException | None = None
    detail: str = ""
    status: int | None = None  # what the origin answered when `entry` is served: 304, or an error (stale-if-error)
    claimed: bool = field(default=False)

    def claim(self) -> OriginResponse | None:
        if self.claimed:
            return None
        self.claimed = True
        return self.passed


class EdgeProxy:
    def __init__(
        self, origin: Origin, store: EdgeStore, *, limiter: RateLimiter | None = None, name: str = "strato",
        max_concurrent_per_client: int = 256, access_log: logging.Logger | None = None,
        rules: RuleSource | None = None,
    ) -> None:
        self.origin = origin
        self.rule_source = rules
        self.store = store
        self.limiter = limiter
        self.connections = ConnectionLimiter(max_concurrent_per_client)
        self.access_log = access_log
        self.name = name
        self.flights: Flights[FetchResult] = Flights()
        self.metrics = SiteMetrics()
        self._background: set[asyncio.Future[Any]] = set()

    def rules_for(self, host: str, path: str) -> Rules:
        """What the site's configuration asks for this request (OPEN on a standalone edge)."""
        return OPEN if self.rule_source is None else self.rule_source.rules(host, path)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        raw_path: bytes = scope.get("raw_path") or scope["path"].encode()
        rules = self.rules_for(_host(scope), raw_path.partition(b"?")[0].decode("latin-1"))
        await self.answer(scope, receive, send, rules)

    async def answer(self, scope: Scope, receive: Receive, send: Send, rules: Rules, *,
                     rate_checked: bool = False) -> None:
        """An HTTP request whose behaviour's `rules` are already known (edge/viewer.py);
        `rate_checked`: its client's rate was checked already (and let it through)."""
        await self._answering(scope, send, rules,
                              lambda observed: self._handle(scope, receive, observed, rules, rate_checked))

    def rate_refusal(self, client: str) -> Answer | None:
        """RFC 6585 4: the 429 for a client past its rate (None: it may go on; each call spends
        one of its tokens)."""
        if self.limiter is None:
            return None
        wait = self.limiter.check(client, time.time())
        return too_many_requests(wait) if wait > 0 else None

    def serving(
        self, outcome: FetchResult, host: str, target: str, headers: dict[str, str], rules: Rules, started: float,
        fwd: str, collapsed: bool,
    ) -> ASGIApp:
        """An ASGI app answering a GET or HEAD whose fetch is already made (`headers`: its fields
        as forwarded; `started`: when the request came, for its log line; `fwd` and `collapsed`:
        as `_serve_outcome`'s): what edge/misspath.py hands over when it cannot answer at once."""
        async def app(scope: Scope, receive: Receive, send: Send) -> None:
            async def handle(observed: Send) -> None:
                request = Request.from_scope(scope, receive)
                await self._serve_outcome(request, host, target, headers, outcome, None, fwd, collapsed, observed,
                                          self.metrics.site(rules.site), rules.compress)

            await self._answering(scope, send, rules, handle, started)

        return app

    async def _answering(
        self, scope: Scope, send: Send, rules: Rules, handle: Callable[[Send], Awaitable[None]],
        started: float | None = None,
    ) -> None:
        """One request's answer through ASGI, within its client's concurrency limit, counted and
        logged (by the app wrapping it instead, when the scope holds its OBSERVED)."""
        started = time.perf_counter() if started is None else started
        outer: Observed | None = scope.get(OBSERVED)
        if outer is not None:
            outer.started = min(outer.started, started)
        answer = Observed(started)
        observed = answer.counting(send, head=scope["method"] == "HEAD")
        client = client_host(scope)
        acquired = self.connections.acquire(client)
        try:
            if acquired:
                await handle(observed)
            else:
                await plain(observed, 503, "too many concurrent requests from this client", scope["method"])
        except (ConnectionError, TimeoutError) as exc:  # the origin's body failed: the answer is cut short
            cut: Callable[[], None] | None = scope.get(ABORT)
            if not answer.status or cut is None:
                raise
            log.warning("answer to %s %s cut short: %r", scope["method"], scope["path"], exc)
            cut()
        finally:
            if acquired:
                self.connections.release(client)
            if outer is None:
                self.observe_answer(scope, rules, answer)

    def observe_answer(self, scope: Scope, rules: Rules | None, answer: Observed) -> None:
        """`observe` for an answer through ASGI, from its request's scope (`rules` None: an
        answer of the edge's own paths, edge/admin.py)."""
        raw_path: bytes = scope.get("raw_path") or scope["path"].encode()
        self.observe(None if rules is None else self.metrics.site(rules.site), client_host(scope), scope["method"],
                     logged_target(raw_path, scope.get("query_string", b"")), answer.status, answer.sent,
                     answer.started)

    def observe(
        self, site: EdgeMetrics | None, client: str, method: str, raw_target: bytes, status: int, sent: int,
        started: float,
    ) -> None:
        """Bytes served (by the site, None for none) and the access log line, for every answer
        (ASGI or HitPath); `raw_target`: metrics.logged_target."""
        if site is not None:
            site.bytes_served += sent
        if self.access_log is not None:
            self.access_log.info(
                '%s "%s %s" %d %d %.1fms', client, method.translate(_LOG_ESCAPES),
                raw_target.decode("latin-1").translate(_LOG_ESCAPES), status, sent,
                (time.perf_counter() - started) * 1000,
            )

    async def _handle(self, scope: Scope, receive: Receive, send: Send, rules: Rules, rate_checked: bool) -> None:
        try:
            request = Request.from_scope(scope, receive)
        except MalformedRequest:
            await plain(send, 400, "malformed request", scope.get("method", "GET"))
            return
        limited = None if rate_checked else self.rate_refusal(request.client)
        if limited is not None:
            await send_answer(send, limited)
            return
        host = request.headers.get("host", "")
        target = request.raw_path.decode("latin-1")
        if request.raw_query:
            target += "?" + request.raw_query.decode("latin-1")
        if len(target) > MAX_TARGET:
            await plain(send, 414, "URI too long", request.method)
            return
        if rules.allowed_methods is not None and request.method not in rules.allowed_methods:
            await send_answer(send, method_not_allowed(request.method))
            return
        if rules.signatures is not None:
            reason = rules.signatures.refusal(f"{request.scheme}://{host}{target}", time.time(), request.client,
                                              request.headers.get("cookie"))
            if reason is not None:
                log.info("refused %s %s: %s", request.method, target, reason)
                await send_answer(send, refused_signature(reason, request.method))
                return
        target = edge_target(rules, target)
        viewer = viewer_of(scope) if rules.computes_fields else None  # built only where a field needs it
        forwarded = forwarded_headers(rules, request.headers, request.method, viewer)
        if scope.get("http_version") == "1.0" and "accept-encoding" in request.headers:
            # RFC 9112 6.1: no chunked framing for HTTP/1.0, and a body compressed as it streams
            # has no length to send instead: answered as a request accepting no coding, whose
            # Vary still names Accept-Encoding (nginx's gzip_http_version 1.1 with gzip_vary).
            request = replace(request, headers={
                name: value for name, value in request.headers.items() if name != "accept-encoding"})
        if request.method in ("GET", "HEAD") or (request.method == "OPTIONS" and rules.cache_options):
            if rules.cache:
                await self._cacheable(request, host, target, forwarded, send, rules)
            else:  # Headers `*`, CachingDisabled: asked of the origin every time, never stored
                await self._pass_through(request, host, target, forwarded, send, rules, "fwd=bypass")
        else:
            await self._pass_through(request, host, target, forwarded, send, rules)

    # -- GET and HEAD -----------------------------------------------------------------------

    async def _cacheable(
        self, request: Request, host: str, target: str, headers: dict[str, str], send: Send, rules: Rules,
    ) -> None:
        """A GET or HEAD (or an OPTIONS the behaviour caches): `headers` are the request's fields as
        forwarded to the origin, which also choose the stored variant; the answer is shaped by the
        client's own (conditionals, ranges, Accept-Encoding)."""
        site = self.metrics.site(rules.site)
        key = cachekey.primary_key(request.method, host, key_target(rules, target))
        entry = self.store.lookup(key, headers)
        now = time.time()
        action = policy.decide(headers, entry.stored() if entry else None, now)
        if entry is not None and action in _SERVE_STORED and rules.due(entry.response_time, now):
            action = policy.recheck(headers)
        if action is policy.Action.GATEWAY_TIMEOUT:
            await plain(send, 504, "only-if-cached, and nothing usable is cached", request.method)
            return
        if entry is not None and action in _SERVE_STORED:
            self.store.hit(entry)
            site.hits += 1
            if action is not policy.Action.FRESH:
                site.stale += 1
            if action is policy.Action.STALE_WHILE_REVALIDATE:
                self._revalidate_in_background(key, host, target, headers, entry, rules, request.client)
            detail = "" if action is policy.Action.FRESH else "stale"
            try:
                await self._serve_entry(request, entry, send, site, detail=detail, compress=rules.compress)
                return
            except FileNotFoundError:  # evicted since the lookup (before anything was sent)
                entry, action = None, policy.Action.FETCH
        fwd = policy.forward_reason(entry.stored() if entry is not None else None, now,
                                    varied=entry is None and self.store.has_variants(key))
        outcome, collapsed = await self._flight(key, host, target, headers, entry, rules, request.client)
        await self._serve_outcome(request, host, target, headers, outcome, entry, fwd, collapsed, send, site,
                                  rules.compress)

    async def _serve_outcome(
        self, request: Request, host: str, target: str, headers: dict[str, str], outcome: FetchResult,
        stale: Entry | None, fwd: str, collapsed: bool, send: Send, site: EdgeMetrics, compress: tuple[str, ...],
    ) -> None:
        """For its Cache-Status: `fwd`, why the request went forward (RFC 9211 2.2); `collapsed`,
        whether it shared another request's fetch (2.6)."""
        if outcome.entry is not None:  # validated by a 304 (RFC 9211 2.3), or stale on an origin error
            # Unless purged or evicted while the origin was asked (its body file may outlive it a
            # while), or made private by a 304 to the request that led the validation.
            mine = not collapsed or not policy.answers_one_request(outcome.entry.headers)
            if mine and self.store.holds(outcome.entry):
                try:
                    await self._serve_entry(request, outcome.entry, send, site, fwd=fwd, fwd_status=outcome.status,
                                            collapsed=collapsed, detail=outcome.detail, compress=compress)
                    return
                except FileNotFoundError:  # gone since (nothing sent yet)
                    pass
            try:
                own = await self._fetch_plain(request, host, target, headers, site)
            except Exception as exc:
                log.warning("origin fetch for %s failed: %r", target, exc)
                await plain(send, 502, "the origin could not be reached", request.method)
                return
            await self._relay(request, own, send, f"fwd={fwd}", site, compress)
            return
        if outcome.fill is not None and outcome.meta is not None:
            await self._serve_fill(request, outcome.meta, outcome.fill, fwd, collapsed, send, site, compress)
            return
        if outcome.passed is not None:
            response = outcome.claim()
            if response is not None and response.status == 200 and not policy.CLIENT_ONLY.isdisjoint(headers):
                # The whole response, asked for the cache: this client's range or preconditions
                # are answered from it when it is in memory, else asked of the origin.
                if response.whole is not None:
                    await self._answer_whole(request, response.headers, response.whole, send, f"fwd={fwd}", site,
                                             compress)
                    return
                response.release()
                response = None
            if response is None:  # someone else took the uncacheable response: fetch our own
                response = await self._fetch_plain(request, host, target, headers, site)
            await self._relay(request, response, send, f"fwd={fwd}", site, compress)
            return
        if stale is not None and policy.can_serve_stale_on_error(request.headers, stale.stored(), time.time()):
            with contextlib.suppress(FileNotFoundError):  # else purged or evicted meanwhile: the error stands
                await self._serve_entry(request, stale, send, site, fwd=fwd, collapsed=collapsed,
                                        detail="stale-if-error", compress=compress)
                return
        status = 504 if isinstance(outcome.error, asyncio.TimeoutError | TimeoutError) else 502
        await plain(send, status, "the origin could not be reached", request.method)

    async def _flight(
        self, key: str, host: str, target: str, headers: dict[str, str], stale: Entry | None, rules: Rules,
        client: str,
    ) -> tuple[FetchResult, bool]:
        """Join the fetch in flight for `key` and the variant the behaviour keys on (shielded: a
        waiter's cancellation is its own), or lead a new one in this request's task; and whether
        the request was collapsed into another's (RFC 9211 2.6); `client`: the viewer asking. A
        joined fetch whose response turns out to be another variant's (RFC 9111 4.1: its Vary was
        not known when this request joined) is followed by this request's variant's own fetch."""
        flight = flight_key(rules, key, headers)
        future = self.flights.join(flight)
        if future is not None:
            result = await asyncio.shield(future)
            variant = own_variant(result, headers)
            if variant is None:
                return result, True
            flight = flight_key(rules, key, headers, variant)
            future = self.flights.join(flight)
            if future is not None:
                return await asyncio.shield(future), True
        future = self.flights.lead(flight)
        return await self._lead(key, flight, host, target, headers, stale, rules, future, client), False

    def flight(
        self, key: str, host: str, target: str, headers: dict[str, str], rules: Rules, client: str,
        variant: str | None = None,
    ) -> tuple[asyncio.Future[FetchResult], bool]:
        """The fetch in flight for `key` and the variant the behaviour keys on, joined (True), or
        led by a task of its own: for a request answered outside ASGI (edge/misspath.py).
        `variant`: the request's own (`own_variant`), once a fetch it joined was another's."""
        flight = flight_key(rules, key, headers, variant)
        future = self.flights.join(flight)
        if future is not None:
            return future, True
        future = self.flights.lead(flight)
        self._keep(asyncio.ensure_future(self._lead(key, flight, host, target, headers, None, rules, future, client)))
        return future, False

    def _keep(self, task: asyncio.Future[Any]) -> None:
        """A task that outlives the request that started it, held until it ends."""
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _lead(
        self, key: str, flight: str, host: str, target: str, headers: dict[str, str], stale: Entry | None,
        rules: Rules, future: asyncio.Future[FetchResult], client: str,
    ) -> FetchResult:
        """Fetch for everyone waiting on `future`. It runs in the leading request's task, which
        no client going away cancels (the ASGI server only marks the request disconnected); a
        body still arriving is pumped by a task of its own, whatever the leader's client does.
        The flight stays registered until its body is complete, so requests arriving while it
        streams in join it rather than fetching again."""
        pumping = False
        try:
            result, response = await self._fetch_for_cache(key, host, target, headers, stale, rules, client)
            if response is not None and result.fill is not None and result.meta is not None:
                if result.fill.state is FillState.COMPLETE:  # arrived whole: stored before anyone reads it
                    self._store_fill(result.meta, result.fill)
                else:
                    self._keep(asyncio.ensure_future(
                        self._pump_and_land(response, result.meta, result.fill, flight, future)))
                    pumping = True
        except Exception as exc:  # the origin failed: every waiter decides (stale or 502)
            log.warning("origin fetch for %s failed: %r", target, exc)
            result = FetchResult(error=exc)
        except BaseException as exc:  # cancelled (the server stopping): the waiters hear of it
            future.set_result(FetchResult(error=exc))
            self.flights.land(flight, future)
            raise
        future.set_result(result)
        if not pumping:
            self.flights.land(flight, future)
        return result

    async def _pump_and_land(
        self, response: OriginResponse, meta: Entry, fill: Fill, key: str, future: asyncio.Future[FetchResult],
    ) -> None:
        try:
            await self._pump(response, meta, fill)
        finally:
            self.flights.land(key, future)

    async def _fetch_for_cache(
        self, key: str, host: str, target: str, headers: dict[str, str], stale: Entry | None, rules: Rules,
        client: str,
    ) -> tuple[FetchResult, OriginResponse | None]:
        """The origin's answer for the cache, and the response whose body is still to pump. A
        behaviour's TTLs become the stored response's CDN-Cache-Control (rules.expiration); the
        variant is told apart by Vary and the fields the behaviour keys on (rules.keyed_fields).
        An OPTIONS is cached only where the behaviour asks for it, as CloudFront does (RFC 9110
        9.3.7 has OPTIONS answers uncacheable), so it is stored by the rules of a GET. The origin is
        asked for the whole response, unconditionally (policy.CLIENT_ONLY: the client's ranges and
        preconditions are answered from it here, as nginx's proxy_cache and Varnish do), so that a
        range or a revalidation on a miss fills the cache; a stale entry's own validators go instead."""
        site = self.metrics.site(rules.site)
        asked = headers if policy.CLIENT_ONLY.isdisjoint(headers) else {
            name: value for name, value in headers.items() if name not in policy.CLIENT_ONLY}
        forward = self._origin_headers(asked, client)
        conditional = policy.conditional_request(forward, stale.stored()) if stale is not None else None
        if conditional is not None:
            forward = conditional
            site.revalidations += 1
        request_time = time.time()
        response = await self._counted_fetch(site, "OPTIONS" if key.startswith("OPTIONS ") else "GET", target,
                                             forward, host=host)
        response_time = time.time()
        if stale is not None and conditional is not None and response.status == 304:
            # RFC 9111 4.3.3: a 304 to the cache's own conditional request says the stored response
            # can be reused; 4.3.4 decides whether it is also freshened (a 304 without the stored
            # validator is not applied to it, but it is no answer for a client that asked for none),
            # unless the request was no-store (5.2.1.5).
            response.release()
            if policy.selects(stale.headers, response.headers) and not policy.request_forbids_storing(headers):
                merged = policy.freshened_headers(stale.headers, response.headers)
                if rules.ttls is not None:
                    merged = freshened_expiration(merged, response.headers, stale.status, rules.ttls, response_time)
                self.store.freshen(stale, merged, request_time, response_time)
            return FetchResult(entry=stale, status=304), None
        if stale is not None and response.status >= 500 and policy.can_serve_stale_on_error(
            headers, stale.stored(), response_time
        ):
            response.release()
            return FetchResult(entry=stale, detail="stale-if-error", status=response.status), None
        if stale is not None and response.status < 500:
            # RFC 9111 4.3.3: a full response answers in place of the stored one, which is not served
            # again, stale (a client's max-stale) or not: the origin refused it (a bucket made
            # private), has lost it, or has another.
            self.store.forget(stale)
        site.misses += 1
        fields = keyed_fields(rules, cachekey.vary_fields(response.headers))
        kept = stored_fields(rules, response.headers, response.status, response_time)
        if fields is None or not policy.is_storable("GET", response.status, asked, kept):
            return FetchResult(passed=response), None
        meta = Entry(
            key=key, variant=cachekey.secondary_key(fields, headers), vary=fields, host=host, target=target,
            status=response.status, headers=policy.end_to_end(kept), request_time=request_time,
            response_time=response_time, size=0,
        )
        declared = _declared_length(response.headers)
        if declared is not None and not self.store.fits(declared):  # never kept: not written to disk either
            return FetchResult(passed=response), None
        if response.whole is not None and len(response.whole) <= MEMORY_OBJECT_MAX:
            return FetchResult(fill=Fill.whole(response.whole), meta=meta), response
        small = declared is not None and declared <= MEMORY_OBJECT_MAX
        try:
            fill = Fill(None if small else self.store.body_path(meta.name), keep_in_memory_up_to=MEMORY_OBJECT_MAX)
        except OSError as exc:  # no file for the body (the cache directory gone, no descriptors left): not stored
            log.warning("edge cache cannot take the body of %s: %r", target, exc)
            return FetchResult(passed=response), None
        return FetchResult(fill=fill, meta=meta), response

    async def _pump(self, response: OriginResponse, meta: Entry, fill: Fill) -> None:
        """Origin body -> Fill -> (complete) the store. Runs whatever the clients do."""
        try:
            async for chunk in response.body:
                fill.append(chunk)
        except Exception as exc:
            log.warning("origin body for %s failed: %r", meta.target, exc)
            fill.fail(exc)
            return
        self._complete(response, meta, fill)

    def _complete(self, response: OriginResponse, meta: Entry, fill: Fill) -> None:
        """The body is all here: complete the fill and store the entry, or fail the fill if
        the body is not what the origin declared."""
        try:
            declared = _declared_length(response.headers)
            if declared is not None and declared != fill.written:
                raise ConnectionError(f"origin sent {fill.written} of {response.headers['content-length']} bytes")
            fill.complete()
        except Exception as exc:
            log.warning("origin body for %s failed: %r", meta.target, exc)
            fill.fail(exc)
            return
        self._store_fill(meta, fill)

    def _store_fill(self, meta: Entry, fill: Fill) -> None:
        """A complete fill becomes the stored entry (the answers already given stand if it cannot)."""
        meta.size = fill.written
        try:
            self.store.commit(meta, fill.body(), written=fill.on_disk)
        except Exception as exc:
            log.warning("storing %s failed: %r", meta.target, exc)

    def _revalidate_in_background(
        self, key: str, host: str, target: str, headers: dict[str, str], entry: Entry, rules: Rules, client: str,
    ) -> None:
        """RFC 5861 §3: serve the stale response now, refresh it for the next request."""
        if self.flights.join(flight_key(rules, key, headers)) is not None:
            return

        async def refresh() -> None:
            outcome, _ = await self._flight(key, host, target, headers, entry, rules, client)
            response = outcome.claim() if outcome.passed is not None else None
            if response is not None:
                response.release()

        self._keep(asyncio.ensure_future(refresh()))

    # -- serving ----------------------------------------------------------------------------

    def response_headers(
        self, stored: dict[str, str], age: str, status_text: str, now: float, added: Fields = (),
    ) -> dict[str, str]:
        """A stored response's outgoing fields, with this answer's Date (if it had none), Age,
        Via and Cache-Status (RFC 9111 5.1, RFC 9211), and a response headers policy's `added`
        fields (for the hit path; the ASGI app's answers get them in edge/viewer.py)."""
        headers = policy.outgoing_response_headers(stored)
        if "date" not in headers:
            headers["date"] = format_http_date(now)
        headers["age"] = age
        _add_via(headers)
        headers["cache-status"] = status_text
        add_fields(headers, added)
        return headers

    async def _serve_entry(
        self, request: Request, entry: Entry, send: Send, site: EdgeMetrics, *, fwd: str | None = None,
        fwd_status: int | None = None, collapsed: bool = False, detail: str, compress: tuple[str, ...],
    ) -> None:
        """A stored response: a hit, or one the request went forward for (`fwd`: why; `fwd_status`:
        what the origin answered, when it did; `collapsed`: in another request's fetch)."""
        now = time.time()
        stored = entry.stored()
        status_text = policy.cache_status(
            fwd is None, fwd=fwd, fwd_status=fwd_status, ttl=policy.remaining_ttl(stored, now), detail=detail or None,
            name=self.name, collapsed=collapsed or None,
        )
        headers = self.response_headers(entry.headers, policy.age_field(stored, now), status_text, now)
        body = await self.store.open(entry)
        if await deliver(request, entry.status, headers, entry.size, body.read, send, body.whole,
                         self.store.copies(entry), compress=compress):
            site.compressions += 1

    def fill_headers(self, meta: Entry, fill: Fill, fwd: str, collapsed: bool) -> dict[str, str]:
        """The outgoing fields of a response stored as it arrives (`fwd`: why the request went
        forward; `collapsed`: in another request's fetch). Its Age is the age it arrived with
        (RFC 9111 4.2.3: the origin's Age plus the response delay, or its apparent age): 5.1 has
        a cache send its estimate, never a younger one than the origin's. RFC 9211 2.5: `stored`
        while it arrives, and once complete only if the store took it (not after a purge since
        it was asked for, nor with the disk writer too far behind)."""
        now = time.time()
        stored = fill.state is FillState.RECEIVING or self.store.holds(meta)
        status_text = policy.cache_status(False, fwd=fwd, stored=stored or None, collapsed=collapsed or None,
                                          name=self.name)
        return self.response_headers(meta.headers, policy.age_field(meta.stored(), now), status_text, now)

    async def _serve_fill(
        self, request: Request, meta: Entry, fill: Fill, fwd: str, collapsed: bool, send: Send, site: EdgeMetrics,
        compress: tuple[str, ...],
    ) -> None:
        headers = self.fill_headers(meta, fill, fwd, collapsed)
        size = _declared_length(meta.headers)
        whole = fill.body()
        copies = self.store.copies(meta) if whole is not None else None  # only a complete body is compressed whole
        if await deliver(request, meta.status, headers, len(whole) if whole is not None else size, fill.read, send,
                         whole, copies, compress=compress):
            site.compressions += 1

    # -- everything else ----------------------------------------------------------------------

    def _origin_headers(self, headers: dict[str, str], client: str = "", *, body: bool = False) -> dict[str, str]:
        """A request's fields as they go to the origin. One sent without the client's body (`body`
        False: a GET or HEAD the edge asks for) goes without its Content-Length too (RFC 9112 6.2),
        else the origin would wait for a body that never comes."""
        forward = policy.end_to_end(headers)
        forward.pop("host", None)
        if not body:
            forward.pop("content-length", None)
        _add_via(forward)
        if client:
            prior = forward.get("x-forwarded-for")
            forward["x-forwarded-for"] = f"{prior}, {client}" if prior else client
        return forward

    async def _counted_fetch(self, site: EdgeMetrics, method: str, target: str, headers: dict[str, str],
                             body: AsyncIterator[bytes] | None = None, *, host: str) -> OriginResponse:
        """The origin's response, counted for the site as every request sent to the origin is: a
        fetch and the time to its response's head, or an origin error."""
        started = time.perf_counter()
        try:
            response = await self.origin.fetch(method, target, headers, body, host=host)
        except Exception:
            site.origin_errors += 1
            raise
        site.origin_fetches += 1
        site.origin_seconds += time.perf_counter() - started
        return response

    async def _fetch_plain(self, request: Request, host: str, target: str, headers: dict[str, str],
                           site: EdgeMetrics) -> OriginResponse:
        return await self._counted_fetch(site, request.method if request.method != "HEAD" else "GET", target,
                                         self._origin_headers(headers, request.client), host=host)

    async def _pass_through(
        self, request: Request, host: str, target: str, headers: dict[str, str], send: Send, rules: Rules,
        status_text: str = "fwd=method",
    ) -> None:
        """Unsafe (and unknown) methods go to the origin as they are; a success invalidates
        the target URI and its Location / Content-Location (RFC 9111 §4.4)."""
        length = request.content_length()
        body = None
        if length or "transfer-encoding" in request.headers:
            body = bodies.stream(request.receive, length)
        site = self.metrics.site(rules.site)
        try:
            forward = self._origin_headers(headers, request.client, body=True)
            response = await self._counted_fetch(site, request.method, target, forward, body,
                                                 host=host)
        except Exception as exc:
            log.warning("origin %s %s failed: %r", request.method, target, exc)
            await plain(send, 502, "the origin could not be reached", request.method)
            return
        if policy.invalidates(request.method, response.status):
            for key in policy.invalidation_targets(host, target, response.headers):
                self.store.invalidate(key)
        await self._relay(request, response, send, status_text, site, rules.compress)

    def _relayed_headers(self, headers: Mapping[str, str], status_text: str) -> dict[str, str]:
        """An origin response's outgoing fields as the edge passes it on."""
        relayed = policy.outgoing_response_headers(headers)
        if "date" not in relayed:  # RFC 9110 6.6.1: the time it was received
            relayed["date"] = format_http_date(time.time())
        _add_via(relayed)
        relayed["cache-status"] = f"{self.name}; {status_text}"
        return relayed

    async def _answer_whole(self, request: Request, headers: Mapping[str, str], whole: bytes, send: Send,
                            status_text: str, site: EdgeMetrics, compress: tuple[str, ...]) -> None:
        """A 200 the edge does not store, whole in memory, answered as the client asked (its range,
        its preconditions, its codings)."""
        async def read(start: int, end: int | None) -> AsyncIterator[bytes]:
            yield whole[start:end]

        if await deliver(request, 200, self._relayed_headers(headers, status_text), len(whole), read, send, whole,
                         compress=compress):
            site.compressions += 1

    async def _relay(self, request: Request, response: OriginResponse, send: Send, status_text: str,
                     site: EdgeMetrics, compress: tuple[str, ...]) -> None:
        """An origin's answer passed on as it comes (the origin answered the request's own ranges and
        preconditions), compressed for a client that accepts a coding of `compress` when its length is
        declared, as CloudFront compresses (ServingCompressedFiles.html): one streamed without it (a
        feed of events or tokens) comes as each piece arrives, never held back by a compressor."""
        headers = self._relayed_headers(response.headers, status_text)
        declared = _declared_length(headers)
        encoding = None if declared is None else negotiate(request.headers, response.status, headers, declared,
                                                             compress)
        if encoding is not None:
            encoded_fields(headers, encoding)
        if request.method == "HEAD" or response.status in (204, 304):
            response.release()
            if response.status in (204, 304):  # RFC 9110 8.6: no content, whatever length a 304 says a 200 has
                headers.pop("content-length", None)
            await send_bodiless(send, response.status, headers)
            return
        if "content-length" not in headers:
            headers["transfer-encoding"] = "chunked"
        gone = asyncio.ensure_future(_disconnected(request.receive))
        body = _until(gone, response.body)
        if encoding is not None:
            body = compressed(body, encoding)
            site.compressions += 1
        try:
            await respond(send, response.status, headers, body, False)
        finally:
            gone.cancel()
            response.release()  # its connection closed, when the body was given up before its end


def own_variant(result: FetchResult, headers: Mapping[str, str]) -> str | None:
    """RFC 9111 4.1: None when a fetch's response (new or stored) may answer a request with these
    fields; else the request's own variant under that response's Vary."""
    stored = result.meta if result.meta is not None else result.entry
    if stored is None or not stored.vary:
        return None
    variant = cachekey.secondary_key(stored.vary, headers)
    return None if variant == stored.variant else variant


async def _disconnected(receive: Receive) -> None:
    """Until the client has gone (ASGI's http.disconnect, which comes once the request's body
    has been read, when the connection closes)."""
    while (await receive())["type"] != "http.disconnect":
        pass


async def _until(gone: asyncio.Future[None], chunks: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    """`chunks` until `gone` is done: a body relayed to a client who left is not read to its end from
    the origin for no one (as nginx gives up the upstream request, proxy_ignore_client_abort off)."""
    async for chunk in chunks:
        if gone.done():
            return
        yield chunk


def _add_via(headers: dict[str, str]) -> None:
    """RFC 9110 7.6.3: this hop's entry, after any the message already carries."""
    headers["via"] = f"{headers['via']}, {VIA}" if "via" in headers else VIA


def _declared_length(headers: Mapping[str, str]) -> int | None:
    """The Content-Length a response declares, or None when it declares none (or no number)."""
    declared = headers.get("content-length")
    return int(declared) if declared is not None and is_digits(declared) else None


def _host(scope: Scope) -> str:
    for name, value in scope["headers"]:
        if name == b"host":
            return str(value.decode("latin-1"))
    return ""
