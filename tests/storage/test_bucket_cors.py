"""A bucket's CORS configuration is stored with the bucket as an opaque document: kept across
reopening, replaced, removed, gone with the bucket, and added to older databases by migration."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from strato.storage.engine import ObjectStore
from strato.storage.errors import NoSuchBucket
from strato.storage.sqlite_db import migrate
from strato.storage.sqlite_meta import SqliteMetadataStore
from tests.storage.support import BUCKET, run

DOCUMENT = '[{"methods": ["GET"], "origins": ["*"]}]'


def test_a_new_bucket_has_no_cors_configuration(store: ObjectStore) -> None:
    assert store.bucket_cors(BUCKET) is None


def test_a_configuration_is_kept_as_given_and_survives_reopening(store: ObjectStore, data_dir: Path) -> None:
    run(store.put_bucket_cors(BUCKET, DOCUMENT))
    assert store.bucket_cors(BUCKET) == DOCUMENT
    store.close()
    reopened = ObjectStore(data_dir)
    try:
        assert reopened.bucket_cors(BUCKET) == DOCUMENT
    finally:
        reopened.close()


def test_putting_again_replaces_and_deleting_removes(store: ObjectStore) -> None:
    run(store.put_bucket_cors(BUCKET, DOCUMENT))
    run(store.put_bucket_cors(BUCKET, "[]"))
    assert store.bucket_cors(BUCKET) == "[]"
    run(store.delete_bucket_cors(BUCKET))
    assert store.bucket_cors(BUCKET) is None
    run(store.delete_bucket_cors(BUCKET))
    assert store.bucket_cors(BUCKET) is None


def test_the_configuration_is_independent_of_the_policy(store: ObjectStore) -> None:
    run(store.put_bucket_cors(BUCKET, DOCUMENT))
    run(store.put_bucket_policy(BUCKET, "{}"))
    run(store.delete_bucket_policy(BUCKET))
    assert store.bucket_cors(BUCKET) == DOCUMENT


def test_a_missing_bucket_has_no_configuration_to_read_or_write(store: ObjectStore) -> None:
    with pytest.raises(NoSuchBucket):
        store.bucket_cors("missing")
    with pytest.raises(NoSuchBucket):
        run(store.put_bucket_cors("missing", DOCUMENT))
    with pytest.raises(NoSuchBucket):
        run(store.delete_bucket_cors("missing"))


def test_a_deleted_and_recreated_bucket_starts_without_the_old_configuration(store: ObjectStore) -> None:
    run(store.put_bucket_cors(BUCKET, DOCUMENT))
    run(store.delete_bucket(BUCKET))
    run(store.create_bucket(BUCKET, "us-east-1"))
    assert store.bucket_cors(BUCKET) is None


def test_version_4_buckets_gain_an_empty_cors_column(tmp_path: Path) -> None:
    path = tmp_path / "meta.sqlite3"
    migrate(path, target=4)
    conn = sqlite3.connect(path)
    conn.execute("INSERT INTO buckets (name, created, region) VALUES ('old', 0, 'us-east-1')")
    conn.commit()
    conn.close()
    assert migrate(path) == 4
    store = SqliteMetadataStore(path)
    try:
        assert store.get_bucket_cors("old") is None
        run(store.set_bucket_cors("old", DOCUMENT))
        assert store.get_bucket_cors("old") == DOCUMENT
    finally:
        store.close()
