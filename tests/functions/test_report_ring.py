"""The ring an API worker writes its reports into and the lease desk reads (functions/report_ring.py):
both ends in this process, over one shared memory descriptor, as the two processes hold it."""

from __future__ import annotations

import mmap
import os
import struct
import zlib
from collections.abc import Iterator
from typing import Any

import pytest

from strato.functions.report_ring import SIZE, SLOT, SLOTS, RingReader, RingWriter


@pytest.fixture
def ring() -> Iterator[tuple[RingWriter, RingReader]]:
    writer = RingWriter()
    reader = RingReader(os.dup(writer.fd))
    writer.release_fd()
    yield writer, reader
    writer.close()
    reader.close()


def heard(reader: RingReader) -> list[dict[str, Any]]:
    reports: list[dict[str, Any]] = []
    reader.drain(reports.append)
    return reports


def report(n: int) -> dict[str, Any]:
    return {"op": "begin", "lease": 1, "request_id": f"request-{n}", "log_tail": False, "at": n / 10}


def test_reports_are_heard_in_the_order_written(ring: tuple[RingWriter, RingReader]) -> None:
    writer, reader = ring
    for n in range(5):
        assert writer.put(report(n))
    assert heard(reader) == [report(n) for n in range(5)]
    assert heard(reader) == [], "each is heard once"
    assert (writer.written, reader.read) == (5, 5)


def test_the_ring_goes_round_while_it_is_read(ring: tuple[RingWriter, RingReader]) -> None:
    writer, reader = ring
    everything = []
    for batch in range(7):
        for n in range(batch * 500, batch * 500 + 500):
            assert writer.put(report(n))
        everything += heard(reader)
    assert everything == [report(n) for n in range(3500)]


def test_a_full_ring_refuses_a_report_until_the_reader_has_read(ring: tuple[RingWriter, RingReader]) -> None:
    """The writer never overwrites what was not read: the report goes on the channel instead."""
    writer, reader = ring
    for n in range(SLOTS):
        assert writer.put(report(n))
    assert not writer.put(report(SLOTS))
    assert len(heard(reader)) == SLOTS
    assert writer.put(report(SLOTS))
    assert heard(reader) == [report(SLOTS)]


def test_a_report_too_long_for_a_slot_is_refused(ring: tuple[RingWriter, RingReader]) -> None:
    writer, reader = ring
    assert not writer.put({"op": "end", "lease": 1, "request_id": "request-0", "error_type": "x" * SLOT, "at": 0.0})
    assert writer.put(report(1))
    assert heard(reader) == [report(1)]


def test_a_record_not_whole_to_the_reader_is_read_once_it_is() -> None:
    """A slot whose number is written but whose report the reader cannot see whole yet (memory
    made visible out of order, as weakly ordered processors may) fails its checksum: read later."""
    writer = RingWriter()
    reader = RingReader(os.dup(writer.fd))
    memory = mmap.mmap(writer.fd, SIZE)
    writer.release_fd()
    try:
        assert writer.put(report(1))
        body = 8 + SLOT + 16 + 5  # the ring's head, slot 0, record 1's number, length and checksum, 5 bytes in
        whole = memory[body]
        memory[body] = whole ^ 0xFF
        assert heard(reader) == []
        memory[body] = whole
        assert heard(reader) == [report(1)]
    finally:
        memory.close()
        writer.close()
        reader.close()


def test_a_descriptor_of_another_size_is_refused() -> None:
    fd = os.memfd_create("not-a-ring")
    os.ftruncate(fd, SIZE // 2)
    with pytest.raises(ValueError, match="wrong size"):
        RingReader(fd)


def test_begin_and_end_reports_are_heard_as_written(ring: tuple[RingWriter, RingReader]) -> None:
    writer, reader = ring
    reports = [
        {"op": "begin", "lease": 7, "request_id": "r-1", "log_tail": True, "at": 1.5},
        {"op": "end", "lease": 7, "request_id": "r-1", "error_type": None, "at": 2.25},
        {"op": "end", "lease": 2**40, "request_id": "r-\u00e9", "error_type": "Runtime.ExitError", "at": 3.0},
    ]
    for one in reports:
        assert writer.put(one)
    assert heard(reader) == reports


def test_other_reports_are_left_to_the_channel(ring: tuple[RingWriter, RingReader]) -> None:
    writer, reader = ring
    assert not writer.put({"op": "return", "lease": 1, "waiting": True})
    assert not writer.put({"op": "begin", "lease": "1", "request_id": "r", "log_tail": False, "at": 1.0})
    assert heard(reader) == []
    assert writer.written == 0


def test_a_whole_record_that_is_no_report_is_skipped() -> None:
    writer = RingWriter()
    reader = RingReader(os.dup(writer.fd))
    memory = mmap.mmap(writer.fd, SIZE)
    writer.release_fd()
    try:
        assert writer.put(report(1))
        assert writer.put(report(2))
        kind = 8 + 2 * SLOT + 16  # record 2's report: its first byte names its kind
        memory[kind] = 9
        length, _ = struct.unpack_from("<II", memory, kind - 8)
        struct.pack_into("<I", memory, kind - 4, zlib.crc32(memory[kind:kind + length]))
        assert writer.put(report(3))
        assert heard(reader) == [report(1), report(3)]
        assert reader.read == 3
    finally:
        memory.close()
        writer.close()
        reader.close()
