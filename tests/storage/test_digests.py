"""A write whose bytes do not match what was announced stores nothing and leaves no file."""

from __future__ import annotations

import base64
import hashlib
import random
import zlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from awscrt import checksums as crt

from strato.storage.engine import INLINE_LIMIT, WRITE_BATCH, ObjectStore
from strato.storage.errors import BadDigest, EntityTooLarge, IncompleteBody, NoSuchKey
from strato.storage.records import Expectation
from tests.storage.support import BUCKET, MiB, blob_files, chunks, md5, put, read, run, temp_files

SIZES = [pytest.param(1000, id="inline"), pytest.param(3 * MiB, id="blob")]


def payload(size: int) -> bytes:
    return random.Random(size).randbytes(size)


def crc32(data: bytes) -> str:
    return base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()


def assert_nothing_stored(store: ObjectStore, data_dir: Path, key: str = "key") -> None:
    with pytest.raises(NoSuchKey):
        store.head_object(BUCKET, key)
    assert blob_files(data_dir) == set()
    assert temp_files(data_dir) == []


class Broken(Exception):
    pass


class TestAnnouncedDigests:
    @pytest.mark.parametrize("size", SIZES)
    def test_a_wrong_content_md5_is_bad_digest_and_stores_nothing(
        self, store: ObjectStore, data_dir: Path, size: int
    ) -> None:
        data = payload(size)
        with pytest.raises(BadDigest) as raised:
            run(put(store, "key", data, Expectation(md5=hashlib.md5(b"other").digest())))
        assert raised.value.algorithm == "MD5"
        assert_nothing_stored(store, data_dir)

    @pytest.mark.parametrize("size", SIZES)
    def test_a_wrong_crc32_is_bad_digest_and_stores_nothing(
        self, store: ObjectStore, data_dir: Path, size: int
    ) -> None:
        data = payload(size)
        with pytest.raises(BadDigest) as raised:
            run(put(store, "key", data, Expectation(checksums={"CRC32": crc32(b"other")}, algorithm="CRC32")))
        assert raised.value.algorithm == "CRC32"
        assert_nothing_stored(store, data_dir)

    @pytest.mark.parametrize("size", SIZES)
    def test_right_digests_are_accepted_and_the_checksum_is_stored(
        self, store: ObjectStore, size: int
    ) -> None:
        data = payload(size)
        expect = Expectation(
            size=size, md5=hashlib.md5(data).digest(), checksums={"CRC32": crc32(data)}, algorithm="CRC32"
        )
        obj = run(put(store, "key", data, expect))
        assert dict(obj.checksums) == {"CRC32": crc32(data)}
        assert dict(store.head_object(BUCKET, "key").checksums) == {"CRC32": crc32(data)}
        assert obj.etag == md5(data)

    def test_the_default_checksum_is_crc64nvme_of_the_whole_body(self, store: ObjectStore) -> None:
        data = payload(3 * MiB)
        obj = run(put(store, "key", data))
        expected = base64.b64encode(crt.crc64nvme(data).to_bytes(8, "big")).decode()
        assert dict(obj.checksums) == {"CRC64NVME": expected}

    @pytest.mark.parametrize("size", SIZES)
    def test_a_bad_digest_on_overwrite_keeps_the_old_object(
        self, store: ObjectStore, data_dir: Path, size: int
    ) -> None:
        old = run(put(store, "key", b"old"))
        with pytest.raises(BadDigest):
            run(put(store, "key", payload(size), Expectation(md5=b"\0" * 16)))
        assert store.head_object(BUCKET, "key").etag == old.etag
        assert run(read(store, "key")) == b"old"
        assert blob_files(data_dir) == set()
        assert temp_files(data_dir) == []


class TestTruncatedAndFailingBodies:
    @pytest.mark.parametrize("size", SIZES)
    def test_a_body_shorter_than_announced_is_incomplete_and_stores_nothing(
        self, store: ObjectStore, data_dir: Path, size: int
    ) -> None:
        with pytest.raises(IncompleteBody):
            run(put(store, "key", payload(size), Expectation(size=size + 1)))
        assert_nothing_stored(store, data_dir)

    @pytest.mark.parametrize("fail_after", [10, INLINE_LIMIT + 10, WRITE_BATCH + 10, 3 * WRITE_BATCH])
    def test_a_body_that_raises_mid_stream_leaves_nothing_behind(
        self, store: ObjectStore, data_dir: Path, fail_after: int
    ) -> None:
        async def failing() -> AsyncIterator[bytes]:
            sent = 0
            while sent < fail_after:
                chunk = b"x" * min(64 * 1024, fail_after - sent)
                sent += len(chunk)
                yield chunk
            raise Broken

        with pytest.raises(Broken):
            run(store.put_object(BUCKET, "key", failing(), Expectation(), system={}, user={}))
        assert_nothing_stored(store, data_dir)

    @pytest.mark.parametrize("size", SIZES)
    def test_a_body_over_max_size_is_entity_too_large_and_stores_nothing(
        self, store: ObjectStore, data_dir: Path, size: int
    ) -> None:
        with pytest.raises(EntityTooLarge):
            run(put(store, "key", payload(size), max_size=size - 1))
        assert_nothing_stored(store, data_dir)

    def test_a_body_of_exactly_max_size_is_accepted(self, store: ObjectStore) -> None:
        data = payload(3 * MiB)
        assert run(put(store, "key", data, max_size=len(data))).size == len(data)


class TestParts:
    def test_a_part_with_a_bad_digest_is_not_recorded_and_leaves_no_blob(
        self, store: ObjectStore, data_dir: Path
    ) -> None:
        async def scenario() -> None:
            upload = await store.create_upload(
                BUCKET, "key", system={}, user={}, checksum_algorithm=None, checksum_type=None
            )
            with pytest.raises(BadDigest):
                await store.upload_part(
                    BUCKET, "key", upload.upload_id, 1, chunks(payload(MiB)), Expectation(md5=b"\0" * 16)
                )
            _, page = store.list_parts(BUCKET, "key", upload.upload_id, 0, 100)
            assert page.parts == []

        run(scenario())
        assert blob_files(data_dir) == set()
        assert temp_files(data_dir) == []
