"""The purges and invalidations of the last while, so that a response asked of the origin before
one of them that matches it is not stored after it: it may be the very content the purge was
for (a fetch in flight when the origin's content changed and the edge was told so)."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

from strato.edge.entry import Entry

PURGES_KEPT = 1024  # a response asked for before more purges than these is not stored (which matched is forgotten)


class PurgeLog:
    def __init__(self, kept: int = PURGES_KEPT) -> None:
        self._recent: deque[tuple[float, Callable[[Entry], bool]]] = deque(maxlen=kept)

    def record(self, matches: Callable[[Entry], bool]) -> None:
        """A purge, or an invalidation, of the entries `matches` says it drops: now."""
        self._recent.append((time.time(), matches))

    def drops(self, entry: Entry) -> bool:
        """Whether a purge made since `entry` was asked of the origin (its request_time) drops it."""
        recent = self._recent
        if not recent or recent[-1][0] < entry.request_time:
            return False
        if len(recent) == recent.maxlen and recent[0][0] >= entry.request_time:
            return True
        return any(matches(entry) for made, matches in recent if made >= entry.request_time)
