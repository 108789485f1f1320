"""CreateAlias, GetAlias, UpdateAlias (with weighted RoutingConfig), ListAliases, DeleteAlias
(Lambda API reference pages of each)."""

from __future__ import annotations

import re

from strato.functions.arns import check_alias_name
from strato.http.responses import Response

from .. import shapes
from ..call import Call
from ..errors import validation_error
from .common import json_response, max_items, no_content

_VERSION = re.compile(r"(\$LATEST|[0-9]+)")  # botocore's Version shape (ListAliases' FunctionVersion)


async def create_alias(call: Call) -> Response:
    body = call.body()
    name = body.required("Name")
    version = body.required("FunctionVersion")
    check_alias_name(name)
    alias = await call.registry.create_alias(call.endpoint.function_name, name, version,
                                             description=shapes.description(body) or "",
                                             weights=shapes.weights(body))
    return json_response(shapes.alias_configuration(call.registry, alias), 201)


async def get_alias(call: Call) -> Response:
    alias = await call.registry.get_alias(call.endpoint.function_name, call.endpoint.alias)
    return json_response(shapes.alias_configuration(call.registry, alias))


async def update_alias(call: Call) -> Response:
    body = call.body()
    alias = await call.registry.update_alias(
        call.endpoint.function_name, call.endpoint.alias, version=body.text("FunctionVersion"),
        description=shapes.description(body), weights=shapes.weights(body), revision_id=body.text("RevisionId"),
    )
    await call.services.invoker.provision(alias.function_name)  # its provisioned environments follow it
    return json_response(shapes.alias_configuration(call.registry, alias))


async def list_aliases(call: Call) -> Response:
    query = call.request.query
    version = query.get("FunctionVersion") or None
    if version is not None and not _VERSION.fullmatch(version):
        raise validation_error(version, "functionVersion", f"Member must satisfy regular expression pattern: "
                                                           f"{_VERSION.pattern}")
    aliases, marker = await call.registry.list_aliases(call.endpoint.function_name, version, query.get("Marker"),
                                                       max_items(call))
    items = [shapes.alias_configuration(call.registry, alias) for alias in aliases]
    return json_response(shapes.page("Aliases", items, marker))


async def delete_alias(call: Call) -> Response:
    await call.registry.delete_alias(call.endpoint.function_name, call.endpoint.alias)
    await call.services.invoker.provision(call.registry.split(call.endpoint.function_name)[0])  # its configuration went
    return no_content()
