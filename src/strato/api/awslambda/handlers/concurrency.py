"""PutFunctionConcurrency, GetFunctionConcurrency, DeleteFunctionConcurrency and
GetAccountSettings (Lambda API reference pages of each)."""

from __future__ import annotations

from strato.functions.packages import MAX_UNZIPPED, MAX_ZIPPED
from strato.http.responses import Response

from ..call import Call
from ..errors import invalid_parameter
from .common import json_response, no_content, unqualified

TOTAL_CODE_SIZE = 75 * 1024**3  # Lambda's default storage quota for packages


async def put_function_concurrency(call: Call) -> Response:
    name = unqualified(call)
    body = call.body()
    reserved = body.integer("ReservedConcurrentExecutions", 0, 1 << 31)
    if reserved is None:
        raise invalid_parameter("ReservedConcurrentExecutions is required")
    limit = call.services.settings.concurrency_limit
    stored = await call.registry.put_concurrency(name, reserved, limit)
    # The controller counts the new reservation at once; environments lent to workers hold
    # their slots, so they come back to it, to be lent again under the new limit.
    await call.services.invoker.recall(name)
    return json_response({"ReservedConcurrentExecutions": stored})


async def get_function_concurrency(call: Call) -> Response:
    reserved = await call.registry.get_concurrency(unqualified(call))
    return json_response({} if reserved is None else {"ReservedConcurrentExecutions": reserved})


async def delete_function_concurrency(call: Call) -> Response:
    name = unqualified(call)
    await call.registry.delete_concurrency(name)
    await call.services.invoker.recall(name)  # its share goes back to the shared pool at once
    return no_content()


async def get_account_settings(call: Call) -> Response:
    usage = await call.registry.usage()
    limit = call.services.settings.concurrency_limit
    return json_response({
        "AccountLimit": {
            "TotalCodeSize": TOTAL_CODE_SIZE, "CodeSizeUnzipped": MAX_UNZIPPED, "CodeSizeZipped": MAX_ZIPPED,
            "ConcurrentExecutions": limit, "UnreservedConcurrentExecutions": limit - usage.reserved,
        },
        "AccountUsage": {"TotalCodeSize": usage.total_code_size, "FunctionCount": usage.function_count},
    })
