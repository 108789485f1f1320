"""Log groups in the registry: the settings CloudWatch Logs keeps per group (creation time,
retention, class, KMS key, tags) for groups made by CreateLogGroup or given settings, and when
each group was last deleted (its events before then are gone, though the files that hold a
function's log are the controller's and rotate on their own).

Source: the CloudWatch Logs API reference, "CreateLogGroup", "DeleteLogGroup",
"PutRetentionPolicy", "TagResource".
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field

from .registry_tables import Tables


@dataclass(frozen=True, slots=True)
class LogGroup:
    name: str
    created: int  # ms since the epoch
    retention_days: int | None = None
    log_class: str = "STANDARD"
    kms_key_id: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    deletion_protection: bool = False  # DeleteLogGroup is refused while it is set


def _group(row: tuple[str, int, int | None, str, str | None, str, int]) -> LogGroup:
    name, created, retention, log_class, kms_key_id, tags, protection = row
    return LogGroup(name, created, retention, log_class, kms_key_id, json.loads(tags), bool(protection))


_COLUMNS = "name, created, retention_days, log_class, kms_key_id, tags, deletion_protection"


def _settings(conn: sqlite3.Connection, name: str) -> tuple[LogGroup | None, int]:
    """The group's settings (None: it has none) and when it was last deleted (0: never)."""
    row = conn.execute(f"SELECT {_COLUMNS} FROM log_groups WHERE name = ?", (name,)).fetchone()
    deleted = conn.execute("SELECT deleted FROM log_group_deletions WHERE name = ?", (name,)).fetchone()
    return (None if row is None else _group(row)), (0 if deleted is None else int(deleted[0]))


class LogGroupTables(Tables):
    async def log_groups(self) -> tuple[list[LogGroup], dict[str, int]]:
        """Every group with settings, by name, and when each deleted group was deleted."""
        def run(conn: sqlite3.Connection) -> tuple[list[LogGroup], dict[str, int]]:
            groups = [_group(row) for row in conn.execute(f"SELECT {_COLUMNS} FROM log_groups ORDER BY name")]
            return groups, dict(conn.execute("SELECT name, deleted FROM log_group_deletions"))

        return await self._read(run)

    async def log_group(self, name: str) -> tuple[LogGroup | None, int]:
        """The group's settings (None: it has none) and when it was last deleted (0: never)."""
        return await self._read(lambda conn: _settings(conn, name))

    async def change_log_group(self, name: str, change: Callable[[LogGroup | None, int], LogGroup]) -> LogGroup:
        """Store what `change` makes of the group's settings (None: it has none yet) given when
        it was last deleted (0: never), in one transaction; `change` may raise to leave them as
        they are."""
        def run(conn: sqlite3.Connection) -> LogGroup:
            group = change(*_settings(conn, name))
            conn.execute(f"INSERT OR REPLACE INTO log_groups ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)",
                         (group.name, group.created, group.retention_days, group.log_class, group.kms_key_id,
                          json.dumps(group.tags, sort_keys=True), int(group.deletion_protection)))
            return group

        return await self._write(run)

    async def delete_log_group(self, name: str, at: int) -> bool:
        """The group's settings go, and its events before `at` (ms) with them; False (and
        nothing changed) when the group is protected from deletion."""
        def run(conn: sqlite3.Connection) -> bool:
            row = conn.execute("SELECT deletion_protection FROM log_groups WHERE name = ?", (name,)).fetchone()
            if row is not None and row[0]:
                return False
            conn.execute("DELETE FROM log_groups WHERE name = ?", (name,))
            conn.execute("INSERT OR REPLACE INTO log_group_deletions VALUES (?, ?)", (name, at))
            return True

        return await self._write(run)
