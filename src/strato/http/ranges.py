"""Byte ranges (RFC 9110 section 14): parsing Range against a known length."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ByteRange:
    """Inclusive first and last byte positions, already clipped to the representation."""

    start: int
    end: int

    @property
    def length(self) -> int:
        return self.end - self.start + 1

    def content_range(self, size: int) -> str:
        return f"bytes {self.start}-{self.end}/{size}"


class RangeNotSatisfiable(Exception):
    """Every range in a valid Range header lies beyond the representation (RFC 9110 15.5.17)."""


def _is_digits(text: str) -> bool:
    return text.isascii() and text.isdigit()


def parse_range(header: str, size: int) -> list[ByteRange] | None:
    """RFC 9110 14.1.2: the satisfiable ranges, or None when the header must be ignored.

    A header that is not a valid bytes range set is ignored (14.2); a valid one in which no
    range is satisfiable raises RangeNotSatisfiable. A zero-length representation can only
    satisfy a non-zero suffix range (14.1.1), which selects nothing: the header is ignored
    and the whole, empty representation is the answer (as S3 answers 200 there).
    """
    unit, sep, spec = header.partition("=")
    if not sep or unit.strip().lower() != "bytes":
        return None
    ranges: list[ByteRange] = []
    # RFC 9110 5.6.1.2: empty list elements are accepted and ignored, but one is required.
    specs = [s.strip() for s in spec.split(",") if s.strip()]
    if not specs:
        return None
    empty_but_satisfiable = False
    for item in specs:
        first, dash, last = item.partition("-")
        first, last = first.strip(), last.strip()
        if not dash or (first and not _is_digits(first)) or (last and not _is_digits(last)):
            return None
        if not first:
            if not last:
                return None
            suffix = int(last)
            if suffix > 0 and size > 0:
                ranges.append(ByteRange(max(0, size - suffix), size - 1))
            elif suffix > 0:
                empty_but_satisfiable = True
            continue
        start = int(first)
        if last and int(last) < start:
            return None
        if start < size:
            ranges.append(ByteRange(start, min(int(last), size - 1) if last else size - 1))
    if not ranges:
        if empty_but_satisfiable:
            return None
        raise RangeNotSatisfiable(header)
    return ranges
