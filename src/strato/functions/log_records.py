"""The framed format of a function's log files: each write is one record that carries its
environment's log stream and when each of its pieces was written, so that the log reads back
line by line as CloudWatch Logs events, and as the raw text it always was.

    file    = FILE_MAGIC, generation (u64: 1 for a function's first framed file, +1 at each
              rotation), then records
    record  = RECORD_MAGIC, payload length (u32), stream length (u16), piece count (u16),
              the stream (UTF-8), per piece: ms since the epoch (i64) and length (u32, its top
              bit set when the piece begins a line: strato's own START/END/REPORT lines),
              the payload (the pieces' bytes, in order), and a trailer: the record's length
              before the trailer (u32) and TRAILER_MAGIC

A record is written with one append; a reader stops at the first record that is not whole
(one still being written, or torn by a crash: the writer rotates a file whose end is not a
record's end, so nothing is ever appended after a torn record). Files written before this
format (raw text, no FILE_MAGIC) are still read by `read_logs`; they hold no events.
"""

from __future__ import annotations

import os
import struct
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import BinaryIO

FILE_MAGIC = b"\x00\x7fstrato-log\x00"
_FILE = struct.Struct("<Q")
FILE_HEADER = len(FILE_MAGIC) + _FILE.size
RECORD_MAGIC = b"\x1eR"
_HEAD = struct.Struct("<2sIHH")
_PIECE = struct.Struct("<qI")
TRAILER_MAGIC = b"R\x1f"
_TRAILER = struct.Struct("<I2s")
LINE_START = 0x8000_0000
MAX_PIECES = 0xFFFF
MAX_STREAM = 512  # bytes of a stream name kept

Piece = tuple[int, bool, bytes]  # ms since the epoch, begins a line, the bytes


def file_header(generation: int) -> bytes:
    return FILE_MAGIC + _FILE.pack(generation)


def encode(stream: str, pieces: Sequence[Piece], payload: bytes) -> bytes:
    """One record of `pieces` (at most MAX_PIECES), whose bytes joined are `payload`."""
    name = stream.encode()[:MAX_STREAM]
    parts = [_HEAD.pack(RECORD_MAGIC, len(payload), len(name), len(pieces)), name]
    parts += [_PIECE.pack(at, len(data) | (LINE_START if starts else 0)) for at, starts, data in pieces]
    parts.append(payload)
    size = sum(map(len, parts))
    parts.append(_TRAILER.pack(size, TRAILER_MAGIC))
    return b"".join(parts)


def generation_of(fd: int) -> int | None:
    """A framed file's generation (read at its start); None for a file in the old raw format."""
    head = os.pread(fd, FILE_HEADER, 0)
    if len(head) < FILE_HEADER or not head.startswith(FILE_MAGIC):
        return None
    generation: int = _FILE.unpack_from(head, len(FILE_MAGIC))[0]
    return generation


def ends_whole(fd: int, size: int) -> bool:
    """Whether a framed file ends where a record ends (a crash may have torn the last one)."""
    if size == FILE_HEADER:
        return True
    if size < FILE_HEADER + _HEAD.size + _TRAILER.size:
        return False
    length, magic = _TRAILER.unpack(os.pread(fd, _TRAILER.size, size - _TRAILER.size))
    start = size - _TRAILER.size - length
    if magic != TRAILER_MAGIC or start < FILE_HEADER:
        return False
    head = os.pread(fd, _HEAD.size, start)
    if len(head) < _HEAD.size:
        return False
    record_magic, payload, stream, pieces = _HEAD.unpack(head)
    return bool(record_magic == RECORD_MAGIC and _HEAD.size + stream + pieces * _PIECE.size + payload == length)


@dataclass(frozen=True, slots=True)
class Record:
    """One record as read: where it is (its file's generation, its offset there), its stream
    and pieces (ms, length, begins a line), and its payload when the reader asked for it."""

    generation: int
    offset: int
    stream: str
    pieces: tuple[tuple[int, int, bool], ...]
    payload: bytes | None

    @property
    def first(self) -> int:
        return self.pieces[0][0] if self.pieces else 0

    @property
    def last(self) -> int:
        return self.pieces[-1][0] if self.pieces else 0


Wanted = Callable[[str, int, int], bool]  # (stream, earliest ms, latest ms): is the payload needed?


def records(file: BinaryIO, generation: int, *, start: int = FILE_HEADER,
            wanted: Wanted | None = None) -> Iterator[Record]:
    """The whole records of an open framed file from offset `start` (a record's), in order.
    A record `wanted` refuses comes without its payload (which is skipped, not read)."""
    file.seek(max(start, FILE_HEADER))
    offset = file.tell()
    while True:
        head = file.read(_HEAD.size)
        if len(head) < _HEAD.size:
            return
        magic, payload_size, stream_size, count = _HEAD.unpack(head)
        if magic != RECORD_MAGIC:
            return
        meta = file.read(stream_size + count * _PIECE.size)
        if len(meta) < stream_size + count * _PIECE.size:
            return
        pieces = tuple((at, size & ~LINE_START, bool(size & LINE_START))
                       for at, size in _PIECE.iter_unpack(meta[stream_size:]))
        stream = meta[:stream_size].decode(errors="replace")
        payload: bytes | None = None
        if wanted is None or (pieces and wanted(stream, min(at for at, _, _ in pieces),
                                                 max(at for at, _, _ in pieces))):  # a clock may step back
            payload = file.read(payload_size)
            if len(payload) < payload_size:
                return
        else:
            file.seek(payload_size, os.SEEK_CUR)
        trailer = file.read(_TRAILER.size)
        if len(trailer) < _TRAILER.size or _TRAILER.unpack(trailer)[1] != TRAILER_MAGIC:
            return
        yield Record(generation, offset, stream, pieces, payload)
        offset = file.tell()


def whole_end(file: BinaryIO, generation: int) -> int:
    """Where the last whole record of an open framed file ends: a key's offset that is never
    inside a record (one still being written, or torn)."""
    end = FILE_HEADER
    for _ in records(file, generation, wanted=lambda *_: False):
        end = file.tell()  # just past the record's trailer
    return end


def raw_text(file: BinaryIO, max_bytes: int, streams: Callable[[str], bool] | None = None) -> bytes:
    """The last `max_bytes` of an open framed file's payloads (of the `streams` wanted, None:
    all), in order (bounded in memory)."""
    kept: deque[bytes] = deque()
    size = 0
    wanted = None if streams is None else (lambda stream, _first, _last: streams(stream))
    for record in records(file, 0, wanted=wanted):
        if record.payload is None:
            continue
        kept.append(record.payload)
        size += len(record.payload)
        while kept and size - len(kept[0]) >= max_bytes:
            size -= len(kept.popleft())
    return b"".join(kept)[-max_bytes:] if max_bytes > 0 else b""
