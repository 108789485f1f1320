"""Tags live with the object version and with the bucket. A write sets its object's tags
(a completed upload takes the ones its creation named); changing them alone touches neither
the bytes, the ETag nor Last-Modified; they survive reopening and go with what they tag."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from strato.storage.engine import ObjectStore
from strato.storage.errors import NoSuchBucket, NoSuchKey
from strato.storage.multipart import CompletedPart
from strato.storage.records import Expectation
from strato.storage.sqlite_db import migrate
from strato.storage.sqlite_meta import SqliteMetadataStore
from tests.storage.support import BUCKET, blob_files, chunks, put, read, run

TAGS = {"project": "blue", "empty": ""}


def put_tagged(store: ObjectStore, key: str, data: bytes, tags: dict[str, str]) -> None:
    run(store.put_object(BUCKET, key, chunks(data), Expectation(), system={}, user={}, tags=tags))


class TestObjectTags:
    def test_an_object_written_without_tags_has_none(self, store: ObjectStore) -> None:
        run(put(store, "k", b"data"))
        assert store.head_object(BUCKET, "k").tags == {}

    def test_a_write_stores_its_tags_in_order_and_they_survive_reopening(
        self, store: ObjectStore, data_dir: Path
    ) -> None:
        put_tagged(store, "k", b"data", TAGS)
        assert list(store.head_object(BUCKET, "k").tags.items()) == list(TAGS.items())
        store.close()
        reopened = ObjectStore(data_dir)
        try:
            assert reopened.head_object(BUCKET, "k").tags == TAGS
        finally:
            reopened.close()

    def test_an_overwrite_replaces_the_tags_with_its_own(self, store: ObjectStore) -> None:
        put_tagged(store, "k", b"one", TAGS)
        run(put(store, "k", b"two"))
        assert store.head_object(BUCKET, "k").tags == {}

    def test_changing_tags_keeps_the_bytes_etag_and_last_modified(self, store: ObjectStore) -> None:
        big = b"x" * (200 * 1024)  # a blob, not an inline body
        before = run(put(store, "k", big))
        files = blob_files(store.data_dir)
        after = run(store.put_object_tags(BUCKET, "k", {"a": "1"}))
        assert after.tags == {"a": "1"}
        now = store.head_object(BUCKET, "k")
        assert (now.etag, now.last_modified, now.size, now.tags) == (before.etag, before.last_modified, len(big),
                                                                      {"a": "1"})
        assert blob_files(store.data_dir) == files
        assert run(read(store, "k")) == big

    def test_an_empty_tag_set_removes_the_tags(self, store: ObjectStore) -> None:
        put_tagged(store, "k", b"data", TAGS)
        run(store.put_object_tags(BUCKET, "k", {}))
        assert store.head_object(BUCKET, "k").tags == {}

    def test_a_missing_object_or_bucket_cannot_be_tagged(self, store: ObjectStore) -> None:
        with pytest.raises(NoSuchKey):
            run(store.put_object_tags(BUCKET, "missing", {"a": "1"}))
        with pytest.raises(NoSuchBucket):
            run(store.put_object_tags("missing", "k", {"a": "1"}))

    def test_a_copy_takes_the_tags_it_is_given(self, store: ObjectStore) -> None:
        put_tagged(store, "src", b"data", TAGS)

        async def copy() -> None:
            source = await store.open_object(BUCKET, "src")
            try:
                await store.copy_object(source, BUCKET, "dst", system={}, user={}, tags={"copied": "yes"})
            finally:
                source.close()

        run(copy())
        assert store.head_object(BUCKET, "dst").tags == {"copied": "yes"}
        assert store.head_object(BUCKET, "src").tags == TAGS

    def test_a_completed_upload_carries_the_tags_its_creation_named(self, store: ObjectStore) -> None:
        upload = run(store.create_upload(BUCKET, "mp", system={}, user={}, checksum_algorithm=None,
                                         checksum_type=None, tags=TAGS))
        assert store.get_upload(BUCKET, "mp", upload.upload_id).tags == TAGS
        part = run(store.upload_part(BUCKET, "mp", upload.upload_id, 1, chunks(b"body"), Expectation()))
        run(store.complete_upload(BUCKET, "mp", upload.upload_id, [CompletedPart(1, part.etag, {})]))
        assert store.head_object(BUCKET, "mp").tags == TAGS


class TestBucketTags:
    def test_a_new_bucket_has_no_tag_set(self, store: ObjectStore) -> None:
        assert store.bucket_tags(BUCKET) is None

    def test_tags_are_kept_replaced_and_removed(self, store: ObjectStore, data_dir: Path) -> None:
        run(store.put_bucket_tags(BUCKET, TAGS))
        store.close()
        reopened = ObjectStore(data_dir)
        try:
            assert reopened.bucket_tags(BUCKET) == TAGS
            run(reopened.put_bucket_tags(BUCKET, {"only": "this"}))
            assert reopened.bucket_tags(BUCKET) == {"only": "this"}
            run(reopened.delete_bucket_tags(BUCKET))
            assert reopened.bucket_tags(BUCKET) is None
        finally:
            reopened.close()

    def test_a_missing_bucket_has_no_tags_to_read_or_write(self, store: ObjectStore) -> None:
        with pytest.raises(NoSuchBucket):
            store.bucket_tags("missing")
        with pytest.raises(NoSuchBucket):
            run(store.put_bucket_tags("missing", TAGS))
        with pytest.raises(NoSuchBucket):
            run(store.delete_bucket_tags("missing"))

    def test_a_recreated_bucket_starts_without_the_old_tags(self, store: ObjectStore) -> None:
        run(store.put_bucket_tags(BUCKET, TAGS))
        run(store.delete_bucket(BUCKET))
        run(store.create_bucket(BUCKET, "us-east-1"))
        assert store.bucket_tags(BUCKET) is None


def test_rows_from_version_3_gain_empty_tags(tmp_path: Path) -> None:
    path = tmp_path / "meta.sqlite3"
    migrate(path, target=3)
    conn = sqlite3.connect(path)
    conn.execute("INSERT INTO buckets (name, created, region) VALUES ('old', 0, 'us-east-1')")
    conn.execute("INSERT INTO objects (bucket, key, size, etag, last_modified, storage_class, checksums, system, "
                 "user) VALUES ('old', X'6B', 0, 'e', 0, 'STANDARD', '{}', '{}', '{}')")
    conn.execute("INSERT INTO uploads VALUES ('u', 'old', X'6B', 0, 'STANDARD', NULL, NULL, '{}', '{}')")
    conn.commit()
    conn.close()
    assert migrate(path) == 3
    meta = SqliteMetadataStore(path)
    try:
        assert meta.get_bucket_tags("old") is None
        obj = meta.get_object("old", "k")
        assert obj is not None
        assert obj.tags == {}
        upload = meta.get_upload("u")
        assert upload is not None
        assert upload.tags == {}
    finally:
        meta.close()
