"""Runtime management and recursion configurations in the registry: how a version's runtime is
updated (Auto, FunctionUpdate, or Manual on a named runtime version) and whether a function may
run in a recursive loop. Both are kept and answered as Lambda answers them; strato runs one
version of each runtime (runtimes.runtime_version_arn) and detects no loops.

Source: the Lambda API reference, "PutRuntimeManagementConfig", "GetRuntimeManagementConfig",
"PutFunctionRecursionConfig", "GetFunctionRecursionConfig".
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from .arns import is_version
from .errors import InvalidParameter
from .records import LATEST
from .registry_tables import Tables
from .runtimes import runtime_version_arn

UPDATE_MODES = ("Auto", "FunctionUpdate", "Manual")
RECURSIVE_LOOPS = ("Allow", "Terminate")


@dataclass(frozen=True, slots=True)
class RuntimeManagement:
    function_arn: str
    update_runtime_on: str = "Auto"
    runtime_version_arn: str | None = None  # Manual's alone


class RuntimeSettingsTables(Tables):
    def _runtime_target(self, conn: sqlite3.Connection, name: str, qualifier: str | None) -> tuple[str, str]:
        """The version a runtime management configuration belongs to, and its runtime."""
        if qualifier is not None and qualifier != LATEST and not is_version(qualifier):
            raise InvalidParameter("The runtime management configuration belongs to a function version: "
                                   "Qualifier must be $LATEST or a published version number.")
        key = qualifier or LATEST
        record = self._version(conn, name, 0 if key == LATEST else int(key), qualifier)
        return key, record.config.runtime

    async def get_runtime_management(self, function_name: str, qualifier: str | None) -> RuntimeManagement:
        name, qualifier = self.split(function_name, qualifier)

        def run(conn: sqlite3.Connection) -> RuntimeManagement:
            key, _ = self._runtime_target(conn, name, qualifier)
            row = conn.execute("SELECT update_runtime_on, runtime_version_arn FROM runtime_management "
                               "WHERE name = ? AND qualifier = ?", (name, key)).fetchone()
            return RuntimeManagement(self.arn(name, qualifier), *(row or ()))

        return await self._read(run)

    async def put_runtime_management(self, function_name: str, qualifier: str | None, update_runtime_on: str,
                                     version_arn: str | None) -> RuntimeManagement:
        name, qualifier = self.split(function_name, qualifier)

        def run(conn: sqlite3.Connection) -> RuntimeManagement:
            key, runtime = self._runtime_target(conn, name, qualifier)
            if update_runtime_on == "Manual":
                if version_arn is None:
                    raise InvalidParameter("RuntimeVersionArn is required when UpdateRuntimeOn is Manual.")
                if version_arn != runtime_version_arn(self.region, runtime):
                    raise InvalidParameter(f"The runtime version {version_arn} is not a version of {runtime} "
                                           "this function can use.")
            elif version_arn is not None:
                raise InvalidParameter("RuntimeVersionArn may be given only when UpdateRuntimeOn is Manual.")
            conn.execute("INSERT OR REPLACE INTO runtime_management VALUES (?, ?, ?, ?)",
                         (name, key, update_runtime_on, version_arn))
            return RuntimeManagement(self.arn(name, qualifier), update_runtime_on, version_arn)

        return await self._write(run)

    async def get_recursion(self, function_name: str) -> str:
        def run(conn: sqlite3.Connection) -> str:
            self._function(conn, function_name)
            row = conn.execute("SELECT recursive_loop FROM functions WHERE name = ?", (function_name,)).fetchone()
            return str(row[0])

        return await self._read(run)

    async def put_recursion(self, function_name: str, recursive_loop: str) -> str:
        def run(conn: sqlite3.Connection) -> str:
            self._function(conn, function_name)
            conn.execute("UPDATE functions SET recursive_loop = ? WHERE name = ?", (recursive_loop, function_name))
            return recursive_loop

        return await self._write(run)
