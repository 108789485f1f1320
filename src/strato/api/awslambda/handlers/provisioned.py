"""PutProvisionedConcurrencyConfig, GetProvisionedConcurrencyConfig,
DeleteProvisionedConcurrencyConfig and ListProvisionedConcurrencyConfigs (Lambda API reference
pages of each). The functions controller starts and keeps the environments in the background
(functions/provisioning.py): Put answers IN_PROGRESS at once, Get reports READY once they are
all initialised."""

from __future__ import annotations

from typing import Any

from strato.functions.provisioned import ProvisionedConfig
from strato.http.responses import Response

from .. import shapes
from ..call import Call
from ..errors import validation_error
from .common import json_response, max_items, no_content

MAX_PROVISIONED = 1 << 31  # a PositiveInteger; the limits below it are the registry's


def _shape(config: ProvisionedConfig) -> dict[str, Any]:
    """GetProvisionedConcurrencyConfig's answer (Available is Allocated: a kept environment is
    counted once it is initialised)."""
    shape: dict[str, Any] = {
        "RequestedProvisionedConcurrentExecutions": config.requested,
        "AvailableProvisionedConcurrentExecutions": config.allocated,
        "AllocatedProvisionedConcurrentExecutions": config.allocated,
        "Status": config.status,
        "LastModified": config.last_modified,
    }
    if config.status_reason is not None:
        shape["StatusReason"] = config.status_reason
    return shape


async def put_provisioned_concurrency_config(call: Call) -> Response:
    name, qualifier = call.target()
    requested = call.body().integer("ProvisionedConcurrentExecutions", 1, MAX_PROVISIONED)
    if requested is None:
        raise validation_error(None, "provisionedConcurrentExecutions", "Member must not be null")
    config = await call.registry.put_provisioned(name, qualifier, requested, call.services.settings.concurrency_limit)
    await call.services.invoker.provision(name)
    return json_response(_shape(config), 202)


async def get_provisioned_concurrency_config(call: Call) -> Response:
    """GetProvisionedConcurrencyConfig, or ListProvisionedConcurrencyConfigs: the same path with `List=ALL`."""
    if call.request.query.get("List") == "ALL":
        return await _list(call)
    name, qualifier = call.target()
    return json_response(_shape(await call.registry.get_provisioned(name, qualifier)))


async def delete_provisioned_concurrency_config(call: Call) -> Response:
    name, qualifier = call.target()
    await call.registry.delete_provisioned(name, qualifier)
    await call.services.invoker.provision(name)
    return no_content()


async def _list(call: Call) -> Response:
    configs, marker = await call.registry.list_provisioned(call.endpoint.function_name,
                                                           call.request.query.get("Marker"), max_items(call, 50, 50))
    items = [{"FunctionArn": call.registry.arn(config.function_name, config.qualifier), **_shape(config)}
             for config in configs]
    return json_response(shapes.page("ProvisionedConcurrencyConfigs", items, marker))
