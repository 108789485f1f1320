"""TagResource, UntagResource and ListTags (Lambda API reference pages of each): a function's
tags, named by its unqualified ARN."""

from __future__ import annotations

from strato.http.responses import Response

from .. import tagging
from ..call import Call
from .common import json_response, no_content


def _function(call: Call) -> str:
    return tagging.tagged_function(call.endpoint.resource, call.services.settings.region)


async def list_tags(call: Call) -> Response:
    return json_response({"Tags": await call.registry.tags(_function(call))})


async def tag_resource(call: Call) -> Response:
    tags = tagging.tags(call.body().mapping("Tags"), required=True)
    await call.registry.tag(_function(call), tags)
    return no_content()


async def untag_resource(call: Call) -> Response:
    keys = tagging.tag_keys([value for name, value in call.request.query_list if name == "tagKeys"])
    await call.registry.untag(_function(call), keys)
    return no_content()
