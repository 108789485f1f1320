"""Freshness (RFC 9111 section 4.2): lifetimes, ages and heuristics, pure over header values.

Headers are lower-case names mapped to values, several field lines already joined with ", ".
Times are epoch seconds. Choices where the RFCs allow several:

- A missing or invalid Date reads as the time the response was received (RFC 9110 6.6.1: a
  recipient appends the Date it received the response at); with no such time given, an
  Expires-based lifetime is 0.
- A doubled Expires ("A, B" once joined) is not an HTTP-date, so the response is expired
  (5.3: invalid Expires means "already expired"; 4.2.1 allows treating repeats as stale).
- Lifetimes are never negative and never above 2**31 seconds (1.2.2).
- Expires must be an HTTP-date in one of RFC 9110 5.6.7's three formats, or it is invalid
  and so already expired (5.3): no other time zone than GMT, a four-digit year (two in the
  RFC 850 form), two-digit hours, single spaces. Day and month names are read in any case.
"""

from __future__ import annotations

from collections.abc import Mapping

from strato.edge.directives import DELTA_MAX, Directives, delta_seconds, parse, parse_targeted
from strato.http.conditionals import is_http_date, parse_http_date

# RFC 9110 15.1: status codes defined as heuristically cacheable.
HEURISTICALLY_CACHEABLE = frozenset({200, 203, 204, 206, 300, 301, 308, 404, 405, 410, 414, 501})

TARGETED_FIELD = "cdn-cache-control"


def targeted_directives(headers: Mapping[str, str], *, cdn: bool = True) -> Directives | None:
    """RFC 9213 2.2: the CDN-Cache-Control directives when this cache uses them, else None."""
    if not cdn:
        return None
    return parse_targeted(headers.get(TARGETED_FIELD))


def response_directives(headers: Mapping[str, str], *, cdn: bool = True) -> Directives:
    """RFC 9213 2.2: a valid, non-empty CDN-Cache-Control replaces Cache-Control for this cache."""
    targeted = targeted_directives(headers, cdn=cdn)
    return targeted if targeted is not None else parse(headers.get("cache-control"))


def date_value(headers: Mapping[str, str], response_time: float | None = None) -> float | None:
    """RFC 9111 4.2.3 date_value: the Date field, or the receipt time it stands for (RFC 9110 6.6.1)."""
    value = headers.get("date")
    parsed = parse_http_date(value) if value is not None else None
    return parsed if parsed is not None else response_time


def age_value(headers: Mapping[str, str]) -> int:
    """RFC 9111 5.1: the first member of Age as delta-seconds; an invalid Age is ignored (0)."""
    value = headers.get("age")
    if value is None:
        return 0
    seconds = delta_seconds(value.split(",", 1)[0].strip(" \t"))
    return seconds if seconds is not None else 0


def expires_value(value: str) -> float | None:
    """RFC 9111 5.3: Expires as epoch seconds; None, "already expired", unless an HTTP-date (RFC 9110 5.6.7)."""
    if not is_http_date(value.strip(" \t")):
        return None
    return parse_http_date(value)


def has_explicit_expiration(headers: Mapping[str, str], *, shared: bool = True, cdn: bool = True) -> bool:
    """RFC 9111 4.2.1: s-maxage (shared), max-age or Expires (not with a targeted field, RFC 9213 2.2)."""
    targeted = targeted_directives(headers, cdn=cdn)
    directives = targeted if targeted is not None else parse(headers.get("cache-control"))
    if (shared and directives.s_maxage is not None) or directives.max_age is not None:
        return True
    return targeted is None and "expires" in headers


def freshness_lifetime(
    headers: Mapping[str, str],
    *,
    shared: bool = True,
    cdn: bool = True,
    heuristic_fraction: float = 0.1,
    heuristic_max: float = 86400.0,
    heuristic_statuses: frozenset[int] = HEURISTICALLY_CACHEABLE,
    response_time: float | None = None,
    status: int = 200,
) -> float:
    """RFC 9111 4.2.1: s-maxage (shared) > max-age > Expires - Date > heuristic (4.2.2) > 0."""
    targeted = targeted_directives(headers, cdn=cdn)
    directives = targeted if targeted is not None else parse(headers.get("cache-control"))
    if shared and directives.s_maxage is not None:
        return float(directives.s_maxage)
    if directives.max_age is not None:
        return float(directives.max_age)
    if targeted is None and "expires" in headers:
        expires = expires_value(headers["expires"])
        date = date_value(headers, response_time)
        if expires is None or date is None:
            return 0.0  # 5.3: an invalid Expires ("0" included) means already expired
        return float(min(max(0.0, expires - date), DELTA_MAX))
    if status not in heuristic_statuses and not directives.public:
        return 0.0
    return heuristic_lifetime(
        headers, fraction=heuristic_fraction, maximum=heuristic_max, response_time=response_time
    )


def heuristic_lifetime(
    headers: Mapping[str, str],
    *,
    fraction: float = 0.1,
    maximum: float = 86400.0,
    response_time: float | None = None,
) -> float:
    """RFC 9111 4.2.2: a fraction of the time since Last-Modified, capped; 0 without Last-Modified."""
    value = headers.get("last-modified")
    modified = parse_http_date(value) if value is not None else None
    date = date_value(headers, response_time)
    if modified is None or date is None:
        return 0.0
    return float(min(max(0.0, date - modified) * fraction, maximum, DELTA_MAX))


def corrected_initial_age(headers: Mapping[str, str], *, request_time: float, response_time: float) -> float:
    """RFC 9111 4.2.3: the age a response had when it was received (apparent or corrected Age)."""
    date = date_value(headers, response_time)
    assert date is not None  # response_time stands in for a missing Date
    apparent_age = max(0.0, response_time - date)
    response_delay = response_time - request_time
    corrected_age_value = age_value(headers) + response_delay
    return max(apparent_age, corrected_age_value)


def current_age(
    headers: Mapping[str, str], *, request_time: float, response_time: float, now: float
) -> float:
    """RFC 9111 4.2.3: corrected initial age plus resident time."""
    initial = corrected_initial_age(headers, request_time=request_time, response_time=response_time)
    resident_time = now - response_time
    return initial + resident_time


def is_fresh(
    headers: Mapping[str, str],
    *,
    request_time: float,
    response_time: float,
    now: float,
    shared: bool = True,
    cdn: bool = True,
    status: int = 200,
) -> bool:
    """RFC 9111 4.2: response_is_fresh = (freshness_lifetime > current_age)."""
    lifetime = freshness_lifetime(headers, shared=shared, cdn=cdn, response_time=response_time, status=status)
    return lifetime > current_age(headers, request_time=request_time, response_time=response_time, now=now)
