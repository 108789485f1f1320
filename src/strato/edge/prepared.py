"""What every hit on one stored entry shares, computed once per entry (and again after a 304
freshens it): its freshness lifetime and corrected initial age (RFC 9111 4.2), whether its own
directives forbid serving it unvalidated, and its encoded response head, rebuilt only when the
Age, the remaining TTL or (for a response stored without a Date) the second changes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from strato.edge import compression
from strato.edge.freshness import corrected_initial_age, freshness_lifetime, response_directives
from strato.edge.policy import validated_each_time
from strato.edge.response_fields import Fields


@dataclass(slots=True)
class Prepared:
    lifetime: float
    initial_age: float
    response_time: float
    no_cache: bool  # the response's own no-cache, or private (policy.validated_each_time): never served unvalidated
    compressible: bool  # Accept-Encoding can change the answer (compression.is_compressible)
    dated: bool  # the stored response has a Date of its own; else the answer carries the current one
    # The answer's fields for one (Age, TTL, Date second, response headers policy fields, codings), each
    # also as an encoded line, and the head of the unshaped answer; an empty head when a field
    # cannot be sent as it is.
    head_key: tuple[int, int, int, Fields, tuple[str, ...]] | None = None
    fields: dict[str, str] = field(default_factory=dict)
    lines: dict[str, bytes] = field(default_factory=dict)
    head: bytes = b""

    @classmethod
    def of(cls, headers: Mapping[str, str], status: int, size: int, request_time: float,
           response_time: float) -> Prepared:
        return cls(
            lifetime=freshness_lifetime(headers, shared=True, cdn=True, response_time=response_time, status=status),
            initial_age=corrected_initial_age(headers, request_time=request_time, response_time=response_time),
            response_time=response_time,
            no_cache=validated_each_time(response_directives(headers, cdn=True)),
            compressible=compression.is_compressible(
                headers.get("content-type"), headers.get("content-encoding"), size, headers.get("cache-control"),
            ),
            dated="date" in headers,
        )

    def age(self, now: float) -> float:
        """RFC 9111 4.2.3: current_age, as freshness.current_age computes it."""
        return self.initial_age + (now - self.response_time)

    def fresh(self, age: float) -> bool:
        """RFC 9111 4.2 for a request without directives of its own (policy.decide's FRESH)."""
        return not self.no_cache and self.lifetime > age
