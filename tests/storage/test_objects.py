"""Objects go in and come back byte for byte; overwrites and deletes free what they replace."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from strato.storage.engine import INLINE_LIMIT, ObjectStore
from strato.storage.errors import BucketNotEmpty, NoSuchBucket, NoSuchKey
from strato.storage.multipart import CompletedPart
from strato.storage.records import Expectation
from tests.storage.support import BUCKET, MiB, blob_files, chunks, md5, put, read, run


def payload(size: int, seed: int = 0) -> bytes:
    return random.Random(seed).randbytes(size)


class TestRoundTrips:
    def test_a_small_object_lives_inline_and_comes_back_byte_for_byte(
        self, store: ObjectStore, data_dir: Path
    ) -> None:
        data = payload(1000)
        obj = run(put(store, "small", data))
        assert obj.inline == data
        assert obj.etag == md5(data)
        assert run(read(store, "small")) == data
        assert blob_files(data_dir) == set()

    @pytest.mark.parametrize("size", [INLINE_LIMIT, INLINE_LIMIT + 1])
    def test_the_inline_limit_is_inclusive(self, store: ObjectStore, data_dir: Path, size: int) -> None:
        data = payload(size)
        obj = run(put(store, "edge", data))
        assert (obj.inline is not None) == (size <= INLINE_LIMIT)
        assert len(blob_files(data_dir)) == (0 if size <= INLINE_LIMIT else 1)
        assert run(read(store, "edge")) == data

    def test_a_large_object_lives_in_one_blob_and_comes_back_byte_for_byte(
        self, store: ObjectStore, data_dir: Path
    ) -> None:
        data = payload(3 * MiB + 17)
        obj = run(put(store, "large", data))
        assert obj.inline is None
        assert obj.size == len(data)
        assert obj.etag == md5(data)
        assert blob_files(data_dir) == set(obj.blobs())
        assert run(read(store, "large")) == data
        assert run(read(store, "large", MiB - 3, 2 * MiB + 5)) == data[MiB - 3 : 2 * MiB + 5]

    def test_an_empty_object_has_the_empty_md5_and_reads_as_nothing(
        self, store: ObjectStore, data_dir: Path
    ) -> None:
        obj = run(put(store, "empty", b""))
        assert (obj.size, obj.etag) == (0, md5(b""))
        assert run(read(store, "empty")) == b""
        assert store.head_object(BUCKET, "empty").size == 0
        assert blob_files(data_dir) == set()

    def test_system_and_user_metadata_round_trip_exactly(self, store: ObjectStore) -> None:
        system = {
            "content-type": "text/plain; charset=utf-8",
            "cache-control": "no-cache",
            "content-encoding": "",
        }
        user = {"name": "café ☕ 😀", "quote": '"x"\\y', "empty": "", "newline": "a\nb"}
        run(put(store, "meta", b"x", system=system, user=user))
        head = store.head_object(BUCKET, "meta")
        assert dict(head.system) == system
        assert dict(head.user) == user

    def test_a_key_of_any_unicode_round_trips(self, store: ObjectStore) -> None:
        keys = ["a+b%20c", "line\nbreak", "emoji 😀/é", "\x01control", "trailing/"]
        for index, key in enumerate(keys):
            run(put(store, key, bytes([index])))
        for index, key in enumerate(keys):
            assert run(read(store, key)) == bytes([index])
            assert store.head_object(BUCKET, key).key == key

    def test_the_default_checksum_is_stored_with_the_object(self, store: ObjectStore) -> None:
        obj = run(put(store, "sum", b"hello"))
        assert set(obj.checksums) == {"CRC64NVME"}
        assert dict(store.head_object(BUCKET, "sum").checksums) == dict(obj.checksums)


class TestMissing:
    def test_reading_a_missing_key_raises_no_such_key(self, store: ObjectStore) -> None:
        with pytest.raises(NoSuchKey):
            store.head_object(BUCKET, "nope")
        with pytest.raises(NoSuchKey):
            run(store.open_object(BUCKET, "nope"))

    def test_writing_into_a_missing_bucket_raises_no_such_bucket_and_stores_nothing(
        self, store: ObjectStore, data_dir: Path
    ) -> None:
        with pytest.raises(NoSuchBucket):
            run(put(store, "key", payload(MiB), bucket="missing"))
        with pytest.raises(NoSuchBucket):
            store.head_object("missing", "key")
        assert blob_files(data_dir) == set()


class TestMultipartReads:
    def test_ranges_across_segment_boundaries_read_the_right_bytes(self, store: ObjectStore) -> None:
        sizes = [5 * MiB, 5 * MiB, 100_000]
        data = payload(sum(sizes))

        async def scenario() -> None:
            upload = await store.create_upload(
                BUCKET, "mp", system={}, user={}, checksum_algorithm=None, checksum_type=None
            )
            done, offset = [], 0
            for number, size in enumerate(sizes, start=1):
                part = await store.upload_part(
                    BUCKET,
                    "mp",
                    upload.upload_id,
                    number,
                    chunks(data[offset : offset + size]),
                    Expectation(),
                )
                done.append(CompletedPart(number, part.etag, {}))
                offset += size
            obj = await store.complete_upload(BUCKET, "mp", upload.upload_id, done)
            assert len(obj.segments) == 3
            first, second = sizes[0], sizes[0] + sizes[1]
            for start, end in [
                (0, len(data)),
                (first - 10, first + 10),
                (first, first + 1),
                (first - 1, first),
                (first - 1, second + 1),
                (second, len(data)),
                (len(data) - 1, len(data)),
                (123, 123),
                (7, 5 * MiB),
            ]:
                assert await read(store, "mp", start, end) == data[start:end], (start, end)

        run(scenario())


class TestFreeing:
    def test_overwriting_a_blob_object_removes_the_old_blob_file(
        self, store: ObjectStore, data_dir: Path
    ) -> None:
        first = run(put(store, "key", payload(MiB, 1)))
        assert blob_files(data_dir) == set(first.blobs())
        second = run(put(store, "key", payload(MiB, 2)))
        assert blob_files(data_dir) == set(second.blobs())
        assert run(read(store, "key")) == payload(MiB, 2)

    def test_overwriting_a_blob_object_with_a_small_one_leaves_no_blob(
        self, store: ObjectStore, data_dir: Path
    ) -> None:
        run(put(store, "key", payload(MiB)))
        run(put(store, "key", b"tiny"))
        assert blob_files(data_dir) == set()
        assert run(read(store, "key")) == b"tiny"

    def test_deleting_objects_removes_their_blob_files_and_inline_bodies(
        self, store: ObjectStore, data_dir: Path
    ) -> None:
        run(put(store, "big", payload(MiB)))
        run(put(store, "small", b"small"))
        run(store.delete_objects(BUCKET, ["big", "small", "never-existed"]))
        assert blob_files(data_dir) == set()
        with pytest.raises(NoSuchKey):
            store.head_object(BUCKET, "big")
        with pytest.raises(NoSuchKey):
            store.head_object(BUCKET, "small")

    def test_a_reader_that_opened_an_object_keeps_reading_it_after_an_overwrite(
        self, store: ObjectStore
    ) -> None:
        old, new = payload(2 * MiB, 1), payload(2 * MiB, 2)

        async def scenario() -> None:
            await put(store, "key", old)
            reader = await store.open_object(BUCKET, "key")
            try:
                await put(store, "key", new)
                await store.delete_objects(BUCKET, ["key"])
                assert b"".join([c async for c in reader.iter_range(0, reader.obj.size)]) == old
            finally:
                reader.close()

        run(scenario())


class TestCopies:
    def test_a_copy_of_a_multipart_object_reads_back_whole_with_its_own_blob(
        self, store: ObjectStore, data_dir: Path
    ) -> None:
        sizes = [5 * MiB, 1000]
        data = payload(sum(sizes))

        async def scenario() -> None:
            upload = await store.create_upload(
                BUCKET, "src", system={}, user={}, checksum_algorithm=None, checksum_type=None
            )
            done = []
            for number, (start, end) in enumerate([(0, sizes[0]), (sizes[0], len(data))], start=1):
                part = await store.upload_part(
                    BUCKET, "src", upload.upload_id, number, chunks(data[start:end]), Expectation()
                )
                done.append(CompletedPart(number, part.etag, {}))
            source = await store.complete_upload(BUCKET, "src", upload.upload_id, done)
            reader = await store.open_object(BUCKET, "src")
            try:
                copy = await store.copy_object(reader, BUCKET, "dst", system={"a": "b"}, user={})
            finally:
                reader.close()
            assert copy.etag == md5(data)
            assert dict(copy.checksums) == dict(source.checksums)
            assert await read(store, "dst") == data
            assert blob_files(data_dir) == {*source.blobs(), *copy.blobs()}

        run(scenario())

    def test_copying_an_object_onto_itself_keeps_its_bytes_and_frees_the_old_blob(
        self, store: ObjectStore, data_dir: Path
    ) -> None:
        data = payload(MiB)

        async def scenario() -> None:
            await put(store, "key", data)
            reader = await store.open_object(BUCKET, "key")
            try:
                copy = await store.copy_object(reader, BUCKET, "key", system={}, user={"new": "meta"})
            finally:
                reader.close()
            assert await read(store, "key") == data
            assert dict(store.head_object(BUCKET, "key").user) == {"new": "meta"}
            assert blob_files(data_dir) == set(copy.blobs())

        run(scenario())


class TestBuckets:
    def test_a_bucket_with_objects_cannot_be_deleted(self, store: ObjectStore) -> None:
        run(put(store, "key", b"x"))
        with pytest.raises(BucketNotEmpty):
            run(store.delete_bucket(BUCKET))
        run(store.delete_objects(BUCKET, ["key"]))
        run(store.delete_bucket(BUCKET))
        with pytest.raises(NoSuchBucket):
            store.get_bucket(BUCKET)

    def test_uploads_in_progress_go_with_their_bucket_and_free_their_parts(
        self, store: ObjectStore, data_dir: Path
    ) -> None:
        upload = run(
            store.create_upload(
                BUCKET, "key", system={}, user={}, checksum_algorithm=None, checksum_type=None
            )
        )
        run(store.upload_part(BUCKET, "key", upload.upload_id, 1, chunks(b"p" * 1024), Expectation()))
        assert blob_files(data_dir)
        run(store.delete_bucket(BUCKET))
        with pytest.raises(NoSuchBucket):
            store.get_bucket(BUCKET)
        assert blob_files(data_dir) == set()

    def test_creating_an_existing_bucket_reports_false(self, store: ObjectStore) -> None:
        assert run(store.create_bucket(BUCKET, "us-east-1")) is False
        assert run(store.create_bucket("other", "eu-west-1")) is True
        assert [b.name for b in store.list_buckets()] == [BUCKET, "other"]
