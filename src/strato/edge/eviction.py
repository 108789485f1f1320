"""S3-FIFO eviction (Yang et al., SOSP 2023): a small probationary FIFO, a main FIFO and a
ghost FIFO of recently evicted keys. One-hit wonders, most of a CDN's misses, leave from the
small queue without disturbing the main one, so scans do not flush the working set as they
do under LRU. Sizes are in bytes; the ghost queue remembers about as many keys as main holds.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Protocol

SMALL_SHARE = 0.1
MAX_FREQUENCY = 3


class Eviction(Protocol):
    """Which stored names to drop when the bytes stored pass the capacity."""

    capacity: int

    @property
    def used(self) -> int: ...
    def __contains__(self, name: str) -> bool: ...
    def hit(self, name: str) -> None: ...
    def insert(self, name: str, size: int, *, warm: bool = False) -> list[str]: ...
    def remove(self, name: str) -> None: ...


@dataclass(slots=True)
class _Item:
    size: int
    frequency: int = 0


class S3Fifo:
    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._small: OrderedDict[str, _Item] = OrderedDict()
        self._main: OrderedDict[str, _Item] = OrderedDict()
        self._ghost: OrderedDict[str, None] = OrderedDict()
        self._small_bytes = 0
        self._main_bytes = 0

    @property
    def used(self) -> int:
        return self._small_bytes + self._main_bytes

    def __contains__(self, name: str) -> bool:
        return name in self._small or name in self._main

    def __len__(self) -> int:
        return len(self._small) + len(self._main)

    def hit(self, name: str) -> None:
        item = self._small.get(name) or self._main.get(name)
        if item is not None:
            item.frequency = min(item.frequency + 1, MAX_FREQUENCY)

    def insert(self, name: str, size: int, *, warm: bool = False) -> list[str]:
        """Add `name`; returns the names evicted to make room (possibly `name` itself when it
        is larger than the whole cache). `warm` places it straight in main (a restart reload)."""
        self.remove(name)
        if size > self.capacity:
            return [name]
        if warm or name in self._ghost:
            self._ghost.pop(name, None)
            self._main[name] = _Item(size)
            self._main_bytes += size
        else:
            self._small[name] = _Item(size)
            self._small_bytes += size
        return self._make_room()

    def remove(self, name: str) -> None:
        item = self._small.pop(name, None)
        if item is not None:
            self._small_bytes -= item.size
        item = self._main.pop(name, None)
        if item is not None:
            self._main_bytes -= item.size

    def _make_room(self) -> list[str]:
        evicted: list[str] = []
        while self.used > self.capacity:
            if self._small and (self._small_bytes >= self.capacity * SMALL_SHARE or not self._main):
                evicted.extend(self._evict_small())
            else:
                evicted.extend(self._evict_main())
        return evicted

    def _evict_small(self) -> list[str]:
        name, item = self._small.popitem(last=False)
        self._small_bytes -= item.size
        if item.frequency > 0:
            item.frequency = 0
            self._main[name] = item
            self._main_bytes += item.size
            return []
        self._ghost[name] = None
        while len(self._ghost) > max(len(self._main), 1):
            self._ghost.popitem(last=False)
        return [name]

    def _evict_main(self) -> list[str]:
        while True:
            name, item = self._main.popitem(last=False)
            if item.frequency > 0:
                item.frequency -= 1
                self._main[name] = item
                continue
            self._main_bytes -= item.size
            return [name]


class Lru:
    """Least-recently-used, for comparison (bench/edge_eviction.py measures both)."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._items: OrderedDict[str, int] = OrderedDict()
        self.used = 0

    def __contains__(self, name: str) -> bool:
        return name in self._items

    def __len__(self) -> int:
        return len(self._items)

    def hit(self, name: str) -> None:
        if name in self._items:
            self._items.move_to_end(name)

    def insert(self, name: str, size: int, *, warm: bool = False) -> list[str]:
        self.remove(name)
        if size > self.capacity:
            return [name]
        self._items[name] = size
        self.used += size
        evicted = []
        while self.used > self.capacity:
            old, old_size = self._items.popitem(last=False)
            self.used -= old_size
            evicted.append(old)
        return evicted

    def remove(self, name: str) -> None:
        size = self._items.pop(name, None)
        if size is not None:
            self.used -= size
