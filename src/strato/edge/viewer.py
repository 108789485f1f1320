"""What a distribution asks of the answer a viewer gets, applied around the caching proxy
(EdgeProxy): a behaviour's ViewerProtocolPolicy before the request is served, the
distribution's CustomErrorResponses pages after the origin (or the cache) has answered, and the
behaviour's response headers policy on whatever answer goes (edge/response_fields.py).

The edge speaks plain HTTP only. A request counts as made over HTTPS when the server says so
(its ASGI scheme) or, where the operator has told the edge it sits behind a TLS-terminating
proxy it trusts (`STRATO_EDGE_TRUST_FORWARDED_PROTO`), when it carries
`X-Forwarded-Proto: https`. Otherwise any viewer could claim HTTPS, so the field is ignored.
Such a request reaches the proxy with the https scheme, which its CloudFront-Forwarded-Proto
and the URL a signed URL is checked against are made of.

An error page replaces an error as CloudFront does (DeveloperGuide/HTTPStatusCodes.html): the
error (from the origin, the cache or the edge itself) is not sent; the page is asked of the
distribution like any request for its path (its behaviour, cache and origin), and a 200 for it
goes to the viewer under the ResponseCode. Any other answer for the page goes as it is
(DeveloperGuide/custom-error-pages.html: a missing page is the viewer's 404). The exchange is
counted and logged once, as what the viewer got: the request's path, the status it was
answered with, the page's bytes (the replaced error's are not sent, so not counted).

Requests answered outside ASGI never reach this app, so a fast path must leave it those it
governs: hitpath.py answers nothing on a behaviour whose policy is not `allow-all`, nor a stored
error that has a page; an app a fast path hands a request over to goes through `under_rules`.
The fast paths add the response headers policy's fields themselves: a hit's through
EdgeProxy.response_headers (and delivery.with_policy_fields), a miss's onto its planned answer.
"""

from __future__ import annotations

import time
from functools import partial
from urllib.parse import unquote

from strato.edge import heads
from strato.edge.delivery import Answer, plain_answer, send_answer
from strato.edge.function_app import with_functions
from strato.edge.metrics import OBSERVED, Observed, logged_target
from strato.edge.proxy import EdgeProxy
from strato.edge.response_fields import with_fields
from strato.edge.rules import ALLOW_ALL, ErrorPage, Rules, viewer_protocol_refusal
from strato.http.types import ASGIApp, Message, Receive, Scope, Send, client_host

# Request fields that would shape the page's answer into something other than the page itself.
_SHAPING_FIELDS = frozenset({
    b"if-match", b"if-none-match", b"if-modified-since", b"if-unmodified-since", b"if-range", b"range",
    b"content-length", b"transfer-encoding",
})
_PAGE_METHODS = ("GET", "HEAD")
_CHOOSING_FIELDS = (b"origin", b"access-control-request-method")  # what ResponseFields.chosen reads


class ViewerRules:
    def __init__(self, proxy: EdgeProxy, *, trust_forwarded_proto: bool = False) -> None:
        self.proxy = proxy
        self.trust_forwarded_proto = trust_forwarded_proto

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.proxy(scope, receive, send)
            return
        raw_path: bytes = scope.get("raw_path") or scope["path"].encode()
        host = _field(scope, b"host")
        rules = self.proxy.rules_for(host, raw_path.partition(b"?")[0].decode("latin-1"))
        hosts = sum(name == b"host" for name, _ in scope["headers"])
        if hosts > 1 or (not hosts and scope.get("http_version", "1.1") == "1.1"):  # RFC 9112 3.2
            refused = plain_answer(400, "more than one Host field" if hosts else "no Host field", scope["method"])
            await self._own(scope, rules, raw_path, send, refused)
            return
        https = over_https(scope, self.trust_forwarded_proto)
        if rules.viewer_protocol != ALLOW_ALL and not https:
            target = raw_path.decode("latin-1")
            if scope.get("query_string"):
                target += "?" + scope["query_string"].decode("latin-1")
            await self._own(scope, rules, raw_path, send, viewer_protocol_refusal(
                rules.viewer_protocol, scope["method"], host, target, scope.get("http_version", "1.1")))
            return
        if https and scope.get("scheme") != "https":  # the trusted proxy's word, for what the proxy reads
            scope = {**scope, "scheme": "https"}
        if rules.functions is None:
            await under_rules(partial(self.proxy.answer, rules=rules), self.proxy, rules)(scope, receive, send)
            return
        # A client past its rate is refused before its functions run, as before the cache: a
        # function's CPU is no cheaper to a flood than a lookup.
        limited = self.proxy.rate_refusal(client_host(scope))
        if limited is not None:
            await self._own(scope, rules, raw_path, send, limited)
            return
        app = under_rules(partial(self.proxy.answer, rules=rules, rate_checked=True), self.proxy, rules)
        await with_functions(app, rules.functions, lambda answered, observed: self.proxy.observe_answer(
            answered, rules, observed))(scope, receive, send)

    async def _own(self, scope: Scope, rules: Rules, raw_path: bytes, send: Send, answer: Answer) -> None:
        """An answer of the edge's own (the viewer protocol's redirect or 403, a 429), counted and
        logged as the proxy's own answers are."""
        started = time.perf_counter()
        await send_answer(send, answer)
        sent = heads.body_length(answer)
        client = client_host(scope)
        self.proxy.observe(self.proxy.metrics.site(rules.site), client, scope["method"],
                           logged_target(raw_path, scope.get("query_string", b"")), answer.status, sent,
                           started)


def under_rules(app: ASGIApp, proxy: EdgeProxy, rules: Rules) -> ASGIApp:
    """`app` answering a request under a behaviour's rules: its error pages replace errors, and
    its response headers policy's fields are added to the answer that goes."""
    return with_response_fields(with_error_pages(app, proxy, rules), rules)


def with_response_fields(app: ASGIApp, rules: Rules) -> ASGIApp:
    """`app`, with the fields the behaviour's response headers policy chooses for the request
    added to its answer's head."""
    if rules.response.empty:
        return app

    async def adding(scope: Scope, receive: Receive, send: Send) -> None:
        viewer = {name.decode("latin-1"): value.decode("latin-1") for name, value in scope["headers"]
                  if name in _CHOOSING_FIELDS}
        added = rules.response.chosen(viewer, scope["method"])

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start" and added:
                message = {**message, "headers": with_fields(message.get("headers", []), added)}
            await send(message)

        await app(scope, receive, sending)

    return adding


def with_error_pages(app: ASGIApp, proxy: EdgeProxy, rules: Rules) -> ASGIApp:
    """`app`, with its answer to a GET or HEAD replaced by the distribution's page for the answer's
    status (the page asked of `proxy`). For any app answering a request under `rules`: the proxy
    itself, or one answering a miss whose fetch is already made."""
    if rules.errors is None or not rules.errors.pages:
        return app

    async def replacing(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["method"] not in _PAGE_METHODS:
            await app(scope, receive, send)
            return
        observed = Observed(time.perf_counter())
        scope = {**scope, OBSERVED: observed}
        viewer = observed.counting(send, head=scope["method"] == "HEAD")
        page: ErrorPage | None = None

        async def unless_replaced(message: Message) -> None:
            nonlocal page
            if message["type"] == "http.response.start":
                page = rules.error_page(int(message["status"]))
            if page is None:
                await viewer(message)

        try:
            await app(scope, receive, unless_replaced)
            if page is not None:
                await proxy(page_scope(scope, page.path), receive, with_page_status(viewer, page.status))
        finally:
            proxy.observe_answer(scope, rules, observed)

    return replacing


def over_https(scope: Scope, trust_forwarded_proto: bool) -> bool:
    """Whether the viewer's request came over HTTPS: by the server's own scheme, or by the first
    protocol an X-Forwarded-Proto names when the proxy that sets it is trusted."""
    if scope.get("scheme") == "https":
        return True
    return trust_forwarded_proto and claims_https(_field(scope, b"x-forwarded-proto"))


def claims_https(forwarded_proto: str) -> bool:
    """Whether an X-Forwarded-Proto's first protocol (the one its first proxy saw) is HTTPS."""
    return forwarded_proto.split(",")[0].strip().lower() == "https"


def page_scope(scope: Scope, path: str) -> Scope:
    """The viewer's request, asking for the error page `path` instead: same method and Host,
    without a query, a body, conditionals or ranges."""
    return {
        **scope, "path": unquote(path), "raw_path": path.encode(), "query_string": b"",
        "headers": [(name, value) for name, value in scope["headers"] if name not in _SHAPING_FIELDS],
    }


def with_page_status(send: Send, status: int) -> Send:
    """`send`, answering a 200 for the error page under the CustomErrorResponse's ResponseCode."""

    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start" and message["status"] == 200:
            message = {**message, "status": status}
        await send(message)

    return sending


def _field(scope: Scope, name: bytes) -> str:
    for field_name, value in scope["headers"]:
        if field_name == name:
            return str(value.decode("latin-1"))
    return ""
