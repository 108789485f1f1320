"""Policies <-> XML: CachePolicy, OriginRequestPolicy and ResponseHeadersPolicy, their configs
and lists (API_GetCachePolicy, API_ListCachePolicies and their twins for the other two kinds),
built as Nodes in this one place; and the configs of custom cache and origin request policies
read (API_CreateCachePolicy, API_CachePolicyConfig, API_OriginRequestPolicyConfig). A response
headers policy's config, larger, has its own module (response_headers_xml)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from strato.cdn import cache_policies, origin_request_policies, response_headers_policies
from strato.cdn.cache_policies import YEAR, CachePolicy
from strato.cdn.errors import CdnError, NoSuchCachePolicy, NoSuchOriginRequestPolicy, NoSuchResponseHeadersPolicy
from strato.cdn.managed import LAST_MODIFIED, Selection
from strato.cdn.origin_request_policies import OriginRequestPolicy
from strato.cdn.records import Resource
from strato.cdn.resources import CACHE_POLICY, ORIGIN_REQUEST_POLICY, RESPONSE_HEADERS_POLICY, Kind
from strato.cdn.response_headers_policies import ResponseHeadersPolicy
from strato.xmltree import Node, iso8601

from .response_headers_xml import parse_response_headers_policy_config, response_headers_policy_config
from .wire import (
    boolean,
    build,
    integer,
    quantity_list,
    required,
    required_boolean,
    required_integer,
    required_text,
    strings,
    text,
)

DEFAULT_TTL = 86400  # a CachePolicyConfig's DefaultTTL and MaxTTL when left out (API_CachePolicyConfig)

P = TypeVar("P", CachePolicy, OriginRequestPolicy, ResponseHeadersPolicy)


# A policy's HeadersConfig, CookiesConfig and QueryStringsConfig: (element, behaviour, list of names).
_HEADERS = ("HeadersConfig", "HeaderBehavior", "Headers")
_COOKIES = ("CookiesConfig", "CookieBehavior", "Cookies")
_QUERY_STRINGS = ("QueryStringsConfig", "QueryStringBehavior", "QueryStrings")


def _selection(tags: tuple[str, str, str], selection: Selection) -> Node:
    """A HeadersConfig, CookiesConfig or QueryStringsConfig; its list of names only when it has some."""
    tag, behavior, names = tags
    listed = quantity_list(names, (Node("Name", name) for name in selection.names)) if selection.names else None
    return build(tag, (behavior, selection.behavior), (names, listed))


def _read_selection(node: Node, tags: tuple[str, str, str]) -> Selection:
    tag, behavior, names = tags
    config = required(node, tag)
    return Selection(required_text(config, behavior), strings(config, names, "Name") or ())


def parse_cache_policy_config(node: Node) -> CachePolicy:
    """A CachePolicyConfig as CreateCachePolicy and UpdateCachePolicy send it (checked by the
    registry); when left out, DefaultTTL is 86400 (MinTTL if more) and MaxTTL 31536000 (DefaultTTL
    if more), as CloudFront takes them."""
    parameters = required(node, "ParametersInCacheKeyAndForwardedToOrigin")
    min_ttl = required_integer(node, "MinTTL")
    default_ttl = integer(node, "DefaultTTL")
    if default_ttl is None:
        default_ttl = max(DEFAULT_TTL, min_ttl)
    max_ttl = integer(node, "MaxTTL")
    return CachePolicy(
        name=required_text(node, "Name"), comment=text(node, "Comment") or "", min_ttl=min_ttl,
        default_ttl=default_ttl, max_ttl=max(YEAR, default_ttl) if max_ttl is None else max_ttl,
        headers=_read_selection(parameters, _HEADERS), cookies=_read_selection(parameters, _COOKIES),
        query_strings=_read_selection(parameters, _QUERY_STRINGS),
        gzip=required_boolean(parameters, "EnableAcceptEncodingGzip"),
        brotli=bool(boolean(parameters, "EnableAcceptEncodingBrotli")),
    )


def parse_origin_request_policy_config(node: Node) -> OriginRequestPolicy:
    """An OriginRequestPolicyConfig as CreateOriginRequestPolicy and UpdateOriginRequestPolicy
    send it (checked by the registry)."""
    return OriginRequestPolicy(
        name=required_text(node, "Name"), comment=text(node, "Comment") or "",
        headers=_read_selection(node, _HEADERS), cookies=_read_selection(node, _COOKIES),
        query_strings=_read_selection(node, _QUERY_STRINGS),
    )


def cache_policy_config(policy: CachePolicy) -> Node:
    parameters = build(
        "ParametersInCacheKeyAndForwardedToOrigin", ("EnableAcceptEncodingGzip", policy.gzip),
        ("EnableAcceptEncodingBrotli", policy.brotli), ("HeadersConfig", _selection(_HEADERS, policy.headers)),
        ("CookiesConfig", _selection(_COOKIES, policy.cookies)),
        ("QueryStringsConfig", _selection(_QUERY_STRINGS, policy.query_strings)),
    )
    return build("CachePolicyConfig", ("Comment", policy.comment), ("Name", policy.name),
                 ("DefaultTTL", policy.default_ttl), ("MaxTTL", policy.max_ttl), ("MinTTL", policy.min_ttl),
                 ("ParametersInCacheKeyAndForwardedToOrigin", parameters))


def origin_request_policy_config(policy: OriginRequestPolicy) -> Node:
    return build("OriginRequestPolicyConfig", ("Comment", policy.comment), ("Name", policy.name),
                 ("HeadersConfig", _selection(_HEADERS, policy.headers)),
                 ("CookiesConfig", _selection(_COOKIES, policy.cookies)),
                 ("QueryStringsConfig", _selection(_QUERY_STRINGS, policy.query_strings)))


@dataclass(frozen=True, slots=True)
class PolicyXml(Generic[P]):
    """One kind of policy: its element name (`CachePolicy`...), the managed ones by id, its
    config's shape, the error for an id none has, the resource kind of the account's own and how
    their config reads."""

    tag: str
    managed: Mapping[str, P]
    config_node: Callable[[P], Node]
    missing: type[CdnError]
    kind: Kind[Any]
    parse: Callable[[Node], P]

    def policy(self, policy_id: str) -> P:
        policy = self.managed.get(policy_id)
        if policy is None:
            raise self.missing(f"The {self.tag} {policy_id} does not exist.")
        return policy

    def config(self, policy_id: str) -> Node:
        return self.config_node(self.policy(policy_id))

    def node(self, policy_id: str) -> Node:
        return build(self.tag, ("Id", policy_id), ("LastModifiedTime", iso8601(LAST_MODIFIED)),
                     (f"{self.tag}Config", self.config(policy_id)))

    def custom_node(self, policy: Resource[Any]) -> Node:
        """One of the account's own (custom) policies."""
        return build(self.tag, ("Id", policy.id), ("LastModifiedTime", iso8601(policy.modified)),
                     (f"{self.tag}Config", self.config_node(policy.config)))

    def list_node(self, managed: bool, custom: list[Resource[Any]], marker: str, max_items: int) -> Node:
        """A page of the list after the policy whose id is `marker`: the managed ones by name
        (when `managed`), then the `custom` ones as given, in id order. A marker naming a custom
        policy deleted since the last page goes on after where its id was."""
        nodes = [(policy_id, "managed", self.node(policy_id))
                 for policy_id in sorted(self.managed, key=lambda policy_id: self.managed[policy_id].name)
                 if managed]
        nodes += [(policy.id, "custom", self.custom_node(policy)) for policy in custom]
        ids = [policy_id for policy_id, _, _ in nodes]
        if marker in ids:
            start = ids.index(marker) + 1
        elif marker and marker not in self.managed:
            start = next((at for at, (policy_id, kind, _) in enumerate(nodes)
                          if kind == "custom" and policy_id > marker), len(nodes))
        else:
            start = 0
        page = nodes[start:start + max_items]
        following = nodes[start + max_items:]
        items = (build(f"{self.tag}Summary", ("Type", kind), (self.tag, node)) for _, kind, node in page)
        return quantity_list(f"{self.tag}List", items, ("NextMarker", page[-1][0] if following else None),
                             ("MaxItems", max_items))


POLICY_XML: dict[str, PolicyXml[CachePolicy] | PolicyXml[OriginRequestPolicy] | PolicyXml[ResponseHeadersPolicy]] = {
    "cache-policy": PolicyXml("CachePolicy", cache_policies.MANAGED, cache_policy_config, NoSuchCachePolicy,
                              CACHE_POLICY, parse_cache_policy_config),
    "origin-request-policy": PolicyXml("OriginRequestPolicy", origin_request_policies.MANAGED,
                                       origin_request_policy_config, NoSuchOriginRequestPolicy, ORIGIN_REQUEST_POLICY,
                                       parse_origin_request_policy_config),
    "response-headers-policy": PolicyXml("ResponseHeadersPolicy", response_headers_policies.MANAGED,
                                         response_headers_policy_config, NoSuchResponseHeadersPolicy,
                                         RESPONSE_HEADERS_POLICY, parse_response_headers_policy_config),
}
