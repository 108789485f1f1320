"""AddPermission, RemovePermission and GetPolicy (Lambda API reference pages of each): a
function's resource-based policy, per version or alias. Kept and answered, not enforced:
every signed caller of strato is the account's root. Each change renews the version's or
alias's RevisionId (the policy's)."""

from __future__ import annotations

import json

from strato.http.responses import Response

from .. import permissions
from ..call import Call
from .common import json_response, no_content


async def add_permission(call: Call) -> Response:
    name, qualifier = call.target()
    body = call.body()
    statement = permissions.statement(call.registry.arn(name, qualifier), body.data)
    await call.registry.add_statement(name, qualifier, statement, body.text("RevisionId"))
    await call.services.invoker.provision(name)  # a version's provisioned environments follow its new revision
    return json_response({"Statement": json.dumps(statement, separators=(",", ":"))}, 201)


async def remove_permission(call: Call) -> Response:
    name, qualifier = call.target()
    sid = permissions.check(call.endpoint.statement_id, "statementId", permissions.REMOVED_STATEMENT_ID, 1, 100)
    await call.registry.remove_statement(name, qualifier, str(sid), call.request.query.get("RevisionId"))
    await call.services.invoker.provision(name)
    return no_content()


async def get_policy(call: Call) -> Response:
    name, qualifier = call.target()
    policy = await call.registry.policy(name, qualifier)
    return json_response({"Policy": policy.document(), "RevisionId": policy.revision_id})
