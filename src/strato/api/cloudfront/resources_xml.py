"""Public keys, key groups, origin access controls and origin access identities <-> XML
(https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_PublicKey.html,
API_KeyGroup.html, API_OriginAccessControl.html, API_CloudFrontOriginAccessIdentity.html): one
ResourceXml per kind, so that the handlers serve every kind alike."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from strato.cdn.records import (
    KeyGroupConfig,
    OriginAccessControlConfig,
    OriginAccessIdentityConfig,
    PublicKeyConfig,
    Resource,
)
from strato.cdn.resources import (
    KEY_GROUP,
    ORIGIN_ACCESS_CONTROL,
    ORIGIN_ACCESS_IDENTITY,
    PUBLIC_KEY,
    Kind,
    s3_canonical_user_id,
)
from strato.xmltree import Node, iso8601

from .wire import build, quantity_list, required, required_text, text


def _public_key_config(node: Node) -> PublicKeyConfig:
    return PublicKeyConfig(required_text(node, "CallerReference"), required_text(node, "Name"),
                           required_text(node, "EncodedKey"), text(node, "Comment"))


def _public_key_config_node(config: PublicKeyConfig) -> Node:
    return build("PublicKeyConfig", ("CallerReference", config.caller_reference), ("Name", config.name),
                  ("EncodedKey", config.encoded_key), ("Comment", config.comment))


def _public_key_node(key: Resource[PublicKeyConfig]) -> Node:
    return build("PublicKey", ("Id", key.id), ("CreatedTime", iso8601(key.created)),
                 ("PublicKeyConfig", _public_key_config_node(key.config)))


def _public_key_summary(key: Resource[PublicKeyConfig]) -> Node:
    return build("PublicKeySummary", ("Id", key.id), ("Name", key.config.name),
                 ("CreatedTime", iso8601(key.created)), ("EncodedKey", key.config.encoded_key),
                 ("Comment", key.config.comment))


def _key_group_config(node: Node) -> KeyGroupConfig:
    items = tuple(item.text for item in required(node, "Items").find_all("PublicKey"))
    return KeyGroupConfig(required_text(node, "Name"), items, text(node, "Comment"))


def _key_group_config_node(config: KeyGroupConfig) -> Node:
    items = Node("Items", children=[Node("PublicKey", key) for key in config.items])
    return build("KeyGroupConfig", ("Name", config.name), ("Items", items), ("Comment", config.comment))


def _key_group_node(group: Resource[KeyGroupConfig]) -> Node:
    return build("KeyGroup", ("Id", group.id), ("LastModifiedTime", iso8601(group.modified)),
                 ("KeyGroupConfig", _key_group_config_node(group.config)))


def _key_group_summary(group: Resource[KeyGroupConfig]) -> Node:
    return build("KeyGroupSummary", ("KeyGroup", _key_group_node(group)))


def _oac_config(node: Node) -> OriginAccessControlConfig:
    return OriginAccessControlConfig(
        required_text(node, "Name"), required_text(node, "SigningProtocol"), required_text(node, "SigningBehavior"),
        required_text(node, "OriginAccessControlOriginType"), text(node, "Description"),
    )


def _oac_fields(config: OriginAccessControlConfig) -> tuple[tuple[str, str | None], ...]:
    return (("Name", config.name), ("Description", config.description),
            ("SigningProtocol", config.signing_protocol), ("SigningBehavior", config.signing_behavior),
            ("OriginAccessControlOriginType", config.origin_type))


def _oac_config_node(config: OriginAccessControlConfig) -> Node:
    return build("OriginAccessControlConfig", *_oac_fields(config))


def _oac_node(oac: Resource[OriginAccessControlConfig]) -> Node:
    return build("OriginAccessControl", ("Id", oac.id), ("OriginAccessControlConfig", _oac_config_node(oac.config)))


def _oac_summary(oac: Resource[OriginAccessControlConfig]) -> Node:
    fields = [(name, value if value is not None else "") for name, value in _oac_fields(oac.config)]
    return build("OriginAccessControlSummary", ("Id", oac.id), *fields)


def _oai_config(node: Node) -> OriginAccessIdentityConfig:
    return OriginAccessIdentityConfig(required_text(node, "CallerReference"), text(node, "Comment") or "")


def _oai_config_node(config: OriginAccessIdentityConfig) -> Node:
    return build("CloudFrontOriginAccessIdentityConfig", ("CallerReference", config.caller_reference),
                 ("Comment", config.comment))


def _oai_node(oai: Resource[OriginAccessIdentityConfig]) -> Node:
    return build("CloudFrontOriginAccessIdentity", ("Id", oai.id), ("S3CanonicalUserId", s3_canonical_user_id(oai.id)),
                 ("CloudFrontOriginAccessIdentityConfig", _oai_config_node(oai.config)))


def _oai_summary(oai: Resource[OriginAccessIdentityConfig]) -> Node:
    return build("CloudFrontOriginAccessIdentitySummary", ("Id", oai.id),
                 ("S3CanonicalUserId", s3_canonical_user_id(oai.id)), ("Comment", oai.config.comment))


@dataclass(frozen=True, slots=True)
class ResourceXml:
    """How one kind of resource reads and writes: its config document, the resource itself,
    its list summary, and its list (OriginAccessControlList also carries Marker and IsTruncated)."""

    kind: Kind[Any]
    config_tag: str
    parse: Callable[[Node], Any]
    config_node: Callable[[Any], Node]
    node: Callable[[Any], Node]
    summary: Callable[[Any], Node]
    list_tag: str
    marker_and_truncation: bool = False

    def list_node(self, page: list[Any], marker: str, max_items: int, next_marker: str | None) -> Node:
        fields: list[tuple[str, str | int | bool | None]] = []
        if self.marker_and_truncation:
            fields.append(("Marker", marker))
        fields += [("NextMarker", next_marker), ("MaxItems", max_items)]
        if self.marker_and_truncation:
            fields.append(("IsTruncated", next_marker is not None))
        return quantity_list(self.list_tag, (self.summary(item) for item in page), *fields)


RESOURCE_XML = {
    "public-key": ResourceXml(PUBLIC_KEY, "PublicKeyConfig", _public_key_config, _public_key_config_node,
                              _public_key_node, _public_key_summary, "PublicKeyList"),
    "key-group": ResourceXml(KEY_GROUP, "KeyGroupConfig", _key_group_config, _key_group_config_node,
                             _key_group_node, _key_group_summary, "KeyGroupList"),
    "origin-access-control": ResourceXml(ORIGIN_ACCESS_CONTROL, "OriginAccessControlConfig", _oac_config,
                                         _oac_config_node, _oac_node, _oac_summary, "OriginAccessControlList",
                                         marker_and_truncation=True),
    "origin-access-identity/cloudfront": ResourceXml(
        ORIGIN_ACCESS_IDENTITY, "CloudFrontOriginAccessIdentityConfig", _oai_config, _oai_config_node, _oai_node,
        _oai_summary, "CloudFrontOriginAccessIdentityList", marker_and_truncation=True),
}
