"""A ring of shared memory for an API worker's reports to the lease desk (lending.py).

A lent environment's `begin` must be in the controller's hands before the runtime has the
invocation, so it was a system call on every warm invoke's path, though the desk reads reports
only on its tick. The worker writes `begin` and `end` here instead (memory shared with the
controller: a memfd passed over the channel at connect), and the desk reads the ring whenever
it reads the channel, the ring first. Every message the worker still sends on the channel names
the last record written before it (`after`), and the desk reads the ring before handling it:
the order in which the worker reported is the order in which the desk hears.

A slot holds one record: its sequence number, its length and CRC-32, then the report, packed
(`begin` and `end` only: their fields in a fixed layout, a third of a JSON head's cost, on every
warm invoke twice). The writer fills a slot's report, then its length and checksum, then its
number; the reader takes the slot whose number is the next it expects and whose checksum holds
(else it is not written yet, or only partly visible: read on the next look). The reader's
position is in the ring's head, so the writer never overwrites what was not read: a full
ring, or a report too long for a slot, goes on the channel instead (in order, by `after`).
"""

from __future__ import annotations

import mmap
import os
import struct
import zlib
from collections.abc import Callable
from typing import Any

SLOTS = 1024
SLOT = 512
_HEAD = struct.Struct("<Q")  # the reader's position: the number of the last record read
_NUMBER = struct.Struct("<Q")
_CHECK = struct.Struct("<II")  # length, CRC-32
_RECORD = struct.Struct("<QII")  # number, length, CRC-32 (as read)
SIZE = _HEAD.size + SLOTS * SLOT
_ROOM = SLOT - _RECORD.size
# A report: its kind, a flag (begin: the log tail asked; end: an error type follows the request
# id), the lease, `at`, the request id's length; then the request id and the error type.
_REPORT = struct.Struct("<BBQdH")
_KINDS = ("begin", "end")


def _slot(number: int) -> int:
    return _HEAD.size + (number % SLOTS) * SLOT


class RingWriter:
    """The worker's end: `fd` is passed to the controller once, then closed here."""

    def __init__(self) -> None:
        self.fd = os.memfd_create("strato-reports", os.MFD_CLOEXEC)
        os.ftruncate(self.fd, SIZE)
        self._memory = mmap.mmap(self.fd, SIZE)
        self.written = 0  # the number of the last record written

    def put(self, head: dict[str, Any]) -> bool:
        """Write one report; False when it must go on the channel (the ring full, it too long,
        or not a `begin` or `end`)."""
        data = _packed(head)
        number = self.written + 1
        if data is None or len(data) > _ROOM or number - _HEAD.unpack_from(self._memory, 0)[0] > SLOTS:
            return False
        start = _slot(number)
        body = start + _RECORD.size
        self._memory[body:body + len(data)] = data
        _CHECK.pack_into(self._memory, start + _NUMBER.size, len(data), zlib.crc32(data))
        _NUMBER.pack_into(self._memory, start, number)  # last: the record is whole from here on
        self.written = number
        return True

    def release_fd(self) -> None:
        """The descriptor was passed on (or failed to be): the mapping stays."""
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1

    def close(self) -> None:
        self.release_fd()
        self._memory.close()


class RingReader:
    """The desk's end, over the descriptor the worker passed (owned from then on)."""

    def __init__(self, fd: int) -> None:
        try:
            if os.fstat(fd).st_size != SIZE:
                raise ValueError("a report ring of the wrong size")
            self._memory = mmap.mmap(fd, SIZE)
        finally:
            os.close(fd)
        self.read = 0  # the number of the last record read

    def drain(self, on_report: Callable[[dict[str, Any]], None]) -> int:
        """Hand on every record written and visible, in order; how many there were."""
        memory = self._memory
        count = 0
        while True:
            number = self.read + 1
            start = _slot(number)
            written, length, checksum = _RECORD.unpack_from(memory, start)
            if written != number or length > _ROOM:
                break
            data = memory[start + _RECORD.size:start + _RECORD.size + length]
            if zlib.crc32(data) != checksum:
                break
            self.read = number
            _HEAD.pack_into(memory, 0, number)
            count += 1
            report = _unpacked(data)
            if report is not None:  # else whole (its checksum holds) but no report: skipped, as on the channel
                on_report(report)
        return count

    def close(self) -> None:
        self._memory.close()


def _packed(head: dict[str, Any]) -> bytes | None:
    op, lease, at, request_id = head.get("op"), head.get("lease"), head.get("at"), head.get("request_id")
    if op not in _KINDS or type(lease) is not int or type(at) is not float or type(request_id) is not str:
        return None
    if op == "begin":
        flag, tail = bool(head.get("log_tail")), b""
    else:
        error_type = head.get("error_type")
        if error_type is not None and type(error_type) is not str:
            return None
        flag, tail = error_type is not None, (error_type or "").encode()
    request = request_id.encode()
    return _REPORT.pack(_KINDS.index(op), flag, lease, at, len(request)) + request + tail


def _unpacked(data: bytes) -> dict[str, Any] | None:
    if len(data) < _REPORT.size:
        return None
    kind, flag, lease, at, length = _REPORT.unpack_from(data)
    if kind >= len(_KINDS) or _REPORT.size + length > len(data):
        return None
    try:
        request_id = data[_REPORT.size:_REPORT.size + length].decode()
        rest = data[_REPORT.size + length:].decode()
    except UnicodeDecodeError:
        return None
    if kind == 0:
        return {"op": "begin", "lease": lease, "request_id": request_id, "log_tail": bool(flag), "at": at}
    return {"op": "end", "lease": lease, "request_id": request_id, "error_type": rest if flag else None, "at": at}
