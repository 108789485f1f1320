"""The edge's cache: entries on disk (surviving restarts), small hot bodies also in memory,
both tiers bounded in bytes, disk evicted by S3-FIFO; compressed copies of small bodies are
kept in memory too (compression.EncodedCopies), within their own byte bound.

An entry is one stored response: a variant of a primary key. A body of up to SLAB_BODY_MAX
bytes received in memory is placed in a shared slab file, `<dir>/slabs/<n>.slab` (edge/slabs.py),
with a CRC-32 that every read of it from disk checks (and load checks for the newest slab, the
one a crash may have cut short); a larger body lives in `<dir>/entries/xx/<name>.body`, written
there as it arrives (one with a declared length up to MEMORY_OBJECT_MAX is received in memory
and written in one go when complete). Its metadata is a record appended to `<dir>/index.log`
(edge/journal.py) once the body is complete, so a restart only ever indexes complete entries
and removes bodies without a record. Names are random, never derived from URLs. The disk work
of a commit, a 304 and a drop runs in order on one thread (edge/diskwriter.py). The files on
disk stay within the capacity: the eviction policy keeps the live bytes within it less the
slabs' reserve for dead bytes, and the sparsest slabs go when their dead bytes pass it.
Version 1 kept each entry's metadata in a `<name>.meta` JSON file; load() moves those into the
index. Versions 2 and 3 of the index (JSON lines, version 2 without slabs) load as they are.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import zlib
from collections import OrderedDict
from collections.abc import Mapping
from pathlib import Path
from typing import ClassVar
from urllib.parse import unquote

from strato.edge import cachekey
from strato.edge.bodyfiles import BodyFiles, StoredBody
from strato.edge.compression import EncodedCopies
from strato.edge.diskwriter import DiskWriter
from strato.edge.entry import Entry
from strato.edge.eviction import Eviction, S3Fifo
from strato.edge.journal import Journal
from strato.edge.purges import PurgeLog
from strato.edge.slabs import SLAB_BODY_MAX, Slab, Slabs

log = logging.getLogger("strato.edge")

LEGACY_META_VERSION = 1  # the per-entry .meta files load() migrates
MEMORY_OBJECT_MAX = 1024 * 1024


class EdgeStore:
    def __init__(
        self, directory: Path, capacity: int, memory_capacity: int, eviction: Eviction | None = None, *,
        encoded_capacity: int | None = None,
    ) -> None:
        """`encoded_capacity`: bytes of compressed copies kept (a quarter of the memory tier's when None)."""
        self.directory = directory
        self.tmp_dir = directory / "tmp"
        self.tmp_dir.mkdir(parents=True, exist_ok=True)
        self.files = BodyFiles(directory)
        self.slabs = Slabs(capacity)
        self.eviction = eviction or S3Fifo(capacity - self.slabs.reserve)
        self.memory_capacity = memory_capacity
        self._index: dict[str, dict[str, Entry]] = {}
        self._by_name: dict[str, Entry] = {}
        self._by_path: dict[str, dict[str, Entry]] = {}  # _purge_path(target) -> its entries by name
        self._memory: OrderedDict[str, bytes] = OrderedDict()
        self._memory_bytes = 0
        self.encoded = EncodedCopies(memory_capacity // 4 if encoded_capacity is None else encoded_capacity)
        self.journal = Journal(directory / "index.log")
        self.writer = DiskWriter(self.journal)
        self._copies: dict[str, tuple[int, int]] = {}  # bodies being copied: where to read them until then
        self.purges = PurgeLog()

    # -- loading ------------------------------------------------------------------------------

    def load(self) -> int:
        """Index the entries a previous run left, oldest first; drop partial leftovers (a body
        file without its record, a record whose body is missing, shorter or, in the newest slab,
        not the one stored), move version 1 metadata files into the index, and compact it."""
        for leftover in self.tmp_dir.iterdir():
            leftover.unlink(missing_ok=True)
        records = {**self._legacy_records(), **self.journal.replay()}
        slabs = {number: self.slabs.adopt(number, length) for number, length in self.files.slab_lengths().items()}
        newest = max(slabs, default=-1)
        newest_bytes = _read_or_empty(self.files.slab(newest)) if slabs else b""  # a crash may have torn its tail
        for entry in records.values():  # a body left without an entry goes with the others below
            try:
                if entry.slab < 0:
                    if os.stat(self.files.file(entry.name)).st_size != entry.size:
                        raise ValueError("body size differs")
                elif entry.slab not in slabs or entry.offset + entry.size > slabs[entry.slab].size or (
                    entry.slab == newest and not _intact(entry, newest_bytes[entry.offset : entry.offset + entry.size])
                ):
                    raise ValueError("a slab body cut short")
            except (OSError, ValueError, TypeError):  # TypeError: a JSON record (versions 1-3) of other types
                continue
            if entry.slab >= 0:
                self.slabs.add(entry.slab, entry.name, entry.size)
            self._index_entry(entry, warm=True, record=False)
        self.files.remove_bodies_except(self._by_name)
        for slab in slabs.values():
            if not slab.names:
                self._remove_slab(slab)
        try:
            self.journal.rewrite(entry.record() for entry in self._by_name.values())
        except OSError as exc:  # a full disk: the index as it is names no body of another entry (see Journal)
            log.warning("edge cache: the index could not be compacted at start (%s); it is appended to as it is", exc)
        for meta in self.files.entries_dir.glob("*/*.meta"):
            meta.unlink(missing_ok=True)
        self.writer.start()
        self._reclaim()
        return len(self._by_name)

    def _legacy_records(self) -> dict[str, Entry]:
        """Version 1's per-entry metadata files, oldest first."""
        records: dict[str, Entry] = {}
        for path in sorted(self.files.entries_dir.glob("*/*.meta"), key=lambda p: p.stat().st_mtime):
            try:
                raw = json.loads(path.read_text())
                if isinstance(raw, dict) and raw.pop("v", None) == LEGACY_META_VERSION:
                    entry = Entry.from_meta(raw)
                    records[entry.name] = entry
            except (OSError, ValueError, TypeError, KeyError):
                continue
        return records

    # -- lookups --------------------------------------------------------------------------

    def lookup(self, key: str, request_headers: Mapping[str, str]) -> Entry | None:
        """The stored variant of `key` that the request selects (RFC 9111 §4.1), if any."""
        variants = self._index.get(key)
        if not variants:
            return None
        for entry in variants.values():
            if cachekey.secondary_key(entry.vary, request_headers) == entry.variant:
                return entry
        return None

    def has_variants(self, key: str) -> bool:
        """Whether any response is stored for `key` (whichever variants the requests select)."""
        return bool(self._index.get(key))

    def hit(self, entry: Entry) -> None:
        self.eviction.hit(entry.name)
        if entry.name in self._memory:
            self._memory.move_to_end(entry.name)

    def __len__(self) -> int:
        return len(self._by_name)

    def copies(self, entry: Entry) -> EntryCopies:
        """The entry's compressed copies, for delivery.deliver."""
        return EntryCopies(self, entry)

    def holds(self, entry: Entry) -> bool:
        """Whether `entry` is stored now (not a fill that was not stored, nor one dropped since)."""
        return self._by_name.get(entry.name) is entry

    def fits(self, size: int) -> bool:
        """Whether a body of `size` bytes can be stored at all (a larger one would be evicted at once)."""
        return size <= self.eviction.capacity

    @property
    def used(self) -> int:
        """Bytes on disk: the live bodies, the dead bytes slabs hold until they go, and the slabs
        gone from the books that the disk writer keeps until the index stops naming them."""
        return self.eviction.used + self.slabs.dead + self.writer.kept_bytes

    async def open(self, entry: Entry) -> StoredBody:
        """The entry's body, opened now: an eviction or purge racing with the response cannot
        pull the file away from under it. Raises FileNotFoundError if it is already gone, or if
        its bytes in a slab are not the ones stored (the entry is dropped)."""
        body = self.memory_body(entry)
        if body is not None:
            return StoredBody(entry.size, body=body)
        if entry.slab < 0:
            return StoredBody(entry.size, path=self.files.file(entry.name))
        number, offset = self._where(entry)
        body = self._checked(entry, await self.files.read(self.files.slab(number), entry.size, offset))
        if self.holds(entry):
            self._remember(entry.name, body)
        return StoredBody(entry.size, body=body)

    def memory_body(self, entry: Entry) -> bytes | None:
        """The entry's body when the memory tier holds it (or it still waits to be written)."""
        body = self._memory.get(entry.name)
        return self.writer.pending.get(entry.name) if body is None else body

    def body_now(self, entry: Entry) -> bytes | None:
        """The entry's whole body without blocking: from memory, or from a slab the page cache
        holds (checked, then kept in the memory tier); None otherwise."""
        body = self.memory_body(entry)
        if body is None and entry.slab >= 0 and self.holds(entry):
            body = self._paged(entry)
            if body is not None:
                self._remember(entry.name, body)
        return body

    def _paged(self, entry: Entry) -> bytes | None:
        """A slab body the page cache holds, checked (and its entry dropped if it is not the one
        stored); None when it is not all there."""
        number, offset = self._where(entry)
        read = self.files.slab_cached(number, entry.size, offset, keep=number == entry.slab)
        if read is None:
            return None
        with contextlib.suppress(FileNotFoundError):
            return self._checked(entry, read)
        return None

    def _where(self, entry: Entry) -> tuple[int, int]:
        """Where a slab body can be read now: its place, or while it is being copied there (a
        slab reclaimed), its old one."""
        if entry.name in self._copies:
            self._drain()
        return self._copies.get(entry.name, (entry.slab, entry.offset))

    def _drain(self) -> None:
        """Take in the copies the disk writer has finished."""
        moved = self.writer.moved
        while moved:
            name, number, offset = moved.popleft()
            entry = self._by_name.get(name)
            if entry is None or name not in self._copies:
                continue
            if (entry.slab, entry.offset) == (number, offset):
                del self._copies[name]
            else:  # copied again since: readable here until that copy is done
                self._copies[name] = (number, offset)

    def read_now(self, entry: Entry, start: int, end: int) -> bytes | None:
        """Bytes [start, end) of a body on disk, only if the page cache holds them all (never
        blocks); None otherwise."""
        if entry.slab >= 0:
            whole = self.body_now(entry)
            return None if whole is None else whole[start:end]
        if entry.name not in self._by_name:
            return None
        return self.files.file_cached(entry.name, end - start, start)

    def _checked(self, entry: Entry, body: bytes) -> bytes:
        """A body read from a slab, if it is the one stored; otherwise the entry is dropped and
        FileNotFoundError raised: a torn or overwritten body is never served."""
        if _intact(entry, body):
            return body
        log.warning("edge cache: the body of %s in slab %d is not the one stored; dropped", entry.target, entry.slab)
        if self.holds(entry):
            self._drop(entry)
        raise FileNotFoundError(f"slab {entry.slab} does not hold the body of {entry.target}")

    async def settled(self) -> None:
        """Wait until the disk work asked for so far is done and in the index: a purge or an
        invalidation confirmed after it survives a crash."""
        await asyncio.wrap_future(self.writer.barrier())

    def close(self) -> None:
        """Finish the disk writes; close read_now's descriptors and the index."""
        self.writer.close()
        self.files.close()
        self.journal.close()

    # -- writes ---------------------------------------------------------------------------

    def body_path(self, name: str) -> Path:
        """Where a fill streams a body: its final place (it is indexed only once complete)."""
        return Path(self.files.file(name))

    def commit(self, entry: Entry, body: bytes | None, *, written: bool) -> None:
        """Make a fully received body the stored variant: `written` when a fill already wrote it
        at body_path(entry.name); otherwise `body` goes to the disk writer (and the entry is not
        stored if the writer is too far behind). A body is kept in memory when given and small
        enough. Not when a purge since the entry was asked for drops it (edge/purges.py)."""
        if self.purges.drops(entry):
            if written:
                self.writer.drop(entry.name, self.files.file(entry.name))
            return
        if not written:
            if body is None:
                raise ValueError("a body that is not on disk must be given")
            if not self._write(entry, body):
                return
        old = self._index.get(entry.key, {}).get(entry.variant)
        if old is not None:
            self._drop(old)
        self._index_entry(entry, warm=False, record=True)
        if body is not None and entry.name in self._by_name:
            self._remember(entry.name, body)
        self._reclaim()

    def _write(self, entry: Entry, body: bytes) -> bool:
        """Hand a body to the disk writer, into a slab when it is small enough; False when the
        writer is too far behind."""
        if len(body) > SLAB_BODY_MAX:
            return self.writer.body(entry.name, self.files.file(entry.name), body)
        if not self.writer.room(len(body)):
            return False
        number, offset = self.slabs.place(entry.name, len(body))
        written = self.writer.body(entry.name, self.files.slab(number), body, offset)
        assert written, "the writer had room"
        entry.slab, entry.offset, entry.crc = number, offset, zlib.crc32(body)
        return True

    def _reclaim(self) -> None:
        """Drop the sparsest slabs once their dead bytes pass the reserve (edge/slabs.py): the
        disk writer copies their live bodies to the open slab first (each read at its old place
        until its copy is done), then removes them."""
        self._drain()
        for slab in self.slabs.victims():
            source = self.files.slab(slab.number)
            for name in list(slab.names):
                entry = self._by_name[name]
                old = entry.slab, entry.offset
                entry.slab, entry.offset = self.slabs.move(entry.slab, name, entry.size)
                self._copies.setdefault(name, old)
                self.writer.copy(name, (source, old[1]), entry.size, entry.crc,
                                 (self.files.slab(entry.slab), entry.slab, entry.offset))
                self.writer.put(entry.record(), replaces=True)
            self._remove_slab(slab)

    def _remove_slab(self, slab: Slab) -> None:
        self.slabs.remove(slab)
        self.files.forget(slab.number)
        self.writer.unlink(self.files.slab(slab.number))

    def freshen(self, entry: Entry, headers: dict[str, str], request_time: float, response_time: float) -> None:
        """RFC 9111 §4.3.4: a 304 updated the stored headers."""
        if headers.get("etag") != entry.headers.get("etag"):  # a new validator: copies made under the old one go
            self.encoded.drop(entry.name)
        entry.headers, entry.request_time, entry.response_time = headers, request_time, response_time
        entry.prepared = None
        if entry.name in self._by_name:
            self.writer.put(entry.record(), replaces=True)

    def _index_entry(self, entry: Entry, *, warm: bool, record: bool) -> None:
        """`record`: the entry's record, and its victims' drops, go to the index (not at load,
        which rewrites the index from the entries it keeps)."""
        self._index.setdefault(entry.key, {})[entry.variant] = entry
        self._by_name[entry.name] = entry
        self._by_path.setdefault(_purge_path(entry.target), {})[entry.name] = entry
        if record:
            self.writer.put(entry.record())
        for name in self.eviction.insert(entry.name, entry.size, warm=warm):
            victim = self._by_name.get(name)
            if victim is not None:
                self._drop(victim, record=record)
        if record and not self.writer.compacting and self.journal.wants_compaction():
            self.writer.rewrite([e.record() for e in self._by_name.values()])

    def _remember(self, name: str, body: bytes) -> None:
        if len(body) > MEMORY_OBJECT_MAX or len(body) > self.memory_capacity:
            return
        self._memory[name] = body
        self._memory_bytes += len(body)
        while self._memory_bytes > self.memory_capacity:
            _, dropped = self._memory.popitem(last=False)
            self._memory_bytes -= len(dropped)

    def _drop(self, entry: Entry, *, record: bool = True) -> None:
        """`record` False (at load): nothing goes to the disk writer, as load's rewrite of the
        index leaves the entry out and its sweep removes the entry's body file."""
        variants = self._index.get(entry.key)
        if variants is not None and variants.get(entry.variant) is entry:
            del variants[entry.variant]
            if not variants:
                del self._index[entry.key]
        indexed = self._by_name.pop(entry.name, None) is not None
        self.eviction.remove(entry.name)
        body = self._memory.pop(entry.name, None)
        if body is not None:
            self._memory_bytes -= len(body)
        self.encoded.drop(entry.name)
        if not indexed:
            return
        path = _purge_path(entry.target)
        named = self._by_path[path]
        del named[entry.name]
        if not named:
            del self._by_path[path]
        if entry.slab >= 0:
            self.slabs.release(entry.slab, entry.name, entry.size)
            self._copies.pop(entry.name, None)
        else:
            self.files.forget(entry.name)
        if record:
            self.writer.drop(entry.name, None if entry.slab >= 0 else self.files.file(entry.name))

    # -- invalidation ---------------------------------------------------------------------

    def invalidate(self, key: str) -> int:
        """Drop every variant of a primary key (RFC 9111 §4.4)."""
        self.purges.invalidated(key)
        return self._drop_all(list(self._index.get(key, {}).values()))

    def forget(self, entry: Entry) -> None:
        """Drop one stored response, which the origin has answered another way since (RFC 9111 4.3.3)."""
        self._drop_all([entry])

    def purge(self, pattern: str, host: str | None = None) -> int:
        """Drop entries by path: `pattern` is a path (every query variant of it, also when it
        names one variant's query string) or a prefix ending in `*` (CloudFront's invalidation
        paths), compared percent-decoded (CloudFront has `~` invalidated as %7E, viewers send it
        as it is); `host` limits it to one site, compared as the cache key compares hosts."""
        wildcard = pattern.endswith("*")
        wanted = unquote(pattern[:-1]) if wildcard else _purge_path(pattern)
        site = None if host is None else cachekey.normal_host(host)

        def matches(entry: Entry) -> bool:
            if site is not None and cachekey.normal_host(entry.host) != site:
                return False
            if wildcard:
                return unquote(entry.target).startswith(wanted)
            return _purge_path(entry.target) == wanted

        self.purges.record(matches)
        # A path looks up its entries, and a wildcard without a ? passes over the decoded paths
        # (a target's part before its ?, so what such a prefix can match): a pass decoding every
        # target for each of an invalidation's paths held the event loop for minutes.
        if not wildcard:
            candidates = list(self._by_path.get(wanted, {}).values())
        elif "?" in wanted:
            candidates = list(self._by_name.values())
        else:
            candidates = [e for path, named in self._by_path.items() if path.startswith(wanted) for e in named.values()]
        return self._drop_all([e for e in candidates if matches(e)])

    def _drop_all(self, victims: list[Entry]) -> int:
        for entry in victims:
            self._drop(entry)
        self._reclaim()
        return len(victims)


def _purge_path(target: str) -> str:
    """What a purge of a path (not a wildcard) compares: the target's path, percent-decoded."""
    return unquote(target.split("?", 1)[0])


def _read_or_empty(path: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError:
        return b""


def _intact(entry: Entry, body: bytes) -> bool:
    """Whether bytes read from a slab are the entry's body as stored."""
    return len(body) == entry.size and zlib.crc32(body) == entry.crc


class EntryCopies:
    """One entry's compressed bodies (delivery.Copies): kept only while the entry is stored,
    for bodies small enough for the memory tier."""

    __slots__ = ("_entry", "_store")
    limit: ClassVar[int] = MEMORY_OBJECT_MAX

    def __init__(self, store: EdgeStore, entry: Entry) -> None:
        self._store = store
        self._entry = entry

    def find(self, encoding: str) -> bytes | None:
        return self._store.encoded.get(self._entry.name, encoding)

    def keep(self, encoding: str, copy: bytes) -> None:
        if self._entry.size <= self.limit and self._store.holds(self._entry):
            self._store.encoded.put(self._entry.name, encoding, copy)
