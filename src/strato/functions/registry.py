"""The function registry: functions, their versions ($LATEST and published numbers), aliases,
tags, reserved concurrency, resource-based policies (policies.py), asynchronous invocation
configurations (invoke_configs.py), function URLs (function_urls.py), provisioned
concurrency configurations (provisioned.py) and runtime management and recursion settings
(runtime_settings.py), in one SQLite file
(`<data_dir>/functions/functions.db`, WAL).

Every API worker process and the functions controller open the same file; writes are rare
and each runs in its own immediate transaction. Blocking SQLite work runs in worker threads.
`resolve` is the invoke path's lookup, cached per process (routes.py).
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from strato import migrations

from .arns import is_version
from .definitions import Alias, Configuration, FunctionRecord, Usage, layer_hexes
from .errors import Conflict, InvalidParameter, NotFound
from .function_urls import UrlConfigTables
from .invoke_configs import EventConfigTables
from .layers import LayerTables
from .log_groups import LogGroupTables
from .packages import MAX_UNZIPPED, CodeStore, StoredCode, merged_name
from .policies import PolicyTables
from .provisioned import ProvisionedConfig, ProvisionedTables, min_unreserved
from .records import LATEST, FunctionVersion
from .registry_tables import VERSION_COLUMNS, marker_number, page
from .routes import Route, RouteCache
from .runtime_settings import RuntimeSettingsTables

# rows per version or alias
_QUALIFIED_TABLES = ("policies", "policy_statements", "event_invoke_configs", "function_urls",
                     "provisioned_concurrency", "runtime_management")


class Registry(PolicyTables, EventConfigTables, UrlConfigTables, LayerTables, ProvisionedTables,
               RuntimeSettingsTables, LogGroupTables):
    def __init__(self, root: Path, region: str = "us-east-1") -> None:
        root.mkdir(parents=True, exist_ok=True)
        super().__init__(root / "functions.db", region)
        self.packages = CodeStore(root)
        self._routes = RouteCache(migrations.connect(self.path), self.stamp)

    def close(self) -> None:
        super().close()
        self._routes.close()

    # -- functions -----------------------------------------------------------------------

    async def create(self, function_name: str, config: Configuration, code: StoredCode,
                     publish: bool = False, tags: Mapping[str, str] | None = None) -> FunctionRecord:
        name, _ = self.split(function_name)
        await self.packages.merge(layer_hexes(config.layers))

        def run(conn: sqlite3.Connection) -> FunctionRecord:
            if self._exists(conn, name):
                raise Conflict(f"Function already exist: {name}")
            self._check_size(config, code)
            conn.execute("INSERT INTO functions (name) VALUES (?)", (name,))
            self._insert_version(conn, name, 0, config, code)
            self._put_tags(conn, name, tags or {})
            return self._publish(conn, name, None) if publish else self._version(conn, name, 0, None)

        return await self._write(run)

    async def get(self, function_name: str, qualifier: str | None = None) -> FunctionRecord:
        """The version a qualifier names; whatever is missing (the function, the version or the
        alias), the error names the qualified ARN, as GetFunction's does."""
        name, qualifier = self.split(function_name, qualifier)

        def run(conn: sqlite3.Connection) -> FunctionRecord:
            try:
                return self._version(conn, name, self._number(conn, name, qualifier), qualifier)
            except NotFound:
                raise self.not_found(name, qualifier) from None

        return await self._read(run)

    async def list_functions(self, marker: str | None, max_items: int,
                             all_versions: bool = False) -> tuple[list[FunctionRecord], str | None]:
        """A page of functions ($LATEST each, or every version) after `marker`, and the next marker."""
        if all_versions:  # the marker is "name:number" of the last version listed
            after_name, _, after_number = (marker or "").partition(":")
            start = (after_name, marker_number(after_number))
        else:  # the marker is the last name listed
            start = (marker or "", 1 << 62)

        def run(conn: sqlite3.Connection) -> list[FunctionRecord]:
            rows = conn.execute(
                f"SELECT v.name, v.number, {VERSION_COLUMNS}, f.reserved_concurrency FROM versions v "
                "JOIN functions f ON f.name = v.name WHERE (v.name, v.number) > (?, ?) "
                + ("" if all_versions else "AND v.number = 0 ") + "ORDER BY v.name, v.number LIMIT ?",
                (*start, max_items + 1),
            ).fetchall()
            return [self._row_to_record(row[0], row[1], row[2:-1], row[-1]) for row in rows]

        def marker_of(last: FunctionRecord) -> str:
            return f"{last.name}:{0 if last.version == LATEST else int(last.version)}" if all_versions else last.name

        return page(await self._read(run), max_items, marker_of)

    async def update_code(self, function_name: str, code: StoredCode, publish: bool = False,
                          revision_id: str | None = None) -> FunctionRecord:
        name, _ = self.split(function_name)

        def run(conn: sqlite3.Connection) -> FunctionRecord:
            latest = self._version(conn, name, 0, None)
            self._check_revision(latest.revision_id, revision_id)
            self._check_size(latest.config, code)
            self._insert_version(conn, name, 0, latest.config, code)
            return self._publish(conn, name, None) if publish else self._version(conn, name, 0, None)

        return await self._write(run)

    async def update_configuration(self, function_name: str, changes: dict[str, Any],
                                   revision_id: str | None = None) -> FunctionRecord:
        """Change $LATEST's configuration; `changes` names Configuration fields."""
        name, _ = self.split(function_name)
        if "layers" in changes:
            await self.packages.merge(layer_hexes(changes["layers"]))

        def run(conn: sqlite3.Connection) -> FunctionRecord:
            latest = self._version(conn, name, 0, None)
            self._check_revision(latest.revision_id, revision_id)
            config = replace(latest.config, **changes)
            if "layers" in changes:
                self._check_size(config, latest.code)
            self._insert_version(conn, name, 0, config, latest.code)
            return self._version(conn, name, 0, None)

        return await self._write(run)

    async def delete(self, function_name: str, qualifier: str | None = None) -> None:
        """Delete the function, or with a version number as qualifier that version alone (a
        version it does not have is no error, as in Lambda)."""
        name, qualifier = self.split(function_name, qualifier)

        def run(conn: sqlite3.Connection) -> None:
            self._function(conn, name)
            if qualifier is None:
                for table in ("tags", *_QUALIFIED_TABLES, "aliases", "versions", "functions"):
                    conn.execute(f"DELETE FROM {table} WHERE name = ?", (name,))
                return
            if not is_version(qualifier):
                raise InvalidParameter(f"{qualifier} version cannot be deleted without deleting the function."
                                       if qualifier == LATEST else "Deletion of aliases is not supported "
                                       "by DeleteFunction; use DeleteAlias.")
            users = [alias for alias, version, routing in conn.execute(
                "SELECT alias, function_version, routing FROM aliases WHERE name = ? ORDER BY alias", (name,))
                if version == qualifier or qualifier in json.loads(routing)]
            if users:
                raise Conflict(f"Unable to delete version because the following aliases reference it: {users}")
            # A version that does not exist is already deleted: Lambda answers 204 for it too.
            conn.execute("DELETE FROM versions WHERE name = ? AND number = ?", (name, int(qualifier)))
            self._drop_attachments(conn, name, qualifier)

        await self._write(run)

    def _check_size(self, config: Configuration, code: StoredCode) -> None:
        """Lambda's quota: the code and all the layers of a function unzipped are MAX_UNZIPPED
        bytes at most together (the code alone was checked when it was stored)."""
        if not config.layers:
            return
        total = sum(self.packages.unzipped_size(sha256_hex)
                    for sha256_hex in (code.sha256_hex, *layer_hexes(config.layers)))
        if total > MAX_UNZIPPED:
            raise InvalidParameter(f"Function code combined with layers exceeds the maximum allowed size of "
                                   f"{MAX_UNZIPPED} bytes. The actual size is {total} bytes.")

    @staticmethod
    def _drop_attachments(conn: sqlite3.Connection, name: str, qualifier: str) -> None:
        """A deleted version's or alias's policy, event invoke configuration and URL go with it."""
        for table in _QUALIFIED_TABLES:
            conn.execute(f"DELETE FROM {table} WHERE name = ? AND qualifier = ?", (name, qualifier))

    # -- versions ------------------------------------------------------------------------

    async def publish_version(self, function_name: str, code_sha256: str | None = None,
                              description: str | None = None, revision_id: str | None = None) -> FunctionRecord:
        name, _ = self.split(function_name)

        def run(conn: sqlite3.Connection) -> FunctionRecord:
            latest = self._version(conn, name, 0, None)
            if code_sha256 is not None and code_sha256 != latest.code.code_sha256:
                raise InvalidParameter(f"CodeSHA256 ({code_sha256}) is different from current CodeSHA256 in "
                                       f"$LATEST ({latest.code.code_sha256}). Please try again with the "
                                       "CodeSHA256 in $LATEST.")
            self._check_revision(latest.revision_id, revision_id)
            return self._publish(conn, name, description)

        return await self._write(run)

    async def list_versions(self, function_name: str, marker: str | None,
                            max_items: int) -> tuple[list[FunctionRecord], str | None]:
        name, _ = self.split(function_name)
        after = marker_number(marker or "")

        def run(conn: sqlite3.Connection) -> list[FunctionRecord]:
            reserved, _ = self._function(conn, name)
            rows = conn.execute(f"SELECT number, {VERSION_COLUMNS} FROM versions WHERE name = ? AND number > ? "
                                "ORDER BY number LIMIT ?", (name, after, max_items + 1)).fetchall()
            return [self._row_to_record(name, row[0], row[1:], reserved) for row in rows]

        return page(await self._read(run), max_items, lambda last: "0" if last.version == LATEST else last.version)

    # -- aliases -------------------------------------------------------------------------

    def _check_target(self, conn: sqlite3.Connection, name: str, version: str, weights: dict[str, float]) -> None:
        if version != LATEST and not is_version(version):
            raise InvalidParameter(f"Invalid function version {version}: an alias points at $LATEST or a number")
        self._version(conn, name, self._number(conn, name, version), version)
        if weights and version == LATEST:
            raise InvalidParameter("$LATEST is not supported for an alias pointing to more than 1 version")
        for other in weights:  # published version numbers weighted 0..1 (checked with the request)
            if other == version:
                raise InvalidParameter(f"Invalid function version {other}. Function version {other} is "
                                       "already included in routing configuration.")
            self._version(conn, name, int(other), other)

    def _store_alias(self, conn: sqlite3.Connection, alias: Alias) -> Alias:
        stored = replace(alias, revision_id=str(uuid.uuid4()))
        conn.execute("INSERT OR REPLACE INTO aliases VALUES (?, ?, ?, ?, ?, ?)",
                     (stored.function_name, stored.name, stored.function_version, stored.description,
                      json.dumps(stored.weights), stored.revision_id))
        return stored

    async def create_alias(self, function_name: str, alias: str, version: str, description: str = "",
                           weights: dict[str, float] | None = None) -> Alias:
        name, _ = self.split(function_name)

        def run(conn: sqlite3.Connection) -> Alias:
            self._function(conn, name, version)  # Lambda names the version asked for
            if conn.execute("SELECT 1 FROM aliases WHERE name = ? AND alias = ?", (name, alias)).fetchone():
                raise Conflict(f"Alias already exists: {self.arn(name, alias)}")
            self._check_target(conn, name, version, weights or {})
            return self._store_alias(conn, Alias(name, alias, version, description, weights or {}, ""))

        return await self._write(run)

    async def get_alias(self, function_name: str, alias: str) -> Alias:
        name, _ = self.split(function_name)
        return await self._read(lambda conn: self._alias(conn, name, alias))

    async def update_alias(self, function_name: str, alias: str, version: str | None = None,
                           description: str | None = None, weights: dict[str, float] | None = None,
                           revision_id: str | None = None) -> Alias:
        name, _ = self.split(function_name)

        def run(conn: sqlite3.Connection) -> Alias:
            current = self._alias(conn, name, alias)
            self._check_revision(current.revision_id, revision_id)
            updated = replace(
                current, function_version=current.function_version if version is None else version,
                description=current.description if description is None else description,
                weights=current.weights if weights is None else weights,
            )
            self._check_target(conn, name, updated.function_version, updated.weights)
            if updated.function_version != current.function_version:
                self._move_provisioned_alias(conn, name, alias, updated.function_version)
            return self._store_alias(conn, updated)

        return await self._write(run)

    async def delete_alias(self, function_name: str, alias: str) -> None:
        name, _ = self.split(function_name)

        def run(conn: sqlite3.Connection) -> None:
            self._function(conn, name)
            conn.execute("DELETE FROM aliases WHERE name = ? AND alias = ?", (name, alias))
            self._drop_attachments(conn, name, alias)

        await self._write(run)

    async def list_aliases(self, function_name: str, version: str | None, marker: str | None,
                           max_items: int) -> tuple[list[Alias], str | None]:
        name, _ = self.split(function_name)

        def run(conn: sqlite3.Connection) -> list[Alias]:
            self._function(conn, name)
            rows = conn.execute(
                "SELECT alias FROM aliases WHERE name = ? AND alias > ? AND (? IS NULL OR function_version = ?) "
                "ORDER BY alias LIMIT ?", (name, marker or "", version, version, max_items + 1)).fetchall()
            return [self._alias(conn, name, row[0]) for row in rows]

        return page(await self._read(run), max_items, lambda last: last.name)

    # -- tags ----------------------------------------------------------------------------

    async def tags(self, function_name: str) -> dict[str, str]:
        """The function's tags (every version and alias shares them), by key."""
        name, _ = self.split(function_name)
        return await self._read(lambda conn: self._tags(conn, name))

    async def tag(self, function_name: str, tags: Mapping[str, str]) -> None:
        """Add tags, replacing the values of keys it has already."""
        name, _ = self.split(function_name)

        def run(conn: sqlite3.Connection) -> None:
            self._function(conn, name)
            self._put_tags(conn, name, tags)

        await self._write(run)

    async def untag(self, function_name: str, keys: Iterable[str]) -> None:
        """Remove tags by key; a key the function does not have is no error."""
        name, _ = self.split(function_name)

        def run(conn: sqlite3.Connection) -> None:
            self._function(conn, name)
            conn.executemany("DELETE FROM tags WHERE name = ? AND key = ?", [(name, key) for key in keys])

        await self._write(run)

    # -- concurrency ---------------------------------------------------------------------

    async def put_concurrency(self, function_name: str, reserved: int, account_limit: int) -> int:
        """Reserve concurrency for a function, no less than its provisioned concurrency, leaving
        the account its minimum unreserved concurrency (the limit less the other functions'
        reservations and the provisioned concurrency of those without one)."""
        name, _ = self.split(function_name)

        def run(conn: sqlite3.Connection) -> int:
            self._function(conn, name, LATEST)  # as Lambda's PutFunctionConcurrency names it
            provisioned = self._provisioned_sum(conn, name)
            if 0 <= reserved < provisioned:
                raise InvalidParameter(f" ReservedConcurrentExecutions  {reserved} should not be lower than "
                                       f"function's total provisioned concurrency [{provisioned}]")
            others = self._committed_concurrency(conn, name)
            minimum = min_unreserved(account_limit)
            if reserved < 0 or others + reserved > account_limit - minimum:
                raise InvalidParameter("Specified ReservedConcurrentExecutions for function decreases account's "
                                       f"UnreservedConcurrentExecution below its minimum value of [{minimum}].")
            conn.execute("UPDATE functions SET reserved_concurrency = ? WHERE name = ?", (reserved, name))
            return reserved

        return await self._write(run)

    async def get_concurrency(self, function_name: str) -> int | None:
        name, _ = self.split(function_name)
        return await self._read(lambda conn: self._function(conn, name)[0])

    async def delete_concurrency(self, function_name: str) -> None:
        name, _ = self.split(function_name)

        def run(conn: sqlite3.Connection) -> None:
            self._function(conn, name)
            conn.execute("UPDATE functions SET reserved_concurrency = NULL WHERE name = ?", (name,))

        await self._write(run)

    async def reservations(self) -> dict[str, int]:
        """Every function's reserved concurrency, by name (functions without one left out)."""
        def run(conn: sqlite3.Connection) -> dict[str, int]:
            return dict(conn.execute("SELECT name, reserved_concurrency FROM functions "
                                     "WHERE reserved_concurrency IS NOT NULL"))

        return await self._read(run)

    async def usage(self) -> Usage:
        """GetAccountSettings' AccountUsage: TotalCodeSize counts deployment packages and layer archives."""
        def run(conn: sqlite3.Connection) -> Usage:
            count, reserved = conn.execute(
                "SELECT COUNT(*), COALESCE(SUM(reserved_concurrency), 0) FROM functions").fetchone()
            size = conn.execute("SELECT (SELECT COALESCE(SUM(code_size), 0) FROM versions) + "
                                "(SELECT COALESCE(SUM(code_size), 0) FROM layer_versions)").fetchone()[0]
            return Usage(count, size, reserved)

        return await self._read(run)

    async def referenced_code(self) -> set[str]:
        """What code collection keeps: the packages (SHA-256 hex) some version runs or some
        layer version holds, and the merged trees of the layers of versions with several."""
        def run(conn: sqlite3.Connection) -> set[str]:
            kept = {row[0] for row in conn.execute("SELECT code_hex FROM versions UNION SELECT code_hex "
                                                   "FROM layer_versions")}
            for (text,) in conn.execute("SELECT DISTINCT layers FROM versions WHERE layers != '[]'"):
                hexes = tuple(layer[1] for layer in json.loads(text))
                kept.update(hexes)
                kept.add(merged_name(hexes))
            return kept

        return await self._read(run)

    # -- the invoke path -----------------------------------------------------------------

    def _runnable(self, record: FunctionRecord) -> FunctionVersion:
        c = record.config
        hexes = layer_hexes(c.layers)
        return FunctionVersion(
            name=record.name, version=record.version, arn=self.arn(record.name), runtime=c.runtime,
            handler=c.handler, memory_size=c.memory_size, timeout=c.timeout, environment=dict(c.environment),
            code_dir=self.packages.code_dir(record.code.sha256_hex), code_sha256=record.code.code_sha256,
            revision_id=record.environment_revision, ephemeral_storage=c.ephemeral_storage,
            reserved_concurrency=record.reserved_concurrency, opt_dir=self.packages.opt_dir(hexes),
            layer_dirs=tuple(self.packages.code_dir(h) for h in hexes), logging=c.logging,
        )

    def _route(self, name: str, qualifier: str | None) -> Route:
        def run(conn: sqlite3.Connection) -> Route:
            if qualifier is None or qualifier == LATEST or is_version(qualifier):
                return Route(self._runnable(self._version(conn, name, self._number(conn, name, qualifier),
                                                           qualifier)), {}, {})
            try:
                alias = self._alias(conn, name, qualifier)
            except NotFound:
                self._function(conn, name)  # a missing function is named unqualified
                raise self.not_found(name, qualifier) from None  # as GetFunction names a missing alias
            primary = self._version(conn, name, self._number(conn, name, alias.function_version), qualifier)
            others = {v: self._runnable(self._version(conn, name, int(v), v)) for v in alias.weights}
            return Route(self._runnable(primary), others, alias.weights)

        return self._transaction(run, write=False)

    async def provisioned_targets(self, name: str | None = None) -> list[tuple[ProvisionedConfig, FunctionVersion]]:
        """Every provisioned concurrency configuration (of one function, or all) with the version
        whose environments it keeps."""
        def run(conn: sqlite3.Connection) -> list[tuple[ProvisionedConfig, FunctionVersion]]:
            return [(config, self._runnable(record)) for config, record in self._provisioned_versions(conn, name)]

        return await self._read(run)

    def resolve(self, function_name: str, qualifier: str | None = None) -> FunctionVersion:
        """The version an invocation of (name-or-ARN, qualifier) runs; an alias with weights
        picks one of its versions at random by weight. Raises NotFound, InvalidParameter.
        Blocking but cheap: a cache hit reads shared memory, a miss one SQLite read."""
        name, qualifier = self.split(function_name, qualifier)
        key = (name, qualifier)
        route = self._routes.get(key) or self._routes.put(key, self._route(name, qualifier))
        return route.pick()

    def exists(self, function_name: str) -> bool:
        """Whether the function exists now (as cheap as `resolve`: the route cache first)."""
        try:
            self.resolve(function_name)
        except NotFound:
            return False
        return True

    def resolve_cached(self, function_name: str, qualifier: str | None = None) -> FunctionVersion | None:
        """`resolve` when the route is cached (a read of shared memory, no SQLite read); None
        when it is not, or when it might not exist (or is another region's)."""
        try:
            key = self.split(function_name, qualifier)
        except NotFound:
            return None
        route = self._routes.get(key)
        return None if route is None else route.pick()

    async def resolve_async(self, function_name: str, qualifier: str | None = None) -> FunctionVersion:
        """`resolve` for an event loop: a cache miss reads SQLite in a worker thread."""
        name, qualifier = self.split(function_name, qualifier)
        key = (name, qualifier)
        route = self._routes.get(key)
        if route is None:
            route = self._routes.put(key, await asyncio.to_thread(self._route, name, qualifier))
        return route.pick()
