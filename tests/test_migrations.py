"""One migration runner for every engine's SQLite file: each names its own package of
numbered scripts, and the file's user_version records how far it has come."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from strato import migrations

PACKAGES = ["strato.storage.migrations", "strato.functions.migrations", "strato.functions.event_migrations",
            "strato.cdn.migrations"]


def user_version(path: Path) -> int:
    conn = sqlite3.connect(path)
    try:
        return int(conn.execute("PRAGMA user_version").fetchone()[0])
    finally:
        conn.close()


@pytest.mark.parametrize("package", PACKAGES)
def test_each_package_numbers_its_scripts_from_one_without_gaps(package: str) -> None:
    numbers = [number for number, _ in migrations.scripts(package)]
    assert numbers == list(range(1, len(numbers) + 1))


@pytest.mark.parametrize("package", PACKAGES)
def test_a_fresh_file_is_brought_to_its_packages_latest_version_once(tmp_path: Path, package: str) -> None:
    path = tmp_path / "db.sqlite3"
    assert migrations.migrate(path, package) == 0
    assert user_version(path) == migrations.latest(package)
    assert migrations.migrate(path, package) == migrations.latest(package)


def test_a_file_from_a_newer_strato_is_refused_by_name(tmp_path: Path) -> None:
    path = tmp_path / "functions.db"
    package = "strato.functions.migrations"
    migrations.migrate(path, package)
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version={migrations.latest(package) + 1}")
    conn.close()
    with pytest.raises(RuntimeError, match=r"functions\.db: schema \d+ is newer"):
        migrations.migrate(path, package)
