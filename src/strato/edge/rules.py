"""What a site's configuration asks of the edge for one request: CloudFront cache behaviour
settings (AllowedMethods, TrustedKeyGroups, ForwardedValues.QueryString, Min/Default/MaxTTL),
as values the proxy applies, and the pure functions that apply them.

The proxy asks its RuleSource once per request, before any cache lookup. A standalone edge
has none: every request gets OPEN, which enforces nothing (RFC 9111 alone decides). Inside
`strato serve` the distribution layer answers from its snapshot of the distributions
(`strato.edge.distributions`), so asking costs a few dictionary lookups.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from strato.edge.delivery import VIA, Answer
from strato.edge.freshness import TARGETED_FIELD, freshness_lifetime, has_explicit_expiration, response_directives

DEFAULT_SITE = "default"
# CloudFront's legacy cache settings: what DefaultTTL and MaxTTL are when left out.
DEFAULT_TTL = 86400
MAX_TTL = 31536000
# Statuses a behaviour's TTLs govern; others (errors) keep RFC 9111's rules (CloudFront gives
# them its separate error-caching TTL, which strato does not model).
TTL_STATUSES = frozenset({200, 203, 300, 301})
_EXPIRY_FIELDS = ("cache-control", "expires", TARGETED_FIELD)
SIGNING_PARAMS = frozenset({"Expires", "Policy", "Signature", "Key-Pair-Id"})


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
class Rules:
    """The settings of the cache behaviour a request falls under. `site` labels its metrics
    (a distribution id); `allowed_methods` None allows every method; `signatures` None asks
    for none; `query_keys` None keys on the whole forwarded query, else only on the parameters
    named; `cookies` None forwards every cookie to the origin, else only those named; `ttls`
    None leaves freshness to the origin's fields (RFC 9111)."""

    site: str = DEFAULT_SITE
    allowed_methods: frozenset[str] | None = None
    signatures: SignatureGuard | None = None
    forward_query: bool = True
    query_keys: frozenset[str] | None = None
    cookies: frozenset[str] | None = None
    ttls: Ttls | None = None


OPEN = Rules()


class RuleSource(Protocol):
    def rules(self, host: str, path: str) -> Rules:
        """The rules for a request to `host` (the Host field) and `path` (raw, without the query)."""
        ...


def edge_target(rules: Rules, target: str) -> str:
    """The target the cache keys on and the origin is asked for: without CloudFront's signing
    parameters when the behaviour checks signatures, without the query when it forwards none."""
    path, mark, query = target.partition("?")
    if not mark:
        return target
    if not rules.forward_query:
        return path
    if rules.signatures is None:
        return target
    kept = [pair for pair in query.split("&") if pair.partition("=")[0] not in SIGNING_PARAMS]
    return f"{path}?{'&'.join(kept)}" if kept else path


def key_target(rules: Rules, target: str) -> str:
    """The target the cache keys on, from the one the origin is asked for: with
    QueryStringCacheKeys, only the parameters named (in the order sent)."""
    if rules.query_keys is None:
        return target
    path, mark, query = target.partition("?")
    kept = [pair for pair in query.split("&") if pair.partition("=")[0] in rules.query_keys] if mark else []
    return f"{path}?{'&'.join(kept)}" if kept else path


def forwarded_headers(rules: Rules, headers: dict[str, str]) -> dict[str, str]:
    """The request's fields as the behaviour forwards them: ForwardedValues.Cookies `none` drops
    the Cookie field, `whitelist` keeps only the named cookies (RFC 6265 4.2.1 pairs)."""
    cookie = headers.get("cookie")
    if rules.cookies is None or cookie is None:
        return headers
    kept = [pair.strip() for pair in cookie.replace(",", ";").split(";")
            if pair.strip() and pair.strip().partition("=")[0] in rules.cookies]
    forwarded = {name: value for name, value in headers.items() if name != "cookie"}
    if kept:
        forwarded["cookie"] = "; ".join(kept)
    return forwarded


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


def method_not_allowed(method: str) -> Answer:
    """403, as CloudFront answers a method outside the behaviour's AllowedMethods."""
    body = (b"This distribution is not configured to allow the HTTP request method that was used for this "
            b"request.\n")
    headers = {"content-type": "text/plain; charset=utf-8", "content-length": str(len(body)), "via": VIA,
               "x-cache": "Error from strato"}
    return Answer(403, headers, None if method == "HEAD" else [body])
