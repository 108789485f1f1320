"""The edge cache's index on disk: one append-only file of entry records, so that storing a
response costs one appended line instead of a metadata file written, renamed and fsync'd.

The file starts with a versioned header line; every later line is a JSON object, either an
entry's record (`{"name": ..., ...}`; a later record of the same name replaces it) or a drop
(`{"drop": name}`). A record is appended only once its body is complete, so a body with
no record is a leftover of a killed fill (removed at load) and a record without its body, or
with a body of another size, is skipped. Version 3 records of small bodies name their place
in a slab file (edge/slabs.py: `slab`, `offset`, `crc`); version 2 had none, its records are
read as they are (bodies in files of their own) and the file is rewritten as version 3. A
line cut short by a crash is ignored. Replay rewrites the file with only the live records
(compaction), and so does `put` once dropped and replaced records outnumber the live ones.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from strato.fileio import write_all

log = logging.getLogger("strato.edge")


def _header(version: int) -> bytes:
    return json.dumps({"strato-edge-index": version}).encode() + b"\n"


VERSION = 3
READABLE = (2, 3)  # version 2's records are version 3's without slabs
HEADER = _header(VERSION)
_READABLE_HEADERS = frozenset(_header(version) for version in READABLE)
COMPACT_AFTER = 10_000  # records beyond the live ones before a compaction is considered


class Journal:
    """Records by entry name; put and drop are buffered until flush (one write for many).
    Not thread-safe: after load, only the store's DiskWriter thread uses it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None
        self._records = 0  # lines in the file (live, replaced and dropped)
        self._live = 0
        self._buffer: list[bytes] = []

    def replay(self) -> dict[str, dict[str, Any]]:
        """The live records, in the order they were last written (oldest first)."""
        live: dict[str, dict[str, Any]] = {}
        try:
            lines = self.path.read_bytes().split(b"\n")
        except FileNotFoundError:
            lines = []
        self._open()
        if not lines or lines[0] + b"\n" not in _READABLE_HEADERS:
            if lines and lines != [b""]:
                log.warning("edge cache index %s is of an unknown format: the cache starts empty", self.path)
            return live  # none yet, or an unknown format: start empty (load removes the bodies)
        for line in lines[1:]:
            try:
                record = json.loads(line)
            except ValueError:
                continue  # a line cut short by a crash
            if not isinstance(record, dict):
                continue
            dropped = record.get("drop")
            if isinstance(dropped, str):
                live.pop(dropped, None)
            elif isinstance(record.get("name"), str):
                live.pop(record["name"], None)
                live[record["name"]] = record
        self._records, self._live = len(lines) - 1, len(live)
        return live

    def rewrite(self, records: Iterable[dict[str, Any]]) -> None:
        """Replace the file with exactly these records (temp file, fsync, rename), then append.
        Anything buffered is dropped: `records` are the live ones as of now."""
        self._buffer.clear()
        self.close()
        tmp = self.path.with_name(self.path.name + ".tmp")
        lines = [HEADER, *(_line(record) for record in records)]
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
        try:
            write_all(fd, b"".join(lines))
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, self.path)
        self._records = self._live = len(lines) - 1
        self._open()

    def _open(self) -> None:
        if self._fd is None:
            self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o600)
            if os.fstat(self._fd).st_size == 0:
                write_all(self._fd, HEADER)

    def put(self, record: dict[str, Any], *, replaces: bool = False) -> None:
        """Buffer an entry's record (`replaces`: a record of that name is already live)."""
        self._buffer.append(_line(record))
        if not replaces:
            self._live += 1

    def drop(self, name: str) -> None:
        self._buffer.append(b'{"drop":"%s"}\n' % name.encode())
        self._live -= 1

    def flush(self) -> None:
        """Append what put and drop buffered, in one write."""
        if self._buffer:
            assert self._fd is not None, "replay or rewrite the journal before writing to it"
            write_all(self._fd, b"".join(self._buffer))
            self._records += len(self._buffer)
            self._buffer.clear()

    def wants_compaction(self) -> bool:
        return self._records - self._live > max(COMPACT_AFTER, self._live)

    def close(self) -> None:
        self.flush()
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.close(self._fd)
            self._fd = None


_ENCODER = json.JSONEncoder(separators=(",", ":"))  # one for every record, not one made per call


def _line(record: dict[str, Any]) -> bytes:
    return _ENCODER.encode(record).encode() + b"\n"
