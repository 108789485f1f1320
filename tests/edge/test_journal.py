"""The cache index's format (version 4, binary records): what a record keeps, where a replay
stops when the file is torn or damaged, that a failed append leaves no half record behind, and
that a version 3 index (JSON lines) loads and is rewritten as version 4."""

from __future__ import annotations

import errno
import json
import os
from pathlib import Path

import pytest

from strato.edge import journal as journal_module
from strato.edge.entry import Entry
from strato.edge.journal import COMPACT_AFTER, HEADER, Journal
from strato.edge.store import EdgeStore
from tests.edge.test_store import CAPACITY, entry, json_record, record_bytes


def replayed(path: Path) -> dict[str, Entry]:
    return Journal(path).replay()


def test_a_record_keeps_every_field_of_its_entry_whatever_its_texts_hold(tmp_path: Path) -> None:
    odd = entry(
        "/caf\u00e9?q=\x00\n", 7, variant="accept-encoding=br\x1f\u00fc", vary=("accept-encoding", "x-\u00e9"),
        host="h\u00f4te.test", headers={"x-latin": "\u00e9t\u00e9", "x-escaped": "\udcff", "": "", "etag": '"1"'},
        request_time=1_700_000_000.123456, response_time=1_700_000_000.654321, slab=3, offset=2**40, crc=2**32 - 1,
        status=299,
    )
    plain = entry("/plain", 0)
    journal = Journal(tmp_path / "index.log")
    journal.replay()
    journal.put(odd.record())
    journal.put(plain.record())
    journal.close()
    assert replayed(tmp_path / "index.log") == {odd.name: odd, plain.name: plain}
    assert list(replayed(tmp_path / "index.log")) == [odd.name, plain.name], "oldest first"


class TestADamagedIndex:
    def test_a_replay_ends_at_a_record_whose_bytes_are_not_the_ones_written(self, tmp_path: Path) -> None:
        first, damaged, after = entry("/first", 1), entry("/damaged", 1), entry("/after", 1)
        journal = Journal(tmp_path / "index.log")
        journal.replay()
        for each in (first, damaged, after):
            journal.put(each.record())
        journal.close()
        data = bytearray((tmp_path / "index.log").read_bytes())
        at = len(HEADER) + len(record_bytes(first, tmp_path)) + 20
        data[at] ^= 0xFF  # one byte of the second record flipped
        (tmp_path / "index.log").write_bytes(bytes(data))
        assert replayed(tmp_path / "index.log") == {first.name: first}

    def test_records_appended_after_a_restart_follow_no_torn_tail(self, tmp_path: Path) -> None:
        store = EdgeStore(tmp_path, CAPACITY, CAPACITY)
        store.load()
        store.commit(entry("/before", 6), b"before", written=False)
        store.close()
        with (tmp_path / "index.log").open("ab") as index:
            index.write(record_bytes(entry("/torn", 1), tmp_path)[:-3])  # killed mid-append

        again = EdgeStore(tmp_path, CAPACITY, CAPACITY)
        again.load()
        again.commit(entry("/after", 5), b"after", written=False)
        again.close()
        assert {each.key for each in replayed(tmp_path / "index.log").values()} == {"/before", "/after"}

    def test_a_failed_append_is_cut_back_and_written_again_by_the_next_flush(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        kept, retried = entry("/kept", 1), entry("/retried", 1)
        whole = HEADER + record_bytes(kept, tmp_path)
        journal = Journal(tmp_path / "index.log")
        journal.replay()
        journal.put(kept.record())
        journal.flush()
        real_write = os.write

        def disk_full(fd: int, data: bytes) -> int:  # the disk takes 10 bytes, then is full
            monkeypatch.setattr(os, "write", failing)
            return real_write(fd, bytes(data)[:10])

        def failing(fd: int, data: bytes) -> int:
            raise OSError(errno.ENOSPC, "No space left on device")

        monkeypatch.setattr(os, "write", disk_full)
        journal.put(retried.record())
        with pytest.raises(OSError, match="No space left"):
            journal.flush()
        assert (tmp_path / "index.log").read_bytes() == whole

        monkeypatch.setattr(os, "write", real_write)
        journal.close()
        assert replayed(tmp_path / "index.log") == {kept.name: kept, retried.name: retried}


def test_a_version_3_index_of_json_lines_loads_and_is_rewritten_as_version_4(tmp_path: Path) -> None:
    old, gone = entry("/v3", 2), entry("/dropped", 1)
    folder = tmp_path / "entries" / old.name[:2]
    folder.mkdir(parents=True)
    (folder / f"{old.name}.body").write_bytes(b"v3")
    lines = [
        {"strato-edge-index": 3}, json_record(old), json_record(gone), {"drop": gone.name}, {"name": 5}, [1],
    ]
    text = "".join(json.dumps(line) + "\n" for line in lines) + '{"key":"/torn","va'
    (tmp_path / "index.log").write_text(text)
    assert replayed(tmp_path / "index.log") == {old.name: old}

    store = EdgeStore(tmp_path, CAPACITY, CAPACITY)
    store.load()
    found = store.lookup("/v3", {})
    assert found == old
    store.close()
    assert (tmp_path / "index.log").read_bytes() == HEADER + record_bytes(old, tmp_path)


def test_a_compaction_that_cannot_write_its_file_leaves_the_index_as_it_was_and_appended_to(tmp_path: Path) -> None:
    """A full disk (here: the temporary file's name taken by a directory) fails the rewrite;
    the old index keeps every record, those buffered before the rewrite and after it."""
    before, buffered, after = entry("/before", 1), entry("/buffered", 1), entry("/after", 1)
    journal = Journal(tmp_path / "index.log")
    journal.replay()
    journal.put(before.record())
    journal.flush()
    journal.put(buffered.record())
    (tmp_path / "index.log.tmp").mkdir()
    with pytest.raises(IsADirectoryError):
        journal.rewrite([before.record()])
    journal.put(after.record())
    journal.close()
    assert replayed(tmp_path / "index.log") == {before.name: before, buffered.name: buffered, after.name: after}


def test_a_failed_compaction_is_tried_again_only_after_as_many_records_again(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "index.log")
    journal.replay()
    churn = entry("/churn", 1)
    journal.put(churn.record())
    for _ in range(COMPACT_AFTER + 2):
        journal.put(churn.record(), replaces=True)
    journal.flush()
    assert journal.wants_compaction()
    (tmp_path / "index.log.tmp").mkdir()
    with pytest.raises(IsADirectoryError):
        journal.rewrite([churn.record()])
    assert not journal.wants_compaction(), "not at the next record"
    for _ in range(COMPACT_AFTER):
        journal.put(churn.record(), replaces=True)
    journal.flush()
    assert journal.wants_compaction()
    journal.close()


def test_a_drop_record_whose_name_is_not_utf8_is_skipped(tmp_path: Path) -> None:
    """Whole (its checksum holds) but unreadable: skipped like any record this version cannot read."""
    first, later = entry("/first", 1), entry("/later", 1)
    unreadable = bytes((journal_module._DROP,)) + b"\xff\xfe not utf-8"
    (tmp_path / "index.log").write_bytes(HEADER + record_bytes(first, tmp_path) + journal_module._framed(unreadable)
                                         + record_bytes(later, tmp_path))
    assert replayed(tmp_path / "index.log") == {first.name: first, later.name: later}


def test_records_that_cannot_be_appended_are_kept_only_up_to_a_bound_then_the_index_is_rewritten(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A disk that stays full: the records waiting for it are given up past MAX_UNWRITTEN bytes
    (memory stays bounded), and a compaction then writes the index from the live entries."""
    monkeypatch.setattr(journal_module, "MAX_UNWRITTEN", 4096)
    journal = Journal(tmp_path / "index.log")
    journal.replay()
    real_write = os.write

    def full(fd: int, data: bytes) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "write", full)
    live = [entry(f"/key-{n}", 1) for n in range(40)]
    for each in live:
        journal.put(each.record())
        with pytest.raises(OSError, match="No space left"):
            journal.flush()
        assert sum(map(len, journal._buffer)) <= 4096 + 1024, "what waits for the disk stays bounded"
    assert journal.wants_compaction()
    monkeypatch.setattr(os, "write", real_write)
    journal.rewrite([each.record() for each in live])
    assert not journal.wants_compaction()
    journal.close()
    assert replayed(tmp_path / "index.log") == {each.name: each for each in live}
