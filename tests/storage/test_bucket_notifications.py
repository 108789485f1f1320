"""A bucket's notification configuration is stored with the bucket as an opaque document: kept
across reopening, removed, gone with the bucket, and added to older databases by migration; while
it is there, the bucket's object changes are recorded with the writes that make them."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from strato.storage.engine import ObjectStore, WriteConditions
from strato.storage.errors import NoSuchBucket, PreconditionFailed
from strato.storage.records import CREATED, REMOVED, Cause, Expectation
from strato.storage.sqlite_db import migrate
from strato.storage.sqlite_meta import SqliteMetadataStore
from tests.storage.support import BUCKET, chunks, put, run

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


class TestChanges:
    """While a bucket has a configuration, each object write records a change in its own
    transaction, with the request behind it, until the events layer forgets it."""

    def test_a_bucket_without_a_configuration_records_nothing(self, store: ObjectStore) -> None:
        run(put(store, "k", b"data"))
        run(store.delete_objects(BUCKET, ["k"]))
        assert store.changes() == []

    def test_writes_and_removals_are_recorded_in_order_with_their_cause(self, store: ObjectStore) -> None:
        run(store.put_bucket_notification(BUCKET, DOCUMENT))
        cause = Cause("Put", "REQ", "127.0.0.1", "AWS:KEY")
        written = run(store.put_object(BUCKET, "a b", chunks(b"data"), Expectation(), system={}, user={},
                                       cause=cause))
        run(store.delete_objects(BUCKET, ["a b", "never-there"], cause=Cause("Delete")))
        created, removed = store.changes()
        assert (created.bucket, created.key, created.kind, created.size, created.etag, created.cause) == (
            BUCKET, "a b", CREATED, 4, written.etag, cause)
        assert created.time == written.last_modified
        assert (removed.key, removed.kind, removed.size, removed.etag, removed.cause.operation) == (
            "a b", REMOVED, None, None, "Delete")
        assert created.id < removed.id

    def test_a_refused_write_records_no_change(self, store: ObjectStore) -> None:
        run(store.put_bucket_notification(BUCKET, DOCUMENT))
        run(put(store, "k", b"first"))
        run(store.forget_changes([change.id for change in store.changes()]))
        with pytest.raises(PreconditionFailed):
            run(put(store, "k", b"second", conditions=WriteConditions(if_none_match="*")))
        assert store.changes() == []

    def test_forgotten_changes_are_gone_and_survive_reopening_until_then(self, store: ObjectStore,
                                                                         data_dir: Path) -> None:
        run(store.put_bucket_notification(BUCKET, DOCUMENT))
        run(put(store, "one", b"1"))
        run(put(store, "two", b"2"))
        store.close()
        reopened = ObjectStore(data_dir)
        try:
            first, second = reopened.changes()
            run(reopened.forget_changes([first.id]))
            assert reopened.changes() == [second]
        finally:
            reopened.close()

    def test_a_deleted_bucket_takes_its_pending_changes_with_it(self, store: ObjectStore) -> None:
        """Else a bucket created again under the name, with a configuration of its own, would
        tell that configuration's functions of the old bucket's objects."""
        run(store.put_bucket_notification(BUCKET, DOCUMENT))
        run(put(store, "old", b"1"))
        run(store.delete_objects(BUCKET, ["old"]))
        run(store.delete_bucket(BUCKET))
        run(store.create_bucket(BUCKET, "us-east-1"))
        run(store.put_bucket_notification(BUCKET, DOCUMENT))
        assert store.changes() == []
