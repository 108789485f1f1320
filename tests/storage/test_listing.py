"""Listing matches a naive reference over random keys, page by page, and costs what the page
returns, not what the bucket holds."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Iterator

import pytest

from strato.storage.engine import ObjectStore
from strato.storage.records import Expectation, ObjectSummary, ObjectVersion, Upload
from strato.storage.sqlite_meta import SqliteMetadataStore
from tests.storage.support import BUCKET, run

# Characters chosen to trip naive implementations: delimiters, URL-special characters, a
# newline, multi-byte UTF-8 (2 and 4 bytes), and the 0x7f/0x80 neighbours.
ALPHABET = ["a", "b", "/", "+", "%", "\n", "-", ".", "é", "😀", "\x7f", "\u0080", "~", " "]
DELIMITERS = ["", "/", "-", "a/", "//", "😀", "é-"]
SEEDS = range(6)


def random_keys(rng: random.Random, count: int) -> list[str]:
    keys: set[str] = set()
    while len(keys) < count:
        key = "".join(rng.choice(ALPHABET) for _ in range(rng.randint(1, 6)))
        keys.add(key)
        if rng.random() < 0.3:  # keys that are prefixes of other keys
            keys.add(key + "".join(rng.choice(ALPHABET) for _ in range(rng.randint(1, 3))))
    return sorted(keys)


def random_prefix(rng: random.Random, keys: list[str]) -> str:
    roll = rng.random()
    if roll < 0.3:
        return ""
    if roll < 0.8:
        key = rng.choice(keys)
        return key[: rng.randint(1, len(key))]
    return "".join(rng.choice(ALPHABET) for _ in range(rng.randint(1, 2)))


def random_marker(rng: random.Random, keys: list[str]) -> str:
    roll = rng.random()
    if roll < 0.6:
        return ""
    if roll < 0.8:
        return rng.choice(keys)
    return "".join(rng.choice(ALPHABET) for _ in range(rng.randint(1, 4)))


def reference(keys: list[str], prefix: str, delimiter: str, marker: str) -> list[tuple[str, bool]]:
    """S3's ListObjects, the slow obvious way: (name, is-common-prefix) in order."""
    entries: list[tuple[str, bool]] = []
    seen: set[str] = set()
    for key in sorted(keys, key=str.encode):
        if not key.startswith(prefix) or key <= marker:
            continue
        cut = key.find(delimiter, len(prefix)) if delimiter else -1
        if cut < 0:
            entries.append((key, False))
            continue
        common = key[: cut + len(delimiter)]
        if common > marker and common not in seen:
            seen.add(common)
            entries.append((common, True))
    return entries


def all_pages(
    store: ObjectStore, prefix: str, delimiter: str, marker: str, max_keys: int
) -> list[tuple[str, bool]]:
    """Every page from `marker` on, following next_marker, concatenated."""
    found: list[tuple[str, bool]] = []
    for _ in range(10_000):
        page = store.list_objects(
            BUCKET, prefix=prefix, delimiter=delimiter, marker=marker, max_keys=max_keys
        )
        entries = sorted([(o.key, False) for o in page.objects] + [(p, True) for p in page.common_prefixes])
        assert len(entries) <= max_keys
        found.extend(entries)
        if not page.is_truncated:
            assert page.next_marker is None
            return found
        assert entries, "a truncated page must make progress"
        assert page.next_marker == entries[-1][0]
        marker = page.next_marker
    raise AssertionError("pagination does not end")


async def empty_body() -> AsyncIterator[bytes]:
    yield b""


def fill(store: ObjectStore, keys: list[str]) -> None:
    async def scenario() -> None:
        for start in range(0, len(keys), 500):
            await asyncio.gather(
                *(
                    store.put_object(BUCKET, key, empty_body(), Expectation(), system={}, user={})
                    for key in keys[start : start + 500]
                )
            )

    run(scenario())


class TestAgainstTheReference:
    @pytest.mark.parametrize("seed", SEEDS)
    def test_paginated_listings_concatenate_to_the_reference(self, store: ObjectStore, seed: int) -> None:
        rng = random.Random(seed)
        keys = random_keys(rng, 150)
        fill(store, keys)
        for _ in range(60):
            prefix, delimiter, marker = (
                random_prefix(rng, keys),
                rng.choice(DELIMITERS),
                random_marker(rng, keys),
            )
            max_keys = rng.choice([1, 2, 3, 7, 1000])
            expected = reference(keys, prefix, delimiter, marker)
            assert all_pages(store, prefix, delimiter, marker, max_keys) == expected, (
                prefix,
                delimiter,
                marker,
            )

    def test_a_key_equal_to_the_prefix_is_listed_and_its_extensions_roll_up(self, store: ObjectStore) -> None:
        fill(store, ["a/", "a/b", "a/b/c", "a/b/d", "a/c", "a0", "a", "b"])
        page = store.list_objects(BUCKET, prefix="a/", delimiter="/")
        assert [o.key for o in page.objects] == ["a/", "a/b", "a/c"]
        assert page.common_prefixes == ["a/b/"]
        assert not page.is_truncated

    def test_a_listing_of_an_empty_bucket_is_empty_and_not_truncated(self, store: ObjectStore) -> None:
        page = store.list_objects(BUCKET, delimiter="/")
        assert (page.objects, page.common_prefixes, page.is_truncated, page.next_marker) == (
            [],
            [],
            False,
            None,
        )

    def test_object_summaries_carry_size_etag_and_checksums(self, store: ObjectStore) -> None:
        async def scenario() -> ObjectVersion:
            async def body() -> AsyncIterator[bytes]:
                yield b"hello"

            return await store.put_object(BUCKET, "k", body(), Expectation(), system={}, user={})

        put = run(scenario())
        (listed,) = store.list_objects(BUCKET).objects
        assert (listed.key, listed.size, listed.etag, listed.checksum_algorithm, listed.checksum_type) == (
            "k",
            5,
            put.etag,
            next(iter(put.checksums)),
            put.checksum_type,
        )


class CountingMeta(SqliteMetadataStore):
    """The real SQLite store, counting the rows listing pulls out of it."""

    rows = 0

    def scan_objects(
        self, bucket: str, low: bytes, inclusive: bool, high: bytes | None, limit: int
    ) -> Iterator[ObjectSummary]:
        for obj in super().scan_objects(bucket, low, inclusive, high, limit):
            self.rows += 1
            yield obj


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ObjectStore, CountingMeta]]:
    data_dir = tmp_path_factory.mktemp("big")
    meta = CountingMeta(data_dir / "meta.sqlite3")
    store = ObjectStore(data_dir, meta)
    run(store.create_bucket(BUCKET, "us-east-1"))
    fill(store, [f"p{p}/{n:04d}" for p in range(10) for n in range(1000)])
    yield store, meta
    store.close()


class TestCost:
    """10,000 keys under 10 prefixes; every listing counts the rows it pulls from SQLite."""

    def test_a_delimiter_listing_reads_one_row_per_common_prefix(
        self, big: tuple[ObjectStore, CountingMeta]
    ) -> None:
        store, meta = big
        before = meta.rows
        page = store.list_objects(BUCKET, delimiter="/")
        assert page.common_prefixes == [f"p{p}/" for p in range(10)]
        assert meta.rows - before <= 10

    def test_a_prefix_listing_reads_the_page_and_one_more(
        self, big: tuple[ObjectStore, CountingMeta]
    ) -> None:
        store, meta = big
        before = meta.rows
        page = store.list_objects(BUCKET, prefix="p7/", max_keys=5)
        assert [o.key for o in page.objects] == [f"p7/{n:04d}" for n in range(5)]
        assert page.is_truncated
        assert meta.rows - before <= 6

    def test_resuming_after_a_marker_deep_in_the_bucket_reads_only_the_page(
        self, big: tuple[ObjectStore, CountingMeta]
    ) -> None:
        store, meta = big
        before = meta.rows
        page = store.list_objects(BUCKET, marker="p8/0990", max_keys=20)
        assert [o.key for o in page.objects][:10] == [f"p8/{n:04d}" for n in range(991, 1000)] + ["p9/0000"]
        assert meta.rows - before <= 21

    def test_a_delimiter_listing_after_a_marker_inside_a_prefix_skips_the_rest_of_it(
        self, big: tuple[ObjectStore, CountingMeta]
    ) -> None:
        store, meta = big
        before = meta.rows
        page = store.list_objects(BUCKET, delimiter="/", marker="p3/0500", max_keys=3)
        assert page.common_prefixes == ["p4/", "p5/", "p6/"]
        assert page.is_truncated
        assert page.next_marker == "p6/"
        assert meta.rows - before <= 6


# -- uploads ------------------------------------------------------------------------------


def upload_reference(
    uploads: list[Upload], prefix: str, delimiter: str, key_marker: str, upload_id_marker: str
) -> list[tuple[str, str | None]]:
    """ListMultipartUploads, the slow obvious way: (key, upload id) or (common prefix, None)."""
    entries: list[tuple[str, str | None]] = []
    seen: set[str] = set()
    for upload in sorted(uploads, key=lambda u: (u.key.encode(), u.upload_id)):
        key = upload.key
        if not key.startswith(prefix):
            continue
        if key_marker and (key < key_marker or (key == key_marker and upload.upload_id <= upload_id_marker)):
            continue
        if key_marker and key == key_marker and not upload_id_marker:
            continue
        cut = key.find(delimiter, len(prefix)) if delimiter else -1
        if cut < 0:
            entries.append((key, upload.upload_id))
            continue
        common = key[: cut + len(delimiter)]
        if common > key_marker and common not in seen:
            seen.add(common)
            entries.append((common, None))
    return entries


def all_upload_pages(
    store: ObjectStore, prefix: str, delimiter: str, key_marker: str, upload_id_marker: str, max_uploads: int
) -> list[tuple[str, str | None]]:
    found: list[tuple[str, str | None]] = []
    for _ in range(10_000):
        page = store.list_uploads(
            BUCKET,
            prefix=prefix,
            delimiter=delimiter,
            key_marker=key_marker,
            upload_id_marker=upload_id_marker,
            max_uploads=max_uploads,
        )
        entries: list[tuple[str, str | None]] = sorted(
            [(u.key, u.upload_id) for u in page.uploads] + [(p, None) for p in page.common_prefixes],
            key=lambda e: (e[0], e[1] or ""),
        )
        assert len(entries) <= max_uploads
        found.extend(entries)
        if not page.is_truncated:
            return found
        assert entries
        assert (page.next_key_marker, page.next_upload_id_marker) == entries[-1]
        key_marker, upload_id_marker = page.next_key_marker or "", page.next_upload_id_marker or ""
    raise AssertionError("pagination does not end")


class TestUploadsAgainstTheReference:
    @pytest.mark.parametrize("seed", SEEDS[:3])
    def test_paginated_upload_listings_concatenate_to_the_reference(
        self, store: ObjectStore, seed: int
    ) -> None:
        rng = random.Random(seed)
        keys = random_keys(rng, 40)

        async def create() -> list[Upload]:
            made = []
            for key in keys:
                for _ in range(rng.choice([1, 1, 2, 3])):
                    made.append(
                        await store.create_upload(
                            BUCKET, key, system={}, user={}, checksum_algorithm=None, checksum_type=None
                        )
                    )
            return made

        uploads = run(create())
        for _ in range(40):
            prefix, delimiter = random_prefix(rng, keys), rng.choice(DELIMITERS)
            key_marker, upload_id_marker = random_marker(rng, keys), ""
            if key_marker in keys and rng.random() < 0.5:
                upload_id_marker = rng.choice([u.upload_id for u in uploads if u.key == key_marker])
            max_uploads = rng.choice([1, 2, 5, 1000])
            expected = upload_reference(uploads, prefix, delimiter, key_marker, upload_id_marker)
            got = all_upload_pages(store, prefix, delimiter, key_marker, upload_id_marker, max_uploads)
            assert got == expected, (prefix, delimiter, key_marker, upload_id_marker)
