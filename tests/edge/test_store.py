"""The edge store on disk: an append-only index of complete entries, what a restart keeps, what
a killed edge leaves behind, and the move from version 1's per-entry metadata files."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import sys
from pathlib import Path
from types import FrameType
from urllib.parse import unquote

import pytest

from strato.edge import journal as journal_module
from strato.edge.collapse import Fill
from strato.edge.diskwriter import DiskWriter
from strato.edge.entry import Entry
from strato.edge.journal import HEADER, Journal
from strato.edge.slabs import SLAB_BODY_MAX
from strato.edge.store import EdgeStore

CAPACITY = 64 * 1024 * 1024


def entry(key: str, size: int, **changes: object) -> Entry:
    fields: dict[str, object] = {
        "key": key, "variant": "", "vary": (), "host": "example.test", "target": key, "status": 200,
        "headers": {"cache-control": "max-age=60", "content-length": str(size)}, "request_time": 1000.0,
        "response_time": 1000.5, "size": size, **changes,
    }
    return Entry(**fields)  # type: ignore[arg-type]


def json_record(stored: Entry) -> dict[str, object]:
    """The entry as index versions 1 to 3 recorded it, in JSON."""
    fields = {field.name: getattr(stored, field.name) for field in dataclasses.fields(stored)}
    del fields["prepared"]
    return {**fields, "vary": list(stored.vary)}


def record_bytes(stored: Entry, directory: Path) -> bytes:
    """The entry's record as the index appends it (written through a journal of its own)."""
    journal = Journal(directory / "one.log")
    journal.rewrite([stored.record()])
    journal.close()
    return (directory / "one.log").read_bytes()[len(HEADER) :]


def body_of(store: EdgeStore, stored: Entry) -> bytes:
    """The entry's body as the store serves it (from disk when its memory tier does not hold it)."""
    async def read() -> bytes:
        body = await store.open(stored)
        return b"".join([chunk async for chunk in body.read()])

    return asyncio.run(read())


def disk_bytes(directory: Path) -> int:
    """What the cache's bodies take on disk: files of their own and slabs."""
    return sum(path.stat().st_size for path in [*directory.glob("entries/*/*.body"), *directory.glob("slabs/*")])


def reopened(directory: Path) -> EdgeStore:
    store = EdgeStore(directory, CAPACITY, CAPACITY)
    store.load()
    return store


class TestRestart:
    def test_committed_entries_and_their_bodies_survive_a_restart(self, tmp_path: Path) -> None:
        store = reopened(tmp_path)
        small, large = entry("/small", 5), entry("/large", 3)
        store.commit(small, b"hello", written=False)
        Path(store.body_path(large.name)).write_bytes(b"big")  # as a fill streams a large body
        store.commit(large, None, written=True)
        store.close()

        again = reopened(tmp_path)
        found = again.lookup("/small", {})
        assert found is not None
        assert found.headers == small.headers
        assert body_of(again, found) == b"hello"
        found = again.lookup("/large", {})
        assert found is not None
        assert body_of(again, found) == b"big"
        again.close()

    def test_a_304_freshening_and_a_replacement_are_what_a_restart_finds(self, tmp_path: Path) -> None:
        store = reopened(tmp_path)
        first = entry("/page", 3)
        store.commit(first, b"old", written=False)
        store.freshen(first, {"cache-control": "max-age=600"}, 2000.0, 2000.5)
        replaced = entry("/other", 3)
        store.commit(replaced, b"one", written=False)
        store.commit(entry("/other", 3), b"two", written=False)
        store.close()

        again = reopened(tmp_path)
        page = again.lookup("/page", {})
        assert page is not None
        assert page.headers == {"cache-control": "max-age=600"}
        assert page.response_time == 2000.5
        other = again.lookup("/other", {})
        assert other is not None
        assert body_of(again, other) == b"two"
        assert len(again) == 2
        again.close()

    def test_purged_and_evicted_entries_stay_gone(self, tmp_path: Path) -> None:
        store = EdgeStore(tmp_path, 10, CAPACITY)
        store.load()
        for index in range(4):
            store.commit(entry(f"/k{index}", 4), b"abcd", written=False)
        store.purge("/k3")
        kept = {key for key in ("/k0", "/k1", "/k2", "/k3") if store.lookup(key, {}) is not None}
        store.close()
        again = EdgeStore(tmp_path, 10, CAPACITY)
        again.load()
        assert {key for key in ("/k0", "/k1", "/k2", "/k3") if again.lookup(key, {}) is not None} == kept
        assert "/k3" not in kept
        assert again.used <= 10
        again.close()
        assert disk_bytes(tmp_path) <= 10


class TestAKilledEdge:
    def test_a_body_whose_fill_never_completed_is_removed_and_never_served(self, tmp_path: Path) -> None:
        store = reopened(tmp_path)
        cut = entry("/cut", 10)
        fill = Fill(store.body_path(cut.name))
        fill.append(b"half")  # the edge is killed here: no record was appended
        store.close()

        again = reopened(tmp_path)
        assert again.lookup("/cut", {}) is None
        assert not Path(again.body_path(cut.name)).exists()
        again.close()

    def test_a_record_cut_short_and_a_body_file_of_the_wrong_size_are_ignored(self, tmp_path: Path) -> None:
        store = reopened(tmp_path)
        store.commit(entry("/whole", 5), b"whole", written=False)
        shrunk = entry("/shrunk", 5)
        Path(store.body_path(shrunk.name)).write_bytes(b"12345")
        store.commit(shrunk, None, written=True)
        store.close()
        Path(store.body_path(shrunk.name)).write_bytes(b"123")
        with (tmp_path / "index.log").open("ab") as index:
            index.write(record_bytes(entry("/torn", 1), tmp_path)[:30])

        again = reopened(tmp_path)
        assert again.lookup("/whole", {}) is not None
        assert again.lookup("/shrunk", {}) is None
        assert not Path(again.body_path(shrunk.name)).exists()
        assert len(again) == 1
        again.close()


class TestTheIndex:
    def test_replay_keeps_the_last_record_of_a_name_and_forgets_dropped_ones(self, tmp_path: Path) -> None:
        journal = Journal(tmp_path / "index.log")
        assert journal.replay() == {}
        first, other = entry("/a", 1), entry("/b", 1)
        journal.put(first.record())
        journal.put(other.record())
        journal.put(dataclasses.replace(first, status=203).record(), replaces=True)
        journal.drop(other.name)
        journal.close()
        assert Journal(tmp_path / "index.log").replay() == {first.name: dataclasses.replace(first, status=203)}

    def test_a_rewrite_leaves_only_the_live_records(self, tmp_path: Path) -> None:
        journal = Journal(tmp_path / "index.log")
        journal.replay()
        for index in range(5):
            gone = entry(f"/n{index}", 1)
            journal.put(gone.record())
            journal.drop(gone.name)
        kept = entry("/kept", 1)
        journal.rewrite([kept.record()])
        journal.close()
        assert (tmp_path / "index.log").read_bytes() == HEADER + record_bytes(kept, tmp_path)
        assert Journal(tmp_path / "index.log").replay() == {kept.name: kept}

    def test_entries_a_load_evicts_leave_the_rewritten_index_holding_and_counting_the_kept_ones(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        """A restart with a smaller cache evicts as it loads; the index is rewritten with the
        entries kept, and records no drops of entries it no longer holds: compaction, which
        comes once the records beyond the live ones outnumber them, is as far away as ever."""
        size = SLAB_BODY_MAX + 1  # a file each: no slab to reclaim, no record but the entries'
        store = reopened(tmp_path)
        keys = [f"/k{index}" for index in range(10)]
        for key in keys:
            store.commit(entry(key, size), bytes(size), written=False)
        store.close()
        monkeypatch.setattr(journal_module, "COMPACT_AFTER", 1)

        again = EdgeStore(tmp_path, 4 * size, 0)  # room for 3 (an eighth is the slabs' reserve)
        assert again.load() == 3
        again.close()
        kept = [found for found in (again.lookup(key, {}) for key in keys) if found is not None]
        assert (tmp_path / "index.log").read_bytes() == HEADER + b"".join(record_bytes(each, tmp_path) for each in kept)
        assert not again.journal.wants_compaction()
        assert disk_bytes(tmp_path) == 3 * size

    def test_an_index_of_an_unknown_version_starts_the_cache_empty(
        self, tmp_path: Path, caplog: pytest.LogCaptureFixture,
    ) -> None:
        store = reopened(tmp_path)
        store.commit(entry("/x", 1), b"x", written=False)
        store.close()
        (tmp_path / "index.log").write_bytes(b'{"strato-edge-index":99}\n')
        with caplog.at_level(logging.WARNING, logger="strato.edge"):
            again = reopened(tmp_path)
        assert len(again) == 0
        assert "unknown format" in caplog.text
        again.close()
        assert disk_bytes(tmp_path) == 0


def test_version_1_metadata_files_move_into_the_index(tmp_path: Path) -> None:
    """Version 1 wrote `<name>.meta` (JSON with "v": 1) beside each `<name>.body`."""
    old = entry("/legacy", 6)
    folder = tmp_path / "entries" / old.name[:2]
    folder.mkdir(parents=True)
    (folder / f"{old.name}.body").write_bytes(b"legacy")
    (folder / f"{old.name}.meta").write_text(json.dumps({"v": 1, **json_record(old)}))

    store = reopened(tmp_path)
    found = store.lookup("/legacy", {})
    assert found is not None
    assert found.headers == old.headers
    assert body_of(store, found) == b"legacy"
    assert not list((tmp_path / "entries").glob("*/*.meta"))
    store.close()
    again = reopened(tmp_path)
    assert again.lookup("/legacy", {}) is not None
    again.close()


class TestTheDiskWriter:
    def test_bodies_wait_in_memory_within_a_bound_and_reach_disk_before_their_records(self, tmp_path: Path) -> None:
        journal = Journal(tmp_path / "index.log")
        journal.replay()
        writer = DiskWriter(journal, max_pending=8)  # not started yet: everything waits
        waiting = entry("/a", 5)
        assert writer.body(waiting.name, str(tmp_path / "a.body"), b"12345")
        writer.put(waiting.record())
        assert not writer.body("b", str(tmp_path / "b.body"), b"6789")  # 9 bytes would wait: refused
        assert writer.pending == {waiting.name: b"12345"}
        assert not (tmp_path / "a.body").exists()
        assert Journal(tmp_path / "index.log").replay() == {}

        writer.start()
        writer.close()
        assert writer.pending == {}
        assert (tmp_path / "a.body").read_bytes() == b"12345"
        assert not (tmp_path / "b.body").exists()
        assert Journal(tmp_path / "index.log").replay() == {waiting.name: waiting}

    def test_a_drop_of_a_body_still_waiting_removes_it_after_it_is_written(self, tmp_path: Path) -> None:
        journal = Journal(tmp_path / "index.log")
        journal.replay()
        writer = DiskWriter(journal)
        gone = entry("/a", 9)
        writer.body(gone.name, str(tmp_path / "a.body"), b"gone soon")
        writer.put(gone.record())
        writer.drop(gone.name, str(tmp_path / "a.body"))
        writer.start()
        writer.close()
        assert not (tmp_path / "a.body").exists()
        assert Journal(tmp_path / "index.log").replay() == {}

    def test_a_store_serves_a_body_the_writer_has_not_written_yet(self, tmp_path: Path) -> None:
        store = EdgeStore(tmp_path, CAPACITY, 0)  # no memory tier: only the writer's copy
        store.load()
        store.writer.close()  # a writer that has fallen behind: what it is given waits
        store.commit(entry("/pending", 4), b"wait", written=False)
        found = store.lookup("/pending", {})
        assert found is not None
        assert store.memory_body(found) == b"wait"
        store.writer.start()
        store.close()
        assert body_of(store, found) == b"wait"


class TestPurgeByInvalidationPath:
    """CloudFront's invalidation paths (DeveloperGuide/Invalidation.html): a path, a path with the
    query string of the variant to drop, or a prefix ending in `*`. An over-purge costs a miss."""

    TARGETS = ("/img.jpg", "/img.jpg?v=1", "/img.jpg?v=2", "/other.jpg?v=1")

    def kept_after(self, tmp_path: Path, *paths: str) -> set[str]:
        store = reopened(tmp_path)
        for target in self.TARGETS:
            store.commit(entry(target, 4), b"abcd", written=False)
        for path in paths:
            store.purge(path)
        kept = {target for target in self.TARGETS if store.lookup(target, {}) is not None}
        store.close()
        return kept

    def test_a_path_with_a_query_string_drops_the_variant_it_names(self, tmp_path: Path) -> None:
        kept = self.kept_after(tmp_path, "/img.jpg?v=1")
        assert "/img.jpg?v=1" not in kept
        assert "/other.jpg?v=1" in kept

    def test_a_path_drops_every_query_variant_and_a_wildcard_every_target_it_begins(self, tmp_path: Path) -> None:
        assert self.kept_after(tmp_path, "/img.jpg") == {"/other.jpg?v=1"}
        assert self.kept_after(tmp_path / "again", "/img.jpg?v*") == {"/img.jpg", "/other.jpg?v=1"}

    @staticmethod
    def decodings(tmp_path: Path, targets: list[str], patterns: list[str]) -> tuple[int, int]:
        """Entries left once `patterns` are purged from a cache of `targets`, and how many strings
        the purges percent-decoded."""
        store = reopened(tmp_path)
        for target in targets:
            store.commit(entry(target, 4), b"abcd", written=False)
        decoded = 0

        def count(frame: FrameType, event: str, _arg: object) -> None:
            nonlocal decoded
            if event == "call" and frame.f_code is unquote.__code__:
                decoded += 1

        sys.setprofile(count)
        try:
            for pattern in patterns:
                store.purge(pattern)
        finally:
            sys.setprofile(None)
        kept = len(store)
        store.close()
        return kept, decoded

    def test_a_path_costs_the_entries_it_drops_not_a_pass_over_the_cache(self, tmp_path: Path) -> None:
        """An invalidation holds up to 3,000 paths, applied on the event loop: a pass over every
        entry per path (0.1 s for each with 100,000 entries) stopped a big edge for minutes."""
        kept, decoded = self.decodings(tmp_path, [f"/page/{index}.html" for index in range(2_000)],
                                       [f"/page/{index}.html" for index in range(0, 2_000, 40)])
        assert kept == 1_950
        assert decoded < 2_000, "a decoding of every target per path"

    def test_a_wildcard_passes_over_the_paths_not_a_decoding_of_every_target(self, tmp_path: Path) -> None:
        """A wildcard is compared with each stored path, decoded once when it was stored (each
        query variant of a path shares it), not with every entry's target decoded again."""
        kept, decoded = self.decodings(tmp_path, [f"/page/{index // 4}.html?v={index % 4}" for index in range(2_000)],
                                       [f"/page/{index}.*" for index in range(0, 500, 12)])
        assert kept == 1_832
        assert decoded < 2_000, "a decoding of every target per wildcard"

    def test_a_path_matches_what_viewers_requested_however_each_side_encoded_it(self, tmp_path: Path) -> None:
        """CloudFront has `~` and non-ASCII characters invalidated encoded (/vendors%7Eabout.js);
        browsers send `~` as it is and may spell an escape's hex digits in either case."""
        store = reopened(tmp_path)
        for target in ("/vendors~about.js", "/caf%c3%a9.html", "/docs/caf%C3%A9/a.html", "/kept.js"):
            store.commit(entry(target, 4), b"abcd", written=False)
        assert store.purge("/vendors%7Eabout.js") == 1
        assert store.purge("/caf%C3%A9.html") == 1
        assert store.purge("/docs/caf%c3%a9/*") == 1
        assert store.lookup("/kept.js", {}) is not None
        assert len(store) == 1
        store.close()
