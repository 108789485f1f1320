"""The edge cache's index on disk: one append-only file of entry records, so that storing a
response costs one appended record instead of a metadata file written, renamed and fsync'd.

The file starts with a versioned header line (JSON); then come binary records, each framed by
its payload's length and CRC-32 (`<II`, little-endian): an entry's record (a later record of
the same name replaces it) or a drop. An entry's payload is its numbers in one struct (`_ENTRY`),
the character count of each of its texts (name, key, variant, host, target, the Vary names, the
header names and values), then those texts joined, in UTF-8: no text is escaped or parsed. A
record is appended only once its body is complete, so a body with no record is a leftover of
a killed fill (removed at load) and a record without its body, or with a body of another size,
is skipped. A record cut short by a crash, or whose CRC-32 does not match, ends the replay;
replay cuts it off the file, so nothing is ever appended after a torn tail, even when load's
rewrite of the file fails on a full disk (and an append that fails is cut off again). Load
rewrites the file with only the live records (compaction), and so does `put` once dropped and
replaced records outnumber the live ones.

Version 4 is binary; versions 2 (no slabs) and 3 were a JSON object per line (`{"name": ...}`
or `{"drop": name}`, a line cut short skipped); they load as they are and the file is
rewritten as version 4.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import struct
import zlib
from collections.abc import Iterable
from itertools import chain
from pathlib import Path

from strato.edge.entry import Entry, Record
from strato.fileio import write_all

log = logging.getLogger("strato.edge")


def _header(version: int) -> bytes:
    return json.dumps({"strato-edge-index": version}).encode() + b"\n"


VERSION = 4
JSON_LINES = (2, 3)  # version 2's records are version 3's without slabs
HEADER = _header(VERSION)
_JSON_HEADERS = frozenset(_header(version) for version in JSON_LINES)
COMPACT_AFTER = 10_000  # records beyond the live ones before a compaction is considered
MAX_UNWRITTEN = 16 * 1024 * 1024  # bytes of records kept for a later append while appends fail

_FRAME = struct.Struct("<II")  # the payload's length and CRC-32
# kind, status, request_time, response_time, size, slab, offset, crc, Vary names, header fields
_ENTRY = struct.Struct("<BHddqqqIHH")
_PUT, _DROP = 0, 1
_TEXTS = 5  # name, key, variant, host, target; then the Vary names, then header names and values


class Journal:
    """Records by entry name; put and drop are buffered until flush (one write for many).
    Not thread-safe: after load, only the store's DiskWriter thread uses it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None
        self._size = 0  # bytes appended whole: a failed append is cut back to this
        self._records = 0  # records in the file (live, replaced and dropped)
        self._live = 0
        self._retry_at = 0  # after a failed compaction: the record count at which to try again
        self._stale = False  # records were given up: the file no longer says what is live
        self._buffer: list[bytes] = []

    def replay(self) -> dict[str, Entry]:
        """The live entries, in the order their records were last written (oldest first)."""
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            data = b""
        self._open()
        header = data[: data.find(b"\n") + 1]
        if header == HEADER:
            live, self._records, whole = _replay_binary(memoryview(data)[len(header) :])
            if len(header) + whole < len(data) and self._fd is not None:  # cut off what follows the last whole record
                os.ftruncate(self._fd, len(header) + whole)
                self._size = len(header) + whole
        elif header in _JSON_HEADERS:
            live, self._records = _replay_json(data[len(header) :].split(b"\n"))
        else:
            if data:
                log.warning("edge cache index %s is of an unknown format: the cache starts empty", self.path)
            return {}  # none yet, or an unknown format: start empty (load removes the bodies)
        self._live = len(live)
        return live

    def rewrite(self, records: Iterable[Record]) -> None:
        """Replace the file with exactly these records (temp file, fsync, rename), then append.
        Anything buffered is dropped: `records` are the live ones as of now. When the new file
        cannot be written (a full disk), the index stays as it was and is appended to as before
        (what is buffered included): OSError, and nothing lost."""
        tmp = self.path.with_name(self.path.name + ".tmp")
        frames = [HEADER, *map(_entry_frame, records)]
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
            try:
                write_all(fd, b"".join(frames))
                os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(tmp, self.path)
        except OSError:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            self._retry_at = self._records + COMPACT_AFTER  # not again at every record
            raise
        self._buffer.clear()
        self._stale = False
        self.close()
        self._records = self._live = len(frames) - 1
        self._open()

    def _open(self) -> None:
        if self._fd is None:
            self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o600)
            self._size = os.fstat(self._fd).st_size
            if self._size == 0:
                write_all(self._fd, HEADER)
                self._size = len(HEADER)

    def put(self, record: Record, *, replaces: bool = False) -> None:
        """Buffer an entry's record (`replaces`: a record of that name is already live)."""
        self._buffer.append(_entry_frame(record))
        if not replaces:
            self._live += 1

    def drop(self, name: str) -> None:
        self._buffer.append(_framed(bytes((_DROP,)) + name.encode("utf-8", "surrogatepass")))
        self._live -= 1

    def flush(self) -> None:
        """Append what put and drop buffered, in one write; if it fails, the file is cut back
        to its last whole record and the records stay buffered for the next flush, up to
        MAX_UNWRITTEN bytes: beyond, they are given up (memory stays bounded while a disk stays
        full) and the index wants a compaction, which writes it from the live entries again."""
        if self._buffer:
            assert self._fd is not None, "replay or rewrite the journal before writing to it"
            appended = b"".join(self._buffer)
            try:
                write_all(self._fd, appended)
            except OSError:
                with contextlib.suppress(OSError):
                    os.ftruncate(self._fd, self._size)
                if len(appended) > MAX_UNWRITTEN:
                    self._buffer.clear()
                    self._stale = True
                raise
            self._size += len(appended)
            self._records += len(self._buffer)
            self._buffer.clear()

    @property
    def complete(self) -> bool:
        """Whether every record given since the file was last written whole is in it or still
        buffered for it (none given up)."""
        return not self._stale

    def wants_compaction(self) -> bool:
        if self._records < self._retry_at:
            return False
        return self._stale or self._records - self._live > max(COMPACT_AFTER, self._live)

    def close(self) -> None:
        self.flush()
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.close(self._fd)
            self._fd = None


def _entry_frame(record: Record) -> bytes:
    """An entry's record, framed (the layout in the module's docstring)."""
    key, variant, vary, host, target, status, headers, request_time, response_time, size, name, slab, offset, crc = (
        record
    )
    texts = [name, key, variant, host, target, *vary, *chain.from_iterable(headers.items())]
    return _framed(b"".join((
        _ENTRY.pack(_PUT, status, request_time, response_time, size, slab, offset, crc, len(vary), len(headers)),
        struct.pack(f"<{len(texts)}I", *map(len, texts)),
        "".join(texts).encode("utf-8", "surrogatepass"),
    )))


def _framed(payload: bytes) -> bytes:
    """A record's payload behind its length and CRC-32."""
    return _FRAME.pack(len(payload), zlib.crc32(payload)) + payload


def _replay_binary(data: memoryview) -> tuple[dict[str, Entry], int, int]:
    """Version 4's live entries, its number of records, up to the first torn or damaged one,
    and the bytes those records take."""
    live: dict[str, Entry] = {}
    at = records = 0
    while at + _FRAME.size <= len(data):
        length, crc = _FRAME.unpack_from(data, at)
        payload = data[at + _FRAME.size : at + _FRAME.size + length]
        if len(payload) < length or zlib.crc32(payload) != crc or not length:
            break  # a record cut short by a crash, and whatever follows it
        at += _FRAME.size + length
        records += 1
        try:
            if payload[0] == _DROP:
                live.pop(bytes(payload[1:]).decode("utf-8", "surrogatepass"), None)
                continue
            entry = _entry(payload)
        except (ValueError, struct.error):
            continue  # a record this version cannot read (a drop's name included)
        live.pop(entry.name, None)
        live[entry.name] = entry
    return live, records, at


def _entry(payload: memoryview) -> Entry:
    kind, status, request_time, response_time, size, slab, offset, crc, varies, fields = _ENTRY.unpack_from(payload)
    count = _TEXTS + varies + 2 * fields
    if kind != _PUT:
        raise ValueError(f"an index record of an unknown kind {kind}")
    lengths = struct.unpack_from(f"<{count}I", payload, _ENTRY.size)
    text = bytes(payload[_ENTRY.size + 4 * count :]).decode("utf-8", "surrogatepass")
    if sum(lengths) != len(text):
        raise ValueError("an index record's texts do not add up")
    texts, start = [], 0
    for length in lengths:
        texts.append(text[start : start + length])
        start += length
    name, key, variant, host, target = texts[:_TEXTS]
    values = texts[_TEXTS + varies :]
    headers = dict(zip(values[::2], values[1::2], strict=True))
    return Entry(
        key, variant, tuple(texts[_TEXTS : _TEXTS + varies]), host, target, status, headers, request_time,
        response_time, size, name, slab, offset, crc,
    )


def _replay_json(lines: list[bytes]) -> tuple[dict[str, Entry], int]:
    """Versions 2 and 3: a JSON object per line; a line cut short, or not a record, is skipped."""
    live: dict[str, Entry] = {}
    for line in lines:
        try:
            record = json.loads(line)
            if not isinstance(record, dict):
                continue
            if isinstance(record.get("drop"), str):
                live.pop(record["drop"], None)
                continue
            entry = Entry.from_meta(record)
        except (ValueError, TypeError, KeyError):
            continue  # a line cut short by a crash, or a record of another shape
        live.pop(entry.name, None)
        live[entry.name] = entry
    return live, sum(1 for line in lines if line)
