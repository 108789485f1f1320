"""Small bodies in shared slab files: where they go, how their space comes back within the
cache's size, what a restart keeps, and that a torn or damaged slab is never served."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import json
import os
from collections.abc import Iterator
from pathlib import Path
from unittest import mock

import pytest

from strato.edge import journal as journal_module
from strato.edge.journal import HEADER, Journal
from strato.edge.slabs import SLAB_BODY_MAX, Slabs
from strato.edge.store import EdgeStore
from tests.edge.test_store import body_of, disk_bytes, entry, json_record

KIB = 1024


def store_at(directory: Path, capacity: int = 64 * KIB * KIB, memory: int = 0) -> EdgeStore:
    store = EdgeStore(directory, capacity, memory)
    store.load()
    return store


def body(index: int, size: int) -> bytes:
    return bytes([index % 251]) * size


def slab_files(directory: Path) -> list[Path]:
    return sorted((directory / "slabs").iterdir())


def stored_keys(store: EdgeStore, keys: list[str]) -> list[str]:
    return [key for key in keys if store.lookup(key, {}) is not None]


@contextlib.contextmanager
def index_full(directory: Path) -> Iterator[None]:
    """Appends to the cache's index fail, as on a full disk, within the block (other writes do not)."""
    real_write = os.write

    def write(fd: int, data: bytes) -> int:
        if os.readlink(f"/proc/self/fd/{fd}") == str(directory / "index.log"):
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_write(fd, data)

    with mock.patch.object(os, "write", write):
        yield


def purged_k1_while_the_index_is_full(directory: Path, capacity: int) -> EdgeStore:
    """A store of /k0 to /k39 (4 KiB each) from which /k1 and /k10 to /k19 were purged, the disk
    writer's work for that (slab 0 reclaimed: /k0 and /k2-/k9 copied out of it) done while
    appends to the index failed; its writer stopped."""
    store = store_at(directory, capacity)
    for index in range(40):
        store.commit(entry(f"/k{index}", 4 * KIB), body(index, 4 * KIB), written=False)
    store.writer.close()  # what follows is done in one go by the next close
    with index_full(directory):
        assert store.purge("/k1*") == 11
        store.writer.start()
        store.writer.close()
    return store


def assert_kept_after_purging_k1(directory: Path, capacity: int, *added: str) -> None:
    """A restart finds /k0 to /k39 (4 KiB each) but /k1 and /k10 to /k19, and `added`."""
    again = store_at(directory, capacity)
    kept = [f"/k{index}" for index in [0, *range(2, 10), *range(20, 40)]]
    assert stored_keys(again, [f"/k{index}" for index in range(40)]) == kept
    for key in kept:
        found = again.lookup(key, {})
        assert found is not None
        assert body_of(again, found) == body(int(key[2:]), 4 * KIB)
    assert stored_keys(again, list(added)) == list(added)
    again.close()


class TestWhereBodiesGo:
    def test_small_bodies_share_one_slab_and_a_large_body_keeps_a_file(self, tmp_path: Path) -> None:
        store = store_at(tmp_path)
        for index in range(10):
            store.commit(entry(f"/small{index}", KIB), body(index, KIB), written=False)
        store.commit(entry("/large", SLAB_BODY_MAX + 1), body(99, SLAB_BODY_MAX + 1), written=False)
        store.close()

        assert [path.stat().st_size for path in slab_files(tmp_path)] == [10 * KIB]
        assert len(list(tmp_path.glob("entries/*/*.body"))) == 1
        again = store_at(tmp_path)
        for index in range(10):
            found = again.lookup(f"/small{index}", {})
            assert found is not None
            assert body_of(again, found) == body(index, KIB)
        large = again.lookup("/large", {})
        assert large is not None
        assert body_of(again, large) == body(99, SLAB_BODY_MAX + 1)
        again.close()

    def test_a_slab_body_read_from_the_page_cache_serves_ranges_and_goes_to_memory(self, tmp_path: Path) -> None:
        first = store_at(tmp_path, memory=KIB * KIB)
        first.commit(entry("/page", 5), b"hello", written=False)
        first.close()
        again = store_at(tmp_path, memory=KIB * KIB)
        found = again.lookup("/page", {})
        assert found is not None
        assert again.memory_body(found) is None
        assert again.read_now(found, 1, 4) == b"ell"  # just written: the page cache holds it
        assert again.memory_body(found) == b"hello"
        again.close()


class TestSpaceComesBack:
    CAPACITY = 256 * KIB  # slabs of 64 KiB, a reserve of 32 KiB for dead bytes

    def test_slabs_are_dropped_and_new_ones_written_within_the_cache_size(self, tmp_path: Path) -> None:
        store = store_at(tmp_path, self.CAPACITY)
        keys = [f"/k{index}" for index in range(400)]
        for index, key in enumerate(keys):
            store.commit(entry(key, (index % 4 + 1) * KIB), body(index, (index % 4 + 1) * KIB), written=False)
            assert store.used <= self.CAPACITY
        kept = stored_keys(store, keys)
        store.close()

        assert disk_bytes(tmp_path) <= self.CAPACITY
        assert len(slab_files(tmp_path)) <= self.CAPACITY // (64 * KIB) + 1
        assert int(slab_files(tmp_path)[0].stem) > 0, "the first slabs are gone"
        assert "/k399" in kept
        again = store_at(tmp_path, self.CAPACITY)
        assert stored_keys(again, keys) == kept
        for key in kept:
            found = again.lookup(key, {})
            assert found is not None
            index = int(key[2:])
            assert body_of(again, found) == body(index, (index % 4 + 1) * KIB)
        again.close()

    def test_a_reclaimed_slabs_live_bodies_are_copied_to_the_open_slab(self, tmp_path: Path) -> None:
        store = store_at(tmp_path, self.CAPACITY)
        store.commit(entry("/hot", KIB), body(7, KIB), written=False)
        hot = store.lookup("/hot", {})
        assert hot is not None
        first_slab = hot.slab
        for index in range(300):
            store.hit(hot)  # frequently read: S3-FIFO keeps it
            store.commit(entry(f"/cold{index}", 2 * KIB), body(index, 2 * KIB), written=False)
        assert store.lookup("/hot", {}) is hot
        assert hot.slab != first_slab
        assert store.slabs.copied >= KIB
        assert body_of(store, hot) == body(7, KIB)
        store.close()
        assert not (tmp_path / "slabs" / f"{first_slab:08d}.slab").exists()

        again = store_at(tmp_path, self.CAPACITY)
        found = again.lookup("/hot", {})
        assert found is not None
        assert (found.slab, found.offset) == (hot.slab, hot.offset)
        assert body_of(again, found) == body(7, KIB)
        again.close()

    def test_a_body_is_read_at_its_old_place_until_its_copy_is_written(self, tmp_path: Path) -> None:
        store = store_at(tmp_path, self.CAPACITY)
        for index in range(40):
            store.commit(entry(f"/k{index}", 4 * KIB), body(index, 4 * KIB), written=False)
        store.writer.close()  # every body is written; the copies to come will wait
        assert store.purge("/k1*") == 11  # /k1, /k10-/k19: enough dead bytes in the first slab to reclaim it
        moving = store.lookup("/k0", {})
        assert moving is not None
        assert moving.slab != 0, "placed in the open slab, not written there yet"
        assert (tmp_path / "slabs" / "00000000.slab").exists()
        assert store.body_now(moving) == body(0, 4 * KIB)
        store.writer.start()
        store.close()
        assert not (tmp_path / "slabs" / "00000000.slab").exists()

        again = store_at(tmp_path, self.CAPACITY)
        found = again.lookup("/k0", {})
        assert found is not None
        assert body_of(again, found) == body(0, 4 * KIB)
        again.close()

    def test_a_slab_kept_while_the_index_cannot_be_appended_to_is_counted_until_it_goes(
        self, tmp_path: Path,
    ) -> None:
        """The index still names the old places of a reclaimed slab's bodies until the records of
        their new ones are appended: while that fails (a full disk), the slab file stays, and
        its bytes count in what the cache uses; it goes once the records are written."""
        store = purged_k1_while_the_index_is_full(tmp_path, self.CAPACITY)
        assert (tmp_path / "slabs" / "00000000.slab").exists(), "the index names its bodies still"
        assert store.used == disk_bytes(tmp_path)

        store.writer.start()
        store.close()
        assert not (tmp_path / "slabs" / "00000000.slab").exists()
        assert store.used == disk_bytes(tmp_path)
        assert_kept_after_purging_k1(tmp_path, self.CAPACITY)

    def test_a_slab_kept_when_records_were_given_up_goes_once_the_index_is_rewritten(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        """Records that waited too long for a full disk are given up (journal.MAX_UNWRITTEN): the
        index may name a kept slab's bodies until a compaction writes it from the live entries."""
        monkeypatch.setattr(journal_module, "MAX_UNWRITTEN", KIB)
        store = purged_k1_while_the_index_is_full(tmp_path, self.CAPACITY)  # more than a KiB of records: given up
        store.writer.start()
        store.writer.close()  # an append that succeeds, with nothing left to append
        assert (tmp_path / "slabs" / "00000000.slab").exists(), "the index may name its bodies still"
        assert store.used == disk_bytes(tmp_path)

        store.writer.start()
        store.commit(entry("/new", KIB), body(1, KIB), written=False)  # the index wants a compaction
        store.close()
        assert not (tmp_path / "slabs" / "00000000.slab").exists()
        assert store.used == disk_bytes(tmp_path)
        assert_kept_after_purging_k1(tmp_path, self.CAPACITY, "/new")

    def test_a_body_the_writer_has_no_room_for_takes_no_space(self, tmp_path: Path) -> None:
        store = store_at(tmp_path, self.CAPACITY)
        store.writer.max_pending = KIB
        store.commit(entry("/refused", 2 * KIB), body(1, 2 * KIB), written=False)
        assert store.lookup("/refused", {}) is None
        assert store.used == 0
        store.close()
        assert disk_bytes(tmp_path) == 0

    @pytest.mark.parametrize("how", ["purge", "invalidate"])
    def test_purged_and_invalidated_entries_give_their_slabs_back(self, tmp_path: Path, how: str) -> None:
        store = store_at(tmp_path, self.CAPACITY)
        keys = [f"/gone/{index}" for index in range(40)]
        for index, key in enumerate(keys):
            store.commit(entry(key, 4 * KIB), body(index, 4 * KIB), written=False)
        store.commit(entry("/kept", 4 * KIB), body(1, 4 * KIB), written=False)
        if how == "purge":
            assert store.purge("/gone/*") == 40
        else:
            assert sum(store.invalidate(key) for key in keys) == 40
        assert store.used <= 4 * KIB + store.slabs.reserve
        store.close()
        assert disk_bytes(tmp_path) <= 4 * KIB + store.slabs.reserve

        again = store_at(tmp_path, self.CAPACITY)
        assert stored_keys(again, [*keys, "/kept"]) == ["/kept"]
        again.close()


class TestADamagedSlab:
    def test_a_torn_tail_is_not_served_after_a_restart(self, tmp_path: Path) -> None:
        store = store_at(tmp_path)
        for index in range(3):
            store.commit(entry(f"/t{index}", KIB), body(index, KIB), written=False)
        store.close()
        with slab_files(tmp_path)[0].open("r+b") as slab:
            slab.truncate(2 * KIB + 10)  # the last body cut short, as by a crash

        again = store_at(tmp_path)
        assert stored_keys(again, ["/t0", "/t1", "/t2"]) == ["/t0", "/t1"]
        again.close()

    def test_bytes_that_differ_from_the_stored_body_are_never_served(self, tmp_path: Path) -> None:
        store = store_at(tmp_path, 4 * 1024 * KIB)
        for index in range(3):
            store.commit(entry(f"/b{index}", SLAB_BODY_MAX), body(index, SLAB_BODY_MAX), written=False)
        store.close()
        older, newest = slab_files(tmp_path)[0], slab_files(tmp_path)[-1]
        assert older != newest
        for path in (older, newest):
            with path.open("r+b") as slab:
                slab.write(b"garbage")  # same length, other bytes: only the checksum tells

        again = store_at(tmp_path, 4 * 1024 * KIB)
        assert stored_keys(again, ["/b0", "/b1", "/b2"]) == ["/b0", "/b1"], "the newest slab is checked at load"
        damaged = again.lookup("/b0", {})
        assert damaged is not None
        assert again.body_now(damaged) is None
        assert again.lookup("/b0", {}) is None, "dropped once read"
        served = again.lookup("/b1", {})
        assert served is not None
        with slab_files(tmp_path)[1].open("r+b") as slab:
            slab.write(b"garbage")
        with pytest.raises(FileNotFoundError):
            asyncio.run(again.open(served))
        assert again.lookup("/b1", {}) is None
        again.close()


def test_a_version_2_cache_with_a_file_per_body_loads(tmp_path: Path) -> None:
    """Version 2's index records had no slab, offset or checksum; each body was a file."""
    old = entry("/v2", 6)
    record = {key: value for key, value in json_record(old).items() if key not in {"slab", "offset", "crc"}}
    folder = tmp_path / "entries" / old.name[:2]
    folder.mkdir(parents=True)
    (folder / f"{old.name}.body").write_bytes(b"second")
    (tmp_path / "index.log").write_text(json.dumps({"strato-edge-index": 2}) + "\n" + json.dumps(record) + "\n")

    store = store_at(tmp_path)
    found = store.lookup("/v2", {})
    assert found is not None
    assert body_of(store, found) == b"second"
    store.commit(entry("/new", 3), b"new", written=False)
    store.close()
    assert (tmp_path / "index.log").read_bytes().startswith(HEADER)
    assert set(Journal(tmp_path / "index.log").replay()) == {old.name, store.lookup("/new", {}).name}  # type: ignore[union-attr]


def test_slab_sizes_follow_the_cache_size() -> None:
    assert Slabs(1024 * KIB).slab_size == SLAB_BODY_MAX
    assert Slabs(64 * 1024 * KIB).slab_size == 1024 * KIB
    assert Slabs(64 * 1024 * 1024 * KIB).slab_size == 16 * 1024 * KIB
