"""Cache policy (RFC 9111 sections 3 and 4): store, serve, revalidate, fetch, invalidate.

Pure functions over header mappings (lower-case names, repeated lines joined with ", ").
Choices where the RFCs allow several:

- Only complete responses to full GETs are stored: no HEAD (it would be a bodiless entry
  under GET's key), no request with Range, no 206, no 304, nothing with Vary: * (it never
  matches, 4.1), and nothing with neither an explicit expiration time nor a validator (3:
  "some caches will not store" such responses, they are never reusable).
- Qualified no-cache and private are handled as their unqualified forms (5.2.2.4, 5.2.2.7
  note that caches often do): a qualified no-cache always revalidates, a qualified private
  is not stored by a shared cache.
- A request's no-cache (or Pragma: no-cache without Cache-Control, 5.4) is honoured.
- "Revalidate" without a validator is a plain fetch: decide() returns FETCH then.
- stale-while-revalidate wins over a request's max-stale (both serve stale; the first also
  refreshes). A request's max-age and min-fresh also bound stale serving.
- stale-if-error: the request's value when it has one, else the response's (RFC 5861 4);
  never past no-store, no-cache, must-revalidate, or (shared) proxy-revalidate / s-maxage.
"""

from __future__ import annotations

import enum
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

from strato.edge.cachekey import normal_host, primary_key, split_absolute, vary_fields
from strato.edge.directives import DELTA_MAX, Directives, parse
from strato.edge.freshness import (
    HEURISTICALLY_CACHEABLE,
    TARGETED_FIELD,
    current_age,
    freshness_lifetime,
    has_explicit_expiration,
    response_directives,
)
from strato.http.conditionals import format_http_date, parse_http_date
from strato.http.fields import HOP_BY_HOP, split_list

# Status codes whose caching requirements this cache implements (RFC 9111 3, 5.2.2.3).
UNDERSTOOD_STATUSES = frozenset({200, 203, 204, 300, 301, 302, 303, 307, 308, 404, 405, 410, 414, 501})
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})  # RFC 9110 9.2.1
# RFC 9111 3.1 / 3.2: never taken from a 304 into a stored response.
_NOT_UPDATED = frozenset({
    "content-length", "content-encoding", "content-range", "transfer-encoding", "proxy-authenticate",
    "proxy-authentication-info", "proxy-authorization",
})
# RFC 9110 13.1.2 / 13.1.3: the client's validators, replaced in the cache's own conditional request.
_CLIENT_VALIDATORS = frozenset({"if-none-match", "if-modified-since"})
# What a client asks of the representation it would be given rather than of the resource: its
# preconditions and its ranges, which a cache answers from a whole response it holds (RFC 9111
# 4.3.2, RFC 9110 14); a fetch for the cache asks for the whole response, unconditionally.
CLIENT_ONLY = frozenset({"if-match", "if-none-match", "if-modified-since", "if-unmodified-since", "range", "if-range"})
_SF_TOKEN = re.compile(r"[A-Za-z*][!#$%&'*+\-.^_`|~0-9A-Za-z:/]*")


@dataclass(frozen=True, slots=True)
class Stored:
    """A stored response: its header fields, status, and when it was requested and received."""

    headers: Mapping[str, str]
    status: int
    request_time: float
    response_time: float


class Action(enum.Enum):
    """What to do with a request, given what is stored (RFC 9111 4)."""

    FRESH = "fresh"  # serve the stored response
    STALE = "stale"  # serve the stored stale response; the client allowed it (max-stale)
    STALE_WHILE_REVALIDATE = "stale-while-revalidate"  # serve stale, revalidate in the background
    REVALIDATE = "revalidate"  # ask the origin with conditional_request(..., stored), then use the answer
    FETCH = "fetch"  # ask the origin unconditionally
    GATEWAY_TIMEOUT = "gateway-timeout"  # answer 504: only-if-cached and nothing usable


def _no_store(directives: Directives, status: int) -> bool:
    """RFC 9111 5.2.2.5, 5.2.2.3: no-store, unless must-understand with a status we implement."""
    return directives.no_store and not (directives.must_understand and status in UNDERSTOOD_STATUSES)


def _stale_forbidden(directives: Directives, shared: bool) -> bool:
    """RFC 9111 4.2.4: must-revalidate, and for a shared cache proxy-revalidate or s-maxage."""
    return directives.must_revalidate or (
        shared and (directives.proxy_revalidate or directives.s_maxage is not None)
    )


def _validators(headers: Mapping[str, str]) -> dict[str, str]:
    """RFC 9111 4.3.1: preconditions from a stored ETag and a valid Last-Modified."""
    conditions: dict[str, str] = {}
    etag = headers.get("etag", "").strip()
    if etag:
        conditions["if-none-match"] = etag
    modified = headers.get("last-modified")
    if modified is not None and parse_http_date(modified) is not None:
        conditions["if-modified-since"] = modified.strip()  # verbatim: RFC 9110 13.1.3
    return conditions


def request_forbids_storing(request_headers: Mapping[str, str]) -> bool:
    """RFC 9111 5.2.1.5: no part of a response to a no-store request is stored (nor a 304's update)."""
    return parse(request_headers.get("cache-control")).no_store


def is_storable(
    method: str,
    status: int,
    request_headers: Mapping[str, str],
    response_headers: Mapping[str, str],
    *,
    shared: bool = True,
    cdn: bool = True,
) -> bool:
    """RFC 9111 3 (and 3.5): may this response be stored?"""
    if method != "GET" or "range" in request_headers:
        return False
    if not 200 <= status <= 599 or status in (206, 304):
        return False
    response = response_directives(response_headers, cdn=cdn)
    if response.must_understand and status not in UNDERSTOOD_STATUSES:
        return False
    if _no_store(response, status) or request_forbids_storing(request_headers):
        return False
    if shared and response.private:
        return False
    if shared and "authorization" in request_headers and not (
        response.public or response.must_revalidate or response.s_maxage is not None
    ):
        return False
    if vary_fields(response_headers) is None:
        return False
    explicit = has_explicit_expiration(response_headers, shared=shared, cdn=cdn)
    if not (response.public or (response.private and not shared) or explicit
            or status in HEURISTICALLY_CACHEABLE):
        return False
    return explicit or bool(_validators(response_headers))


def _pragma_no_cache(request_headers: Mapping[str, str]) -> bool:
    """RFC 9111 5.4: Pragma: no-cache counts as Cache-Control: no-cache when that is absent."""
    pragma = request_headers.get("pragma")
    if pragma is None or "cache-control" in request_headers:
        return False
    return "no-cache" in (token.strip(" \t").lower() for token in pragma.split(","))


def validated_each_time(response: Directives, shared: bool = True) -> bool:
    """RFC 9111 5.2.2.4: a no-cache response is never reused unvalidated; nor, by a shared cache,
    a private one (5.2.2.7), which it holds only when a 304 made its stored response private
    (4.3.4): an origin answering for that request alone, as strato's S3 does under a bucket
    policy's conditions."""
    return response.no_cache or (shared and response.private)


def answers_one_request(stored_headers: Mapping[str, str]) -> bool:
    """RFC 9111 3.5: a stored response a 304 made private answers the request that validated it,
    and no other that waited on that validation."""
    return response_directives(stored_headers).private


def _contact_origin(stored: Stored, request: Directives) -> Action:
    """RFC 9111 4.3, 5.2.1.7: validate (or fetch), or 504 when the client forbids contacting."""
    if request.only_if_cached:
        return Action.GATEWAY_TIMEOUT
    return Action.REVALIDATE if _validators(stored.headers) else Action.FETCH


def recheck(request_headers: Mapping[str, str]) -> Action:
    """A stored response the edge itself must validate now (a distribution's access recheck):
    revalidate, or 504 when the client forbids contacting the origin (RFC 9111 5.2.1.7)."""
    if parse(request_headers.get("cache-control")).only_if_cached:
        return Action.GATEWAY_TIMEOUT
    return Action.REVALIDATE


def _lifetime_and_age(stored: Stored, now: float, shared: bool, cdn: bool) -> tuple[float, float]:
    lifetime = freshness_lifetime(
        stored.headers, shared=shared, cdn=cdn, response_time=stored.response_time, status=stored.status
    )
    age = current_age(stored.headers, request_time=stored.request_time, response_time=stored.response_time, now=now)
    return lifetime, age


def decide(
    request_headers: Mapping[str, str], stored: Stored | None, now: float, *, shared: bool = True, cdn: bool = True
) -> Action:
    """RFC 9111 4, 4.2.4, 5.2.1 with RFC 5861 3: how to answer a request given the selected stored response."""
    request = parse(request_headers.get("cache-control"))
    if stored is None:
        return Action.GATEWAY_TIMEOUT if request.only_if_cached else Action.FETCH
    response = response_directives(stored.headers, cdn=cdn)
    if request.no_cache or _pragma_no_cache(request_headers) or validated_each_time(response, shared):
        return _contact_origin(stored, request)
    lifetime, age = _lifetime_and_age(stored, now, shared, cdn)
    young_enough = request.max_age is None or age <= request.max_age  # 5.2.1.1
    if lifetime > age:
        if young_enough and (request.min_fresh is None or lifetime - age >= request.min_fresh):  # 5.2.1.3
            return Action.FRESH
        return _contact_origin(stored, request)
    if _stale_forbidden(response, shared) or not young_enough or request.min_fresh is not None:
        return _contact_origin(stored, request)
    staleness = age - lifetime
    if response.stale_while_revalidate is not None and staleness <= response.stale_while_revalidate:
        return Action.STALE_WHILE_REVALIDATE
    if request.max_stale_any or (request.max_stale is not None and staleness <= request.max_stale):  # 5.2.1.2
        return Action.STALE
    return _contact_origin(stored, request)


def can_serve_stale_on_error(
    request_headers: Mapping[str, str], stored: Stored, now: float, *, shared: bool = True, cdn: bool = True
) -> bool:
    """RFC 5861 4 within RFC 9111 4.2.4: may a stale response stand in for an origin error?"""
    response = response_directives(stored.headers, cdn=cdn)
    if _no_store(response, stored.status) or response.no_cache or _stale_forbidden(response, shared):
        return False
    if shared and response.private:
        return False
    request = parse(request_headers.get("cache-control"))
    limit = request.stale_if_error if request.stale_if_error is not None else response.stale_if_error
    if limit is None:
        return False
    lifetime, age = _lifetime_and_age(stored, now, shared, cdn)
    return age - lifetime <= limit


def forward_reason(stored: Stored | None, now: float, *, varied: bool = False, shared: bool = True,
                   cdn: bool = True) -> str:
    """RFC 9211 2.2: why a request went forward. Nothing stored for its URI (uri-miss), or only
    other variants (`varied`: vary-miss); a fresh response that the request's own directives
    would not take (request); a stale one, or one its no-cache has validated every time (stale)."""
    if stored is None:
        return "vary-miss" if varied else "uri-miss"
    lifetime, age = _lifetime_and_age(stored, now, shared, cdn)
    if lifetime > age and not validated_each_time(response_directives(stored.headers, cdn=cdn), shared):
        return "request"
    return "stale"


def remaining_ttl(stored: Stored, now: float, *, shared: bool = True, cdn: bool = True) -> float:
    """RFC 9211 2.4: freshness lifetime minus current age; negative once stale."""
    lifetime, age = _lifetime_and_age(stored, now, shared, cdn)
    return lifetime - age


def age_field(stored: Stored, now: float) -> str:
    """RFC 9111 5.1: the Age to send with a stored response, whole seconds, at most 2**31."""
    return age_text(current_age(
        stored.headers, request_time=stored.request_time, response_time=stored.response_time, now=now,
    ))


def age_text(age: float) -> str:
    """RFC 9111 5.1 / 1.2.2: an age in seconds as the Age field's delta-seconds."""
    return str(min(max(0, math.floor(age)), DELTA_MAX))


def conditional_request(forward: Mapping[str, str], stored: Stored) -> dict[str, str] | None:
    """RFC 9111 4.3.1: the cache's own conditional request for `stored`, or None without a validator.

    The stored validators replace the client's If-None-Match and If-Modified-Since: the edge
    answers the client's preconditions itself (4.3.2), so a 304 to this request is about the
    stored response alone (RFC 9110 13.2.2 would let a client's If-None-Match override our
    If-Modified-Since).
    """
    conditions = _validators(stored.headers)
    if not conditions:
        return None
    request = {name: value for name, value in forward.items() if name not in _CLIENT_VALIDATORS}
    request.update(conditions)
    return request


def freshened_headers(
    stored_headers: Mapping[str, str], not_modified_headers: Mapping[str, str], *, response_time: float | None = None
) -> dict[str, str]:
    """RFC 9111 4.3.4 / 3.2: the stored fields updated from a 304, except those 3.1 and 3.2 exclude.

    Age and Date describe the exchange that produced them: a 304 without them drops the stored
    ones (5.1), and Date becomes `response_time` when given (RFC 9110 6.6.1). The caller keeps
    the new request and response times with the result.
    """
    update = end_to_end(not_modified_headers)
    result = dict(stored_headers)
    for name, value in update.items():
        if name.lower() not in _NOT_UPDATED:
            result[name.lower()] = value
    if TARGETED_FIELD not in update and parse(result.get(TARGETED_FIELD)).private:
        # 3.5: a CDN-Cache-Control private is stored only from a 304 (a 200 saying it is never
        # stored), for the request it answered; one no longer saying so (strato's S3 under a
        # bucket policy made unconditional) shares the response again. Cache-Control, which
        # clients get (and which MinTTL may store private), stays as the origin sent it.
        shared = _without_private(result.pop(TARGETED_FIELD))
        if shared:
            result[TARGETED_FIELD] = shared
    if "age" not in update:
        result.pop("age", None)
    if "date" not in update:
        result.pop("date", None)
        if response_time is not None:
            result["date"] = format_http_date(response_time)
    return result


def _without_private(value: str) -> str:
    """A CDN-Cache-Control value without its private directive (RFC 9111 5.2.2.7, RFC 9213)."""
    return ", ".join(part for part in split_list(value) if part.partition("=")[0].strip().lower() != "private")


def _etag(value: str | None) -> tuple[bool, str] | None:
    """RFC 9110 8.8.3: (weak, opaque-tag) of an ETag field value."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    if value.startswith("W/"):
        return True, value[2:].strip()
    return False, value


def selects(stored_headers: Mapping[str, str], new_304_headers: Mapping[str, str]) -> bool:
    """RFC 9111 4.3.4: does this 304 apply to this stored response (one candidate of the initial set)?

    A strong ETag must match strongly; else a weak ETag weakly, else Last-Modified exactly; a 304
    with no validator applies only to a stored response without one, and only when it is the
    only stored response for the request (the caller's to check).
    """
    new_tag, old_tag = _etag(new_304_headers.get("etag")), _etag(stored_headers.get("etag"))
    if new_tag is not None and not new_tag[0]:
        return old_tag is not None and not old_tag[0] and old_tag[1] == new_tag[1]
    if new_tag is not None:
        return old_tag is not None and old_tag[1] == new_tag[1]
    new_modified = new_304_headers.get("last-modified")
    new_stamp = parse_http_date(new_modified) if new_modified is not None else None
    if new_stamp is not None:
        old_modified = stored_headers.get("last-modified")
        return old_modified is not None and parse_http_date(old_modified) == new_stamp
    return old_tag is None and not _validators(stored_headers)


def invalidates(method: str, status: int) -> bool:
    """RFC 9111 4.4: a non-error response to an unsafe (or unknown) method invalidates the target."""
    return method not in SAFE_METHODS and 200 <= status < 400


def invalidation_targets(host: str, target: str, response_headers: Mapping[str, str]) -> list[str]:
    """RFC 9111 4.4: the target URI's key, plus Location and Content-Location when same-origin."""
    keys = [primary_key("GET", host, target)]
    origin_host, path = split_absolute(host, target)
    base = f"http://{origin_host}{path if path.startswith('/') else '/' + path}"
    for field in ("location", "content-location"):
        value = response_headers.get(field, "").strip()
        if not value:
            continue
        try:
            parts = urlsplit(urljoin(base, value))
        except ValueError:
            continue
        if parts.scheme not in ("http", "https") or normal_host(parts.netloc) != normal_host(origin_host):
            continue
        key = primary_key("GET", origin_host, (parts.path or "/") + ("?" + parts.query if parts.query else ""))
        if key not in keys:
            keys.append(key)
    return keys


def end_to_end(headers: Mapping[str, str]) -> dict[str, str]:
    """RFC 9110 7.6.1: drop hop-by-hop fields and every field the Connection field names."""
    dropped = HOP_BY_HOP
    connection = headers.get("connection")
    if connection:  # most name only hop-by-hop fields ("keep-alive", "close"): no new set then
        options = {option.strip(" \t").lower() for option in connection.split(",")}
        if not options <= HOP_BY_HOP:
            dropped = HOP_BY_HOP | options
    return {name: value for name, value in headers.items() if name.lower() not in dropped}


def outgoing_response_headers(headers: Mapping[str, str], *, keep_targeted: bool = False) -> dict[str, str]:
    """RFC 9110 7.6.1 and RFC 9213 3: end-to-end fields, without CDN-Cache-Control (which a CDN MAY remove)."""
    fields = end_to_end(headers)
    if not keep_targeted:
        fields = {name: value for name, value in fields.items() if name.lower() != TARGETED_FIELD}
    return fields


def _sf_string(value: str) -> str:
    """RFC 8941 4.1.6: a String (printable ASCII, with " and \\ escaped)."""
    if not all(" " <= char <= "~" for char in value):
        raise ValueError(f"not representable in a Structured Field: {value!r}")
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _sf_token_or_string(value: str) -> str:
    """RFC 8941 4.1.7 / 4.1.6: a Token when the value is one, else a String."""
    return value if _SF_TOKEN.fullmatch(value) else _sf_string(value)


def cache_status(
    hit: bool,
    *,
    fwd: str | None = None,
    stored: bool | None = None,
    ttl: float | None = None,
    detail: str | None = None,
    name: str = "strato",
    fwd_status: int | None = None,
    collapsed: bool | None = None,
    key: str | None = None,
) -> str:
    """RFC 9211 2: one Cache-Status list member, e.g. "strato; hit; ttl=120" or "strato; fwd=uri-miss; stored"."""
    parts = [_sf_token_or_string(name)]
    if hit:
        parts.append("hit")
    if fwd is not None:
        if not _SF_TOKEN.fullmatch(fwd):
            raise ValueError(f"fwd must be a token: {fwd!r}")
        parts.append(f"fwd={fwd}")
    if fwd_status is not None:
        parts.append(f"fwd-status={int(fwd_status)}")
    if ttl is not None:
        parts.append(f"ttl={math.floor(ttl)}")
    for flag, present in (("stored", stored), ("collapsed", collapsed)):
        if present is not None:
            parts.append(flag if present else f"{flag}=?0")
    if key is not None:
        parts.append("key=" + _sf_string(key))  # always a String (2.7)
    if detail is not None:
        parts.append("detail=" + _sf_token_or_string(detail))
    return "; ".join(parts)
