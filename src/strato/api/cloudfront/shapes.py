"""CloudFront's response shapes (Distribution, DistributionSummary, DistributionList,
Invalidation, InvalidationList) and request shapes other than DistributionConfig
(InvalidationBatch, DistributionConfigWithTags), built as Nodes in this one place."""

from __future__ import annotations

from collections.abc import Mapping

from strato.cdn.records import Distribution, DistributionConfig, Invalidation
from strato.xmltree import Node, iso8601

from .config_xml import config_node, parse_config
from .wire import build, item_nodes, quantity_list, required, required_text

# What a DistributionSummary repeats of its configuration as GetDistribution answers it (with
# CloudFront's defaults for what was left out): these members before Staging, those after it.
_SUMMARY_CONFIG = ("Aliases", "Origins", "DefaultCacheBehavior", "CacheBehaviors", "CustomErrorResponses", "Comment",
                   "PriceClass", "Enabled", "HttpVersion", "IsIPV6Enabled")
_SUMMARY_EXTRAS = ("OriginGroups", "ViewerCertificate", "Restrictions", "WebACLId")


def _active_key_groups(config: DistributionConfig, keys: Mapping[str, Mapping[str, str]]) -> Node:
    """API_ActiveTrustedKeyGroups: the trusted key groups, each with its public keys' ids (`keys`:
    group id -> {public key id: PEM})."""
    groups = config.trusted_key_groups()
    items = (build("KeyGroup", ("KeyGroupId", group), ("KeyPairIds", quantity_list(
        "KeyPairIds", (Node("KeyPairId", key_id) for key_id in keys.get(group, {}))))) for group in groups)
    return quantity_list("ActiveTrustedKeyGroups", items, ("Enabled", bool(groups)))


def distribution_node(distribution: Distribution, keys: Mapping[str, Mapping[str, str]]) -> Node:
    return build(
        "Distribution",
        ("Id", distribution.id),
        ("ARN", distribution.arn),
        ("Status", distribution.status),
        ("LastModifiedTime", iso8601(distribution.last_modified)),
        ("InProgressInvalidationBatches", 0),
        ("DomainName", distribution.domain_name),
        ("ActiveTrustedSigners", quantity_list("ActiveTrustedSigners", (), ("Enabled", False))),
        ("ActiveTrustedKeyGroups", _active_key_groups(distribution.config, keys)),
        ("DistributionConfig", config_node(distribution.config)),
    )


def summary_node(distribution: Distribution) -> Node:
    answered = {child.tag: child for child in config_node(distribution.config).children}
    summary = build(
        "DistributionSummary",
        ("Id", distribution.id),
        ("ARN", distribution.arn),
        ("ETag", distribution.etag),
        ("Status", distribution.status),
        ("LastModifiedTime", iso8601(distribution.last_modified)),
        ("DomainName", distribution.domain_name),
    )
    summary.children.extend(answered[name] for name in _SUMMARY_CONFIG)
    summary.children.append(Node("Staging", "false"))
    summary.children.extend(answered[name] for name in _SUMMARY_EXTRAS)
    return summary


def _page(tag: str, marker: str, max_items: int, next_marker: str | None, items: list[Node]) -> Node:
    return quantity_list(tag, items, ("Marker", marker), ("NextMarker", next_marker), ("MaxItems", max_items),
                         ("IsTruncated", next_marker is not None))


def distribution_list_node(page: list[Distribution], marker: str, max_items: int, next_marker: str | None) -> Node:
    return _page("DistributionList", marker, max_items, next_marker, [summary_node(item) for item in page])


def _batch_node(invalidation: Invalidation) -> Node:
    paths = quantity_list("Paths", (Node("Path", path) for path in invalidation.paths))
    return build("InvalidationBatch", ("Paths", paths), ("CallerReference", invalidation.caller_reference))


def invalidation_node(invalidation: Invalidation) -> Node:
    return build("Invalidation", ("Id", invalidation.id), ("Status", invalidation.status),
                 ("CreateTime", iso8601(invalidation.create_time)), ("InvalidationBatch", _batch_node(invalidation)))


def invalidation_list_node(page: list[Invalidation], marker: str, max_items: int, next_marker: str | None) -> Node:
    items = [build("InvalidationSummary", ("Id", item.id), ("CreateTime", iso8601(item.create_time)),
                   ("Status", item.status)) for item in page]
    return _page("InvalidationList", marker, max_items, next_marker, items)


def parse_batch(node: Node) -> tuple[str, tuple[str, ...]]:
    """An InvalidationBatch: (CallerReference, paths)."""
    paths = tuple(item.text for item in item_nodes(required(node, "Paths"), "Path"))
    return required_text(node, "CallerReference"), paths


def parse_tags(node: Node) -> tuple[tuple[str, str], ...]:
    """A Tags element: (key, value) pairs, a missing value being empty."""
    items = node.find("Items")
    return tuple((required_text(tag, "Key"), tag.text_of("Value", "") or "")
                 for tag in (items.find_all("Tag") if items is not None else []))


def tags_node(tags: tuple[tuple[str, str], ...]) -> Node:
    return Node("Tags", children=[Node("Items", children=[
        build("Tag", ("Key", key), ("Value", value)) for key, value in tags])])


def parse_tag_keys(node: Node) -> tuple[str, ...]:
    items = node.find("Items")
    return tuple(key.text for key in (items.find_all("Key") if items is not None else []))


def parse_config_with_tags(node: Node) -> tuple[DistributionConfig, tuple[tuple[str, str], ...]]:
    return parse_config(required(node, "DistributionConfig")), parse_tags(required(node, "Tags"))
