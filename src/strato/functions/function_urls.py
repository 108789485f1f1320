"""Function URL configurations in the registry (CreateFunctionUrlConfig and its siblings): per
function or alias, the URL's id, its auth type, CORS settings and invoke mode.

The registry keeps them and gives each a random id; what a URL's host looks like and how a
request to it becomes an invocation is the protocol layer's (api/function_urls).
Source: the Lambda API reference, "CreateFunctionUrlConfig", "GetFunctionUrlConfig",
"UpdateFunctionUrlConfig", "DeleteFunctionUrlConfig", "ListFunctionUrlConfigs".
"""

from __future__ import annotations

import dataclasses
import json
import secrets
import sqlite3
import string
import time
from dataclasses import dataclass
from typing import Any

from .arns import is_version
from .errors import Conflict, InvalidParameter, NotFound
from .records import LATEST
from .registry_tables import Tables, page, qualifier_key

URL_ID_LENGTH = 32
_URL_ID_ALPHABET = string.ascii_lowercase + string.digits
_COLUMNS = "name, qualifier, url_id, auth_type, cors, invoke_mode, creation_time, last_modified"
_NO_FUNCTION = "Function does not exist"
_NO_CONFIG = "The resource you requested does not exist."


@dataclass(frozen=True, slots=True)
class FunctionUrlConfig:
    function_name: str
    qualifier: str | None  # an alias, or None for the unqualified function
    url_id: str
    auth_type: str
    cors: dict[str, Any] | None = None
    invoke_mode: str = "BUFFERED"
    creation_time: float = 0.0
    last_modified: float = 0.0


def new_url_id() -> str:
    """A URL's id, its host's first label: 32 random lowercase letters and digits, as Lambda's."""
    return "".join(secrets.choice(_URL_ID_ALPHABET) for _ in range(URL_ID_LENGTH))


def _row(row: tuple[Any, ...]) -> FunctionUrlConfig:
    name, key, url_id, auth_type, cors, invoke_mode, created, modified = row
    return FunctionUrlConfig(name, None if key == LATEST else key, url_id, auth_type,
                             None if cors is None else json.loads(cors), invoke_mode, created, modified)


def _url_qualifier(qualifier: str | None) -> str | None:
    """A URL belongs to the function or to an alias: $LATEST and version numbers are refused in
    the words Lambda's request validation uses for each."""
    if qualifier == LATEST:
        raise InvalidParameter("1 validation error detected: Value '$LATEST' at 'qualifier' failed to satisfy "
                               "constraint: Member must satisfy regular expression pattern: "
                               r"((?!^\d+$)^[0-9a-zA-Z-_]+$)")
    if qualifier is not None and is_version(qualifier):
        raise InvalidParameter(f"1 validation error detected: Value '{qualifier}' at 'qualifier' failed to satisfy "
                               r"constraint: Member must satisfy regular expression pattern: "
                               r"(^\$LATEST$)|((?!^[0-9]+$)([a-zA-Z0-9-_]+))")
    return qualifier


class UrlConfigTables(Tables):
    def _url_config(self, conn: sqlite3.Connection, name: str, key: str) -> FunctionUrlConfig | None:
        row = conn.execute(f"SELECT {_COLUMNS} FROM function_urls WHERE name = ? AND qualifier = ?",
                           (name, key)).fetchone()
        return None if row is None else _row(row)

    def _url_target(self, function_name: str, qualifier: str | None) -> tuple[str, str | None]:
        name, qualifier = self.split(function_name, qualifier)
        return name, _url_qualifier(qualifier)

    def _existing_url_target(self, conn: sqlite3.Connection, name: str, qualifier: str | None) -> None:
        exists = self._exists(conn, name) and (qualifier is None or conn.execute(
            "SELECT 1 FROM aliases WHERE name = ? AND alias = ?", (name, qualifier)).fetchone() is not None)
        if not exists:
            raise NotFound(_NO_FUNCTION)

    def _store_url_config(self, conn: sqlite3.Connection, config: FunctionUrlConfig) -> FunctionUrlConfig:
        conn.execute(f"INSERT OR REPLACE INTO function_urls ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                     (config.function_name, qualifier_key(config.qualifier), config.url_id, config.auth_type,
                      None if config.cors is None else json.dumps(config.cors), config.invoke_mode,
                      config.creation_time, config.last_modified))
        return config

    async def create_url_config(self, function_name: str, qualifier: str | None, auth_type: str,
                                cors: dict[str, Any] | None, invoke_mode: str) -> FunctionUrlConfig:
        name, qualifier = self._url_target(function_name, qualifier)

        def run(conn: sqlite3.Connection) -> FunctionUrlConfig:
            self._existing_url_target(conn, name, qualifier)  # a URL goes with its alias: none outlives one
            if self._url_config(conn, name, qualifier_key(qualifier)) is not None:
                raise Conflict(f"Failed to create function url config for [functionArn = {self.arn(name, qualifier)}]. "
                               "Error message:  FunctionUrlConfig exists for this Lambda function")
            now = time.time()
            return self._store_url_config(conn, FunctionUrlConfig(name, qualifier, new_url_id(), auth_type, cors,
                                                                  invoke_mode, now, now))

        return await self._write(run)

    async def get_url_config(self, function_name: str, qualifier: str | None = None) -> FunctionUrlConfig:
        name, qualifier = self._url_target(function_name, qualifier)

        def run(conn: sqlite3.Connection) -> FunctionUrlConfig:
            found = self._url_config(conn, name, qualifier_key(qualifier))
            if found is None:
                raise NotFound(_NO_CONFIG)
            return found

        return await self._read(run)

    async def update_url_config(self, function_name: str, qualifier: str | None, auth_type: str | None,
                                cors: dict[str, Any] | None, invoke_mode: str | None) -> FunctionUrlConfig:
        """Change the fields given (not None); the URL and its id stay."""
        name, qualifier = self._url_target(function_name, qualifier)

        def run(conn: sqlite3.Connection) -> FunctionUrlConfig:
            self._existing_url_target(conn, name, qualifier)
            current = self._url_config(conn, name, qualifier_key(qualifier))
            if current is None:
                raise NotFound(_NO_CONFIG)
            changes: dict[str, Any] = {key: value for key, value in (
                ("auth_type", auth_type), ("cors", cors), ("invoke_mode", invoke_mode)) if value is not None}
            return self._store_url_config(conn, dataclasses.replace(current, last_modified=time.time(), **changes))

        return await self._write(run)

    async def delete_url_config(self, function_name: str, qualifier: str | None = None) -> None:
        name, qualifier = self._url_target(function_name, qualifier)

        def run(conn: sqlite3.Connection) -> None:
            if not conn.execute("DELETE FROM function_urls WHERE name = ? AND qualifier = ?",
                                (name, qualifier_key(qualifier))).rowcount:
                raise NotFound(_NO_CONFIG)

        await self._write(run)

    async def list_url_configs(self, function_name: str, marker: str | None,
                               max_items: int) -> tuple[list[FunctionUrlConfig], str | None]:
        """A page of the function's URL configurations by qualifier after `marker`, and the next marker."""
        name, _ = self.split(function_name)

        def run(conn: sqlite3.Connection) -> list[FunctionUrlConfig]:
            if not self._exists(conn, name):
                raise NotFound(_NO_FUNCTION)
            rows = conn.execute(f"SELECT {_COLUMNS} FROM function_urls WHERE name = ? AND qualifier > ? "
                                "ORDER BY qualifier LIMIT ?", (name, marker or "", max_items + 1)).fetchall()
            return [_row(row) for row in rows]

        return page(await self._read(run), max_items, lambda last: qualifier_key(last.qualifier))

    async def url_config_by_id(self, url_id: str) -> FunctionUrlConfig | None:
        """The configuration a URL's host names, if any."""
        def run(conn: sqlite3.Connection) -> FunctionUrlConfig | None:
            row = conn.execute(f"SELECT {_COLUMNS} FROM function_urls WHERE url_id = ?", (url_id,)).fetchone()
            return None if row is None else _row(row)

        return await self._read(run)
