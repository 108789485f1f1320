"""The CDN control plane's SQLite file, `<data_dir>/cdn/cdn.db`: one connection per process,
reads under a lock, each change one IMMEDIATE transaction (so the checks it depends on still
hold when it commits, whichever API worker process commits first)."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from strato import migrations

MIGRATIONS = "strato.cdn.migrations"


def bump_generation(conn: sqlite3.Connection) -> None:
    """Record, inside a write, a change an edge must reload for: a distribution's, or one to a
    key group or public key a distribution may trust."""
    conn.execute("UPDATE generation SET value = value + 1 WHERE id = 1")


class Database:
    def __init__(self, data_dir: Path) -> None:
        root = data_dir / "cdn"
        root.mkdir(parents=True, exist_ok=True)
        self.path = root / "cdn.db"
        migrations.migrate(self.path, MIGRATIONS)
        self._conn = migrations.connect(self.path)
        self._lock = threading.Lock()

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    @contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            yield self._conn

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")
