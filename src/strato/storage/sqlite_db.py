"""SQLite plumbing: connections in WAL mode, numbered migrations, and group commit.

Reads use one connection per thread. Writes go to a single writer thread that takes every
job waiting in its queue, runs each in its own savepoint inside one transaction and commits
once: concurrent writers share one WAL fsync, and a failing job rolls back alone.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import fcntl
import os
import queue
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from strato import migrations

T = TypeVar("T")
MAX_BATCH = 512


MIGRATIONS = "strato.storage.migrations"
SCHEMA_VERSION = migrations.latest(MIGRATIONS)


def migrate(path: Path, target: int = SCHEMA_VERSION) -> int:
    """Bring the metadata database at `path` up to `target` (SCHEMA_VERSION); returns the version it had."""
    return migrations.migrate(path, MIGRATIONS, target)


class SqliteDatabase:
    """One SQLite file: per-thread readers and the group-commit writer."""

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
        self._closed = False

    def reader(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = migrations.connect(self.path)
            conn.execute("PRAGMA query_only=ON")
            self._local.conn = conn
            with self._readers_lock:
                self._readers.append(conn)
        return conn

    def _write_loop(self) -> None:
        conn = migrations.connect(self.path)
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

    async def write(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run `fn` in the next group commit. A caller cancelled before the job starts withdraws
        it; cancelled later, the job still commits and the caller cannot tell."""
        if self._closed:  # the writer is gone: the job would wait for ever
            raise RuntimeError(f"{self.path.name} is closed")
        future: concurrent.futures.Future[T] = concurrent.futures.Future()
        self._jobs.put((fn, future))
        return await asyncio.wrap_future(future)

    def close(self) -> None:
        self._closed = True
        self._jobs.put(None)
        self._writer.join()
        with self._readers_lock:
            for conn in self._readers:
                conn.close()
            self._readers.clear()
