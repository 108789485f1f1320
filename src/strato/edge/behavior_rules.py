"""The Rules a distribution's cache behaviours give the proxy, pure: each behaviour's methods,
signed URLs, what is forwarded and keyed, TTLs, compression, viewer protocol, response headers
and CloudFront functions, with its distribution's error caching and pages, from the behaviour
and the key groups, custom policies and functions it names (edge/distributions.py reads them
from the registry and keeps the result until they change).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from strato.cdn import cache_policies, origin_request_policies, response_headers_policies
from strato.cdn.cache_policies import CachePolicy
from strato.cdn.functions import CloudFrontFunction, function_name
from strato.cdn.origin_request_policies import OriginRequestPolicy
from strato.cdn.records import Behavior, C, CustomErrorResponse, Distribution, ForwardedValues
from strato.cdn.resources import CACHE_POLICY, ORIGIN_REQUEST_POLICY, RESPONSE_HEADERS_POLICY, Kind, own_policies
from strato.digits import is_digits
from strato.edge import cloudfront_fields
from strato.edge.function_events import VIEWER_REQUEST, VIEWER_RESPONSE, EdgeFunctions
from strato.edge.managed_rules import forwards_viewer_host, managed_rules
from strato.edge.response_fields import ResponseFields, response_fields
from strato.edge.rules import (
    DEFAULT_TTL,
    LEGACY_ENCODINGS,
    MAX_TTL,
    ErrorPage,
    ErrorRules,
    HeaderPolicy,
    Rules,
    SignatureGuard,
    Ttls,
)

CLOUDFRONT_DEFAULT_METHODS = ("GET", "HEAD")
# Each managed response headers policy's fields, made once: the same objects for every behaviour.
RESPONSE_FIELDS = {policy_id: response_fields(policy)
                   for policy_id, policy in response_headers_policies.MANAGED.items()}


class Resources(Protocol):
    def configs(self, kind: Kind[C], resource_ids: tuple[str, ...]) -> dict[str, C]:
        """The configs of the resources of `kind` among `resource_ids`, by id."""
        ...

    def key_groups(self, group_ids: tuple[str, ...]) -> dict[str, dict[str, str]]:
        """Key group id -> {public key id: PEM}."""
        ...


@dataclass(frozen=True, slots=True)
class CustomPolicies:
    """The account's own cache, origin request and response headers policies that behaviours
    name, by id: a behaviour's policy id names one of these or one of AWS's managed ones. A
    response headers policy is kept as the fields it gives (made once per reload, the same
    objects for every behaviour naming it)."""

    cache: Mapping[str, CachePolicy] = field(default_factory=dict)
    origin_request: Mapping[str, OriginRequestPolicy] = field(default_factory=dict)
    response: Mapping[str, ResponseFields] = field(default_factory=dict)

    @classmethod
    def named_by(cls, distributions: list[Distribution], resources: Resources) -> CustomPolicies:
        named = [ref for distribution in distributions for behavior in behaviors(distribution)
                 for ref in own_policies(behavior)]
        if not named:
            return NO_POLICIES
        cache_ids, request_ids, response_ids = (
            tuple(sorted({policy_id for owner, policy_id in named if owner is kind}))
            for kind in (CACHE_POLICY, ORIGIN_REQUEST_POLICY, RESPONSE_HEADERS_POLICY))
        response = resources.configs(RESPONSE_HEADERS_POLICY, response_ids)
        return cls(resources.configs(CACHE_POLICY, cache_ids), resources.configs(ORIGIN_REQUEST_POLICY, request_ids),
                   {policy_id: response_fields(policy) for policy_id, policy in response.items()})

    def cache_policy(self, policy_id: str | None) -> CachePolicy | None:
        return cache_policies.MANAGED.get(policy_id or "") or self.cache.get(policy_id or "")

    def origin_request_policy(self, policy_id: str | None) -> OriginRequestPolicy | None:
        return origin_request_policies.MANAGED.get(policy_id or "") or self.origin_request.get(policy_id or "")

    def response_fields(self, policy_id: str | None) -> ResponseFields | None:
        return RESPONSE_FIELDS.get(policy_id or "") or self.response.get(policy_id or "")


NO_POLICIES = CustomPolicies()


def forwards_host(behavior: Behavior, policies: CustomPolicies = NO_POLICIES) -> bool:
    """A behaviour whose ForwardedValues.Headers name Host (or `*`), or whose policies forward it:
    a custom origin gets the viewer's Host (AWS CloudFront DeveloperGuide "Caching content based
    on request headers"; an S3 origin always gets its own, as CloudFront warns it must)."""
    if behavior.forwarded_values is not None:
        names = behavior.forwarded_values.headers
        return any(name == "*" or name.lower() == "host" for name in names or ())
    return forwards_viewer_host(policies.cache_policy(behavior.cache_policy_id),
                                policies.origin_request_policy(behavior.origin_request_policy_id))


def behaviors(distribution: Distribution) -> tuple[Behavior, ...]:
    return (distribution.config.default_behavior, *distribution.config.behaviors)


def all_rules(distributions: list[Distribution], keys: dict[str, dict[str, str]], policies: CustomPolicies,
               functions: Mapping[str, CloudFrontFunction]) -> dict[tuple[str, str | None], Rules]:
    """Every behaviour's Rules, by (distribution id, path pattern), with its distribution's ErrorRules
    and the LIVE `functions` (by name) its FunctionAssociations name."""
    guards: dict[tuple[str, ...], SignatureGuard] = {}
    found = {}
    for distribution in distributions:
        errors = error_rules(distribution.config.custom_error_responses or ())
        for behavior in behaviors(distribution):
            origins = distribution.config.targets(behavior.target_origin_id)  # an origin group's primary first
            rules = behavior_rules(distribution.id, behavior, keys, guards,
                                   s3_origin=bool(origins) and origins[0].s3 is not None, policies=policies)
            found[(distribution.id, behavior.path_pattern)] = dataclasses.replace(
                rules, errors=errors, functions=edge_functions(distribution, behavior, functions))
    return found


def edge_functions(distribution: Distribution, behavior: Behavior,
                   functions: Mapping[str, CloudFrontFunction]) -> EdgeFunctions | None:
    """The LIVE code a behaviour's FunctionAssociations run, by event type (None: it runs none)."""
    code = {}
    for association in behavior.function_associations or ():
        function = functions.get(function_name(association.function_arn) or "")
        if function is not None:
            code[association.event_type] = function.code.decode("utf-8", "replace")
    if not code:
        return None
    return EdgeFunctions(distribution.id, distribution.domain_name, code.get(VIEWER_REQUEST),
                         code.get(VIEWER_RESPONSE))


def error_rules(responses: tuple[CustomErrorResponse, ...]) -> ErrorRules:
    """CustomErrorResponses as the edge applies them (AWS CloudFront API_CustomErrorResponse): an
    ErrorCachingMinTTL where given, and a page where ResponsePagePath and ResponseCode are (a
    ResponseCode that is no number, which only a configuration stored before they were checked
    can hold, gives none)."""
    return ErrorRules(
        min_ttls={item.error_code: item.error_caching_min_ttl for item in responses
                  if item.error_caching_min_ttl is not None},
        pages={item.error_code: ErrorPage(item.response_page_path, int(item.response_code)) for item in responses
               if item.response_page_path and item.response_code and is_digits(item.response_code)},
    )


def behavior_rules(site: str, behavior: Behavior, keys: dict[str, dict[str, str]],
                   guards: dict[tuple[str, ...], SignatureGuard], *, s3_origin: bool = False,
                   policies: CustomPolicies = NO_POLICIES) -> Rules:
    """A cache behaviour as the proxy applies it (AWS CloudFront API_CacheBehavior): AllowedMethods
    (GET and HEAD when left out), CachedMethods (OPTIONS), TrustedKeyGroups, or legacy
    TrustedSigners (which no key of strato's can satisfy: every request is refused), Compress (Gzip
    under legacy cache settings, a cache policy's enabled codings under one: ServingCompressedFiles),
    ViewerProtocolPolicy, either the legacy ForwardedValues and TTLs or a cache policy (with an
    origin request policy, if any), and a response headers policy, each managed or the account's
    own (`policies`). `s3_origin`: the behaviour's origin is an S3 bucket. Ids no policy has (only
    rows stored before they were checked can hold them) are ignored."""
    signatures = None
    trusted = behavior.trusted_key_groups
    if trusted is not None and trusted.enabled:
        signatures = _guard(tuple(trusted.items), keys, guards)
    elif behavior.trusted_signers is not None and behavior.trusted_signers.enabled:
        signatures = _guard((), keys, guards)
    base = Rules(site=site, allowed_methods=frozenset(behavior.allowed_methods or CLOUDFRONT_DEFAULT_METHODS),
                 signatures=signatures, cache_options="OPTIONS" in (behavior.cached_methods or ()),
                 compress=LEGACY_ENCODINGS if behavior.compress else (),
                 viewer_protocol=behavior.viewer_protocol_policy)
    fields = policies.response_fields(behavior.response_headers_policy_id)
    if fields is not None:
        base = dataclasses.replace(base, response=fields)
    if behavior.forwarded_values is not None:
        return _legacy_rules(base, behavior, behavior.forwarded_values)
    policy = policies.cache_policy(behavior.cache_policy_id)
    if policy is None:
        return base
    request_policy_id = behavior.origin_request_policy_id or ""
    withhold = s3_origin and request_policy_id in origin_request_policies.S3_WITHHOLDING
    return managed_rules(base, policy, policies.origin_request_policy(request_policy_id),
                         withhold_s3_parameters=withhold)


def _legacy_rules(base: Rules, behavior: Behavior, forwarded: ForwardedValues) -> Rules:
    """ForwardedValues: QueryString (and QueryStringCacheKeys), Cookies (those forwarded are in the
    key), Headers (CloudFront request headers among them computed by the edge; `*`: every field
    forwarded as it came, but CloudFront's own, and nothing cached), and the legacy TTLs (DefaultTTL
    and MaxTTL defaulting as CloudFront's do; none given: the origin's freshness stands)."""
    ttls = None
    if (behavior.min_ttl, behavior.default_ttl, behavior.max_ttl) != (None, None, None):
        ttls = Ttls(behavior.min_ttl or 0,
                    DEFAULT_TTL if behavior.default_ttl is None else behavior.default_ttl,
                    MAX_TTL if behavior.max_ttl is None else behavior.max_ttl)
    cookies: frozenset[str] | None = None
    if forwarded.cookies.forward == "none":
        cookies = frozenset()
    elif forwarded.cookies.forward == "whitelist":
        cookies = frozenset(forwarded.cookies.whitelisted_names or ())
    query_keys = None
    if forwarded.query_string and forwarded.query_string_cache_keys:
        query_keys = frozenset(forwarded.query_string_cache_keys)
    names = forwarded.headers or ()
    every = "*" in names
    keyed = {name.lower() for name in names}
    if forwarded.cookies.forward != "none":
        keyed.add("cookie")  # CloudFront caches apart by the cookies it forwards (Cookies.html)
    headers = HeaderPolicy(as_sent=True) if every else HeaderPolicy(
        keyed=tuple(sorted(keyed)), computed=tuple(sorted(keyed & cloudfront_fields.COMPUTED)))
    return dataclasses.replace(base, forward_query=forwarded.query_string, query_keys=query_keys, cookies=cookies,
                               headers=headers, ttls=ttls, cache=not every)


def _guard(group_ids: tuple[str, ...], keys: dict[str, dict[str, str]],
           guards: dict[tuple[str, ...], SignatureGuard]) -> SignatureGuard:
    """One guard per set of key groups. signed_urls is imported only here: it loads OpenSSL's
    bindings, which an edge with no signed behaviour need not carry."""
    if group_ids not in guards:
        from strato.edge.signed_urls import TrustedKeys, key_groups_from_pem

        guards[group_ids] = TrustedKeys(key_groups_from_pem({group: keys.get(group, {}) for group in group_ids}))
    return guards[group_ids]
