"""Layers in the registry (PublishLayerVersion and its siblings): a layer's numbered versions,
each with its package in the code store, and each version's permissions.

A function version names the layers it uses by version ARN; the registry resolves them to
their packages when the function is configured (`function_layers`), and the function keeps
those packages however the layers change later, as Lambda's functions keep a deleted layer
version. What a layer's package becomes inside an environment (/opt) is the sandbox's.
Source: the Lambda API reference, "PublishLayerVersion", "GetLayerVersion",
"GetLayerVersionByArn", "ListLayers", "ListLayerVersions", "DeleteLayerVersion",
"AddLayerVersionPermission", "RemoveLayerVersionPermission", "GetLayerVersionPolicy".
"""

from __future__ import annotations

import asyncio
import json
import re
import sqlite3
import uuid
from dataclasses import dataclass
from typing import Any

from strato.account import ACCOUNT_ID
from strato.digits import is_digits

from .definitions import FunctionLayer, lambda_timestamp, layer_hexes
from .errors import Conflict, InvalidParameter, NotFound, PreconditionFailed
from .packages import CodeStore, StoredCode
from .policies import Policy, check_size
from .registry_tables import Tables, page

MAX_FUNCTION_LAYERS = 5  # Lambda's layers per function
MAX_NAME = 140  # a LayerName's length, name or ARN
MAX_VERSION = (1 << 63) - 1  # a version number is a Long; no layer has one above it (nor SQLite)
_VERSION_ARN = re.compile(r"arn:aws[a-zA-Z-]*:lambda:([a-z0-9-]+):(\d{12}):layer:([a-zA-Z0-9_-]+):([0-9]+)")
_LAYER_ARN = re.compile(r"arn:aws[a-zA-Z-]*:lambda:([a-z0-9-]+):(\d{12}):layer:([a-zA-Z0-9_-]+)")
_NAME = re.compile(r"[a-zA-Z0-9_-]+")
_COLUMNS = ("version, description, created, compatible_runtimes, compatible_architectures, license_info, code_hex, "
            "code_sha256, code_size")
_NO_POLICY = "No policy is associated with the given resource."


@dataclass(frozen=True, slots=True)
class LayerVersion:
    name: str
    version: int
    description: str
    created: str  # Lambda's timestamp format, as LastModified
    compatible_runtimes: tuple[str, ...]
    compatible_architectures: tuple[str, ...]
    license_info: str | None
    code: StoredCode


def _row(name: str, row: tuple[Any, ...]) -> LayerVersion:
    version, description, created, runtimes, architectures, license_info, code_hex, code_sha, code_size = row
    return LayerVersion(name, version, description, created, tuple(json.loads(runtimes)),
                        tuple(json.loads(architectures)), license_info, StoredCode(code_hex, code_sha, code_size))


def _matches(layer: LayerVersion, runtime: str | None, architecture: str | None) -> bool:
    """ListLayers' and ListLayerVersions' filters: a version compatible with both."""
    return (runtime is None or runtime in layer.compatible_runtimes) and \
        (architecture is None or architecture in layer.compatible_architectures)


class LayerTables(Tables):
    packages: CodeStore  # the registry's

    def layer_arn(self, name: str, version: int | None = None) -> str:
        base = f"arn:aws:lambda:{self.region}:{ACCOUNT_ID}:layer:{name}"
        return base if version is None else f"{base}:{version}"

    def layer_name(self, text: str) -> str:
        """A LayerName as a name or a layer ARN (strato's region and account): the name."""
        if len(text) > MAX_NAME:
            raise InvalidParameter(f"1 validation error detected: Value '{text}' at 'layerName' failed to "
                                   f"satisfy constraint: Member must have length less than or equal to {MAX_NAME}")
        full = _LAYER_ARN.fullmatch(text)
        if full is None:
            if not _NAME.fullmatch(text):
                raise InvalidParameter(f"1 validation error detected: Value '{text}' at 'layerName' failed to "
                                       "satisfy constraint: Member must satisfy regular expression pattern: "
                                       r"(arn:[a-zA-Z0-9-]+:lambda:[a-zA-Z0-9-]+:\d{12}:layer:[a-zA-Z0-9-_]+)|"
                                       r"[a-zA-Z0-9-_]+")
            return text
        region, account, name = full.groups()
        if (region, account) != (self.region, ACCOUNT_ID):
            raise NotFound(f"Layer version {text} does not exist.")
        return name

    def split_version_arn(self, arn: str) -> tuple[str, int]:
        """(name, version) of a layer version ARN of this region and account; NotFound otherwise."""
        full = _VERSION_ARN.fullmatch(arn)
        if full is None or full.group(1, 2) != (self.region, ACCOUNT_ID):
            raise NotFound(f"Layer version {arn} does not exist.")
        return full.group(3), int(full.group(4))

    @staticmethod
    def _version_row(conn: sqlite3.Connection, columns: str, name: str, version: int) -> tuple[Any, ...]:
        """`columns` of a layer version's row; NotFound when it does not exist (nor can: above MAX_VERSION)."""
        row: tuple[Any, ...] | None = None
        if version <= MAX_VERSION:
            row = conn.execute(f"SELECT {columns} FROM layer_versions WHERE name = ? AND version = ?",
                               (name, version)).fetchone()
        if row is None:
            raise NotFound("The resource you requested does not exist.")
        return row

    def _layer_version(self, conn: sqlite3.Connection, name: str, version: int) -> LayerVersion:
        return _row(name, self._version_row(conn, _COLUMNS, name, version))

    async def publish_layer(self, name: str, description: str, runtimes: tuple[str, ...],
                            architectures: tuple[str, ...], license_info: str | None,
                            code: StoredCode) -> LayerVersion:
        """A new version of the layer (the layer made by its first), numbered after every
        version it ever had."""
        def run(conn: sqlite3.Connection) -> LayerVersion:
            conn.execute("INSERT OR IGNORE INTO layers (name, last_version) VALUES (?, 0)", (name,))
            conn.execute("UPDATE layers SET last_version = last_version + 1 WHERE name = ?", (name,))
            version = conn.execute("SELECT last_version FROM layers WHERE name = ?", (name,)).fetchone()[0]
            conn.execute(
                f"INSERT INTO layer_versions (name, {_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (name, version, description, lambda_timestamp(), json.dumps(list(runtimes)),
                 json.dumps(list(architectures)), license_info, code.sha256_hex, code.code_sha256, code.size))
            return self._layer_version(conn, name, version)

        return await self._write(run)

    async def layer_version(self, name: str, version: int) -> LayerVersion:
        return await self._read(lambda conn: self._layer_version(conn, name, version))

    async def list_layer_versions(self, name: str, runtime: str | None, architecture: str | None,
                                  marker: str | None, max_items: int) -> tuple[list[LayerVersion], str | None]:
        """A page of the layer's versions, newest first, after `marker` (the last version listed);
        a layer without versions lists none, as in Lambda."""
        before = min(int(marker), MAX_VERSION) if marker and is_digits(marker) else MAX_VERSION

        def run(conn: sqlite3.Connection) -> list[LayerVersion]:
            rows = conn.execute(f"SELECT {_COLUMNS} FROM layer_versions WHERE name = ? AND version < ? "
                                "ORDER BY version DESC", (name, before))
            found = []
            for row in rows:
                layer = _row(name, row)
                if _matches(layer, runtime, architecture):
                    found.append(layer)
                    if len(found) > max_items:
                        break
            return found

        return page(await self._read(run), max_items, lambda last: str(last.version))

    async def list_layers(self, runtime: str | None, architecture: str | None, marker: str | None,
                          max_items: int) -> tuple[list[LayerVersion], str | None]:
        """A page of layers by name after `marker`, each as its newest version that matches the
        filters; layers with none are left out."""
        def run(conn: sqlite3.Connection) -> list[LayerVersion]:
            names = conn.execute("SELECT DISTINCT name FROM layer_versions WHERE name > ? ORDER BY name",
                                 (marker or "",))
            found = []
            for (name,) in names.fetchall():
                rows = conn.execute(f"SELECT {_COLUMNS} FROM layer_versions WHERE name = ? ORDER BY version DESC",
                                    (name,))
                newest = next((layer for layer in (_row(name, row) for row in rows)
                               if _matches(layer, runtime, architecture)), None)
                if newest is not None:
                    found.append(newest)
                    if len(found) > max_items:
                        break
            return found

        return page(await self._read(run), max_items, lambda last: last.name)

    async def delete_layer_version(self, name: str, version: int) -> None:
        """Deleting a version that does not exist is no error, as in Lambda. Functions that use
        it keep its package."""
        def run(conn: sqlite3.Connection) -> None:
            if version > MAX_VERSION:
                return
            conn.execute("DELETE FROM layer_versions WHERE name = ? AND version = ?", (name, version))
            conn.execute("DELETE FROM layer_statements WHERE name = ? AND version = ?", (name, version))

        await self._write(run)

    async def function_layers(self, arns: list[str]) -> tuple[FunctionLayer, ...]:
        """The layers a function configuration names, in order, as the function keeps them;
        their packages outlast the layer versions' deletion until the function holds them."""
        if len(arns) > MAX_FUNCTION_LAYERS:
            raise InvalidParameter(f"1 validation error detected: Value '[{', '.join(arns)}]' at 'layers' failed "
                                   f"to satisfy constraint: Member must have length less than or equal to "
                                   f"{MAX_FUNCTION_LAYERS}")

        def run(conn: sqlite3.Connection) -> tuple[FunctionLayer, ...]:
            seen: dict[str, str] = {}
            layers = []
            for arn in arns:
                name, version = self.split_version_arn(arn)
                if name in seen:
                    raise InvalidParameter("Two different versions of the same layer are not allowed to be "
                                           f"referenced in the same function. {seen[name]} and {arn} are "
                                           "versions of the same layer.")
                seen[name] = arn
                try:
                    code = self._layer_version(conn, name, version).code
                except NotFound:
                    raise InvalidParameter(f"Layer version {arn} does not exist.") from None
                layers.append(FunctionLayer(self.layer_arn(name, version), code.sha256_hex, code.size))
            return tuple(layers)

        try:
            layers = await self._read(run)
        except NotFound as e:  # another region's or account's ARN
            raise InvalidParameter(e.message) from None
        await asyncio.to_thread(self.packages.keep, layer_hexes(layers))
        return layers

    # -- permissions ----------------------------------------------------------------------

    def _layer_policy(self, conn: sqlite3.Connection, name: str, version: int) -> Policy | None:
        (revision,) = self._version_row(conn, "policy_revision", name, version)
        statements = [json.loads(text) for (text,) in conn.execute(
            "SELECT statement FROM layer_statements WHERE name = ? AND version = ? ORDER BY rowid", (name, version))]
        return Policy(statements, revision) if statements else None

    def _renew_layer_policy(self, conn: sqlite3.Connection, name: str, version: int,
                            given: str | None, current: Policy | None) -> str:
        if given is not None and (current is None or given != current.revision_id):
            raise PreconditionFailed("The Revision Id provided does not match the latest Revision Id. Call the "
                                     "GetPolicy API to retrieve the latest Revision Id")
        revision = str(uuid.uuid4())
        conn.execute("UPDATE layer_versions SET policy_revision = ? WHERE name = ? AND version = ?",
                     (revision, name, version))
        return revision

    async def add_layer_statement(self, name: str, version: int, statement: dict[str, Any],
                                  revision_id: str | None) -> str:
        """Add a statement to the version's policy (within MAX_POLICY bytes); returns the policy's
        new RevisionId."""
        def run(conn: sqlite3.Connection) -> str:
            current = self._layer_policy(conn, name, version)
            sid = statement["Sid"]
            if current is not None and any(s["Sid"] == sid for s in current.statements):
                raise Conflict(f"The statement id ({sid}) provided already exists. Please provide a new statement "
                               "id, or remove the existing statement.")
            revision = self._renew_layer_policy(conn, name, version, revision_id, current)
            conn.execute("INSERT INTO layer_statements VALUES (?, ?, ?, ?)",
                         (name, version, sid, json.dumps(statement, separators=(",", ":"))))
            check_size(self._layer_policy(conn, name, version))
            return revision

        return await self._write(run)

    async def remove_layer_statement(self, name: str, version: int, sid: str, revision_id: str | None) -> None:
        def run(conn: sqlite3.Connection) -> None:
            current = self._layer_policy(conn, name, version)
            if current is None or not any(s["Sid"] == sid for s in current.statements):
                raise NotFound(f"Statement {sid} is not found in resource policy.")
            self._renew_layer_policy(conn, name, version, revision_id, current)
            conn.execute("DELETE FROM layer_statements WHERE name = ? AND version = ? AND sid = ?",
                         (name, version, sid))

        await self._write(run)

    async def layer_policy(self, name: str, version: int) -> Policy:
        def run(conn: sqlite3.Connection) -> Policy:
            policy = self._layer_policy(conn, name, version)
            if policy is None:
                raise NotFound(_NO_POLICY)
            return policy

        return await self._read(run)
