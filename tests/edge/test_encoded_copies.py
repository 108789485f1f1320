"""Compressed copies of cached bodies: a compressible hit in a coding already produced is
answered from the kept copy, not compressed again; copies go with their entry and stay
within their byte bound."""

from __future__ import annotations

import gzip
from pathlib import Path

import brotli  # type: ignore[import-untyped]

from strato.edge.compression import EncodedCopies, compress_whole
from strato.edge.store import MEMORY_OBJECT_MAX, EdgeStore
from tests.edge.conftest import StratoEdge
from tests.edge.origin import Origin
from tests.edge.test_proxy import cacheable, call, subprocess_purge
from tests.edge.test_store import CAPACITY, entry


def warm(edge: StratoEdge, path: str) -> None:
    """The miss, asked without Accept-Encoding: what follows are hits, whose bodies are complete
    (a miss whose body is still arriving is compressed as it streams in, and that copy is not kept)."""
    assert call(edge, path)[0] == 200


TEXT = b"the same words, compressed once and served many times. " * 200
COMPRESSIONS = "strato_edge_compressions_total"


class TestTheCopiesMap:
    def test_a_copy_is_found_by_entry_and_coding(self) -> None:
        copies = EncodedCopies(1000)
        copies.put("a", "gzip", b"zipped")
        assert copies.get("a", "gzip") == b"zipped"
        assert copies.get("a", "br") is None
        assert copies.get("b", "gzip") is None

    def test_the_least_recently_used_copies_go_first_to_stay_within_the_bound(self) -> None:
        copies = EncodedCopies(10)
        copies.put("a", "gzip", b"1234")
        copies.put("b", "gzip", b"1234")
        assert copies.get("a", "gzip") is not None  # a is now the most recently used
        copies.put("c", "gzip", b"1234")
        assert copies.used == 8 <= copies.capacity
        assert copies.get("b", "gzip") is None
        assert copies.get("a", "gzip") == copies.get("c", "gzip") == b"1234"

    def test_a_copy_larger_than_the_whole_bound_is_not_kept(self) -> None:
        copies = EncodedCopies(3)
        copies.put("a", "gzip", b"1234")
        assert len(copies) == 0
        assert copies.used == 0

    def test_putting_a_copy_again_replaces_it(self) -> None:
        copies = EncodedCopies(100)
        copies.put("a", "gzip", b"12")
        copies.put("a", "gzip", b"1234")
        assert copies.used == 4
        assert copies.get("a", "gzip") == b"1234"

    def test_dropping_an_entry_drops_every_coding_of_it(self) -> None:
        copies = EncodedCopies(100)
        copies.put("a", "gzip", b"12")
        copies.put("a", "br", b"34")
        copies.put("b", "br", b"56")
        copies.drop("a")
        assert copies.get("a", "gzip") is None
        assert copies.get("a", "br") is None
        assert copies.get("b", "br") == b"56"
        assert copies.used == 2

    def test_a_whole_body_compresses_to_one_decodable_stream(self) -> None:
        assert gzip.decompress(compress_whole(TEXT, "gzip")) == TEXT
        assert brotli.decompress(compress_whole(TEXT, "br")) == TEXT


class TestTheStoresCopies:
    def test_a_stored_entry_keeps_its_copies_until_it_is_purged(self, tmp_path: Path) -> None:
        store = EdgeStore(tmp_path, CAPACITY, CAPACITY)
        page = entry("/page", len(TEXT), target="/page")
        store.commit(page, TEXT, written=False)
        store.copies(page).keep("gzip", b"zipped")
        assert store.copies(page).find("gzip") == b"zipped"
        assert store.purge("/page") == 1
        assert store.copies(page).find("gzip") is None
        assert len(store.encoded) == 0
        store.close()

    def test_a_replaced_entry_loses_its_copies(self, tmp_path: Path) -> None:
        store = EdgeStore(tmp_path, CAPACITY, CAPACITY)
        old = entry("/page", 3)
        store.commit(old, b"old", written=False)
        store.copies(old).keep("gzip", b"old zipped")
        new = entry("/page", 3)
        store.commit(new, b"new", written=False)
        assert store.copies(old).find("gzip") is None
        assert store.copies(new).find("gzip") is None
        assert store.encoded.used == 0
        store.close()

    def test_a_304_keeps_the_copies_unless_it_brings_another_etag(self, tmp_path: Path) -> None:
        store = EdgeStore(tmp_path, CAPACITY, CAPACITY)
        page = entry("/page", 3, headers={"etag": '"v1"'})
        store.commit(page, b"abc", written=False)
        store.copies(page).keep("gzip", b"zipped")
        store.freshen(page, {"etag": '"v1"', "cache-control": "max-age=600"}, 2000.0, 2000.5)
        assert store.copies(page).find("gzip") == b"zipped"
        store.freshen(page, {"etag": '"v2"'}, 3000.0, 3000.5)
        assert store.copies(page).find("gzip") is None
        store.close()

    def test_no_copy_is_kept_for_an_entry_not_stored_or_too_large(self, tmp_path: Path) -> None:
        store = EdgeStore(tmp_path, CAPACITY, CAPACITY)
        never_stored = entry("/fill", 3)
        store.copies(never_stored).keep("gzip", b"zipped")
        large = entry("/large", MEMORY_OBJECT_MAX + 1)
        Path(store.body_path(large.name)).write_bytes(b"x" * large.size)
        store.commit(large, None, written=True)
        store.copies(large).keep("gzip", b"zipped")
        assert len(store.encoded) == 0
        store.close()

    def test_the_copies_bound_is_a_quarter_of_the_memory_tier_unless_given(self, tmp_path: Path) -> None:
        assert EdgeStore(tmp_path / "a", CAPACITY, 4000).encoded.capacity == 1000
        assert EdgeStore(tmp_path / "b", CAPACITY, 4000, encoded_capacity=10).encoded.capacity == 10


class TestTheEdge:
    def test_a_second_hit_in_the_same_coding_is_not_compressed_again(self, origin: Origin, edge: StratoEdge) -> None:
        origin.routes["/text"] = cacheable(TEXT, ETag='"t1"')
        warm(edge, "/text")
        statuses, bodies = [], []
        for _ in range(3):
            status, headers, body = call(edge, "/text", {"Accept-Encoding": "gzip"})
            statuses.append(status)
            bodies.append(body)
            assert headers["content-encoding"] == "gzip"
            assert "accept-encoding" in headers["vary"].lower()
            assert headers["etag"] == 'W/"t1"'
            assert int(headers["content-length"]) == len(body)
        assert statuses == [200, 200, 200]
        assert all(gzip.decompress(body) == TEXT for body in bodies)
        assert edge.metric(COMPRESSIONS) == 1
        assert origin.count("/text") == 1

    def test_each_coding_is_compressed_once_and_identity_and_ranges_not_at_all(
        self, origin: Origin, edge: StratoEdge,
    ) -> None:
        origin.routes["/text"] = cacheable(TEXT)
        warm(edge, "/text")
        for _ in range(2):
            assert brotli.decompress(call(edge, "/text", {"Accept-Encoding": "br"})[2]) == TEXT
            zipped = call(edge, "/text", {"Accept-Encoding": "gzip"})[2]
            assert gzip.decompress(zipped) == TEXT
            assert call(edge, "/text")[2] == TEXT
            status, headers, body = call(edge, "/text", {"Accept-Encoding": "gzip", "Range": "bytes=0-9"})
            assert (status, body) == (206, TEXT[:10])
            assert "content-encoding" not in headers
            status, headers, body = call(edge, "/text", {"Accept-Encoding": "gzip"}, method="HEAD")
            assert (status, body) == (200, b"")
            assert (headers["content-encoding"], int(headers["content-length"])) == ("gzip", len(zipped))
        assert edge.metric(COMPRESSIONS) == 2

    def test_a_purged_entry_is_compressed_afresh_from_the_new_body(self, origin: Origin, edge: StratoEdge) -> None:
        origin.routes["/text"] = cacheable(TEXT)
        warm(edge, "/text")
        assert gzip.decompress(call(edge, "/text", {"Accept-Encoding": "gzip"})[2]) == TEXT
        assert subprocess_purge(edge, "/text").returncode == 0
        changed = TEXT.replace(b"once", b"anew")
        origin.routes["/text"] = cacheable(changed)
        warm(edge, "/text")
        assert gzip.decompress(call(edge, "/text", {"Accept-Encoding": "gzip"})[2]) == changed
        assert gzip.decompress(call(edge, "/text", {"Accept-Encoding": "gzip"})[2]) == changed
        assert edge.metric(COMPRESSIONS) == 2
        assert origin.count("/text") == 2
