"""Request rate and connection limits per client, pure: the caller passes the time in.

The times are any monotonic clock in seconds (time.monotonic() in the proxy); the answers of
TokenBucket.take and RateLimiter.check are the Retry-After delay (RFC 9110 10.2.3, RFC 6585 4).
"""

from __future__ import annotations

import math
from collections import OrderedDict


class TokenBucket:
    """A token bucket: `burst` tokens at most, refilled at `rate` tokens per second.

    It starts full. A refused take consumes nothing (no debt), so a client that keeps retrying
    early is not pushed further back. A clock that steps backwards refills nothing.
    """

    __slots__ = ("_last", "_tokens", "burst", "rate")

    def __init__(self, rate: float, burst: float) -> None:
        if not (rate > 0 and math.isfinite(rate)) or not (burst > 0 and math.isfinite(burst)):
            raise ValueError("rate and burst must be positive and finite")
        self.rate = rate
        self.burst = burst
        self._tokens = burst
        self._last: float | None = None

    def tokens(self, now: float) -> float:
        """The tokens available at `now` (refills the bucket up to that time)."""
        if self._last is None:
            self._last = now
        elif now > self._last:
            self._tokens = min(self.burst, self._tokens + (now - self._last) * self.rate)
            self._last = now
        return self._tokens

    def take(self, now: float, cost: float = 1.0) -> float:
        """Take `cost` tokens: 0.0 when allowed, else the seconds until they are there (inf if never: cost > burst)."""
        available = self.tokens(now)
        if available >= cost:
            self._tokens = available - cost
            return 0.0
        if cost > self.burst:
            return math.inf
        return (cost - available) / self.rate

    def is_full(self, now: float) -> bool:
        """A full bucket is indistinguishable from a new one."""
        return self.tokens(now) >= self.burst


class RateLimiter:
    """One TokenBucket per client key, at most `max_clients` of them (memory is bounded).

    Over the bound the least recently seen client is forgotten; if it comes back it gets a new,
    full bucket. That forgives at most `burst` requests, and nothing at all when the forgotten
    bucket had been idle burst/rate seconds (it was full again). Size max_clients to exceed the
    clients active within burst/rate seconds and eviction never loosens the limit.
    """

    def __init__(self, rate: float, burst: float, max_clients: int = 100_000) -> None:
        if max_clients < 1:
            raise ValueError("max_clients must be at least 1")
        TokenBucket(rate, burst)  # validates the parameters once
        self.rate = rate
        self.burst = burst
        self.max_clients = max_clients
        self._buckets: OrderedDict[str, TokenBucket] = OrderedDict()

    def check(self, client: str, now: float, cost: float = 1.0) -> float:
        """One request from `client` at `now`: 0.0 when allowed, else the Retry-After in seconds."""
        bucket = self._buckets.get(client)
        if bucket is None:
            bucket = self._buckets[client] = TokenBucket(self.rate, self.burst)
            while len(self._buckets) > self.max_clients:
                self._buckets.popitem(last=False)
        else:
            self._buckets.move_to_end(client)
        return bucket.take(now, cost)

    def __len__(self) -> int:
        return len(self._buckets)

    def __contains__(self, client: object) -> bool:
        return client in self._buckets


class ConnectionLimiter:
    """Concurrent connections (or requests) per client, at most `max_per_client` each.

    Every successful acquire() must be paired with one release(), in a finally. A client's
    entry is dropped when its count returns to zero, so memory follows the open connections;
    a release without a matching acquire is ignored and never drives a count below zero.
    """

    def __init__(self, max_per_client: int) -> None:
        if max_per_client < 1:
            raise ValueError("max_per_client must be at least 1")
        self.max_per_client = max_per_client
        self._open: dict[str, int] = {}

    def acquire(self, client: str) -> bool:
        """Take a slot for `client`: False (and nothing taken) when it already holds the maximum."""
        held = self._open.get(client, 0)
        if held >= self.max_per_client:
            return False
        self._open[client] = held + 1
        return True

    def release(self, client: str) -> None:
        """Give back one slot of `client`."""
        held = self._open.get(client, 0)
        if held <= 1:
            self._open.pop(client, None)
        else:
            self._open[client] = held - 1

    def count(self, client: str) -> int:
        return self._open.get(client, 0)

    def __len__(self) -> int:
        return len(self._open)
