"""Numbered SQLite schema migrations, shared by every engine that keeps a SQLite file (the
object metadata, the function registry): each engine names its own migrations package of
`NNNN_name.sql` scripts and the file's `user_version` records how far it has come."""

from __future__ import annotations

import sqlite3
from importlib import resources
from pathlib import Path


def scripts(package: str) -> list[tuple[int, str]]:
    """The package's migrations in order, as (number, SQL text)."""
    found = []
    for entry in resources.files(package).iterdir():
        name = entry.name
        if name.endswith(".sql"):
            found.append((int(name.split("_", 1)[0]), entry.read_text()))
    return sorted(found)


def latest(package: str) -> int:
    return max(number for number, _ in scripts(package))


def connect(path: Path) -> sqlite3.Connection:
    """A connection in WAL mode with full synchronous commits and a patient busy handler."""
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30.0)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA busy_timeout=30000")
    return conn


def migrate(path: Path, package: str, target: int | None = None) -> int:
    """Bring the database at `path` up to `target` (default: the package's latest) in one
    transaction; returns the version it had. A file from a newer strato is refused untouched."""
    steps = scripts(package)
    newest = max(number for number, _ in steps)
    target = newest if target is None else target
    conn = connect(path)
    try:
        conn.execute("BEGIN IMMEDIATE")
        start = int(conn.execute("PRAGMA user_version").fetchone()[0])
        if start > newest:
            conn.execute("ROLLBACK")
            raise RuntimeError(f"{path.name}: schema {start} is newer than this strato ({newest})")
        for number, script in steps:
            if start < number <= target:
                for statement in script.split(";"):
                    if statement.strip():
                        conn.execute(statement)
        conn.execute(f"PRAGMA user_version={max(start, target)}")
        conn.execute("COMMIT")
        return start
    finally:
        conn.close()
