"""Provisioned concurrency configurations in the registry (PutProvisionedConcurrencyConfig and
its siblings): per published version or alias, how many environments the functions controller
keeps initialised, and what it last reported about them (provisioning.py starts them).

Source: the Lambda API reference, "PutProvisionedConcurrencyConfig",
"GetProvisionedConcurrencyConfig", "DeleteProvisionedConcurrencyConfig",
"ListProvisionedConcurrencyConfigs"; the messages are those AWS answered in LocalStack's recorded
tests/aws/services/lambda_/test_lambda_api.py (TestLambdaProvisionedConcurrency).
"""

from __future__ import annotations

import sqlite3
import uuid
from dataclasses import dataclass
from pathlib import Path

from strato import migrations

from .arns import is_version
from .definitions import FunctionRecord, lambda_timestamp
from .errors import ConfigNotFound, Conflict, InvalidParameter
from .records import LATEST
from .registry_tables import MIGRATIONS, Tables, page

MIN_UNRESERVED = 100  # Lambda keeps this much of the account limit unreserved (all of a smaller one)
IN_PROGRESS, READY, FAILED = "IN_PROGRESS", "READY", "FAILED"
_COLUMNS = "qualifier, requested, allocated, status, status_reason, last_modified, generation"
_UNPUBLISHED = "Provisioned Concurrency Configs cannot be applied to unpublished function versions."
_NOT_PUBLISHED = "The function resource provided must be an alias or a published version."
_WEIGHTED = "Alias with weights can not be used with Provisioned Concurrency"


def min_unreserved(account_limit: int) -> int:
    """What reservations and provisioned concurrency must leave of the account limit: an
    account below MIN_UNRESERVED keeps all of it (Lambda's refusal then names that limit)."""
    return min(MIN_UNRESERVED, account_limit)


@dataclass(frozen=True, slots=True)
class ProvisionedConfig:
    function_name: str
    qualifier: str  # a version number or an alias name
    requested: int
    allocated: int  # environments initialised and kept (Lambda's Allocated and Available)
    status: str  # IN_PROGRESS, READY or FAILED
    status_reason: str | None
    last_modified: str  # Lambda's format
    generation: str  # new on every Put: a report names the request it is about


def server_starting(root: Path) -> None:
    """Before a server's processes start (`root`: the registry's folder): no environment is kept
    yet, whatever the last server reported; the controller starts them again and reports anew."""
    path = root / "functions.db"
    migrations.migrate(path, MIGRATIONS)
    conn = migrations.connect(path)
    try:
        conn.execute("UPDATE provisioned_concurrency SET allocated = 0, status = ?, status_reason = NULL",
                     (IN_PROGRESS,))
    finally:
        conn.close()


class ProvisionedTables(Tables):
    def _provisioned(self, conn: sqlite3.Connection, name: str, qualifier: str) -> ProvisionedConfig | None:
        row = conn.execute(f"SELECT {_COLUMNS} FROM provisioned_concurrency WHERE name = ? AND qualifier = ?",
                           (name, qualifier)).fetchone()
        return None if row is None else ProvisionedConfig(name, *row)

    def _provisioned_target(self, conn: sqlite3.Connection, name: str, qualifier: str | None,
                            latest_message: str) -> str:
        """The published version a version number or alias names (NotFound as Lambda words it;
        $LATEST, or an alias of it, InvalidParameter with `latest_message`)."""
        if qualifier is None or qualifier == LATEST:
            raise InvalidParameter(latest_message)
        if is_version(qualifier):
            self._version(conn, name, int(qualifier), qualifier)
            return qualifier
        version = self._alias(conn, name, qualifier).function_version
        if version == LATEST:
            raise InvalidParameter(latest_message)
        return version

    async def put_provisioned(self, function_name: str, qualifier: str | None, requested: int,
                              account_limit: int) -> ProvisionedConfig:
        """Store a configuration, IN_PROGRESS until the controller reports on it. Within the
        function's reserved concurrency when it has one; else the account's unreserved
        concurrency (the limit less every reservation and every unreserved function's
        provisioned concurrency) keeps its minimum, as Lambda's rule is."""
        name, qualifier = self.split(function_name, qualifier)

        def run(conn: sqlite3.Connection) -> ProvisionedConfig:
            version = self._provisioned_target(conn, name, qualifier, _UNPUBLISHED)
            assert qualifier is not None
            if qualifier != version and self._alias(conn, name, qualifier).weights:
                raise InvalidParameter(_WEIGHTED)
            self._check_overlap(conn, name, qualifier, version)
            reserved, _ = self._function(conn, name)
            if reserved is not None:
                if self._provisioned_sum(conn, name, qualifier) + requested > reserved:
                    raise InvalidParameter("Requested Provisioned Concurrency should not be greater than the "
                                           "reservedConcurrentExecution for function")
            else:
                taken = self._committed_concurrency(conn, name) + self._provisioned_sum(conn, name, qualifier)
                minimum = min_unreserved(account_limit)
                if account_limit - taken - requested < minimum:
                    raise InvalidParameter("Specified ConcurrentExecutions for function decreases account's "
                                           f"UnreservedConcurrentExecution below its minimum value of [{minimum}].")
            stored = ProvisionedConfig(name, qualifier, requested, 0, IN_PROGRESS, None, lambda_timestamp(),
                                       str(uuid.uuid4()))
            conn.execute(f"INSERT OR REPLACE INTO provisioned_concurrency (name, {_COLUMNS}) "
                         "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                         (name, stored.qualifier, stored.requested, stored.allocated, stored.status,
                          stored.status_reason, stored.last_modified, stored.generation))
            return stored

        return await self._write(run)

    @staticmethod
    def _provisioned_sum(conn: sqlite3.Connection, name: str, besides: str = "") -> int:
        """The function's provisioned concurrency, all its configurations but `besides`'s."""
        return int(conn.execute("SELECT COALESCE(SUM(requested), 0) FROM provisioned_concurrency "
                                "WHERE name = ? AND qualifier != ?", (name, besides)).fetchone()[0])

    @staticmethod
    def _committed_concurrency(conn: sqlite3.Connection, name: str) -> int:
        """What the account's other functions take out of its unreserved concurrency: their
        reservations, and the provisioned concurrency of those without one."""
        return int(conn.execute(
            "SELECT (SELECT COALESCE(SUM(reserved_concurrency), 0) FROM functions WHERE name != ?) + "
            "(SELECT COALESCE(SUM(p.requested), 0) FROM provisioned_concurrency p JOIN functions f "
            "ON f.name = p.name WHERE f.reserved_concurrency IS NULL AND p.name != ?)", (name, name)).fetchone()[0])

    def _check_overlap(self, conn: sqlite3.Connection, name: str, qualifier: str, version: str) -> None:
        """A version's environments are provisioned once: through the version or through an
        alias of it, not both."""
        others = [row[0] for row in conn.execute(
            "SELECT qualifier FROM provisioned_concurrency WHERE name = ? AND qualifier != ?", (name, qualifier))]
        if qualifier != version:
            if version in others:
                raise Conflict("Alias can't be used for Provisioned Concurrency configuration on an already "
                               "Provisioned version")
            return
        aliases = {row[0] for row in conn.execute("SELECT alias FROM aliases WHERE name = ? AND function_version = ?",
                                                  (name, version))}
        if aliases.intersection(others):
            raise Conflict("Version is pointed by a Provisioned Concurrency alias")

    def _move_provisioned_alias(self, conn: sqlite3.Connection, name: str, alias: str, version: str) -> None:
        """An alias with a configuration (UpdateAlias) may point only at a published version
        that has none of its own; pointed elsewhere, its configuration is IN_PROGRESS again
        (as a new request: the controller starts the new version's environments)."""
        current = self._provisioned(conn, name, alias)
        if current is None:
            return
        if version == LATEST:
            raise InvalidParameter(_UNPUBLISHED)
        self._check_overlap(conn, name, alias, version)
        conn.execute("UPDATE provisioned_concurrency SET allocated = 0, status = ?, status_reason = NULL, "
                     "generation = ? WHERE name = ? AND qualifier = ?", (IN_PROGRESS, str(uuid.uuid4()), name, alias))

    async def get_provisioned(self, function_name: str, qualifier: str | None) -> ProvisionedConfig:
        name, qualifier = self.split(function_name, qualifier)

        def run(conn: sqlite3.Connection) -> ProvisionedConfig:
            self._provisioned_target(conn, name, qualifier, _NOT_PUBLISHED)
            assert qualifier is not None
            found = self._provisioned(conn, name, qualifier)
            if found is None:
                raise ConfigNotFound("No Provisioned Concurrency Config found for this function")
            return found

        return await self._read(run)

    async def delete_provisioned(self, function_name: str, qualifier: str | None) -> None:
        """Delete a configuration; none is no error, as in Lambda."""
        name, qualifier = self.split(function_name, qualifier)

        def run(conn: sqlite3.Connection) -> None:
            self._provisioned_target(conn, name, qualifier, _NOT_PUBLISHED)
            conn.execute("DELETE FROM provisioned_concurrency WHERE name = ? AND qualifier = ?", (name, qualifier))

        await self._write(run)

    async def list_provisioned(self, function_name: str, marker: str | None,
                               max_items: int) -> tuple[list[ProvisionedConfig], str | None]:
        """A page of the function's configurations by qualifier after `marker`, and the next marker."""
        name, _ = self.split(function_name)

        def run(conn: sqlite3.Connection) -> list[ProvisionedConfig]:
            self._function(conn, name)
            rows = conn.execute(f"SELECT {_COLUMNS} FROM provisioned_concurrency WHERE name = ? AND qualifier > ? "
                                "ORDER BY qualifier LIMIT ?", (name, marker or "", max_items + 1)).fetchall()
            return [ProvisionedConfig(name, *row) for row in rows]

        return page(await self._read(run), max_items, lambda last: last.qualifier)

    async def report_provisioned(self, name: str, qualifier: str, generation: str, allocated: int, status: str,
                                 reason: str | None = None) -> None:
        """The controller's word on a configuration's environments (dropped when the
        configuration was replaced or deleted since)."""
        await self._write(lambda conn: conn.execute(
            "UPDATE provisioned_concurrency SET allocated = ?, status = ?, status_reason = ? "
            "WHERE name = ? AND qualifier = ? AND generation = ?",
            (allocated, status, reason, name, qualifier, generation)))

    def _provisioned_versions(self, conn: sqlite3.Connection,
                              name: str | None) -> list[tuple[ProvisionedConfig, FunctionRecord]]:
        """Every configuration (of one function, or all) with the version it provisions: an
        alias's primary version."""
        rows = conn.execute(f"SELECT name, {_COLUMNS} FROM provisioned_concurrency WHERE ? IS NULL OR name = ? "
                            "ORDER BY name, qualifier", (name, name)).fetchall()
        found = []
        for row in rows:
            config = ProvisionedConfig(*row)
            number = self._number(conn, config.function_name, config.qualifier)
            found.append((config, self._version(conn, config.function_name, number, config.qualifier)))
        return found

