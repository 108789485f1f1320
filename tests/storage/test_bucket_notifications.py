"""A bucket's notification configuration is stored with the bucket as an opaque document: kept
across reopening, removed, gone with the bucket, and added to older databases by migration."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from strato.storage.engine import ObjectStore
from strato.storage.errors import NoSuchBucket
from strato.storage.sqlite_db import migrate
from strato.storage.sqlite_meta import SqliteMetadataStore
from tests.storage.support import BUCKET, run

DOCUMENT = '{"version": 1, "lambda": []}'


def test_a_configuration_is_kept_as_given_and_survives_reopening(store: ObjectStore, data_dir: Path) -> None:
    assert store.bucket_notification(BUCKET) is None
    run(store.put_bucket_notification(BUCKET, DOCUMENT))
    store.close()
    reopened = ObjectStore(data_dir)
    try:
        assert reopened.bucket_notification(BUCKET) == DOCUMENT
        run(reopened.put_bucket_notification(BUCKET, None))
        assert reopened.bucket_notification(BUCKET) is None
    finally:
        reopened.close()


def test_a_missing_bucket_has_no_configuration_to_read_or_write(store: ObjectStore) -> None:
    with pytest.raises(NoSuchBucket):
        store.bucket_notification("missing")
    with pytest.raises(NoSuchBucket):
        run(store.put_bucket_notification("missing", DOCUMENT))


def test_a_deleted_and_recreated_bucket_starts_without_the_old_configuration(store: ObjectStore) -> None:
    run(store.put_bucket_notification(BUCKET, DOCUMENT))
    run(store.delete_bucket(BUCKET))
    run(store.create_bucket(BUCKET, "us-east-1"))
    assert store.bucket_notification(BUCKET) is None


def test_version_5_buckets_gain_an_empty_notification_column(tmp_path: Path) -> None:
    path = tmp_path / "meta.sqlite3"
    migrate(path, target=5)
    conn = sqlite3.connect(path)
    conn.execute("INSERT INTO buckets (name, created, region) VALUES ('old', 0, 'us-east-1')")
    conn.commit()
    conn.close()
    assert migrate(path) == 5
    store = SqliteMetadataStore(path)
    try:
        assert store.get_bucket_notification("old") is None
        run(store.set_bucket_notification("old", DOCUMENT))
        assert store.get_bucket_notification("old") == DOCUMENT
    finally:
        store.close()
