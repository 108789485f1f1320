"""Asynchronous invocation configurations in the registry (PutFunctionEventInvokeConfig and
its siblings): per qualifier, how often a failed Event invocation is retried, how old an
event may grow before it is dropped, and where its invocation record goes (destinations.py
delivers to functions and S3 buckets).

Source: the Lambda API reference, "PutFunctionEventInvokeConfig", "UpdateFunctionEventInvokeConfig",
"GetFunctionEventInvokeConfig", "DeleteFunctionEventInvokeConfig", "ListFunctionEventInvokeConfigs".
"""

from __future__ import annotations

import dataclasses
import sqlite3
import time
from dataclasses import dataclass

from .errors import NotFound
from .registry_tables import Tables, page, qualifier_key

DEFAULT_RETRY_ATTEMPTS = 2  # Lambda's: an Event invocation runs at most three times
DEFAULT_EVENT_AGE = 6 * 3600  # seconds, Lambda's longest
_COLUMNS = "qualifier, maximum_retry_attempts, maximum_event_age, on_success, on_failure, last_modified"


@dataclass(frozen=True, slots=True)
class EventInvokeConfig:
    function_name: str
    qualifier: str | None  # stored as $LATEST for the unqualified function
    maximum_retry_attempts: int | None = None
    maximum_event_age: int | None = None
    on_success: str | None = None
    on_failure: str | None = None
    last_modified: float = 0.0


@dataclass(frozen=True, slots=True)
class EventLimits:
    """What the Event queue applies to one invocation."""

    retry_attempts: int = DEFAULT_RETRY_ATTEMPTS
    event_age: float = DEFAULT_EVENT_AGE


class EventConfigTables(Tables):
    def _event_config(self, conn: sqlite3.Connection, name: str, qualifier: str) -> EventInvokeConfig | None:
        row = conn.execute(f"SELECT {_COLUMNS} FROM event_invoke_configs WHERE name = ? AND qualifier = ?",
                           (name, qualifier)).fetchone()
        return None if row is None else EventInvokeConfig(name, *row)

    def _no_event_config(self, name: str, qualifier: str) -> NotFound:
        return NotFound(f"The function {self.arn(name, qualifier)} doesn't have an EventInvokeConfig")

    def _existing_target(self, conn: sqlite3.Connection, name: str, qualifier: str | None) -> None:
        try:
            self._version(conn, name, self._number(conn, name, qualifier), qualifier)
        except NotFound:
            raise NotFound("The function doesn't exist.") from None

    async def put_event_config(self, config: EventInvokeConfig, merge: bool = False) -> EventInvokeConfig:
        """Store a configuration: whole (Put), or with `merge` its non-None fields over the
        existing one (Update, which needs one)."""
        name, qualifier = self.split(config.function_name, config.qualifier)
        key = qualifier_key(qualifier)

        def run(conn: sqlite3.Connection) -> EventInvokeConfig:
            self._existing_target(conn, name, qualifier)
            stored = dataclasses.replace(config, function_name=name, qualifier=key, last_modified=time.time())
            if merge:
                current = self._event_config(conn, name, key)
                if current is None:
                    raise self._no_event_config(name, key)
                changes = {field.name: getattr(stored, field.name) for field in dataclasses.fields(stored)
                           if getattr(stored, field.name) is not None}
                stored = dataclasses.replace(current, **changes)
            conn.execute(f"INSERT OR REPLACE INTO event_invoke_configs (name, {_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)",
                         (name, key, stored.maximum_retry_attempts, stored.maximum_event_age, stored.on_success,
                          stored.on_failure, stored.last_modified))
            return stored

        return await self._write(run)

    async def get_event_config(self, function_name: str, qualifier: str | None = None) -> EventInvokeConfig:
        name, qualifier = self.split(function_name, qualifier)
        key = qualifier_key(qualifier)

        def run(conn: sqlite3.Connection) -> EventInvokeConfig:
            found = self._event_config(conn, name, key)
            if found is None:
                raise self._no_event_config(name, key)
            return found

        return await self._read(run)

    async def delete_event_config(self, function_name: str, qualifier: str | None = None) -> None:
        name, qualifier = self.split(function_name, qualifier)
        key = qualifier_key(qualifier)

        def run(conn: sqlite3.Connection) -> None:
            if not conn.execute("DELETE FROM event_invoke_configs WHERE name = ? AND qualifier = ?",
                                (name, key)).rowcount:
                raise self._no_event_config(name, key)

        await self._write(run)

    async def list_event_configs(self, function_name: str, marker: str | None,
                                 max_items: int) -> tuple[list[EventInvokeConfig], str | None]:
        """A page of the function's configurations by qualifier after `marker`, and the next marker."""
        name, _ = self.split(function_name)

        def run(conn: sqlite3.Connection) -> list[EventInvokeConfig]:
            try:
                self._function(conn, name)
            except NotFound:
                raise NotFound("The function doesn't exist.") from None
            rows = conn.execute(f"SELECT {_COLUMNS} FROM event_invoke_configs WHERE name = ? AND qualifier > ? "
                                "ORDER BY qualifier LIMIT ?", (name, marker or "", max_items + 1)).fetchall()
            return [EventInvokeConfig(name, *row) for row in rows]

        return page(await self._read(run), max_items, lambda last: qualifier_key(last.qualifier))

    async def event_limits(self, invoked_arn: str) -> EventLimits:
        """The retry and age limits of an Event invocation of `invoked_arn` (the qualifier the
        caller named: an alias's configuration applies through the alias); Lambda's defaults
        where none is configured."""
        name, qualifier = self.split(invoked_arn)
        found = await self._read(lambda conn: self._event_config(conn, name, qualifier_key(qualifier)))
        if found is None:
            return EventLimits()
        return EventLimits(
            DEFAULT_RETRY_ATTEMPTS if found.maximum_retry_attempts is None else found.maximum_retry_attempts,
            DEFAULT_EVENT_AGE if found.maximum_event_age is None else found.maximum_event_age)
