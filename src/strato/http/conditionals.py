"""Conditional requests (RFC 9110 section 13): pure evaluation of preconditions."""

from __future__ import annotations

import datetime
import email.utils
import enum
import re
import time
from collections.abc import Mapping
from functools import lru_cache


class Outcome(enum.Enum):
    PROCEED = 200
    NOT_MODIFIED = 304
    PRECONDITION_FAILED = 412


@lru_cache(maxsize=4096)
def parse_http_date(value: str) -> float | None:
    """RFC 9110 5.6.7: an HTTP-date as epoch seconds; None when it cannot be parsed.

    All three formats are accepted, as recipients must: IMF-fixdate, RFC 850 and asctime
    (which carries no zone: HTTP-dates are always GMT). Cached: a cache parses the same
    stored Date and Last-Modified on every hit.
    """
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=datetime.UTC)
    return parsed.timestamp()


_DAY, _MONTH = "(?:mon|tue|wed|thu|fri|sat|sun)", "(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)"
_TIME = r"[0-9]{2}:[0-9]{2}:[0-9]{2}"
# RFC 9110 5.6.7: IMF-fixdate, rfc850-date, asctime-date (names in any case).
_HTTP_DATE = re.compile(
    rf"{_DAY}, [0-9]{{2}} {_MONTH} [0-9]{{4}} {_TIME} GMT"
    rf"|(?:mon|tues|wednes|thurs|fri|satur|sun)day, [0-9]{{2}}-{_MONTH}-[0-9]{{2}} {_TIME} GMT"
    rf"|{_DAY} {_MONTH} (?:[0-9]{{2}}| [0-9]) {_TIME} [0-9]{{4}}",
    re.IGNORECASE | re.ASCII,
)


def is_http_date(value: str) -> bool:
    """RFC 9110 5.6.7: `value` is an HTTP-date in one of its three formats, to the letter
    (parse_http_date also reads what only resembles one, as recipients may)."""
    return _HTTP_DATE.fullmatch(value) is not None


_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def format_http_date(epoch: float) -> str:
    """RFC 9110 5.6.7 IMF-fixdate."""
    t = time.gmtime(epoch)
    return (f"{_DAYS[t.tm_wday]}, {t.tm_mday:02d} {_MONTHS[t.tm_mon - 1]} {t.tm_year} "
            f"{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d} GMT")


def etag_matches(header: str, etag: str, weak: bool) -> bool:
    """RFC 9110 13.1.1 / 13.1.2: does the list in `header` match `etag` (unquoted)?

    Strong comparison for If-Match, weak for If-None-Match.
    """
    header = header.strip()
    if header == "*":
        return True
    for candidate in header.split(","):
        candidate = candidate.strip()
        if candidate.startswith("W/"):
            if not weak:
                continue
            candidate = candidate[2:]
        if candidate.strip('"') == etag:
            return True
    return False


def evaluate(headers: Mapping[str, str], etag: str, last_modified: float, safe: bool) -> Outcome:
    """RFC 9110 13.2.2: the precedence of If-Match, If-Unmodified-Since, If-None-Match,
    If-Modified-Since for a selected representation. `safe` is GET/HEAD."""
    modified = int(last_modified)
    if_match = headers.get("if-match")
    if if_match is not None:
        if not etag_matches(if_match, etag, weak=False):
            return Outcome.PRECONDITION_FAILED
    else:
        since = headers.get("if-unmodified-since")
        stamp = parse_http_date(since) if since is not None else None
        if stamp is not None and modified > stamp:
            return Outcome.PRECONDITION_FAILED
    if_none_match = headers.get("if-none-match")
    if if_none_match is not None:
        if etag_matches(if_none_match, etag, weak=True):
            return Outcome.NOT_MODIFIED if safe else Outcome.PRECONDITION_FAILED
    elif safe:
        since = headers.get("if-modified-since")
        stamp = parse_http_date(since) if since is not None else None
        if stamp is not None and modified <= stamp:
            return Outcome.NOT_MODIFIED
    return Outcome.PROCEED
