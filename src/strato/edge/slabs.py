"""Small bodies packed into shared segment files ("slabs"): storing a small miss costs a share
of one append instead of a file created, written and closed, which was about a fifth of the
miss rate (docs/performance.md, "Misses, fourth pass").

Each body up to SLAB_BODY_MAX bytes is placed here, on the event loop, at the end of the open
slab (the slab's number and the offset are known before anything is written, so the entry's
index record names them at once); the disk writer (edge/diskwriter.py) appends it there. A
slab is only ever appended to while it is open, and a restart opens a new one, so a body's
bytes never change once written. Space comes back only when a whole slab file goes: bodies of
entries dropped since (evicted, purged, replaced) are its dead bytes, and when all slabs' dead
bytes pass the reserve (an eighth of the cache, kept out of the eviction policy's capacity so
that the files on disk stay within the cache size), the slabs with the smallest live share are
reclaimed until the dead bytes are half the reserve again: their live bodies get new places in
the open slab, the disk writer copies them there, then removes the old file. Copying keeps hot
entries that eviction by whole slabs would lose (bench/edge_slabs.py: within 2 points of a
file per body's hit ratio, where evicting lost 8-15), for about a third of a byte copied per
byte stored.

This module is bookkeeping only (no I/O): which slab holds which entries, and its bytes; the
files are edge/bodyfiles.py's.
"""

from __future__ import annotations

from dataclasses import dataclass, field

SLAB_BODY_MAX = 64 * 1024  # larger bodies keep a file each
SLAB_SIZE_MAX = 16 * 1024 * 1024
SLABS_PER_CACHE = 64  # a slab is a 64th of the cache (between SLAB_BODY_MAX and SLAB_SIZE_MAX)
RESERVE_SHARE = 8  # an eighth of the cache is room for slabs' dead bytes


@dataclass(slots=True, eq=False)
class Slab:
    number: int
    size: int = 0  # bytes placed in it (its file's length once they are written)
    live: int = 0  # bytes of the entries it holds now
    names: set[str] = field(default_factory=set)

    @property
    def dead(self) -> int:
        return self.size - self.live


class Slabs:
    def __init__(self, capacity: int) -> None:
        self.slab_size = min(SLAB_SIZE_MAX, max(SLAB_BODY_MAX, capacity // SLABS_PER_CACHE))
        self.reserve = capacity // RESERVE_SHARE
        self.dead = 0  # every slab's dead bytes
        self.copied = 0  # bytes moved out of reclaimed slabs, ever
        self._slabs: dict[int, Slab] = {}
        self._open: Slab | None = None
        self._next = 0

    def place(self, name: str, size: int) -> tuple[int, int]:
        """Where a new body goes: (slab number, offset) at the end of the open slab, sealed
        and replaced by a new one once it holds slab_size bytes."""
        slab = self._open
        if slab is None or (slab.size and slab.size + size > self.slab_size):
            slab = self._open = self._slabs[self._next] = Slab(self._next)
            self._next += 1
        offset = slab.size
        slab.size += size
        slab.live += size
        slab.names.add(name)
        return slab.number, offset

    def adopt(self, number: int, length: int) -> Slab:
        """A slab file a previous run left, `length` bytes long (all dead until entries are added)."""
        slab = self._slabs[number] = Slab(number, size=length)
        self.dead += length
        self._next = max(self._next, number + 1)
        return slab

    def add(self, number: int, name: str, size: int) -> None:
        """A loaded entry's body in an adopted slab."""
        slab = self._slabs[number]
        slab.live += size
        slab.names.add(name)
        self.dead -= size

    def release(self, number: int, name: str, size: int) -> None:
        """An entry's body is no longer live: its bytes are dead until its slab goes."""
        slab = self._slabs.get(number)
        if slab is not None and name in slab.names:
            slab.names.discard(name)
            slab.live -= size
            self.dead += size

    def move(self, number: int, name: str, size: int) -> tuple[int, int]:
        """A live body leaves a slab being reclaimed for a new place in the open one."""
        self.release(number, name, size)
        self.copied += size
        return self.place(name, size)

    def victims(self) -> list[Slab]:
        """The slabs to drop now, sparsest first: none while the dead bytes are within the
        reserve; else enough to bring them to half of it. The open slab, if among them, is
        sealed (moved entries go to a new one)."""
        if self.dead <= self.reserve:
            return []
        chosen: list[Slab] = []
        freed = 0
        for slab in sorted((s for s in self._slabs.values() if s.dead > 0), key=lambda s: s.live / s.size):
            if self.dead - freed <= self.reserve // 2:
                break
            chosen.append(slab)
            freed += slab.dead
        if self._open in chosen:
            self._open = None
        return chosen

    def remove(self, slab: Slab) -> None:
        """A slab whose entries are all gone (moved or dropped) goes, and its bytes with it."""
        assert not slab.names, "a slab goes once its entries have moved or gone"
        del self._slabs[slab.number]
        self.dead -= slab.size
        if self._open is slab:
            self._open = None
