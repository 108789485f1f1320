"""The registry's tables: connections (one per thread, per process), transactions, and the
rows of functions, versions, aliases and tags read and written as records. Registry builds the
operations on these."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import threading
import uuid
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar

from strato import migrations
from strato.digits import is_digits

from .arns import function_arn, is_alias_name, is_version, split_function_name
from .commit_stamp import CommitStamp
from .definitions import Alias, Configuration, FunctionLayer, FunctionRecord, lambda_timestamp
from .errors import InvalidParameter, NotFound, PreconditionFailed, missing
from .packages import StoredCode
from .records import LATEST, LoggingConfig

T = TypeVar("T")
MAX_TAGS = 50  # Lambda's tags per function
MIGRATIONS = "strato.functions.migrations"
VERSION_COLUMNS = ("runtime, handler, role, description, timeout, memory_size, ephemeral_storage, environment, "
                    "architectures, code_hex, code_sha256, code_size, revision_id, last_modified, layers, "
                    "tracing_mode, kms_key_arn, dead_letter_target, log_format, application_log_level, "
                    "system_log_level, log_group")


MAX_INTEGER = (1 << 63) - 1  # SQLite's largest integer; no version number comes near it


def marker_number(text: str) -> int:
    """The version number a list operation's Marker holds: -1 (from the start) for anything
    but digits; a larger number than any stored (or storable) one lists nothing after it."""
    return min(int(text), MAX_INTEGER) if is_digits(text) else -1


def _version_name(number: int) -> str:
    return LATEST if number == 0 else str(number)


def page(items: list[T], max_items: int, marker: Callable[[T], str]) -> tuple[list[T], str | None]:
    """A list operation's page from up to `max_items + 1` rows read (one more than the page, to
    know whether more follow), and the marker of its last item when more do."""
    if len(items) <= max_items:
        return items, None
    return items[:max_items], marker(items[max_items - 1])


def qualifier_key(qualifier: str | None) -> str:
    """Policies and event invoke configurations are kept per qualifier: the unqualified
    function's are $LATEST's."""
    return qualifier or LATEST


class Tables:
    def __init__(self, path: Path, region: str) -> None:
        self.path = path
        migrations.migrate(path, MIGRATIONS)
        self.region = region
        self.stamp = CommitStamp(path.with_name(path.name + "-stamp"))
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._lock = threading.Lock()

    def split(self, function_name: str, qualifier: str | None = None) -> tuple[str, str | None]:
        """(name, qualifier) of a FunctionName in any form; an ARN of another region is NotFound."""
        return split_function_name(function_name, qualifier, self.region)

    def close(self) -> None:
        with self._lock:
            for conn in self._connections:
                conn.close()
            self._connections.clear()
            self.stamp.close()

    def arn(self, name: str, qualifier: str | None = None) -> str:
        return function_arn(self.region, name, qualifier)

    def not_found(self, name: str, qualifier: str | None = None, *, alias: bool = False) -> NotFound:
        """NotFound naming the function's ARN, qualified by `qualifier` (errors.missing's words)."""
        return NotFound(missing(self.arn(name, qualifier), alias=alias))

    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = migrations.connect(self.path)
            self._local.conn = conn
            with self._lock:
                self._connections.append(conn)
        return conn

    def _transaction(self, fn: Callable[[sqlite3.Connection], T], write: bool) -> T:
        conn = self._conn()
        conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
        try:
            result = fn(conn)
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
        if write:
            self.stamp.renew()
        return result

    async def _read(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        return await asyncio.to_thread(self._transaction, fn, False)

    async def _write(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        return await asyncio.to_thread(self._transaction, fn, True)

    def _row_to_record(self, name: str, number: int, row: tuple[Any, ...], reserved: int | None) -> FunctionRecord:
        (runtime, handler, role, description, timeout, memory, ephemeral, environment, architectures,
         code_hex, code_sha, code_size, revision_id, last_modified, layers, tracing_mode, kms_key_arn,
         dead_letter_target, *logging) = row
        config = Configuration(runtime, handler, role, description, timeout, memory, ephemeral,
                               json.loads(environment), tuple(json.loads(architectures)),
                               tuple(FunctionLayer(*layer) for layer in json.loads(layers)), tracing_mode, kms_key_arn,
                               dead_letter_target, LoggingConfig(*logging))
        return FunctionRecord(name, _version_name(number), config, StoredCode(code_hex, code_sha, code_size),
                              revision_id, last_modified, reserved)

    @staticmethod
    def _exists(conn: sqlite3.Connection, name: str) -> bool:
        return conn.execute("SELECT 1 FROM functions WHERE name = ?", (name,)).fetchone() is not None

    def _function(self, conn: sqlite3.Connection, name: str, named: str | None = None) -> tuple[int | None, int]:
        """(reserved concurrency, last published number); NotFound names the function's ARN,
        qualified by `named` where Lambda's error for the operation names a qualifier."""
        row = conn.execute("SELECT reserved_concurrency, last_published FROM functions WHERE name = ?",
                           (name,)).fetchone()
        if row is None:
            raise self.not_found(name, named)
        return row[0], row[1]

    def _version(self, conn: sqlite3.Connection, name: str, number: int, qualifier: str | None) -> FunctionRecord:
        reserved, _ = self._function(conn, name)
        row = conn.execute(f"SELECT {VERSION_COLUMNS} FROM versions WHERE name = ? AND number = ?",
                           (name, number)).fetchone()
        if row is None:
            raise self.not_found(name, qualifier)
        return self._row_to_record(name, number, row, reserved)

    def _alias(self, conn: sqlite3.Connection, name: str, alias: str) -> Alias:
        row = conn.execute("SELECT function_version, description, routing, revision_id FROM aliases "
                           "WHERE name = ? AND alias = ?", (name, alias)).fetchone()
        if row is None:
            self._function(conn, name)
            # "Cannot find alias" only for a name an alias could have (not `a$b`)
            raise self.not_found(name, alias, alias=is_alias_name(alias))
        return Alias(name, alias, row[0], row[1], json.loads(row[2]), row[3])

    def _tags(self, conn: sqlite3.Connection, name: str) -> dict[str, str]:
        self._function(conn, name)
        return dict(conn.execute("SELECT key, value FROM tags WHERE name = ? ORDER BY key", (name,)).fetchall())

    @staticmethod
    def _put_tags(conn: sqlite3.Connection, name: str, tags: Mapping[str, str]) -> None:
        """Add or replace tags; the function may then hold at most MAX_TAGS."""
        conn.executemany("INSERT OR REPLACE INTO tags VALUES (?, ?, ?)", [(name, k, v) for k, v in tags.items()])
        if conn.execute("SELECT COUNT(*) FROM tags WHERE name = ?", (name,)).fetchone()[0] > MAX_TAGS:
            raise InvalidParameter("Number of tags exceeds function tag limit.")

    def _number(self, conn: sqlite3.Connection, name: str, qualifier: str | None) -> int:
        """The version number a qualifier names: $LATEST is 0; an alias names its primary version."""
        if qualifier is None or qualifier == LATEST:
            return 0
        if is_version(qualifier):
            return int(qualifier)
        target = self._alias(conn, name, qualifier).function_version
        return 0 if target == LATEST else int(target)

    def _insert_version(self, conn: sqlite3.Connection, name: str, number: int, config: Configuration,
                        code: StoredCode) -> None:
        conn.execute(
            f"INSERT OR REPLACE INTO versions (name, number, {VERSION_COLUMNS}) "
            f"VALUES (?, ?, {', '.join('?' * len(VERSION_COLUMNS.split(',')))})",
            (name, number, config.runtime, config.handler, config.role, config.description, config.timeout,
             config.memory_size, config.ephemeral_storage, json.dumps(config.environment),
             json.dumps(list(config.architectures)), code.sha256_hex, code.code_sha256, code.size,
             str(uuid.uuid4()), lambda_timestamp(),
             json.dumps([[layer.arn, layer.code_hex, layer.code_size] for layer in config.layers]),
             config.tracing_mode, config.kms_key_arn, config.dead_letter_target, config.logging.log_format,
             config.logging.application_log_level, config.logging.system_log_level, config.logging.log_group),
        )

    @staticmethod
    def _check_revision(current: str, given: str | None) -> None:
        if given is not None and given != current:
            raise PreconditionFailed("The Revision Id provided does not match the latest Revision Id. "
                                     "Call the GetFunction/GetAlias API to retrieve the latest Revision Id")

    def _publish(self, conn: sqlite3.Connection, name: str, description: str | None) -> FunctionRecord:
        """Publish $LATEST as the next number, unless the last published version has the same
        code and configuration (Lambda then returns that version). A deleted last version is
        not published again: its number stays used. Publishing renews $LATEST's RevisionId, as
        Lambda's does: a RevisionId read before it no longer holds."""
        _, last = self._function(conn, name)
        latest = self._version(conn, name, 0, None)
        if last and conn.execute("SELECT 1 FROM versions WHERE name = ? AND number = ?", (name, last)).fetchone():
            previous = self._version(conn, name, last, str(last))
            same_config = replace(previous.config, description=latest.config.description) == latest.config
            if same_config and previous.code == latest.code:
                return previous
        number = last + 1
        config = latest.config if description is None else replace(latest.config, description=description)
        self._insert_version(conn, name, number, config, latest.code)
        conn.execute("UPDATE functions SET last_published = ? WHERE name = ?", (number, name))
        conn.execute("UPDATE versions SET revision_id = ? WHERE name = ? AND number = 0", (str(uuid.uuid4()), name))
        return self._version(conn, name, number, str(number))
