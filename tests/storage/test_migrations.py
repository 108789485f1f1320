"""The metadata schema carries its version and migrates forward explicitly, never backward."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from strato.storage.engine import ObjectStore
from strato.storage.sqlite_db import SCHEMA_VERSION, migrate
from strato.storage.sqlite_meta import SqliteMetadataStore
from tests.storage.support import BUCKET, put, read, run
from tests.test_migrations import user_version


def schema(path: Path) -> list[tuple[str, str]]:
    conn = sqlite3.connect(path)
    try:
        return conn.execute("SELECT name, sql FROM sqlite_master ORDER BY name").fetchall()
    finally:
        conn.close()


class TestMigrate:
    def test_a_fresh_file_is_brought_to_the_current_schema_version(self, tmp_path: Path) -> None:
        path = tmp_path / "meta.sqlite3"
        assert migrate(path) == 0
        assert user_version(path) == SCHEMA_VERSION
        assert {"buckets", "objects", "bodies", "uploads", "parts"} <= {name for name, _ in schema(path)}

    def test_migrating_twice_changes_nothing(self, tmp_path: Path) -> None:
        path = tmp_path / "meta.sqlite3"
        migrate(path)
        before = schema(path)
        assert migrate(path) == SCHEMA_VERSION
        assert schema(path) == before
        assert user_version(path) == SCHEMA_VERSION

    def test_a_database_from_a_newer_strato_is_refused_and_left_untouched(self, tmp_path: Path) -> None:
        path = tmp_path / "meta.sqlite3"
        migrate(path)
        conn = sqlite3.connect(path)
        conn.execute(f"PRAGMA user_version={SCHEMA_VERSION + 1}")
        conn.close()
        with pytest.raises(RuntimeError, match="newer"):
            migrate(path)
        with pytest.raises(RuntimeError, match="newer"):
            SqliteMetadataStore(path)
        assert user_version(path) == SCHEMA_VERSION + 1

    def test_the_database_is_in_wal_mode_with_full_synchronous_commits(self, tmp_path: Path) -> None:
        path = tmp_path / "meta.sqlite3"
        migrate(path)
        conn = sqlite3.connect(path)
        try:
            assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        finally:
            conn.close()

    def test_data_survives_reopening_a_migrated_store(self, data_dir: Path) -> None:
        store = ObjectStore(data_dir)
        run(store.create_bucket(BUCKET, "us-east-1"))
        run(put(store, "key", b"kept"))
        store.close()
        reopened = ObjectStore(data_dir)
        try:
            assert run(read(reopened, "key")) == b"kept"
            assert reopened.get_bucket(BUCKET).region == "us-east-1"
        finally:
            reopened.close()


class TestUpgrade:
    def test_version_1_objects_gain_their_checksum_algorithm_column(self, tmp_path: Path) -> None:
        path = tmp_path / "meta.sqlite3"
        assert migrate(path, target=1) == 0
        conn = sqlite3.connect(path)
        conn.execute("INSERT INTO buckets VALUES ('b', 0, 'us-east-1')")
        conn.execute(
            "INSERT INTO objects (bucket, key, size, etag, last_modified, storage_class, checksum_type, "
            "checksums, system, user) VALUES ('b', CAST('k' AS BLOB), 1, 'e', 0, 'STANDARD', 'FULL_OBJECT', "
            "'{\"CRC32C\":\"AAAAAA==\"}', '{}', '{}')"
        )
        conn.commit()
        conn.close()
        assert user_version(path) == 1
        assert migrate(path) == 1
        assert user_version(path) == SCHEMA_VERSION
        store = SqliteMetadataStore(path)
        try:
            (listed,) = store.scan_objects("b", b"", True, None, 10)
            assert (listed.key, listed.checksum_algorithm, listed.checksum_type) == ("k", "CRC32C", "FULL_OBJECT")
        finally:
            store.close()
