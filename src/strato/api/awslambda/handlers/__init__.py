"""One handler per Lambda operation, found by the router's operation name."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from strato.http.responses import Response

from ..call import Call
from . import (
    aliases,
    concurrency,
    event_config,
    function_urls,
    functions,
    invoke,
    layers,
    logs,
    policy,
    provisioned,
    runtime_settings,
    tags,
    versions,
)

Handler = Callable[[Call], Awaitable[Response]]
# Starts the operation without awaiting when it can (then gives None and, later, the response
# or the error to its callback); else gives what to await. For the warm invoke's path.
Starter = Callable[[Call, Callable[[Response | BaseException], None]], Awaitable[Response] | None]

HANDLERS: dict[str, Handler] = {
    "GetRuntimeManagementConfig": runtime_settings.get_runtime_management_config,
    "PutRuntimeManagementConfig": runtime_settings.put_runtime_management_config,
    "GetFunctionRecursionConfig": runtime_settings.get_function_recursion_config,
    "PutFunctionRecursionConfig": runtime_settings.put_function_recursion_config,
    "CreateFunction": functions.create_function,
    "GetFunction": functions.get_function,
    "GetFunctionCode": functions.get_function_code,
    "GetFunctionConfiguration": functions.get_function_configuration,
    "GetFunctionCodeSigningConfig": functions.get_function_code_signing_config,
    "ListFunctions": functions.list_functions,
    "UpdateFunctionCode": functions.update_function_code,
    "UpdateFunctionConfiguration": functions.update_function_configuration,
    "DeleteFunction": functions.delete_function,
    "PublishVersion": versions.publish_version,
    "ListVersionsByFunction": versions.list_versions_by_function,
    "CreateAlias": aliases.create_alias,
    "GetAlias": aliases.get_alias,
    "UpdateAlias": aliases.update_alias,
    "ListAliases": aliases.list_aliases,
    "DeleteAlias": aliases.delete_alias,
    "PutFunctionConcurrency": concurrency.put_function_concurrency,
    "GetFunctionConcurrency": concurrency.get_function_concurrency,
    "DeleteFunctionConcurrency": concurrency.delete_function_concurrency,
    "GetAccountSettings": concurrency.get_account_settings,
    "PutProvisionedConcurrencyConfig": provisioned.put_provisioned_concurrency_config,
    "GetProvisionedConcurrencyConfig": provisioned.get_provisioned_concurrency_config,
    "DeleteProvisionedConcurrencyConfig": provisioned.delete_provisioned_concurrency_config,
    "TagResource": tags.tag_resource,
    "UntagResource": tags.untag_resource,
    "ListTags": tags.list_tags,
    "AddPermission": policy.add_permission,
    "RemovePermission": policy.remove_permission,
    "GetPolicy": policy.get_policy,
    "PutFunctionEventInvokeConfig": event_config.put_function_event_invoke_config,
    "UpdateFunctionEventInvokeConfig": event_config.update_function_event_invoke_config,
    "GetFunctionEventInvokeConfig": event_config.get_function_event_invoke_config,
    "DeleteFunctionEventInvokeConfig": event_config.delete_function_event_invoke_config,
    "ListFunctionEventInvokeConfigs": event_config.list_function_event_invoke_configs,
    "CreateFunctionUrlConfig": function_urls.create_function_url_config,
    "GetFunctionUrlConfig": function_urls.get_function_url_config,
    "UpdateFunctionUrlConfig": function_urls.update_function_url_config,
    "DeleteFunctionUrlConfig": function_urls.delete_function_url_config,
    "ListFunctionUrlConfigs": function_urls.list_function_url_configs,
    "PublishLayerVersion": layers.publish_layer_version,
    "GetLayerVersion": layers.get_layer_version,
    "GetLayerVersionContent": layers.get_layer_version_content,
    "ListLayers": layers.list_layers,
    "ListLayerVersions": layers.list_layer_versions,
    "DeleteLayerVersion": layers.delete_layer_version,
    "AddLayerVersionPermission": layers.add_layer_version_permission,
    "RemoveLayerVersionPermission": layers.remove_layer_version_permission,
    "GetLayerVersionPolicy": layers.get_layer_version_policy,
    "Invoke": invoke.invoke,
    "InvokeWithResponseStream": invoke.invoke_with_response_stream,
    "GetFunctionLogs": logs.get_function_logs,
}

STARTERS: dict[str, Starter] = {"Invoke": invoke.start}
