"""Where invocations of (function, qualifier) go, cached per process and trusted only while
SQLite's `PRAGMA data_version` says no connection, in any process, has committed since."""

from __future__ import annotations

import random
import sqlite3
import threading
from dataclasses import dataclass

from .arns import pick_version
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


class RouteCache:
    def __init__(self, watch: sqlite3.Connection) -> None:
        self._watch = watch  # used for data_version only: its own commits would not count
        self._lock = threading.Lock()
        self._seen = -1
        self._routes: dict[Key, Route] = {}

    def get(self, key: Key) -> Route | None:
        """The cached route, unless anything was committed since it was cached (a read of
        SQLite's shared memory, cheap enough for the invoke path)."""
        with self._lock:
            version = int(self._watch.execute("PRAGMA data_version").fetchone()[0])
            if version != self._seen:
                self._seen = version
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
