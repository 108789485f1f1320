"""What a site's configuration asks of the edge for one request: CloudFront cache behaviour
settings (AllowedMethods, CachedMethods, TrustedKeyGroups, ForwardedValues or a managed cache
policy, Min/Default/MaxTTL, Compress, ViewerProtocolPolicy) and the distribution's
CustomErrorResponses, as values the proxy applies, and the pure functions that apply them.

The proxy asks its RuleSource once per request, before any cache lookup. A standalone edge
has none: every request gets OPEN, which enforces nothing (RFC 9111 alone decides). Inside
`strato serve` the distribution layer answers from its snapshot of the distributions
(`strato.edge.distributions`), so asking costs a few dictionary lookups.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from strato.cdn.selection import host_name
from strato.edge import cachekey
from strato.edge.cloudfront_fields import PREFIX as CLOUDFRONT_PREFIX
from strato.edge.cloudfront_fields import Viewer, computed_fields
from strato.edge.compression import SUPPORTED_ENCODINGS, parse_accept_encoding
from strato.edge.delivery import VIA, Answer
from strato.edge.freshness import TARGETED_FIELD, freshness_lifetime, has_explicit_expiration, response_directives
from strato.edge.function_events import EdgeFunctions
from strato.edge.response_fields import NO_FIELDS, ResponseFields

DEFAULT_SITE = "default"
# CloudFront's legacy cache settings: what DefaultTTL and MaxTTL are when left out.
DEFAULT_TTL = 86400
MAX_TTL = 31536000
# Statuses a behaviour's TTLs govern; errors have their own caching times (ErrorRules).
TTL_STATUSES = frozenset({200, 203, 300, 301})
# AWS CloudFront DeveloperGuide/HTTPStatusCodes.html and custom-error-pages-expiration.html: the
# errors CloudFront keeps (for ErrorCachingMinTTL, 10 s unless a CustomErrorResponse says), those
# it keeps only when the origin gives a max-age or s-maxage, the one it never keeps, and those a
# no-store, no-cache or private from the origin keeps out (for the others they are ignored).
ERROR_CACHING_TTL = 10
CACHED_ERRORS = frozenset({404, 414, 500, 501, 502, 503, 504})
CACHED_ERRORS_WHEN_TOLD = frozenset({400, 403, 405, 412, 415})
UNCACHED_ERRORS = frozenset({416})
REFUSABLE_ERRORS = frozenset({404, 410, 414, 501})
_LISTED_ERRORS = CACHED_ERRORS | CACHED_ERRORS_WHEN_TOLD | UNCACHED_ERRORS | REFUSABLE_ERRORS  # all it lists
ALLOW_ALL = "allow-all"
_EXPIRY_FIELDS = ("cache-control", "expires", TARGETED_FIELD)
SIGNING_PARAMS = frozenset({"Expires", "Policy", "Signature", "Key-Pair-Id", "Hash-Algorithm"})
# AWS CloudFront DeveloperGuide/RequestAndResponseBehaviorCustomOrigin.html ("HTTP request headers
# and CloudFront behavior"), for a field outside the cache key: the ones CloudFront removes...
REMOVED_FIELDS = frozenset({
    "accept", "accept-charset", "accept-language", "expect", "proxy-authenticate", "proxy-authorization",
    "proxy-connection", "referer", "te", "trailer", "upgrade", "x-forwarded-proto", "x-http-method-override",
    "x-real-ip",
})
# ...and the ones it forwards even when a cache policy (with no origin request policy) sends the
# origin nothing else of the viewer's: the request's own HTTP (body, conditionals, ranges), and
# Host and Cookie, which the origin's address and the cookie settings decide.
PROTOCOL_FIELDS = frozenset({
    "cache-control", "content-length", "content-md5", "content-type", "date", "from", "if-match",
    "if-modified-since", "if-none-match", "if-range", "if-unmodified-since", "max-forwards", "origin", "pragma",
    "range", "request-range", "transfer-encoding", "via", "warning", "x-forwarded-for", "host", "cookie",
})
USER_AGENT = "Amazon CloudFront"  # the User-Agent origins see when the key does not hold the viewer's
NORMAL_ENCODINGS = ("br", "gzip")  # what a normalized Accept-Encoding may hold
LEGACY_ENCODINGS = ("gzip",)  # what CloudFront compresses with under legacy cache settings (no Brotli)


class SignatureGuard(Protocol):
    def refusal(self, url: str, now: float, client_ip: str, cookie: str | None = None) -> str | None:
        """Why `url` (scheme://host/path?query as sent, with the request's Cookie field) may not
        be served, or None when it may."""
        ...


@dataclass(frozen=True, slots=True)
class Ttls:
    """A cache behaviour's MinTTL, DefaultTTL and MaxTTL, in seconds."""

    minimum: int
    default: int
    maximum: int


@dataclass(frozen=True, slots=True)
class HeaderPolicy:
    """Which viewer request fields reach the origin. `keyed`: lower-case names, sorted, that are
    forwarded and in the cache key (ForwardedValues.Headers, a cache policy's headers); `others`:
    whether the fields CloudFront forwards by default go too (legacy ForwardedValues: yes; a cache
    policy: only PROTOCOL_FIELDS); `encodings`: the codings a normalized Accept-Encoding going
    with them may name (none: it does not go; a cache policy's gzip and brotli settings), and
    `keys_encoding` puts it in the cache key too (a cache policy enabling either). An
    origin request policy adds `forwarded` (lower-case names that go without being keyed) or
    `every` viewer field as it came but those `withheld`. `computed`: the CloudFront request
    headers (edge/cloudfront_fields.py) the key or the origin request policy names, which the
    edge computes for each request. `as_sent` (legacy Headers `*`): every field goes as it came,
    but those named like CloudFront's own."""

    keyed: tuple[str, ...] = ()
    others: bool = True
    encodings: tuple[str, ...] = NORMAL_ENCODINGS
    forwarded: frozenset[str] = frozenset()
    every: bool = False
    withheld: frozenset[str] = frozenset()
    computed: tuple[str, ...] = ()
    as_sent: bool = False
    keys_encoding: bool = False

    def passes(self, name: str) -> bool:
        """Whether the viewer's field `name` goes to the origin as it came, by name."""
        return name in self.keyed or name in self.forwarded or (self.every and name not in self.withheld)

    @property
    def key_fields(self) -> tuple[str, ...]:
        """The forwarded fields in the cache key, sorted: `keyed`, and the normalized Accept-Encoding
        when `keys_encoding` (API_ParametersInCacheKeyAndForwardedToOrigin, EnableAcceptEncodingGzip)."""
        return tuple(sorted({*self.keyed, "accept-encoding"})) if self.keys_encoding else self.keyed


@dataclass(frozen=True, slots=True)
class ErrorPage:
    """A CustomErrorResponse's ResponsePagePath, and the ResponseCode it is answered with."""

    path: str
    status: int


@dataclass(frozen=True, slots=True)
class ErrorRules:
    """A distribution's CustomErrorResponses as the edge applies them: ErrorCachingMinTTL by
    error status (ERROR_CACHING_TTL for the others) and the pages that replace errors."""

    min_ttls: dict[int, int] = field(default_factory=dict, hash=False)
    pages: dict[int, ErrorPage] = field(default_factory=dict, hash=False)


@dataclass(frozen=True, slots=True)
class Rules:
    """The settings of the cache behaviour a request falls under. `site` labels its metrics
    (a distribution id); `allowed_methods` None allows every method; `signatures` None asks
    for none; `forward_query` sends the query to the origin, only the parameters `query_names`
    names when it is not None, never those `query_withheld` names; `query_keys` None keys on the
    whole forwarded query, else only on the parameters named, and never on those `query_unkeyed`
    names; `cookies` None forwards every cookie to the origin, else only those named, and never
    those `cookies_withheld` names; `headers` None forwards every field as it came
    (RFC 9110 end-to-end), else as the HeaderPolicy says;
    `ttls` None leaves freshness to the origin's fields (RFC 9111); `cache` False stores nothing
    (Headers `*`, CachingDisabled); `cache_options` stores OPTIONS answers too (CachedMethods);
    `compress` holds the codings the edge may compress with, best first (none: Compress off);
    `viewer_protocol` is the ViewerProtocolPolicy;
    `errors` None leaves errors to RFC 9111, else CloudFront's error caching and pages apply;
    `response` holds the fields a response headers policy adds to what viewers receive;
    `functions` the CloudFront functions the behaviour runs (None: none, and the fast paths may answer);
    `revalidate_after` None serves a stored response as long as it is fresh, else validates it
    with the origin once it was last asked of it that many seconds ago, however fresh."""

    site: str = DEFAULT_SITE
    allowed_methods: frozenset[str] | None = None
    signatures: SignatureGuard | None = None
    forward_query: bool = True
    query_names: frozenset[str] | None = None
    query_withheld: frozenset[str] = frozenset()
    query_keys: frozenset[str] | None = None
    query_unkeyed: frozenset[str] = frozenset()
    cookies: frozenset[str] | None = None
    cookies_withheld: frozenset[str] = frozenset()
    headers: HeaderPolicy | None = None
    ttls: Ttls | None = None
    cache: bool = True
    cache_options: bool = False
    compress: tuple[str, ...] = SUPPORTED_ENCODINGS
    viewer_protocol: str = ALLOW_ALL
    errors: ErrorRules | None = None
    response: ResponseFields = NO_FIELDS
    functions: EdgeFunctions | None = None
    revalidate_after: float | None = None

    def due(self, entry_response_time: float, now: float) -> bool:
        """Whether a stored response received at `entry_response_time` must be validated now."""
        return self.revalidate_after is not None and now - entry_response_time >= self.revalidate_after

    def error_page(self, status: int) -> ErrorPage | None:
        """The page a viewer gets in place of an error `status`, if the distribution has one."""
        return self.errors.pages.get(status) if self.errors is not None else None

    @property
    def computes_fields(self) -> bool:
        """Whether origin requests carry CloudFront request headers computed from the viewer's
        connection, which only the ASGI app knows (the fast paths leave such requests to it)."""
        return self.headers is not None and bool(self.headers.computed)


OPEN = Rules()


class RuleSource(Protocol):
    def rules(self, host: str, path: str) -> Rules:
        """The rules for a request to `host` (the Host field) and `path` (raw, without the query)."""
        ...


def edge_target(rules: Rules, target: str) -> str:
    """The target the cache keys on and the origin is asked for: without CloudFront's signing
    parameters when the behaviour checks signatures, without the query when it forwards none,
    with only the parameters it forwards (in the order sent) when it forwards some."""
    path, mark, query = target.partition("?")
    if not mark:
        return target
    if not rules.forward_query:
        return path
    names, withheld = rules.query_names, rules.query_withheld
    if rules.signatures is None and names is None and not withheld:
        return target
    kept = [pair for pair in query.split("&") if _forwards(rules, pair.partition("=")[0], names, withheld)]
    return f"{path}?{'&'.join(kept)}" if kept else path


def _forwards(rules: Rules, name: str, names: frozenset[str] | None, withheld: frozenset[str]) -> bool:
    if rules.signatures is not None and name in SIGNING_PARAMS:
        return False
    return (names is None or name in names) and name not in withheld


def key_target(rules: Rules, target: str) -> str:
    """The target the cache keys on, from the one the origin is asked for: with
    QueryStringCacheKeys, only the parameters named (in the order sent); with a cache policy's
    `allExcept`, all but those it names."""
    keys, unkeyed = rules.query_keys, rules.query_unkeyed
    if keys is None and not unkeyed:
        return target
    path, mark, query = target.partition("?")
    kept = [pair for pair in query.split("&") if _keyed(pair.partition("=")[0], keys, unkeyed)] if mark else []
    return f"{path}?{'&'.join(kept)}" if kept else path


def _keyed(name: str, keys: frozenset[str] | None, unkeyed: frozenset[str]) -> bool:
    return (keys is None or name in keys) and name not in unkeyed


def forwarded_headers(rules: Rules, headers: dict[str, str], method: str = "GET",
                      viewer: Viewer | None = None) -> dict[str, str]:
    """The request's fields as the behaviour forwards them to the origin (and as its stored
    variants are told apart by): its HeaderPolicy (below) with the CloudFront request headers it
    names computed for `viewer` (none without one), then ForwardedValues.Cookies `none`
    drops the Cookie field and `whitelist` keeps only the named cookies (RFC 6265 4.2.1 pairs), a
    policy's `allExcept` all but those withheld, in name order, so that a key holding them does not
    depend on the order a browser sent them in."""
    if rules.headers is not None:
        policy = rules.headers
        sent = _policy_fields(policy, headers, method, rules.cache_options)
        if policy.computed and viewer is not None:
            sent.update(computed_fields(policy.computed, headers.get("user-agent", ""), viewer))
        headers = sent
    cookie = headers.get("cookie")
    named, withheld = rules.cookies, rules.cookies_withheld
    if (named is None and not withheld) or cookie is None:
        return headers
    pairs = (pair.strip() for pair in cookie.replace(",", ";").split(";"))
    kept = sorted(pair for pair in pairs if pair and (named is None or pair.partition("=")[0] in named)
                  and pair.partition("=")[0] not in withheld)
    forwarded = {name: value for name, value in headers.items() if name != "cookie"}
    if kept:
        forwarded["cookie"] = "; ".join(kept)
    return forwarded


def _policy_fields(policy: HeaderPolicy, headers: dict[str, str], method: str, cache_options: bool) -> dict[str, str]:
    """AWS CloudFront DeveloperGuide/RequestAndResponseBehaviorCustomOrigin.html: a keyed field goes
    as it is; otherwise Authorization goes only with methods whose answers are not cached, User-Agent
    becomes `Amazon CloudFront` unless an origin request policy forwards it, Accept-Encoding is
    normalized to gzip and br, X-Edge-* is dropped, and the rest goes when it is a PROTOCOL_FIELD,
    when an origin request policy forwards it, or when `others` (legacy settings) and it is not
    one of REMOVED_FIELDS.
    A viewer's CloudFront-* fields (CloudFront-Viewer-Country...) never go: CloudFront sets them
    itself (those strato computes are added by forwarded_headers), so a viewer could otherwise
    choose them."""
    if policy.as_sent:
        return {name: value for name, value in headers.items() if not name.startswith(CLOUDFRONT_PREFIX)}
    kept: dict[str, str] = {}
    for name, value in headers.items():
        if name.startswith(CLOUDFRONT_PREFIX):  # CloudFront's own viewer fields
            continue
        if name in PROTOCOL_FIELDS or name in policy.keyed:
            kept[name] = value
        elif name == "accept-encoding":
            normal = normal_accept_encoding(value, policy.encodings)
            if normal:
                kept[name] = normal
        elif name == "authorization":
            if method not in ("GET", "HEAD") and not (method == "OPTIONS" and cache_options):
                kept[name] = value
        elif name.startswith("x-edge-"):
            continue
        elif policy.passes(name) or (policy.others and name != "user-agent" and name not in REMOVED_FIELDS):
            kept[name] = value
    if not policy.passes("user-agent"):
        kept["user-agent"] = USER_AGENT
    return kept


def normal_accept_encoding(value: str, codings: tuple[str, ...] = NORMAL_ENCODINGS) -> str | None:
    """AWS CloudFront DeveloperGuide/controlling-the-cache-key.html (cache compressed objects): only
    gzip and br (those of `codings` the cache policy enables), when acceptable (q > 0), in one
    order; None when none is."""
    accepted = parse_accept_encoding(value)
    return ",".join(coding for coding in NORMAL_ENCODINGS if coding in codings and accepted.get(coding, 0) > 0) or None


def keyed_fields(rules: Rules, vary: tuple[str, ...] | None) -> tuple[str, ...] | None:
    """The fields a stored response's variant is chosen by: the origin's Vary (RFC 9111 4.1; None
    for `*`) and the fields the behaviour keys on, which CloudFront caches apart whatever Vary says."""
    if vary is None or rules.headers is None or not rules.headers.key_fields:
        return vary
    return tuple(sorted({*vary, *rules.headers.key_fields}))


def flight_key(rules: Rules, key: str, forwarded: dict[str, str], variant: str | None = None) -> str:
    """The key one origin fetch is shared under: the primary key, and the keyed fields' values, so
    that requests bound for different variants never wait on each other's fetch; and `variant`,
    a request's own under a response's Vary, once a fetch it joined turned out to be another's."""
    if rules.headers is not None and rules.headers.key_fields:
        key = f"{key}\n{cachekey.secondary_key(rules.headers.key_fields, forwarded)}"
    return key if variant is None else f"{key}\n{variant}"


def expiration(headers: Mapping[str, str], status: int, ttls: Ttls, response_time: float) -> dict[str, str]:
    """AWS CloudFront DeveloperGuide/Expiration.html: how long the edge keeps a response, written as
    a CDN-Cache-Control max-age (RFC 9213) that only the edge reads; clients still get the origin's
    own fields. No expiration from the origin: DefaultTTL. An s-maxage, max-age or Expires:
    clamped to [MinTTL, MaxTTL]. no-cache, no-store or private: MinTTL when it is above 0;
    otherwise, and for statuses outside TTL_STATUSES, the origin's fields stand."""
    fields = dict(headers)
    if status not in TTL_STATUSES:
        return fields
    directives = response_directives(headers)
    if directives.no_cache or directives.no_store or directives.private:
        if ttls.minimum == 0:
            return fields
        seconds = ttls.minimum
    elif has_explicit_expiration(headers):
        lifetime = freshness_lifetime(headers, response_time=response_time, status=status)
        seconds = int(min(max(lifetime, ttls.minimum), ttls.maximum))
    else:
        seconds = ttls.default
    fields[TARGETED_FIELD] = f"max-age={seconds}"
    return fields


def stored_fields(rules: Rules, headers: Mapping[str, str], status: int, response_time: float) -> Mapping[str, str]:
    """The fields a response from the origin is stored with: its error caching time (errors, where
    the distribution's rules apply), its behaviour's TTLs (expiration), or the origin's own."""
    if rules.errors is not None and status >= 400:
        maximum = rules.ttls.maximum if rules.ttls is not None else MAX_TTL
        return error_expiration(headers, status, rules.errors, maximum, response_time)
    if rules.ttls is not None:
        return expiration(headers, status, rules.ttls, response_time)
    return headers


def error_expiration(headers: Mapping[str, str], status: int, errors: ErrorRules, max_ttl: int,
                     response_time: float) -> dict[str, str]:
    """AWS CloudFront DeveloperGuide/custom-error-pages-expiration.html: how long the edge keeps an
    error, as a CDN-Cache-Control only the edge reads (no-store: not kept). The longer of the
    ErrorCachingMinTTL and the origin's own lifetime (s-maxage, max-age, Expires; at most MaxTTL);
    nothing for a 416, or for an error CloudFront keeps only when told and the origin told nothing;
    nothing for a 404, 410, 414 or 501 marked no-store, no-cache or private (for other errors those
    are ignored). Statuses CloudFront does not list keep RFC 9111's rules."""
    fields = dict(headers)
    if status not in _LISTED_ERRORS:
        return fields
    directives = response_directives(headers)
    told = directives.max_age is not None or directives.s_maxage is not None
    refused = directives.no_store or directives.no_cache or directives.private
    lifetime = 0.0
    if has_explicit_expiration(headers):
        lifetime = min(freshness_lifetime(headers, response_time=response_time, status=status), max_ttl)
    seconds = int(max(errors.min_ttls.get(status, ERROR_CACHING_TTL), lifetime))
    kept_out = (status in UNCACHED_ERRORS or (status in CACHED_ERRORS_WHEN_TOLD and not told)
                or (status in REFUSABLE_ERRORS and refused))
    fields[TARGETED_FIELD] = f"max-age={seconds}" if seconds > 0 and not kept_out else "no-store"
    return fields


def freshened_expiration(merged: Mapping[str, str], update: Mapping[str, str], status: int, ttls: Ttls,
                         response_time: float) -> dict[str, str]:
    """After a 304 (RFC 9111 4.3.4): a 304 carrying expiration fields of its own is clamped again,
    in place of the lifetime stored before; one without them leaves that lifetime as it was."""
    if not any(name in update for name in _EXPIRY_FIELDS):
        return dict(merged)
    origin = {name: value for name, value in merged.items() if name != TARGETED_FIELD or TARGETED_FIELD in update}
    return expiration(origin, status, ttls, response_time)


# AWS CloudFront's error bodies for refused signed URLs and cookies.
_REFUSALS = {
    "missing-signature": ("MissingKey", "Missing Key-Pair-Id query parameter or cookie value"),
    "unknown-key": ("InvalidKey", "Unknown Key"),
}


def refused_signature(reason: str, method: str) -> Answer:
    """403 with the XML body CloudFront sends for a missing, invalid or expired signature."""
    code, message = _REFUSALS.get(reason, ("AccessDenied", "Access denied"))
    body = (f'<?xml version="1.0" encoding="UTF-8"?><Error><Code>{code}</Code>'
            f"<Message>{message}</Message></Error>").encode()
    headers = {"content-type": "text/xml", "content-length": str(len(body)), "via": VIA,
               "x-cache": "Error from strato"}
    return Answer(403, headers, None if method == "HEAD" else [body])


def viewer_protocol_refusal(policy: str, method: str, host: str, target: str, http_version: str) -> Answer:
    """AWS CloudFront DeveloperGuide/using-https-viewers-to-cloudfront.html, for a request that came
    over HTTP: `redirect-to-https` answers GET and HEAD with 301 to the same URL in https (the
    Host without its port), and other methods with 307 over HTTP/1.1 (403 over HTTP/1.0), so they
    are sent again with their body; `https-only` answers 403."""
    if policy == "redirect-to-https" and (method in ("GET", "HEAD") or http_version != "1.0"):
        status, title = (301, "Moved Permanently") if method in ("GET", "HEAD") else (307, "Temporary Redirect")
        body = (f"<html>\n<head><title>{status} {title}</title></head>\n<body>\n<center><h1>{status} {title}"
                f"</h1></center>\n<hr><center>strato</center>\n</body>\n</html>\n").encode()
        headers = {"location": f"https://{host_name(host)}{target}", "content-type": "text/html",
                   "content-length": str(len(body)), "via": VIA, "x-cache": "Redirect from strato"}
        return Answer(status, headers, None if method == "HEAD" else [body])
    body = b"This distribution only answers requests made over HTTPS.\n"
    headers = {"content-type": "text/plain; charset=utf-8", "content-length": str(len(body)), "via": VIA,
               "x-cache": "Error from strato"}
    return Answer(403, headers, None if method == "HEAD" else [body])


def method_not_allowed(method: str) -> Answer:
    """403, as CloudFront answers a method outside the behaviour's AllowedMethods."""
    body = (b"This distribution is not configured to allow the HTTP request method that was used for this "
            b"request.\n")
    headers = {"content-type": "text/plain; charset=utf-8", "content-length": str(len(body)), "via": VIA,
               "x-cache": "Error from strato"}
    return Answer(403, headers, None if method == "HEAD" else [body])
