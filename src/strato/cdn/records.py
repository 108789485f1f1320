"""Distributions and invalidations as values, named after CloudFront's DistributionConfig
fields (https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_DistributionConfig.html).

An optional field left out by the client stays None, so that a configuration reads back
exactly as it was sent. Fields strato stores but does not model are kept verbatim as
`Element` trees in `extras`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

from .cache_policies import CachePolicy
from .origin_request_policies import OriginRequestPolicy
from .response_headers_policies import ResponseHeadersPolicy


@dataclass(frozen=True, slots=True)
class Element:
    """An unmodelled configuration field, kept as sent: its name, text and sub-fields."""

    name: str
    text: str = ""
    children: tuple[Element, ...] = ()


@dataclass(frozen=True, slots=True)
class S3OriginConfig:
    origin_access_identity: str = ""
    read_timeout: int | None = None


@dataclass(frozen=True, slots=True)
class CustomOriginConfig:
    http_port: int
    https_port: int
    protocol_policy: str  # http-only | match-viewer | https-only
    ssl_protocols: tuple[str, ...] | None = None
    read_timeout: int | None = None
    keepalive_timeout: int | None = None
    extras: tuple[Element, ...] = ()


@dataclass(frozen=True, slots=True)
class Origin:
    id: str
    domain_name: str
    origin_path: str | None = None
    custom_headers: tuple[tuple[str, str], ...] | None = None
    s3: S3OriginConfig | None = None
    custom: CustomOriginConfig | None = None
    connection_attempts: int | None = None
    connection_timeout: int | None = None
    origin_access_control_id: str | None = None
    extras: tuple[Element, ...] = ()


@dataclass(frozen=True, slots=True)
class OriginGroup:
    """Two origins a behaviour may target as one (origin failover): a GET, HEAD or OPTIONS the
    first cannot answer (no connection, a timeout, or one of `failover_statuses`) goes to the
    second."""

    id: str
    members: tuple[str, ...]  # origin ids, the primary first
    failover_statuses: tuple[int, ...]
    selection_criteria: str | None = None  # default | media-quality-based


@dataclass(frozen=True, slots=True)
class Cookies:
    forward: str  # none | whitelist | all
    whitelisted_names: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True)
class ForwardedValues:
    query_string: bool
    cookies: Cookies
    headers: tuple[str, ...] | None = None
    query_string_cache_keys: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True)
class TrustedGroups:
    """TrustedKeyGroups (key group ids) or the legacy TrustedSigners (account numbers)."""

    enabled: bool
    items: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class FunctionAssociation:
    """A CloudFront function a behaviour runs on viewer-request or viewer-response, by its ARN."""

    event_type: str
    function_arn: str


@dataclass(frozen=True, slots=True)
class Behavior:
    """A cache behaviour; the default one has no path pattern."""

    target_origin_id: str
    viewer_protocol_policy: str  # allow-all | https-only | redirect-to-https
    path_pattern: str | None = None
    trusted_signers: TrustedGroups | None = None
    trusted_key_groups: TrustedGroups | None = None
    allowed_methods: tuple[str, ...] | None = None
    cached_methods: tuple[str, ...] | None = None
    smooth_streaming: bool | None = None
    compress: bool | None = None
    field_level_encryption_id: str | None = None
    cache_policy_id: str | None = None
    origin_request_policy_id: str | None = None
    response_headers_policy_id: str | None = None
    forwarded_values: ForwardedValues | None = None
    min_ttl: int | None = None
    default_ttl: int | None = None
    max_ttl: int | None = None
    # None: left out (a row stored before they were modelled keeps them verbatim in `extras`).
    function_associations: tuple[FunctionAssociation, ...] | None = None
    extras: tuple[Element, ...] = ()


@dataclass(frozen=True, slots=True)
class CustomErrorResponse:
    """What the edge does when an origin answers `error_code`: keep that error for
    ErrorCachingMinTTL seconds, and answer viewers with the page at ResponsePagePath, under
    ResponseCode (API_CustomErrorResponse.html). Empty strings are kept as sent."""

    error_code: int
    response_page_path: str | None = None
    response_code: str | None = None
    error_caching_min_ttl: int | None = None


@dataclass(frozen=True, slots=True)
class DistributionConfig:
    caller_reference: str
    comment: str
    enabled: bool
    origins: tuple[Origin, ...]
    default_behavior: Behavior
    behaviors: tuple[Behavior, ...] = ()
    custom_error_responses: tuple[CustomErrorResponse, ...] | None = None
    aliases: tuple[str, ...] | None = None
    default_root_object: str | None = None
    price_class: str | None = None
    http_version: str | None = None
    is_ipv6_enabled: bool | None = None
    origin_groups: tuple[OriginGroup, ...] | None = None
    extras: tuple[Element, ...] = ()

    def origin(self, origin_id: str) -> Origin | None:
        return next((origin for origin in self.origins if origin.id == origin_id), None)

    def group(self, group_id: str) -> OriginGroup | None:
        return next((group for group in self.origin_groups or () if group.id == group_id), None)

    def targets(self, target_id: str) -> tuple[Origin, ...]:
        """The origins a behaviour's TargetOriginId names: an origin, or an origin group's,
        the primary first (none: it names nothing)."""
        origin = self.origin(target_id)
        if origin is not None:
            return (origin,)
        group = self.group(target_id)
        members = [self.origin(member) for member in group.members] if group is not None else []
        return tuple(member for member in members if member is not None)

    def trusted_key_groups(self) -> tuple[str, ...]:
        """The key groups its behaviours trust for signed URLs (TrustedKeyGroups enabled), each
        once, in the order named: what the API reports and the edge loads keys for."""
        groups: list[str] = []
        for behavior in (self.default_behavior, *self.behaviors):
            trusted = behavior.trusted_key_groups
            if trusted is not None and trusted.enabled:
                groups.extend(group for group in trusted.items if group not in groups)
        return tuple(groups)


@dataclass(frozen=True, slots=True)
class Distribution:
    id: str
    arn: str
    etag: str
    domain_name: str
    status: str
    last_modified: float
    config: DistributionConfig
    tags: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class Invalidation:
    id: str
    distribution_id: str
    caller_reference: str
    paths: tuple[str, ...]
    status: str
    create_time: float


@dataclass(frozen=True, slots=True)
class PublicKeyConfig:
    """An RSA public key (PEM) that signed URLs may be signed for."""

    caller_reference: str
    name: str
    encoded_key: str
    comment: str | None = None


@dataclass(frozen=True, slots=True)
class KeyGroupConfig:
    """Public key ids a cache behaviour can trust for signed URLs, by the group's id."""

    name: str
    items: tuple[str, ...]
    comment: str | None = None


@dataclass(frozen=True, slots=True)
class OriginAccessControlConfig:
    """How the edge signs its requests to a private origin (SigV4, always/never/no-override)."""

    name: str
    signing_protocol: str
    signing_behavior: str
    origin_type: str
    description: str | None = None


@dataclass(frozen=True, slots=True)
class OriginAccessIdentityConfig:
    """A legacy origin access identity (OAI): an S3 origin naming one is read by the edge with
    its own signature, as an origin access control's is. Its CallerReference is its unique name."""

    caller_reference: str
    comment: str

    @property
    def name(self) -> str:
        return self.caller_reference


C = TypeVar("C", PublicKeyConfig, KeyGroupConfig, OriginAccessControlConfig, OriginAccessIdentityConfig, CachePolicy,
            OriginRequestPolicy, ResponseHeadersPolicy)


@dataclass(frozen=True, slots=True)
class Resource(Generic[C]):
    """A public key, key group, origin access control or custom policy, with CloudFront's ETag."""

    id: str
    etag: str
    created: float
    modified: float
    config: C
