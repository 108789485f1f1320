"""A function's resource-based policies in the registry: one policy per qualifier, its
statements in the order they were added.

Statements arrive built (the Lambda protocol layer builds them from AddPermission's fields);
the registry keeps them, refuses a repeated statement id, and checks RevisionId. A policy's
RevisionId is its version's or alias's: each added or removed statement renews that one, as
Lambda's does (LocalStack's AWS-validated test_function_revisions_permissions), and GetPolicy
answers it.
Source: the Lambda API reference, "AddPermission", "RemovePermission", "GetPolicy".
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from dataclasses import dataclass
from typing import Any

from .arns import is_version
from .errors import Conflict, InvalidParameter, NotFound, PolicyTooLarge, PreconditionFailed
from .records import LATEST
from .registry_tables import Tables, qualifier_key

POLICY_VERSION = "2012-10-17"
MAX_POLICY = 20480  # bytes of a function's (or layer version's) policy document, Lambda's quota


@dataclass(frozen=True, slots=True)
class Policy:
    statements: list[dict[str, Any]]
    revision_id: str

    def document(self) -> str:
        """GetPolicy's `Policy`: the policy as a JSON string."""
        return json.dumps({"Version": POLICY_VERSION, "Id": "default", "Statement": self.statements},
                          separators=(",", ":"))


def check_size(policy: Policy | None) -> None:
    """A policy a statement was just added to stays within MAX_POLICY bytes (PolicyTooLarge)."""
    size = 0 if policy is None else len(policy.document().encode())
    if size > MAX_POLICY:
        raise PolicyTooLarge(f"The final policy size ({size}) is bigger than the limit ({MAX_POLICY}).")


class PolicyTables(Tables):
    @staticmethod
    def _revision_key(qualifier: str | None) -> tuple[str, str, str | int]:
        """Where the RevisionId of the version or alias a qualifier names is kept: its table,
        the column that tells it from the function's others, and its value there."""
        if qualifier is None or qualifier == LATEST:
            return "versions", "number", 0
        if is_version(qualifier):
            return "versions", "number", int(qualifier)
        return "aliases", "alias", qualifier

    def _target_revision(self, conn: sqlite3.Connection, name: str, qualifier: str | None) -> str:
        """The RevisionId of the version or alias a qualifier names (NotFound, in the words of
        the version's or alias's own lookup, when it does not exist)."""
        table, column, value = self._revision_key(qualifier)
        row = conn.execute(f"SELECT revision_id FROM {table} WHERE name = ? AND {column} = ?",
                           (name, value)).fetchone()
        if row is not None:
            return str(row[0])
        if table == "aliases":
            return self._alias(conn, name, str(qualifier)).revision_id
        return self._version(conn, name, self._number(conn, name, qualifier), qualifier).revision_id

    def _policy(self, conn: sqlite3.Connection, name: str, qualifier: str | None) -> Policy | None:
        key = qualifier_key(qualifier)
        if conn.execute("SELECT 1 FROM policies WHERE name = ? AND qualifier = ?", (name, key)).fetchone() is None:
            return None
        statements = [json.loads(text) for (text,) in conn.execute(
            "SELECT statement FROM policy_statements WHERE name = ? AND qualifier = ? ORDER BY rowid", (name, key))]
        return Policy(statements, self._target_revision(conn, name, qualifier))

    def _check_policy_revision(self, conn: sqlite3.Connection, name: str, qualifier: str | None,
                               given: str | None) -> None:
        """A RevisionId must name the version's or alias's current revision (the policy's too)."""
        if given is not None and given != self._target_revision(conn, name, qualifier):
            raise PreconditionFailed("The Revision Id provided does not match the latest Revision Id. Call the "
                                     "GetPolicy API to retrieve the latest Revision Id")

    def _renew_policy(self, conn: sqlite3.Connection, name: str, qualifier: str | None) -> None:
        """After a statement was added or removed: the policy is kept while it has one, and the
        version's or alias's RevisionId is renewed."""
        key = qualifier_key(qualifier)
        revision = str(uuid.uuid4())
        if conn.execute("SELECT 1 FROM policy_statements WHERE name = ? AND qualifier = ? LIMIT 1",
                        (name, key)).fetchone():
            conn.execute("INSERT OR REPLACE INTO policies VALUES (?, ?, ?)", (name, key, revision))
        else:
            conn.execute("DELETE FROM policies WHERE name = ? AND qualifier = ?", (name, key))
        table, column, value = self._revision_key(qualifier)
        conn.execute(f"UPDATE {table} SET revision_id = ? WHERE name = ? AND {column} = ?", (revision, name, value))

    async def add_statement(self, function_name: str, qualifier: str | None, statement: dict[str, Any],
                            revision_id: str | None = None) -> None:
        """Add a statement (its `Sid` unique within the qualifier's policy, the policy within
        MAX_POLICY bytes)."""
        name, qualifier = self.split(function_name, qualifier)
        if qualifier == LATEST:
            raise InvalidParameter("We currently do not support adding policies for $LATEST.")
        key = qualifier_key(qualifier)

        def run(conn: sqlite3.Connection) -> None:
            self._target_revision(conn, name, qualifier)  # the version or alias exists
            self._check_policy_revision(conn, name, qualifier, revision_id)
            sid = statement["Sid"]
            try:
                conn.execute("INSERT INTO policy_statements VALUES (?, ?, ?, ?)",
                             (name, key, sid, json.dumps(statement, separators=(",", ":"))))
            except sqlite3.IntegrityError:
                raise Conflict(f"The statement id ({sid}) provided already exists. Please provide a new statement id, "
                               "or remove the existing statement.") from None
            self._renew_policy(conn, name, qualifier)
            check_size(self._policy(conn, name, qualifier))

        await self._write(run)

    async def remove_statement(self, function_name: str, qualifier: str | None, sid: str,
                               revision_id: str | None = None) -> None:
        name, qualifier = self.split(function_name, qualifier)
        key = qualifier_key(qualifier)

        def run(conn: sqlite3.Connection) -> None:
            if not self._exists(conn, name):
                raise NotFound(f"No policy found for: {self.arn(name, qualifier)}")  # Lambda's RemovePermission
            self._target_revision(conn, name, qualifier)
            policy = self._policy(conn, name, qualifier)
            if policy is None:
                raise NotFound("No policy is associated with the given resource.")
            if not any(statement.get("Sid") == sid for statement in policy.statements):
                raise NotFound(f"Statement {sid} is not found in resource policy.")
            self._check_policy_revision(conn, name, qualifier, revision_id)
            conn.execute("DELETE FROM policy_statements WHERE name = ? AND qualifier = ? AND sid = ?", (name, key, sid))
            self._renew_policy(conn, name, qualifier)

        await self._write(run)

    async def policy(self, function_name: str, qualifier: str | None = None) -> Policy:
        """The qualifier's policy; NotFound when it has no statement."""
        name, qualifier = self.split(function_name, qualifier)

        def run(conn: sqlite3.Connection) -> Policy:
            self._function(conn, name)
            policy = self._policy(conn, name, qualifier)
            if policy is None:
                raise NotFound("The resource you requested does not exist.")
            return policy

        return await self._read(run)
