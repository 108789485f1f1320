"""The purges and invalidations of the last while, so that a response asked of the origin before
one of them that matches it is not stored after it: it may be the very content the purge was
for (a fetch in flight when the origin's content changed and the edge was told so).

Invalidations (RFC 9111 4.4, one primary key each, as often as unsafe requests succeed) are kept
by key, purges (paths and wildcards, an operator's) in order; past their bounds the oldest are
forgotten, and a response asked for before a forgotten one is not stored, as it may have matched."""

from __future__ import annotations

import time
from collections import OrderedDict, deque
from collections.abc import Callable

from strato.edge.entry import Entry

PURGES_KEPT = 1024
KEYS_KEPT = 65536


class PurgeLog:
    def __init__(self, purges_kept: int = PURGES_KEPT, keys_kept: int = KEYS_KEPT) -> None:
        self._purges: deque[tuple[float, Callable[[Entry], bool]]] = deque()
        self._keys: OrderedDict[str, float] = OrderedDict()  # primary key -> when last invalidated
        self._purges_kept, self._keys_kept = purges_kept, keys_kept
        self._newest = float("-inf")  # when the newest purge or invalidation was made
        self._forgotten = float("-inf")  # when the newest one no longer kept was made

    def record(self, matches: Callable[[Entry], bool]) -> None:
        """A purge of the entries `matches` says it drops: now."""
        self._newest = time.time()
        self._purges.append((self._newest, matches))
        if len(self._purges) > self._purges_kept:
            self._forgotten = max(self._forgotten, self._purges.popleft()[0])

    def invalidated(self, key: str) -> None:
        """An invalidation of a primary key's entries: now."""
        self._newest = time.time()
        self._keys[key] = self._newest
        self._keys.move_to_end(key)
        if len(self._keys) > self._keys_kept:
            self._forgotten = max(self._forgotten, self._keys.popitem(last=False)[1])

    def drops(self, entry: Entry) -> bool:
        """Whether a purge or invalidation made since `entry` was asked of the origin (its
        request_time) drops it."""
        asked = entry.request_time
        if self._newest < asked:
            return False
        if self._forgotten >= asked or self._keys.get(entry.key, float("-inf")) >= asked:
            return True
        return any(matches(entry) for made, matches in self._purges if made >= asked)
