"""One stored response, a variant of a primary key, as the cache index knows it (edge/store.py)
and records it (edge/journal.py): where its body is, and what its hits share (edge/prepared.py)."""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from strato.edge.policy import Stored
from strato.edge.prepared import Prepared

# An entry's fields in their order (its prepared facts aside): what the index records (journal.py),
# taken on the event loop as one tuple and encoded on the disk writer's thread.
Record = tuple[
    str, str, tuple[str, ...], str, str, int, dict[str, str], float, float, int, str, int, int, int,
]
RECORD_NAME = 10  # where a Record holds the entry's name

_NAMES = random.Random()  # seeded from os.urandom: names need to be unique, not secret (no syscall each)


def _new_name() -> str:
    return f"{_NAMES.getrandbits(128):032x}"


@dataclass(slots=True)
class Entry:
    key: str
    variant: str
    vary: tuple[str, ...]
    host: str
    target: str
    status: int
    headers: dict[str, str]
    request_time: float
    response_time: float
    size: int
    name: str = field(default_factory=_new_name)
    slab: int = -1  # the slab holding the body (edge/slabs.py), or -1: a file of its own
    offset: int = 0  # where in the slab
    crc: int = 0  # the body's CRC-32, checked whenever it is read from a slab
    prepared: Prepared | None = field(default=None, repr=False, compare=False)

    def stored(self) -> Stored:
        return Stored(self.headers, self.status, self.request_time, self.response_time)

    def facts(self) -> Prepared:
        """What this entry's hits share, computed at the first hit (reset when freshened)."""
        if self.prepared is None:
            self.prepared = Prepared.of(self.headers, self.status, self.size, self.request_time, self.response_time)
        return self.prepared

    def record(self) -> Record:
        """The entry's record in the index (journal.py), as it is now (its headers are replaced
        by a 304, never changed in place)."""
        return (
            self.key, self.variant, self.vary, self.host, self.target, self.status, self.headers, self.request_time,
            self.response_time, self.size, self.name, self.slab, self.offset, self.crc,
        )

    @classmethod
    def from_meta(cls, meta: Mapping[str, Any]) -> Entry:
        """An entry from a JSON record of versions 1 to 3 (a .meta file, an index line);
        ValueError, TypeError or KeyError when it is not one."""
        if not isinstance(meta.get("name"), str):
            raise ValueError("a record without a name")
        return cls(**{**meta, "vary": tuple(meta["vary"])})
