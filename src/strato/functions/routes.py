"""Where invocations of (function, qualifier) go, cached per process and trusted while the
registry's commit stamp is the one seen when they were cached (every registry write renews it
after its commit), and, as a backstop for a writer that died between its commit and the
renewal, while SQLite's `PRAGMA data_version` agrees, asked at most every BACKSTOP seconds."""

from __future__ import annotations

import random
import sqlite3
import threading
import time
from dataclasses import dataclass

from .arns import pick_version
from .commit_stamp import CommitStamp
from .records import FunctionVersion

CACHE_LIMIT = 4096

Key = tuple[str, str | None]


@dataclass(frozen=True, slots=True)
class Route:
    """What an invoke of (name, qualifier) may run: the primary version and weighted others."""

    primary: FunctionVersion
    others: dict[str, FunctionVersion]
    weights: dict[str, float]

    def pick(self) -> FunctionVersion:
        """The version for one invocation: an alias's weights choose at random."""
        if not self.weights:
            return self.primary
        return self.others.get(pick_version(self.primary.version, self.weights, random.random()), self.primary)


BACKSTOP = 1.0


class RouteCache:
    def __init__(self, watch: sqlite3.Connection, stamp: CommitStamp) -> None:
        self._watch = watch  # used for data_version only: its own commits would not count
        self._stamp = stamp
        self._lock = threading.Lock()
        self._seen_stamp = b""
        self._seen_version = -1
        self._check_at = 0.0  # when data_version is asked again
        self._routes: dict[Key, Route] = {}

    def get(self, key: Key) -> Route | None:
        """The cached route, unless anything was committed since it was cached."""
        with self._lock:
            stamp = self._stamp.read()
            now = time.monotonic()
            if stamp == self._seen_stamp and now < self._check_at:
                return self._routes.get(key)
            version = int(self._watch.execute("PRAGMA data_version").fetchone()[0])
            self._check_at = now + BACKSTOP
            if stamp != self._seen_stamp or version != self._seen_version:
                self._seen_stamp = stamp
                self._seen_version = version
                self._routes.clear()
                return None
            return self._routes.get(key)

    def put(self, key: Key, route: Route) -> Route:
        with self._lock:
            if len(self._routes) >= CACHE_LIMIT:
                self._routes.clear()
            self._routes[key] = route
        return route

    def close(self) -> None:
        with self._lock:
            self._watch.close()
