"""SQLite (WAL) metadata store with group commit.

Reads use one connection per thread. Writes go to a single writer thread that takes every
job waiting in its queue, runs each in its own savepoint inside one transaction and commits
once: concurrent writers share one WAL fsync, and a failing job rolls back alone.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import fcntl
import json
import os
import queue
import sqlite3
import threading
from collections.abc import Callable, Iterator
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

from strato.storage.errors import BucketNotEmpty, NoSuchBucket, NoSuchUpload
from strato.storage.metadata import CompleteBuilder, WriteCheck
from strato.storage.records import Bucket, ObjectSummary, ObjectVersion, Part, PartInfo, Segment, Upload

T = TypeVar("T")
MAX_BATCH = 512
_OBJECT_COLUMNS = (
    "key, size, etag, last_modified, storage_class, checksum_type, checksums, "
    "system, user, parts, segments"
)
_SUMMARY_COLUMNS = "key, size, etag, last_modified, storage_class, checksum_algorithm, checksum_type"


def _migrations() -> list[tuple[int, str]]:
    folder = resources.files("strato.storage.migrations")
    found = []
    for entry in folder.iterdir():
        name = entry.name
        if name.endswith(".sql"):
            found.append((int(name.split("_", 1)[0]), entry.read_text()))
    return sorted(found)


SCHEMA_VERSION = max(number for number, _ in _migrations())


def _connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30.0)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA busy_timeout=30000")
    return conn


def migrate(path: Path, target: int = SCHEMA_VERSION) -> int:
    """Bring the database at `path` up to `target` (SCHEMA_VERSION); returns the version it had."""
    conn = _connect(path)
    try:
        conn.execute("BEGIN IMMEDIATE")
        start = int(conn.execute("PRAGMA user_version").fetchone()[0])
        if start > SCHEMA_VERSION:
            conn.execute("ROLLBACK")
            raise RuntimeError(f"metadata schema {start} is newer than this strato ({SCHEMA_VERSION})")
        for number, script in _migrations():
            if start < number <= target:
                for statement in script.split(";"):
                    if statement.strip():
                        conn.execute(statement)
        conn.execute(f"PRAGMA user_version={max(start, target)}")
        conn.execute("COMMIT")
        return start
    finally:
        conn.close()


def _dump(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _object(bucket: str, row: sqlite3.Row | tuple[Any, ...], inline: bytes | None = None) -> ObjectVersion:
    key, size, etag, modified, storage_class, checksum_type, checksums, system, user, parts, segments = row
    return ObjectVersion(
        bucket=bucket, key=bytes(key).decode(), size=size, etag=etag,
        last_modified=modified, storage_class=storage_class, checksum_type=checksum_type,
        checksums=json.loads(checksums), system=json.loads(system), user=json.loads(user),
        parts=tuple(PartInfo(n, s, e, c) for n, s, e, c in json.loads(parts or "[]")),
        segments=tuple(Segment(b, s) for b, s in json.loads(segments or "[]")),
        inline=inline,
    )


def _summary(row: tuple[Any, ...]) -> ObjectSummary:
    key, size, etag, modified, storage_class, algorithm, checksum_type = row
    return ObjectSummary(bytes(key).decode(), size, etag, modified, storage_class, algorithm, checksum_type)


def _upload(row: tuple[Any, ...]) -> Upload:
    upload_id, bucket, key, initiated, storage_class, algorithm, ctype, system, user = row
    return Upload(
        upload_id=upload_id, bucket=bucket, key=bytes(key).decode(), initiated=initiated,
        storage_class=storage_class, checksum_algorithm=algorithm, checksum_type=ctype,
        system=json.loads(system), user=json.loads(user),
    )


def _part(row: tuple[Any, ...]) -> Part:
    upload_id, number, size, etag, modified, blob, checksums = row
    return Part(upload_id, number, size, etag, modified, blob, json.loads(checksums))


_UPLOAD_COLUMNS = (
    "upload_id, bucket, key, initiated, storage_class, checksum_algorithm, checksum_type, "
    "system, user"
)
_PART_COLUMNS = "upload_id, number, size, etag, last_modified, blob, checksums"
_SELECT_UPLOAD = f"SELECT {_UPLOAD_COLUMNS} FROM uploads WHERE upload_id = ?"
_SELECT_PARTS = f"SELECT {_PART_COLUMNS} FROM parts WHERE upload_id = ?"


class SqliteMetadataStore:
    """MetadataStore on one SQLite file in WAL mode."""

    def __init__(self, path: Path) -> None:
        self.path = path
        migrate(path)
        self._local = threading.local()
        self._jobs: queue.SimpleQueue[
            tuple[Callable[[sqlite3.Connection], Any], concurrent.futures.Future[Any]] | None
        ] = queue.SimpleQueue()
        self._writer = threading.Thread(target=self._write_loop, name="strato-sqlite-writer", daemon=True)
        self._writer.start()
        self._readers: list[sqlite3.Connection] = []
        self._readers_lock = threading.Lock()

    # -- plumbing -------------------------------------------------------------------

    def _reader(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = _connect(self.path)
            conn.execute("PRAGMA query_only=ON")
            self._local.conn = conn
            with self._readers_lock:
                self._readers.append(conn)
        return conn

    def _write_loop(self) -> None:
        conn = _connect(self.path)
        # Worker processes share the database: they take turns through a file lock, which
        # wakes the next writer the moment the last one commits. SQLite's own busy handler
        # sleeps with backoff instead, which under contention costs whole seconds.
        lock = os.open(self.path.with_name(self.path.name + ".writer-lock"), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            while True:
                job = self._jobs.get()
                if job is None:
                    return
                batch = [job]
                while len(batch) < MAX_BATCH:
                    try:
                        more = self._jobs.get_nowait()
                    except queue.Empty:
                        break
                    if more is None:
                        self._jobs.put(None)
                        break
                    batch.append(more)
                fcntl.flock(lock, fcntl.LOCK_EX)
                try:
                    self._run_batch(conn, batch)
                finally:
                    fcntl.flock(lock, fcntl.LOCK_UN)
        finally:
            os.close(lock)
            conn.close()

    @staticmethod
    def _run_batch(
        conn: sqlite3.Connection,
        batch: list[tuple[Callable[[sqlite3.Connection], Any], concurrent.futures.Future[Any]]],
    ) -> None:
        # A caller cancelled before its job started has gone away: its job never runs. Once a
        # job is marked running its future can no longer be cancelled, so its outcome is always
        # delivered (setting a result on a cancelled future would kill this thread).
        batch = [(fn, future) for fn, future in batch if future.set_running_or_notify_cancel()]
        if not batch:
            return
        outcomes: list[tuple[concurrent.futures.Future[Any], Any, BaseException | None]] = []
        try:
            conn.execute("BEGIN IMMEDIATE")
            for fn, future in batch:
                conn.execute("SAVEPOINT job")
                try:
                    result = fn(conn)
                except Exception as exc:
                    conn.execute("ROLLBACK TO job")
                    conn.execute("RELEASE job")
                    outcomes.append((future, None, exc))
                else:
                    conn.execute("RELEASE job")
                    outcomes.append((future, result, None))
            conn.execute("COMMIT")
        except Exception as exc:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            for _, future in batch:
                future.set_exception(exc)
            return
        for future, result, error in outcomes:
            if error is None:
                future.set_result(result)
            else:
                future.set_exception(error)

    async def _write(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run `fn` in the next group commit. A caller cancelled before the job starts withdraws
        it; cancelled later, the job still commits and the caller cannot tell."""
        future: concurrent.futures.Future[T] = concurrent.futures.Future()
        self._jobs.put((fn, future))
        return await asyncio.wrap_future(future)

    def close(self) -> None:
        self._jobs.put(None)
        self._writer.join()
        with self._readers_lock:
            for conn in self._readers:
                conn.close()
            self._readers.clear()

    # -- reads ----------------------------------------------------------------------

    def get_bucket(self, name: str) -> Bucket | None:
        row = self._reader().execute(
            "SELECT name, created, region FROM buckets WHERE name = ?", (name,)
        ).fetchone()
        return Bucket(*row) if row else None

    def list_buckets(self, prefix: str, after: str, limit: int) -> list[Bucket]:
        rows = self._reader().execute(
            "SELECT name, created, region FROM buckets WHERE name > ? AND name >= ? "
            "AND substr(name, 1, ?) = ? ORDER BY name LIMIT ?",
            (after, prefix, len(prefix), prefix, limit),
        ).fetchall()
        return [Bucket(*row) for row in rows]

    def get_object(self, bucket: str, key: str, *, with_body: bool = False) -> ObjectVersion | None:
        conn = self._reader()
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
        return _object(bucket, row[:11], row[11]) if row else None

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
        return map(_summary, self._reader().execute(sql, args))

    def get_upload(self, upload_id: str) -> Upload | None:
        row = self._reader().execute(
            f"SELECT {_UPLOAD_COLUMNS} FROM uploads WHERE upload_id = ?", (upload_id,)
        ).fetchone()
        return _upload(row) if row else None

    def list_parts(self, upload_id: str, after: int, limit: int) -> list[Part]:
        rows = self._reader().execute(
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
        return (_upload(row) for row in self._reader().execute(sql, args))

    def referenced_blobs(self) -> set[str]:
        conn = self._reader()
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

        return await self._write(job)

    async def delete_bucket(self, name: str) -> None:
        def job(conn: sqlite3.Connection) -> None:
            if conn.execute("SELECT 1 FROM buckets WHERE name = ?", (name,)).fetchone() is None:
                raise NoSuchBucket(name)
            for table in ("objects", "uploads"):
                if conn.execute(f"SELECT 1 FROM {table} WHERE bucket = ? LIMIT 1", (name,)).fetchone():
                    raise BucketNotEmpty(name)
            conn.execute("DELETE FROM buckets WHERE name = ?", (name,))

        await self._write(job)

    @staticmethod
    def _require_bucket(conn: sqlite3.Connection, bucket: str) -> None:
        if conn.execute("SELECT 1 FROM buckets WHERE name = ?", (bucket,)).fetchone() is None:
            raise NoSuchBucket(bucket)

    @staticmethod
    def _current(
        conn: sqlite3.Connection, bucket: str, key: bytes
    ) -> tuple[ObjectVersion, int | None] | None:
        row = conn.execute(
            f"SELECT {_OBJECT_COLUMNS}, body_id FROM objects WHERE bucket = ? AND key = ?",
            (bucket, key),
        ).fetchone()
        return (_object(bucket, row[:11]), row[11]) if row else None

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
    def _insert(cls, conn: sqlite3.Connection, obj: ObjectVersion, check: WriteCheck | None) -> list[str]:
        key = obj.key.encode()
        cls._require_bucket(conn, obj.bucket)
        if check is not None:
            current = cls._current(conn, obj.bucket, key)
            check(current[0] if current else None)
        freed = cls._remove(conn, obj.bucket, key) or []
        body_id = None
        if obj.inline is not None:
            body_id = conn.execute("INSERT INTO bodies (data) VALUES (?)", (obj.inline,)).lastrowid
        conn.execute(
            "INSERT INTO objects (bucket, key, size, etag, last_modified, storage_class, checksum_algorithm, "
            "checksum_type, checksums, system, user, parts, segments, body_id) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                obj.bucket, key, obj.size, obj.etag, obj.last_modified, obj.storage_class,
                next(iter(obj.checksums), None),
                obj.checksum_type, _dump(obj.checksums), _dump(obj.system), _dump(obj.user),
                _dump([[p.number, p.size, p.etag, p.checksums] for p in obj.parts]) if obj.parts else None,
                _dump([[s.blob, s.size] for s in obj.segments]) if obj.segments else None,
                body_id,
            ),
        )
        return freed

    async def put_object(self, obj: ObjectVersion, check: WriteCheck | None = None) -> list[str]:
        return await self._write(lambda conn: self._insert(conn, obj, check))

    async def delete_objects(self, bucket: str, keys: list[str]) -> list[str]:
        def job(conn: sqlite3.Connection) -> list[str]:
            self._require_bucket(conn, bucket)
            freed: list[str] = []
            for key in keys:
                freed.extend(self._remove(conn, bucket, key.encode()) or [])
            return freed

        return await self._write(job)

    async def create_upload(self, upload: Upload) -> None:
        def job(conn: sqlite3.Connection) -> None:
            self._require_bucket(conn, upload.bucket)
            conn.execute(
                f"INSERT INTO uploads ({_UPLOAD_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    upload.upload_id, upload.bucket, upload.key.encode(), upload.initiated,
                    upload.storage_class, upload.checksum_algorithm, upload.checksum_type,
                    _dump(upload.system), _dump(upload.user),
                ),
            )

        await self._write(job)

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

        return await self._write(job)

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
        self, upload_id: str, build: CompleteBuilder, check: WriteCheck | None = None
    ) -> tuple[ObjectVersion, list[str]]:
        def job(conn: sqlite3.Connection) -> tuple[ObjectVersion, list[str]]:
            row = conn.execute(_SELECT_UPLOAD, (upload_id,)).fetchone()
            if row is None:
                raise NoSuchUpload(upload_id)
            parts = self._drop_upload(conn, upload_id)
            obj, unused = build(_upload(row), parts)
            freed = self._insert(conn, obj, check)
            return obj, freed + unused

        return await self._write(job)

    async def abort_upload(self, upload_id: str) -> list[str]:
        def job(conn: sqlite3.Connection) -> list[str]:
            return [p.blob for p in self._drop_upload(conn, upload_id).values()]

        return await self._write(job)
