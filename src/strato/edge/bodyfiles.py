"""Where the edge cache's bodies are on disk, and reading them without blocking the event loop.

A large body is a file of its own, `<dir>/entries/xx/<name>.body`; a small one is a place in a
slab file, `<dir>/slabs/<n>.slab` (edge/slabs.py keeps which slab holds what). Descriptors for
reads on the event loop stay open (OPEN_DESCRIPTORS at most, closed when their file goes), so a
hot object costs one pread per read, as nginx's open_file_cache.
"""

from __future__ import annotations

import os
import weakref
from collections import OrderedDict
from collections.abc import AsyncIterator, Container
from pathlib import Path

from strato.digits import is_digits
from strato.fileio import read_at, read_cached

OPEN_DESCRIPTORS = 64
READ_CHUNK = 256 * 1024


class BodyFiles:
    def __init__(self, directory: Path) -> None:
        self.entries_dir = directory / "entries"
        self.slabs_dir = directory / "slabs"
        for prefix in range(256):  # entry names are hex: their first two characters pick the folder
            (self.entries_dir / f"{prefix:02x}").mkdir(parents=True, exist_ok=True)
        self.slabs_dir.mkdir(exist_ok=True)
        self._entries = str(self.entries_dir)
        self._slabs = str(self.slabs_dir)
        # Open for reads on the loop: entries' own files by name, slabs by number.
        self._descriptors: OrderedDict[str | int, int] = OrderedDict()

    def file(self, name: str, suffix: str = ".body") -> str:
        """An entry's own file (its body, or version 1's metadata with suffix .meta)."""
        return f"{self._entries}/{name[:2]}/{name}{suffix}"

    def slab(self, number: int) -> str:
        return f"{self._slabs}/{number:08d}.slab"

    def slab_lengths(self) -> dict[int, int]:
        """The slab files a previous run left: their lengths by number (anything else in their
        folder is removed)."""
        lengths: dict[int, int] = {}
        for path in self.slabs_dir.iterdir():
            number = path.name.removesuffix(".slab")
            if is_digits(number) and self.slab(int(number)) == str(path):
                lengths[int(number)] = path.stat().st_size
            else:
                path.unlink(missing_ok=True)
        return lengths

    def remove_bodies_except(self, names: Container[str]) -> None:
        """Remove the body files of entries not in `names` (a killed fill's leftovers)."""
        for body in self.entries_dir.glob("*/*.body"):
            if body.stem not in names:
                body.unlink(missing_ok=True)

    def file_cached(self, name: str, size: int, offset: int) -> bytes | None:
        """`size` bytes at `offset` of an entry's own body file, only if the page cache holds them
        all (never blocks); None otherwise."""
        return self._cached(name, size, offset)

    def slab_cached(self, number: int, size: int, offset: int, *, keep: bool = True) -> bytes | None:
        """The same in a slab file; `keep` False: the slab is about to go, keep no descriptor."""
        if keep:
            return self._cached(number, size, offset)
        try:
            fd = os.open(self.slab(number), os.O_RDONLY | os.O_CLOEXEC)
        except OSError:
            return None
        try:
            return read_cached(fd, size, offset)
        finally:
            os.close(fd)

    def _cached(self, key: str | int, size: int, offset: int) -> bytes | None:
        fd = self._descriptors.get(key)
        if fd is None:
            try:
                fd = os.open(self.file(key) if isinstance(key, str) else self.slab(key), os.O_RDONLY | os.O_CLOEXEC)
            except OSError:
                return None
            self._descriptors[key] = fd
            if len(self._descriptors) > OPEN_DESCRIPTORS:
                os.close(self._descriptors.popitem(last=False)[1])
        else:
            self._descriptors.move_to_end(key)
        return read_cached(fd, size, offset)

    @staticmethod
    async def read(path: str, size: int, offset: int) -> bytes:
        """`size` bytes at `offset` of a file (from a worker thread if the page cache lacks them)."""
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        try:
            return await read_at(fd, size, offset)
        finally:
            os.close(fd)

    def forget(self, key: str | int) -> None:
        """A file is going (an entry's body, by the entry's name, or a slab, by its number):
        close its descriptor."""
        fd = self._descriptors.pop(key, None)
        if fd is not None:
            os.close(fd)

    def close(self) -> None:
        while self._descriptors:
            os.close(self._descriptors.popitem()[1])


class StoredBody:
    """A stored body readable by range; its descriptor closes with the last reference."""

    def __init__(self, size: int, *, body: bytes | None = None, path: str | None = None) -> None:
        """`body`: in memory; else opened now at `path`, so that an eviction or purge racing with
        the response cannot pull the file away from under it (FileNotFoundError if it is gone)."""
        self.size = size
        self.whole = body  # the body, when it is in memory
        self._fd: int | None = None
        if body is None and path is not None:
            fd = self._fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
            weakref.finalize(self, os.close, fd)

    async def read(self, start: int = 0, end: int | None = None) -> AsyncIterator[bytes]:
        """Bytes [start, end) (to the end when `end` is None)."""
        end = self.size if end is None else min(end, self.size)
        if self.whole is not None:
            for offset in range(start, end, READ_CHUNK):
                yield self.whole[offset : min(end, offset + READ_CHUNK)]
            return
        assert self._fd is not None
        while start < end:
            chunk = await read_at(self._fd, min(READ_CHUNK, end - start), start)
            if not chunk:
                raise OSError("a cached body is shorter than its entry")
            start += len(chunk)
            yield chunk
