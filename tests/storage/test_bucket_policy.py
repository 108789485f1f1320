"""A bucket's policy is stored with the bucket as an opaque document: kept across reopening,
replaced, removed, and gone with the bucket."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from strato.storage.engine import ObjectStore
from strato.storage.errors import NoSuchBucket
from strato.storage.sqlite_db import SCHEMA_VERSION, migrate
from strato.storage.sqlite_meta import SqliteMetadataStore
from tests.storage.support import BUCKET, run

DOCUMENT = '{"Version": "2012-10-17", "Statement": []}'


def test_a_new_bucket_has_no_policy(store: ObjectStore) -> None:
    assert store.bucket_policy(BUCKET) is None


def test_a_policy_is_kept_as_given_and_survives_reopening(store: ObjectStore, data_dir: Path) -> None:
    run(store.put_bucket_policy(BUCKET, DOCUMENT))
    assert store.bucket_policy(BUCKET) == DOCUMENT
    store.close()
    reopened = ObjectStore(data_dir)
    try:
        assert reopened.bucket_policy(BUCKET) == DOCUMENT
    finally:
        reopened.close()


def test_putting_again_replaces_and_deleting_removes(store: ObjectStore) -> None:
    run(store.put_bucket_policy(BUCKET, DOCUMENT))
    run(store.put_bucket_policy(BUCKET, "{}"))
    assert store.bucket_policy(BUCKET) == "{}"
    run(store.delete_bucket_policy(BUCKET))
    assert store.bucket_policy(BUCKET) is None
    run(store.delete_bucket_policy(BUCKET))
    assert store.bucket_policy(BUCKET) is None


def test_a_missing_bucket_has_no_policy_to_read_or_write(store: ObjectStore) -> None:
    with pytest.raises(NoSuchBucket):
        store.bucket_policy("missing")
    with pytest.raises(NoSuchBucket):
        run(store.put_bucket_policy("missing", DOCUMENT))
    with pytest.raises(NoSuchBucket):
        run(store.delete_bucket_policy("missing"))


def test_a_deleted_and_recreated_bucket_starts_without_the_old_policy(store: ObjectStore) -> None:
    run(store.put_bucket_policy(BUCKET, DOCUMENT))
    run(store.delete_bucket(BUCKET))
    run(store.create_bucket(BUCKET, "us-east-1"))
    assert store.bucket_policy(BUCKET) is None


def test_version_2_buckets_gain_an_empty_policy_column(tmp_path: Path) -> None:
    path = tmp_path / "meta.sqlite3"
    migrate(path, target=2)
    conn = sqlite3.connect(path)
    conn.execute("INSERT INTO buckets VALUES ('old', 0, 'us-east-1')")
    conn.commit()
    conn.close()
    assert migrate(path) == 2
    assert SCHEMA_VERSION >= 3
    store = SqliteMetadataStore(path)
    try:
        assert store.get_bucket_policy("old") is None
        run(store.set_bucket_policy("old", DOCUMENT))
        assert store.get_bucket_policy("old") == DOCUMENT
    finally:
        store.close()
