"""One stored response, a variant of a primary key, as the cache index knows it (edge/store.py)
and records it (edge/journal.py): where its body is, and what its hits share (edge/prepared.py)."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from strato.edge.policy import Stored
from strato.edge.prepared import Prepared

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

    def meta(self) -> dict[str, object]:
        """The entry's record in the index (journal.py)."""
        return {
            "key": self.key, "variant": self.variant, "vary": list(self.vary), "host": self.host,
            "target": self.target, "status": self.status, "headers": self.headers, "request_time": self.request_time,
            "response_time": self.response_time, "size": self.size, "name": self.name, "slab": self.slab,
            "offset": self.offset, "crc": self.crc,
        }
