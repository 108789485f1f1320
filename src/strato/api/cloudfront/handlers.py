"""One handler per CloudFront operation: parse the request shape, call the registry (in a
thread: its commits wait for fsync), render the response shape with CloudFront's headers."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from strato.cdn.managed import managed_etag
from strato.cdn.records import Distribution, Resource
from strato.cdn.registry import DistributionRegistry
from strato.cdn.resources import Kind
from strato.digits import is_digits
from strato.http.request import Request
from strato.http.responses import Response
from strato.xmltree import Node, parse, serialize

from .config_xml import config_node, parse_config
from .errors import NAMESPACE, CloudFrontError, malformed_input
from .policies_xml import POLICY_XML, PolicyXml
from .resources_xml import RESOURCE_XML, ResourceXml
from .router import POLICIES, RESOURCES, VERSION, Endpoint, list_operation
from .shapes import (
    distribution_list_node,
    distribution_node,
    invalidation_list_node,
    invalidation_node,
    parse_batch,
    parse_config_with_tags,
    parse_tag_keys,
    parse_tags,
    tags_node,
)

MAX_ITEMS = 1000
MAX_CUSTOM_POLICIES = 10_000  # listed whole, with the managed ones (CloudFront's quota is 20 of each kind)


@dataclass(slots=True)
class Call:
    request: Request
    endpoint: Endpoint
    body: bytes
    registry: DistributionRegistry

    def document(self, root: str) -> Node:
        if not self.body.strip():
            raise CloudFrontError("MissingBody", "This operation requires a body. Ensure that the body is present "
                                  "and the Content-Type header is set.")
        node = parse(self.body)
        if node.tag != root:
            raise malformed_input(f"The request body must be a {root} document, not {node.tag}.")
        return node

    def location(self, *parts: str) -> str:
        host = self.request.headers.get("host", "localhost")
        return f"{self.request.scheme}://{host}/{VERSION}/" + "/".join(parts)

    def page(self) -> tuple[str, int]:
        """Marker and MaxItems from the query string."""
        text = self.request.query.get("MaxItems", "100")
        # Thousands of digits are more than int() reads: no number of so many digits is in range.
        if not is_digits(text) or len(text) > 9 or not 0 < int(text) <= MAX_ITEMS:
            raise CloudFrontError("InvalidArgument", f"MaxItems must be an integer from 1 to {MAX_ITEMS}.")
        return self.request.query.get("Marker", ""), int(text)


def xml(node: Node, status: int = 200, headers: list[tuple[str, str]] | None = None) -> Response:
    return Response(status, [("content-type", "text/xml"), *(headers or [])], serialize(node, NAMESPACE))


async def create_distribution(call: Call) -> Response:
    if call.endpoint.operation == "CreateDistributionWithTags":
        config, tags = parse_config_with_tags(call.document("DistributionConfigWithTags"))
    else:
        config, tags = parse_config(call.document("DistributionConfig")), ()
    distribution = await asyncio.to_thread(call.registry.create, config, tags)
    return xml(await _distribution_node(call, distribution), 201, [
        ("location", call.location("distribution", distribution.id)), ("etag", distribution.etag)])


async def get_distribution(call: Call) -> Response:
    distribution = await asyncio.to_thread(call.registry.get, call.endpoint.distribution_id)
    return xml(await _distribution_node(call, distribution), headers=[("etag", distribution.etag)])


async def _distribution_node(call: Call, distribution: Distribution) -> Node:
    """The Distribution answered, with the public keys of the key groups it trusts."""
    groups = distribution.config.trusted_key_groups()
    keys = await asyncio.to_thread(call.registry.resources.key_groups, groups) if groups else {}
    return distribution_node(distribution, keys)


async def get_distribution_config(call: Call) -> Response:
    distribution = await asyncio.to_thread(call.registry.get, call.endpoint.distribution_id)
    return xml(config_node(distribution.config), headers=[("etag", distribution.etag)])


async def list_distributions(call: Call) -> Response:
    marker, max_items = call.page()
    page, next_marker = await asyncio.to_thread(call.registry.list_distributions, marker, max_items)
    return xml(distribution_list_node(page, marker, max_items, next_marker))


async def update_distribution(call: Call) -> Response:
    config = parse_config(call.document("DistributionConfig"))
    distribution = await asyncio.to_thread(call.registry.update, call.endpoint.distribution_id, config,
                                           call.request.headers.get("if-match"))
    return xml(await _distribution_node(call, distribution), headers=[("etag", distribution.etag)])


async def delete_distribution(call: Call) -> Response:
    await asyncio.to_thread(call.registry.delete, call.endpoint.distribution_id,
                            call.request.headers.get("if-match"))
    return Response(204)


async def create_invalidation(call: Call) -> Response:
    caller_reference, paths = parse_batch(call.document("InvalidationBatch"))
    distribution_id = call.endpoint.distribution_id
    invalidation, _ = await asyncio.to_thread(call.registry.create_invalidation, distribution_id,
                                              caller_reference, paths)
    location = call.location("distribution", distribution_id, "invalidation", invalidation.id)
    return xml(invalidation_node(invalidation), 201, [("location", location)])


async def get_invalidation(call: Call) -> Response:
    invalidation = await asyncio.to_thread(call.registry.get_invalidation, call.endpoint.distribution_id,
                                           call.endpoint.invalidation_id)
    return xml(invalidation_node(invalidation))


async def list_invalidations(call: Call) -> Response:
    marker, max_items = call.page()
    page, next_marker = await asyncio.to_thread(call.registry.list_invalidations, call.endpoint.distribution_id,
                                                marker, max_items)
    return xml(invalidation_list_node(page, marker, max_items, next_marker))


async def list_tags(call: Call) -> Response:
    tags = await asyncio.to_thread(call.registry.tags, call.endpoint.resource_id)
    return xml(tags_node(tags))


async def tag_resource(call: Call) -> Response:
    await asyncio.to_thread(call.registry.tag, call.endpoint.resource_id, parse_tags(call.document("Tags")))
    return Response(204)


async def untag_resource(call: Call) -> Response:
    await asyncio.to_thread(call.registry.untag, call.endpoint.resource_id, parse_tag_keys(call.document("TagKeys")))
    return Response(204)


def _resource_xml(call: Call) -> ResourceXml:
    return RESOURCE_XML[call.endpoint.resource]


async def create_resource(call: Call) -> Response:
    spec = _resource_xml(call)
    config = spec.parse(call.document(spec.config_tag))
    resource = await asyncio.to_thread(call.registry.resources.create, spec.kind, config)
    return xml(spec.node(resource), 201, [
        ("location", call.location(call.endpoint.resource, resource.id)), ("etag", resource.etag)])


async def get_resource(call: Call) -> Response:
    spec = _resource_xml(call)
    resource = await asyncio.to_thread(call.registry.resources.get, spec.kind, call.endpoint.resource_id)
    return xml(spec.node(resource), headers=[("etag", resource.etag)])


async def get_resource_config(call: Call) -> Response:
    spec = _resource_xml(call)
    resource = await asyncio.to_thread(call.registry.resources.get, spec.kind, call.endpoint.resource_id)
    return xml(spec.config_node(resource.config), headers=[("etag", resource.etag)])


async def list_resources(call: Call) -> Response:
    spec = _resource_xml(call)
    marker, max_items = call.page()
    page, next_marker = await asyncio.to_thread(call.registry.resources.list_page, spec.kind, marker, max_items)
    return xml(spec.list_node(page, marker, max_items, next_marker))


async def update_resource(call: Call) -> Response:
    spec = _resource_xml(call)
    config = spec.parse(call.document(spec.config_tag))
    resource = await asyncio.to_thread(call.registry.resources.update, spec.kind, call.endpoint.resource_id,
                                       config, call.request.headers.get("if-match"))
    return xml(spec.node(resource), headers=[("etag", resource.etag)])


async def delete_resource(call: Call) -> Response:
    await asyncio.to_thread(call.registry.resources.delete, _resource_xml(call).kind, call.endpoint.resource_id,
                            call.request.headers.get("if-match"))
    return Response(204)


def _spec(call: Call) -> PolicyXml[Any]:
    spec: PolicyXml[Any] = POLICY_XML[call.endpoint.resource]
    return spec


def _custom(call: Call) -> Kind[Any] | None:
    """The resource kind of the account's own policy the request names (None: a managed one)."""
    spec = _spec(call)
    return spec.kind if call.endpoint.resource_id not in spec.managed else None


async def get_policy(call: Call) -> Response:
    policy_id, spec, kind = call.endpoint.resource_id, _spec(call), _custom(call)
    if kind is not None:
        policy = await asyncio.to_thread(call.registry.resources.get, kind, policy_id)
        return xml(spec.custom_node(policy), headers=[("etag", policy.etag)])
    return xml(spec.node(policy_id), headers=[("etag", managed_etag(policy_id))])


async def get_policy_config(call: Call) -> Response:
    policy_id, spec, kind = call.endpoint.resource_id, _spec(call), _custom(call)
    if kind is not None:
        policy = await asyncio.to_thread(call.registry.resources.get, kind, policy_id)
        return xml(spec.config_node(policy.config), headers=[("etag", policy.etag)])
    return xml(spec.config(policy_id), headers=[("etag", managed_etag(policy_id))])


async def list_policies(call: Call) -> Response:
    """Type `managed`, `custom` or left out (both)."""
    marker, max_items = call.page()
    listed = call.request.query.get("Type", "all")
    if listed not in ("managed", "custom", "all"):
        raise CloudFrontError("InvalidArgument", "Type must be managed or custom.")
    spec = _spec(call)
    custom: list[Resource[Any]] = []
    if listed != "managed":
        custom, _ = await asyncio.to_thread(call.registry.resources.list_page, spec.kind, "", MAX_CUSTOM_POLICIES)
    return xml(spec.list_node(listed != "custom", custom, marker, max_items))


def _config(call: Call, spec: PolicyXml[Any]) -> Any:
    """The policy config a Create or Update sends; no managed policy's name."""
    config = spec.parse(call.document(f"{spec.tag}Config"))
    if any(policy.name == config.name for policy in spec.managed.values()):
        raise CloudFrontError(f"{spec.tag}AlreadyExists", f"A managed policy is named {config.name}.", 409)
    return config


def _own(call: Call, code: str, done: str) -> Kind[Any]:
    """The kind of the account's own policy an Update or Delete names; a managed one cannot be changed."""
    kind = _custom(call)
    if kind is None:
        raise CloudFrontError(code, f"The managed policy {call.endpoint.resource_id} cannot be {done}.")
    return kind


async def create_policy(call: Call) -> Response:
    spec = _spec(call)
    policy = await asyncio.to_thread(call.registry.resources.create, spec.kind, _config(call, spec))
    return xml(spec.custom_node(policy), 201, [
        ("location", call.location(call.endpoint.resource, policy.id)), ("etag", policy.etag)])


async def update_policy(call: Call) -> Response:
    spec, kind = _spec(call), _own(call, "IllegalUpdate", "updated")
    policy = await asyncio.to_thread(call.registry.resources.update, kind, call.endpoint.resource_id,
                                     _config(call, spec), call.request.headers.get("if-match"))
    return xml(spec.custom_node(policy), headers=[("etag", policy.etag)])


async def delete_policy(call: Call) -> Response:
    await asyncio.to_thread(call.registry.resources.delete, _own(call, "IllegalDelete", "deleted"),
                            call.endpoint.resource_id, call.request.headers.get("if-match"))
    return Response(204)


async def follow_invalidations(call: Call) -> Response:
    """Invalidated paths after sequence number `since`, oldest first: standalone edges poll this."""
    since = call.request.query.get("since", "0")
    if not is_digits(since) or len(since) > 18:  # SQLite's integers have 19 digits at most
        raise CloudFrontError("InvalidArgument", "since must be a sequence number")
    feed, rows = await asyncio.to_thread(call.registry.invalidations_since, int(since))
    body = json.dumps({"feed": feed, "invalidations": [{"seq": seq, "distribution": distribution, "path": path}
                                                       for seq, distribution, path in rows]})
    return Response(200, [("content-type", "application/json")], body.encode())


HANDLERS: dict[str, Callable[[Call], Awaitable[Response]]] = {
    "FollowInvalidations": follow_invalidations,
    "CreateDistribution": create_distribution,
    "CreateDistributionWithTags": create_distribution,
    "GetDistribution": get_distribution,
    "GetDistributionConfig": get_distribution_config,
    "ListDistributions": list_distributions,
    "UpdateDistribution": update_distribution,
    "DeleteDistribution": delete_distribution,
    "CreateInvalidation": create_invalidation,
    "GetInvalidation": get_invalidation,
    "ListInvalidations": list_invalidations,
    "ListTagsForResource": list_tags,
    "TagResource": tag_resource,
    "UntagResource": untag_resource,
}
for _stem in RESOURCES.values():
    HANDLERS.update({
        f"Create{_stem}": create_resource, f"Get{_stem}": get_resource, f"Get{_stem}Config": get_resource_config,
        list_operation(_stem): list_resources, f"Update{_stem}": update_resource, f"Delete{_stem}": delete_resource,
    })
for _stem in POLICIES.values():
    HANDLERS.update({
        f"Create{_stem}": create_policy, f"Get{_stem}": get_policy, f"Get{_stem}Config": get_policy_config,
        list_operation(_stem): list_policies, f"Update{_stem}": update_policy,
        f"Delete{_stem}": delete_policy,
    })
