"""The metadata store on SQLite: the schema's rows to records and back, one query each.

Connections, migrations and group commit live in sqlite_db.py.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator, Mapping
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

from strato.storage.errors import BucketNotEmpty, NoSuchBucket, NoSuchKey, NoSuchUpload, PreconditionFailed
from strato.storage.metadata import CompleteBuilder, WriteCheck
from strato.storage.records import (
    CREATED,
    REMOVED,
    Bucket,
    Cause,
    Change,
    ObjectSummary,
    ObjectVersion,
    Part,
    PartInfo,
    Segment,
    Upload,
)
from strato.storage.sqlite_db import SqliteDatabase

_OBJECT_COLUMNS = (
    "key, size, etag, last_modified, storage_class, checksum_type, checksums, "
    "system, user, parts, segments, tags"
)
_OBJECT_WIDTH = _OBJECT_COLUMNS.count(",") + 1  # where the columns after them start in a row
_SUMMARY_COLUMNS = "key, size, etag, last_modified, storage_class, checksum_algorithm, checksum_type"


def _dump(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _tags(text: str | None) -> dict[str, str]:
    return json.loads(text) if text else {}


def _dump_tags(tags: Mapping[str, str]) -> str | None:
    return _dump(tags) if tags else None


def _object(bucket: str, row: sqlite3.Row | tuple[Any, ...], inline: bytes | None = None) -> ObjectVersion:
    key, size, etag, modified, storage_class, checksum_type, checksums, system, user, parts, segments, tags = row
    return ObjectVersion(
        bucket=bucket, key=bytes(key).decode(), size=size, etag=etag,
        last_modified=modified, storage_class=storage_class, checksum_type=checksum_type,
        checksums=json.loads(checksums), system=json.loads(system), user=json.loads(user),
        parts=tuple(PartInfo(n, s, e, c) for n, s, e, c in json.loads(parts or "[]")),
        segments=tuple(Segment(b, s) for b, s in json.loads(segments or "[]")),
        inline=inline, tags=_tags(tags),
    )


def _summary(row: tuple[Any, ...]) -> ObjectSummary:
    key, size, etag, modified, storage_class, algorithm, checksum_type = row
    return ObjectSummary(bytes(key).decode(), size, etag, modified, storage_class, algorithm, checksum_type)


def _upload(row: tuple[Any, ...]) -> Upload:
    upload_id, bucket, key, initiated, storage_class, algorithm, ctype, system, user, tags = row
    return Upload(
        upload_id=upload_id, bucket=bucket, key=bytes(key).decode(), initiated=initiated,
        storage_class=storage_class, checksum_algorithm=algorithm, checksum_type=ctype,
        system=json.loads(system), user=json.loads(user), tags=_tags(tags),
    )


def _part(row: tuple[Any, ...]) -> Part:
    upload_id, number, size, etag, modified, blob, checksums = row
    return Part(upload_id, number, size, etag, modified, blob, json.loads(checksums))


_UPLOAD_COLUMNS = (
    "upload_id, bucket, key, initiated, storage_class, checksum_algorithm, checksum_type, "
    "system, user, tags"
)
_PART_COLUMNS = "upload_id, number, size, etag, last_modified, blob, checksums"
_SELECT_UPLOAD = f"SELECT {_UPLOAD_COLUMNS} FROM uploads WHERE upload_id = ?"
_SELECT_PARTS = f"SELECT {_PART_COLUMNS} FROM parts WHERE upload_id = ?"


class SqliteMetadataStore:
    """MetadataStore on one SQLite file in WAL mode."""

    def __init__(self, path: Path) -> None:
        self.db = SqliteDatabase(path)

    def close(self) -> None:
        self.db.close()

    # -- reads ----------------------------------------------------------------------

    def get_bucket(self, name: str) -> Bucket | None:
        row = self.db.reader().execute(
            "SELECT name, created, region FROM buckets WHERE name = ?", (name,)
        ).fetchone()
        return Bucket(*row) if row else None

    def get_bucket_policy(self, name: str) -> str | None:
        return self._bucket_document(name, "policy")

    def get_bucket_cors(self, name: str) -> str | None:
        return self._bucket_document(name, "cors")

    def get_bucket_notification(self, name: str) -> str | None:
        return self._bucket_document(name, "notification")

    def _bucket_document(self, name: str, column: str) -> str | None:
        """A text column of the bucket: policy, CORS or tags (the column name is ours, never a caller's)."""
        row = self.db.reader().execute(f"SELECT {column} FROM buckets WHERE name = ?", (name,)).fetchone()
        if row is None:
            raise NoSuchBucket(name)
        document: str | None = row[0]
        return document

    def get_bucket_tags(self, name: str) -> dict[str, str] | None:
        text = self._bucket_document(name, "tags")
        return json.loads(text) if text is not None else None

    def changes(self, limit: int) -> list[Change]:
        rows = self.db.reader().execute(
            "SELECT id, bucket, key, kind, size, etag, time, cause FROM changes ORDER BY id LIMIT ?", (limit,))
        return [Change(row[0], row[1], bytes(row[2]).decode(), row[3], row[4], row[5], row[6],
                       Cause(**json.loads(row[7]))) for row in rows]

    def list_buckets(self, prefix: str, after: str, limit: int) -> list[Bucket]:
        rows = self.db.reader().execute(
            "SELECT name, created, region FROM buckets WHERE name > ? AND name >= ? "
            "AND substr(name, 1, ?) = ? ORDER BY name LIMIT ?",
            (after, prefix, len(prefix), prefix, limit),
        ).fetchall()
        return [Bucket(*row) for row in rows]

    def get_object(self, bucket: str, key: str, *, with_body: bool = False) -> ObjectVersion | None:
        conn = self.db.reader()
        if not with_body:
            row = conn.execute(
                f"SELECT {_OBJECT_COLUMNS} FROM objects WHERE bucket = ? AND key = ?",
                (bucket, key.encode()),
            ).fetchone()
            return _object(bucket, row) if row else None
        row = conn.execute(
            f"SELECT {_OBJECT_COLUMNS}, bodies.data FROM objects "
            "LEFT JOIN bodies ON bodies.id = objects.body_id WHERE bucket = ? AND key = ?",
            (bucket, key.encode()),
        ).fetchone()
        return _object(bucket, row[:_OBJECT_WIDTH], row[_OBJECT_WIDTH]) if row else None

    def scan_objects(
        self, bucket: str, low: bytes, inclusive: bool, high: bytes | None, limit: int
    ) -> Iterator[ObjectSummary]:
        op = ">=" if inclusive else ">"
        sql = f"SELECT {_SUMMARY_COLUMNS} FROM objects WHERE bucket = ? AND key {op} ?"
        args: list[Any] = [bucket, low]
        if high is not None:
            sql += " AND key < ?"
            args.append(high)
        sql += " ORDER BY key LIMIT ?"
        args.append(limit)
        return map(_summary, self.db.reader().execute(sql, args))

    def get_upload(self, upload_id: str) -> Upload | None:
        row = self.db.reader().execute(
            f"SELECT {_UPLOAD_COLUMNS} FROM uploads WHERE upload_id = ?", (upload_id,)
        ).fetchone()
        return _upload(row) if row else None

    def list_parts(self, upload_id: str, after: int, limit: int) -> list[Part]:
        rows = self.db.reader().execute(
            f"SELECT {_PART_COLUMNS} FROM parts WHERE upload_id = ? AND number > ? "
            "ORDER BY number LIMIT ?",
            (upload_id, after, limit),
        )
        return [_part(row) for row in rows]

    def scan_uploads(
        self, bucket: str, low_key: bytes, low_upload: str, high: bytes | None, limit: int
    ) -> Iterator[Upload]:
        sql = (
            f"SELECT {_UPLOAD_COLUMNS} FROM uploads WHERE bucket = ? "
            "AND (key > ? OR (key = ? AND upload_id > ?))"
        )
        args: list[Any] = [bucket, low_key, low_key, low_upload]
        if high is not None:
            sql += " AND key < ?"
            args.append(high)
        sql += " ORDER BY key, upload_id LIMIT ?"
        args.append(limit)
        return (_upload(row) for row in self.db.reader().execute(sql, args))

    def referenced_blobs(self) -> set[str]:
        conn = self.db.reader()
        found = {row[0] for row in conn.execute("SELECT blob FROM parts")}
        for (segments,) in conn.execute("SELECT segments FROM objects WHERE segments IS NOT NULL"):
            found.update(blob for blob, _ in json.loads(segments))
        return found

    # -- writes ---------------------------------------------------------------------

    async def create_bucket(self, bucket: Bucket) -> bool:
        def job(conn: sqlite3.Connection) -> bool:
            cursor = conn.execute(
                "INSERT OR IGNORE INTO buckets (name, created, region) VALUES (?, ?, ?)",
                (bucket.name, bucket.created, bucket.region),
            )
            return cursor.rowcount == 1

        return await self.db.write(job)

    async def delete_bucket(self, name: str) -> list[str]:
        def job(conn: sqlite3.Connection) -> list[str]:
            if conn.execute("SELECT 1 FROM buckets WHERE name = ?", (name,)).fetchone() is None:
                raise NoSuchBucket(name)
            if conn.execute("SELECT 1 FROM objects WHERE bucket = ? LIMIT 1", (name,)).fetchone():
                raise BucketNotEmpty(name)
            uploads = [row[0] for row in conn.execute("SELECT upload_id FROM uploads WHERE bucket = ?", (name,))]
            freed = [part.blob for upload_id in uploads for part in self._drop_upload(conn, upload_id).values()]
            conn.execute("DELETE FROM buckets WHERE name = ?", (name,))
            # changes not yet relayed go too: a bucket created again under the name is not told of them
            conn.execute("DELETE FROM changes WHERE bucket = ?", (name,))
            return freed

        return await self.db.write(job)

    async def set_bucket_policy(self, name: str, policy: str | None) -> None:
        await self._set_bucket_document(name, "policy", policy)

    async def set_bucket_cors(self, name: str, cors: str | None) -> None:
        await self._set_bucket_document(name, "cors", cors)

    async def set_bucket_notification(self, name: str, document: str | None) -> None:
        await self._set_bucket_document(name, "notification", document)

    async def _set_bucket_document(self, name: str, column: str, document: str | None) -> None:
        def job(conn: sqlite3.Connection) -> None:
            if conn.execute(f"UPDATE buckets SET {column} = ? WHERE name = ?", (document, name)).rowcount != 1:
                raise NoSuchBucket(name)

        await self.db.write(job)

    async def set_bucket_tags(self, name: str, tags: Mapping[str, str] | None) -> None:
        await self._set_bucket_document(name, "tags", _dump(tags) if tags is not None else None)

    async def set_object_tags(self, bucket: str, key: str, tags: Mapping[str, str]) -> ObjectVersion:
        def job(conn: sqlite3.Connection) -> ObjectVersion:
            self._require_bucket(conn, bucket)
            current = self._current(conn, bucket, key.encode())
            if current is None:
                raise NoSuchKey(key)
            conn.execute("UPDATE objects SET tags = ? WHERE bucket = ? AND key = ?",
                         (_dump_tags(tags), bucket, key.encode()))
            return replace(current[0], tags=dict(tags))

        return await self.db.write(job)

    @staticmethod
    def _require_bucket(conn: sqlite3.Connection, bucket: str) -> bool:
        """Whether the bucket's changes are recorded (it has a notification configuration):
        read with the bucket's row, so other buckets' writes pay nothing more for it."""
        row = conn.execute("SELECT notification IS NOT NULL FROM buckets WHERE name = ?", (bucket,)).fetchone()
        if row is None:
            raise NoSuchBucket(bucket)
        return bool(row[0])

    @staticmethod
    def _record(conn: sqlite3.Connection, bucket: str, key: bytes, kind: str, obj: ObjectVersion | None,
                cause: Cause | None) -> None:
        conn.execute(
            "INSERT INTO changes (bucket, key, kind, size, etag, time, cause) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (bucket, key, kind, obj.size if obj else None, obj.etag if obj else None,
             obj.last_modified if obj else time.time(), _dump(asdict(cause or Cause()))),
        )

    @staticmethod
    def _current(
        conn: sqlite3.Connection, bucket: str, key: bytes
    ) -> tuple[ObjectVersion, int | None] | None:
        row = conn.execute(
            f"SELECT {_OBJECT_COLUMNS}, body_id FROM objects WHERE bucket = ? AND key = ?",
            (bucket, key),
        ).fetchone()
        return (_object(bucket, row[:_OBJECT_WIDTH]), row[_OBJECT_WIDTH]) if row else None

    @classmethod
    def _remove(cls, conn: sqlite3.Connection, bucket: str, key: bytes) -> list[str] | None:
        """Delete one object row and its inline body; returns the blobs it freed."""
        current = cls._current(conn, bucket, key)
        if current is None:
            return None
        obj, body_id = current
        if body_id is not None:
            conn.execute("DELETE FROM bodies WHERE id = ?", (body_id,))
        conn.execute("DELETE FROM objects WHERE bucket = ? AND key = ?", (bucket, key))
        return obj.blobs()

    @classmethod
    def _insert(cls, conn: sqlite3.Connection, obj: ObjectVersion, check: WriteCheck | None,
                cause: Cause | None) -> list[str]:
        key = obj.key.encode()
        recorded = cls._require_bucket(conn, obj.bucket)
        if check is not None:
            current = cls._current(conn, obj.bucket, key)
            check(current[0] if current else None)
        freed = cls._remove(conn, obj.bucket, key) or []
        body_id = None
        if obj.inline is not None:
            body_id = conn.execute("INSERT INTO bodies (data) VALUES (?)", (obj.inline,)).lastrowid
        conn.execute(
            "INSERT INTO objects (bucket, key, size, etag, last_modified, storage_class, checksum_algorithm, "
            "checksum_type, checksums, system, user, parts, segments, body_id, tags) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                obj.bucket, key, obj.size, obj.etag, obj.last_modified, obj.storage_class,
                next(iter(obj.checksums), None),
                obj.checksum_type, _dump(obj.checksums), _dump(obj.system), _dump(obj.user),
                _dump([[p.number, p.size, p.etag, p.checksums] for p in obj.parts]) if obj.parts else None,
                _dump([[s.blob, s.size] for s in obj.segments]) if obj.segments else None,
                body_id, _dump_tags(obj.tags),
            ),
        )
        if recorded:
            cls._record(conn, obj.bucket, key, CREATED, obj, cause)
        return freed

    async def put_object(self, obj: ObjectVersion, check: WriteCheck | None = None,
                         cause: Cause | None = None) -> list[str]:
        return await self.db.write(lambda conn: self._insert(conn, obj, check, cause))

    async def delete_objects(
        self, bucket: str, keys: list[str], checks: Mapping[str, WriteCheck] | None = None,
        cause: Cause | None = None,
    ) -> tuple[list[str], dict[str, Exception]]:
        def job(conn: sqlite3.Connection) -> tuple[list[str], dict[str, Exception]]:
            recorded = self._require_bucket(conn, bucket)
            freed: list[str] = []
            refused: dict[str, Exception] = {}
            for key in keys:
                check = checks.get(key) if checks else None
                if check is not None:
                    current = self._current(conn, bucket, key.encode())
                    try:
                        check(current[0] if current else None)
                    except (PreconditionFailed, NoSuchKey) as exc:
                        refused[key] = exc
                        continue
                removed = self._remove(conn, bucket, key.encode())
                if removed is not None:
                    freed.extend(removed)
                    if recorded:
                        self._record(conn, bucket, key.encode(), REMOVED, None, cause)
            return freed, refused

        return await self.db.write(job)

    async def forget_changes(self, ids: list[int]) -> None:
        def job(conn: sqlite3.Connection) -> None:
            conn.executemany("DELETE FROM changes WHERE id = ?", [(change_id,) for change_id in ids])

        await self.db.write(job)

    async def create_upload(self, upload: Upload) -> None:
        def job(conn: sqlite3.Connection) -> None:
            self._require_bucket(conn, upload.bucket)
            conn.execute(
                f"INSERT INTO uploads ({_UPLOAD_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    upload.upload_id, upload.bucket, upload.key.encode(), upload.initiated,
                    upload.storage_class, upload.checksum_algorithm, upload.checksum_type,
                    _dump(upload.system), _dump(upload.user), _dump_tags(upload.tags),
                ),
            )

        await self.db.write(job)

    async def put_part(self, part: Part) -> list[str]:
        def job(conn: sqlite3.Connection) -> list[str]:
            found = conn.execute("SELECT 1 FROM uploads WHERE upload_id = ?", (part.upload_id,)).fetchone()
            if found is None:
                raise NoSuchUpload(part.upload_id)
            old = conn.execute(
                "SELECT blob FROM parts WHERE upload_id = ? AND number = ?", (part.upload_id, part.number)
            ).fetchone()
            conn.execute(
                f"INSERT OR REPLACE INTO parts ({_PART_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    part.upload_id, part.number, part.size, part.etag, part.last_modified,
                    part.blob, _dump(part.checksums),
                ),
            )
            return [old[0]] if old else []

        return await self.db.write(job)

    @staticmethod
    def _drop_upload(conn: sqlite3.Connection, upload_id: str) -> dict[int, Part]:
        row = conn.execute(_SELECT_UPLOAD, (upload_id,)).fetchone()
        if row is None:
            raise NoSuchUpload(upload_id)
        parts = {
            p.number: p
            for p in map(_part, conn.execute(_SELECT_PARTS, (upload_id,)))
        }
        conn.execute("DELETE FROM parts WHERE upload_id = ?", (upload_id,))
        conn.execute("DELETE FROM uploads WHERE upload_id = ?", (upload_id,))
        return parts

    async def complete_upload(
        self, upload_id: str, build: CompleteBuilder, check: WriteCheck | None = None, cause: Cause | None = None,
    ) -> tuple[ObjectVersion, list[str]]:
        def job(conn: sqlite3.Connection) -> tuple[ObjectVersion, list[str]]:
            row = conn.execute(_SELECT_UPLOAD, (upload_id,)).fetchone()
            if row is None:
                raise NoSuchUpload(upload_id)
            parts = self._drop_upload(conn, upload_id)
            obj, unused = build(_upload(row), parts)
            freed = self._insert(conn, obj, check, cause)
            return obj, freed + unused

        return await self.db.write(job)

    async def abort_upload(self, upload_id: str) -> list[str]:
        def job(conn: sqlite3.Connection) -> list[str]:
            return [p.blob for p in self._drop_upload(conn, upload_id).values()]

        return await self.db.write(job)
