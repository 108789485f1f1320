"""Range requests served from a cached full object (RFC 9110 section 14, If-Range 13.1.5).

plan_ranges() decides the status, the headers and the body as a list of parts; the proxy then
streams each part: a half-open (start, stop) slice of the stored body, or literal bytes (the
multipart delimiters and part headers). Nothing here reads the body.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field

from strato.http.conditionals import parse_http_date
from strato.http.ranges import ByteRange, RangeNotSatisfiable, parse_range

MAX_RANGES = 16
COALESCE_GAP = 80
"""Ranges closer than this are merged: a multipart part's own headers cost about as much (15.3.7.2)."""

Part = tuple[int, int] | bytes
"""A (start, stop) half-open slice of the stored body (body[start:stop]), or literal bytes."""


@dataclass(slots=True)
class RangePlan:
    """The answer to a (possibly ranged) GET of a stored object of known size.

    `headers` replace the stored ones of the same name: content-length always; content-range for
    206 and 416; content-type (multipart/byteranges) for a multipart 206. `parts` concatenated are
    the body, and content-length is their total length. A 416 has no body of its own here.
    """

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    parts: list[Part] = field(default_factory=list)

    @property
    def content_length(self) -> int:
        return sum(len(p) if isinstance(p, bytes) else p[1] - p[0] for p in self.parts)

    def iter_body(self, body: bytes) -> Iterator[bytes]:
        """The body's chunks, for a stored body held in memory."""
        for part in self.parts:
            yield part if isinstance(part, bytes) else body[part[0]:part[1]]


def _is_strong_etag(tag: str) -> bool:
    return len(tag) >= 2 and tag.startswith('"') and tag.endswith('"')


def if_range_matches(if_range: str | None, etag: str | None, last_modified: str | None, *,
                     date: str | None = None) -> bool:
    """RFC 9110 13.1.5: is the If-Range condition true (absent If-Range: true)?

    An entity tag matches only by strong comparison (a weak tag on either side never does). An
    HTTP-date matches only a Last-Modified of exactly the same instant, and only if that
    Last-Modified is strong: when the stored response's `date` is given, it must be at least one
    second after Last-Modified (8.8.2.2, the intermediate-cache rule); without `date` the caller
    vouches for it. Anything else, an unparsable date included, is false: the full body is sent.
    """
    if if_range is None:
        return True
    validator = if_range.strip()
    if validator.startswith("W/"):
        return False
    if validator.startswith('"'):
        return etag is not None and _is_strong_etag(etag.strip()) and validator == etag.strip()
    if last_modified is None:
        return False
    asked, modified = parse_http_date(validator), parse_http_date(last_modified)
    if asked is None or modified is None or asked != modified:
        return False
    if date is not None:
        stored_at = parse_http_date(date)
        return stored_at is not None and stored_at >= modified + 1
    return True


def _coalesce(ranges: list[ByteRange], gap: int) -> list[ByteRange]:
    """RFC 9110 15.3.7.2: merge ranges that overlap or lie within `gap` bytes, keeping first-request order.

    The merged list never holds two ranges within `gap` of each other, so a new range is folded
    together with every range it reaches in one step, into the slot of the earliest of them.
    """
    merged: list[ByteRange] = []
    for rng in ranges:
        near = [i for i, o in enumerate(merged) if rng.start <= o.end + gap + 1 and o.start <= rng.end + gap + 1]
        if not near:
            merged.append(rng)
            continue
        start = min(rng.start, *(merged[i].start for i in near))
        end = max(rng.end, *(merged[i].end for i in near))
        merged[near[0]] = ByteRange(start, end)
        for i in reversed(near[1:]):
            del merged[i]
    return merged


def _full(size: int) -> RangePlan:
    return RangePlan(200, {"content-length": str(size)}, [(0, size)] if size else [])


def plan_ranges(range_header: str | None, if_range: str | None, *, size: int, content_type: str | None,
                etag: str | None, last_modified: str | None, max_ranges: int = MAX_RANGES,
                date: str | None = None, boundary: str | None = None) -> RangePlan:
    """RFC 9110 14.2 / 14.6 / 15.3.7 / 15.5.17: status, headers and body parts for a GET of a stored object.

    - no Range, an invalid one (ignored, 14.2) or a false If-Range: 200 with the whole body;
    - no satisfiable range: 416 with Content-Range "bytes */size";
    - overlapping or nearby ranges are coalesced (within COALESCE_GAP bytes); one range left: 206
      with Content-Range; several: 206 multipart/byteranges (14.6), parts in request order;
    - more than `max_ranges` ranges, or ranges asking for more bytes in total than the object holds
      (heavy overlap), are the denial-of-service patterns of 14.2's security note: the Range is
      ignored and the whole body sent (as Apache and nginx do), which is always a correct answer.
    """
    if range_header is None or not if_range_matches(if_range, etag, last_modified, date=date):
        return _full(size)
    try:
        ranges = parse_range(range_header, size)
    except RangeNotSatisfiable:
        return RangePlan(416, {"content-range": f"bytes */{size}", "content-length": "0"}, [])
    if ranges is None:
        return _full(size)
    if len(ranges) > max_ranges or (len(ranges) > 1 and sum(r.length for r in ranges) > size):
        return _full(size)
    ranges = _coalesce(ranges, COALESCE_GAP)
    if len(ranges) == 1:
        only = ranges[0]
        return RangePlan(206, {"content-range": only.content_range(size), "content-length": str(only.length)},
                         [(only.start, only.end + 1)])
    return _multipart(ranges, size, content_type, boundary or secrets.token_hex(16))


def _multipart(ranges: list[ByteRange], size: int, content_type: str | None, boundary: str) -> RangePlan:
    """RFC 9110 14.6 and RFC 2046 5.1.1: the multipart/byteranges body, delimiters as literal parts."""
    parts: list[Part] = []
    type_line = f"Content-Type: {content_type}\r\n" if content_type else ""
    for i, rng in enumerate(ranges):
        lead = "" if i == 0 else "\r\n"
        head = f"{lead}--{boundary}\r\n{type_line}Content-Range: {rng.content_range(size)}\r\n\r\n"
        parts.append(head.encode("latin-1"))
        parts.append((rng.start, rng.end + 1))
    parts.append(f"\r\n--{boundary}--\r\n".encode("latin-1"))
    plan = RangePlan(206, {"content-type": f"multipart/byteranges; boundary={boundary}"}, parts)
    plan.headers["content-length"] = str(plan.content_length)
    return plan
