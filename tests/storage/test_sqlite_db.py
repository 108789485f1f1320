"""The metadata database's group-commit writer."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from strato.storage.sqlite_db import SqliteDatabase


def test_a_write_after_close_fails_at_once_instead_of_waiting_for_ever(tmp_path: Path) -> None:
    db = SqliteDatabase(tmp_path / "meta.sqlite3")
    db.close()
    with pytest.raises(RuntimeError, match="closed"):
        asyncio.run(db.write(lambda conn: None))
