"""PublishVersion and ListVersionsByFunction (Lambda API reference pages of each)."""

from __future__ import annotations

from strato.http.responses import Response

from .. import shapes
from ..call import Call
from .common import json_response, max_items


async def publish_version(call: Call) -> Response:
    body = call.body()
    record = await call.registry.publish_version(
        call.endpoint.function_name, code_sha256=body.text("CodeSha256"), description=shapes.description(body),
        revision_id=body.text("RevisionId"),
    )
    return json_response(shapes.function_configuration(call.registry, record), 201)


async def list_versions_by_function(call: Call) -> Response:
    records, marker = await call.registry.list_versions(call.endpoint.function_name,
                                                        call.request.query.get("Marker"), max_items(call))
    versions = [shapes.function_configuration(call.registry, record, record.version, listed=True)
                for record in records]
    return json_response(shapes.page("Versions", versions, marker))
