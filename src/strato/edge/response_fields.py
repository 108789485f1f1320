"""A response headers policy as the edge applies it to what viewers receive (AWS CloudFront
DeveloperGuide/understanding-response-headers-policies.html): the fields it removes, and its
security and custom fields, on every response; Access-Control-Allow-Origin, -Allow-Credentials
and -Expose-Headers on responses to CORS requests (those with an Origin field);
Access-Control-Allow-Methods, -Allow-Headers and -Max-Age besides on responses to preflight
requests (OPTIONS with Origin and Access-Control-Request-Method); Server-Timing on the policy's
sampled share of responses. Each added field yields to the origin's own unless its Override is
set (Server-Timing joins the origin's, as a list field does). A policy that echoes an Origin it
lists, rather than answering `*`, adds Origin to every response's Vary (joined with the
origin's own), so that no cache downstream gives one origin's answer to another (the Fetch
standard, "CORS protocol and HTTP caches").

The fields a request gets are chosen once per request (`ResponseFields.chosen`), as a tuple that
is the same object for every request of one kind (but the sampled ones), so a head built with
them can be kept. Server-Timing's metrics are read, when the field is added, from the answer's
own Cache-Status (RFC 9211), which every path through the edge sets first but its own
refusals (which get none: an empty field says nothing)."""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass

from strato.cdn.response_headers_policies import CorsConfig, ResponseHeadersPolicy, SecurityHeadersConfig
from strato.edge.compression import add_vary

# Lower-case name, value (None: the origin's field is removed), whether it replaces the origin's.
Field = tuple[str, str | None, bool]
Fields = tuple[Field, ...]
_EVERY_METHOD = ("GET", "DELETE", "HEAD", "OPTIONS", "PATCH", "POST", "PUT")
TIMING = "server-timing"
MEASURED = ""  # the value of the Server-Timing field a policy adds: made when it is added
SERVER_TIMING: Field = (TIMING, MEASURED, False)
VARY_ORIGIN: Field = ("vary", "Origin", False)  # joined with the origin's own Vary


@dataclass(frozen=True, slots=True)
class ResponseFields:
    """`always`: for every response; `cors` and `preflight`: for responses to CORS and preflight
    requests (each holding `always` too); `origins`: the allowed origins when they are listed
    rather than `*` (Access-Control-Allow-Origin is then the request's Origin, when listed);
    `timing`: the percentage of responses that get Server-Timing."""

    always: Fields = ()
    cors: Fields = ()
    preflight: Fields = ()
    origins: frozenset[str] | None = None
    origin_override: bool = False
    timing: float = 0.0

    @property
    def empty(self) -> bool:
        """Whether no response gets a field from it."""
        return not self.always and not self.preflight and not self.timing

    def chosen(self, headers: Mapping[str, str], method: str) -> Fields:
        """The fields for a response to a request with these (lower-case) `headers`. A policy has
        CORS when it has preflight fields (it allows a method at least); its `cors` may be none
        (listed origins, echoed here, without credentials or exposed headers)."""
        origin = headers.get("origin")
        if origin is None or not self.preflight or (self.origins is not None and origin not in self.origins):
            fields = self.always  # not a CORS request, or from an origin not allowed
        else:
            preflight = method == "OPTIONS" and "access-control-request-method" in headers
            fields = self.preflight if preflight else self.cors
            if self.origins is not None:
                fields = (*fields, ("access-control-allow-origin", origin, self.origin_override))
        if self.timing and random.random() * 100 < self.timing:
            return (*fields, SERVER_TIMING)
        return fields


NO_FIELDS = ResponseFields()


def add_fields(headers: dict[str, str], fields: Fields) -> None:
    """Each field into `headers` (lower-case names): removed, or added unless the origin sent it
    and it does not override."""
    for name, value, override in fields:
        if name == TIMING and value == MEASURED:  # joined with the origin's own; none when neither says a thing
            value, override = server_timing(headers.get("cache-status"), headers.get(name)) or None, True
        elif (name, value, override) == VARY_ORIGIN:
            value, override = varied_by_origin(headers.get(name)), True
        if value is None:
            headers.pop(name, None)
        elif override or name not in headers:
            headers[name] = value


def with_fields(raw: list[tuple[bytes, bytes]], added: Fields) -> list[tuple[bytes, bytes]]:
    """An ASGI head's fields with `added`, as add_fields adds them (the origin's own field stays
    unless the policy's overrides it); other fields, repeated ones included, stay as they are."""
    fields = list(raw)
    for name, value, override in added:
        key = name.encode("latin-1")
        present = [kept for field, kept in fields if field.lower() == key]
        if name == TIMING and value == MEASURED:
            status = next((kept for field, kept in fields if field.lower() == b"cache-status"), None)
            value = server_timing(status.decode("latin-1") if status is not None else None,
                                  b", ".join(present).decode("latin-1") or None) or None
        elif (name, value, override) == VARY_ORIGIN:
            value = varied_by_origin(b", ".join(present).decode("latin-1") or None)
        elif present and value is not None and not override:
            continue
        fields = [(field, kept) for field, kept in fields if field.lower() != key]
        if value is not None:
            fields.append((key, value.encode("latin-1")))
    return fields


def varied_by_origin(vary: str | None) -> str:
    """The response's Vary with Origin among its names (as it is, when it names Origin or is `*`)."""
    headers = {"vary": vary} if vary else {}
    add_vary(headers, "Origin")
    return headers["vary"]


def server_timing(cache_status: str | None, origin: str | None) -> str:
    """Server-Timing (W3C Server Timing) with the metrics CloudFront documents that strato has a
    figure for, read from strato's own (last) Cache-Status member: cdn-cache-hit, -refresh (a
    stored response revalidated) or -miss, cdn-hit-layer or cdn-upstream-layer (always EDGE: one
    tier), and cdn-pop (the edge's name); after the origin's own metrics, if any."""
    metrics = []
    if cache_status:
        name, _, params = cache_status.rsplit(",", 1)[-1].strip().partition(";")
        flags = [param.strip() for param in params.split(";")]
        if "hit" in flags:
            metrics += ["cdn-cache-hit", 'cdn-hit-layer;desc="EDGE"']
        else:
            refreshed = "fwd=stale" in flags and "fwd-status=304" in flags
            metrics += ["cdn-cache-refresh" if refreshed else "cdn-cache-miss",
                        'cdn-upstream-layer;desc="EDGE"']
        metrics.append(f"cdn-pop;desc={_quoted(name.strip().strip(chr(34)))}")
    return ", ".join([origin, *metrics] if origin else metrics)


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def response_fields(policy: ResponseHeadersPolicy) -> ResponseFields:
    """The fields `policy` gives each kind of request: removed ones first, then security and
    custom ones; CORS ones for CORS and preflight requests."""
    always: Fields = (
        *((name.lower(), None, True) for name in policy.remove_headers or ()),
        *(_security_fields(policy.security) if policy.security is not None else ()),
        *((header.header.lower(), header.value, header.override) for header in policy.custom_headers or ()),
    )
    timing = policy.server_timing.share if policy.server_timing is not None else 0.0
    cors = policy.cors
    if cors is None:
        return ResponseFields(always=always, timing=timing)
    override = cors.origin_override
    listed = "*" not in cors.allow_origins
    if listed and "vary" not in {name.lower() for name in policy.remove_headers or ()}:
        always = (*always, VARY_ORIGIN)
    simple: list[Field] = [] if listed else [("access-control-allow-origin", "*", override)]
    if cors.allow_credentials:
        simple.append(("access-control-allow-credentials", "true", override))
    if cors.expose_headers:
        simple.append(("access-control-expose-headers", ", ".join(cors.expose_headers), override))
    return ResponseFields(always=always, cors=(*always, *simple), preflight=(*always, *simple, *_preflight(cors)),
                          origins=frozenset(cors.allow_origins) if listed else None, origin_override=override,
                          timing=timing)


def _preflight(cors: CorsConfig) -> list[Field]:
    override = cors.origin_override
    methods = _EVERY_METHOD if "ALL" in cors.allow_methods else cors.allow_methods
    fields: list[Field] = []
    if methods:
        fields.append(("access-control-allow-methods", ", ".join(methods), override))
    if cors.allow_headers:
        fields.append(("access-control-allow-headers", ", ".join(cors.allow_headers), override))
    if cors.max_age is not None:
        fields.append(("access-control-max-age", str(cors.max_age), override))
    return fields


def _security_fields(security: SecurityHeadersConfig) -> Fields:
    xss = security.xss_protection
    xss_value = None
    if xss is not None:
        xss_value = "0" if not xss.protection else (
            "1; mode=block" if xss.mode_block else f"1; report={xss.report_uri}" if xss.report_uri else "1")
    hsts = security.strict_transport_security
    hsts_value = None
    if hsts is not None:
        hsts_value = f"max-age={hsts.max_age}" + ("; includeSubDomains" if hsts.include_subdomains else "") + (
            "; preload" if hsts.preload else "")
    fields = [
        ("X-XSS-Protection", xss_value),
        ("X-Frame-Options", security.frame_option),
        ("Referrer-Policy", security.referrer_policy),
        ("Content-Security-Policy", security.content_security_policy),
        ("X-Content-Type-Options", "nosniff" if security.content_type_options else None),
        ("Strict-Transport-Security", hsts_value),
    ]
    return tuple((name.lower(), value, security.overrides(name)) for name, value in fields if value is not None)
