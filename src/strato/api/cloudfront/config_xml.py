"""DistributionConfig <-> XML, field by field as in the API reference
(https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_DistributionConfig.html).
Unmodelled fields come back as sent. A member a client left out comes back as CloudFront
answers it, with its default (an empty list, logging off, the default certificate, no
restrictions): every configuration CloudFront answers carries them, and clients read some
without checking (Terraform's AWS provider crashes on a distribution without OriginGroups, or a
behaviour without AllowedMethods or LambdaFunctionAssociations)."""

from __future__ import annotations

from strato.cdn.records import (
    Behavior,
    Cookies,
    CustomErrorResponse,
    CustomOriginConfig,
    DistributionConfig,
    Element,
    ForwardedValues,
    FunctionAssociation,
    Origin,
    OriginGroup,
    S3OriginConfig,
    TrustedGroups,
)
from strato.digits import is_digits
from strato.xmltree import Node

from .wire import (
    boolean,
    build,
    element_of,
    extras,
    integer,
    item_nodes,
    quantity_list,
    required,
    required_boolean,
    required_integer,
    required_text,
    string_list,
    strings,
    text,
)

_CONFIG_FIELDS = ("CallerReference", "Aliases", "DefaultRootObject", "Origins", "DefaultCacheBehavior",
                  "CacheBehaviors", "CustomErrorResponses", "Comment", "PriceClass", "Enabled", "HttpVersion",
                  "IsIPV6Enabled", "OriginGroups")
_ORIGIN_FIELDS = ("Id", "DomainName", "OriginPath", "CustomHeaders", "S3OriginConfig", "CustomOriginConfig",
                  "ConnectionAttempts", "ConnectionTimeout", "OriginAccessControlId")
_CUSTOM_FIELDS = ("HTTPPort", "HTTPSPort", "OriginProtocolPolicy", "OriginSslProtocols", "OriginReadTimeout",
                  "OriginKeepaliveTimeout")
_BEHAVIOR_FIELDS = ("PathPattern", "TargetOriginId", "TrustedSigners", "TrustedKeyGroups", "ViewerProtocolPolicy",
                    "AllowedMethods", "SmoothStreaming", "Compress", "FieldLevelEncryptionId", "CachePolicyId",
                    "OriginRequestPolicyId", "ResponseHeadersPolicyId", "ForwardedValues", "MinTTL", "DefaultTTL",
                    "MaxTTL", "FunctionAssociations")


# -- reading ------------------------------------------------------------------------------

def parse_config(node: Node) -> DistributionConfig:
    behaviors = node.find("CacheBehaviors")
    errors = node.find("CustomErrorResponses")
    groups = node.find("OriginGroups")
    return DistributionConfig(
        caller_reference=required_text(node, "CallerReference"),
        comment=required_text(node, "Comment"),
        enabled=required_boolean(node, "Enabled"),
        origins=tuple(_origin(item) for item in item_nodes(required(node, "Origins"), "Origin")),
        default_behavior=_behavior(required(node, "DefaultCacheBehavior"), default=True),
        behaviors=tuple(_behavior(item, default=False) for item in item_nodes(behaviors, "CacheBehavior"))
        if behaviors is not None else (),
        custom_error_responses=tuple(_error_response(item) for item in item_nodes(errors, "CustomErrorResponse"))
        if errors is not None else None,
        aliases=strings(node, "Aliases", "CNAME"),
        default_root_object=text(node, "DefaultRootObject"),
        price_class=text(node, "PriceClass"),
        http_version=text(node, "HttpVersion"),
        is_ipv6_enabled=boolean(node, "IsIPV6Enabled"),
        origin_groups=tuple(_origin_group(item) for item in item_nodes(groups, "OriginGroup"))
        if groups is not None else None,
        extras=extras(node, _CONFIG_FIELDS),
    )


def _origin_group(node: Node) -> OriginGroup:
    criteria = required(required(node, "FailoverCriteria"), "StatusCodes")
    members = required(node, "Members")
    return OriginGroup(
        id=required_text(node, "Id"),
        members=tuple(required_text(item, "OriginId") for item in item_nodes(members, "OriginGroupMember")),
        # Not a three-digit number: no status (int() refuses thousands of digits).
        failover_statuses=tuple(int(item.text) if is_digits(item.text) and len(item.text) <= 3 else -1
                                for item in item_nodes(criteria, "StatusCode")),
        selection_criteria=text(node, "SelectionCriteria"),
    )


def _origin(node: Node) -> Origin:
    headers = node.find("CustomHeaders")
    s3 = node.find("S3OriginConfig")
    custom = node.find("CustomOriginConfig")
    return Origin(
        id=required_text(node, "Id"),
        domain_name=required_text(node, "DomainName"),
        origin_path=text(node, "OriginPath"),
        custom_headers=tuple(
            (required_text(item, "HeaderName"), required_text(item, "HeaderValue"))
            for item in item_nodes(headers, "OriginCustomHeader")
        ) if headers is not None else None,
        s3=S3OriginConfig(text(s3, "OriginAccessIdentity") or "", integer(s3, "OriginReadTimeout"))
        if s3 is not None else None,
        custom=CustomOriginConfig(
            http_port=required_integer(custom, "HTTPPort"),
            https_port=required_integer(custom, "HTTPSPort"),
            protocol_policy=required_text(custom, "OriginProtocolPolicy"),
            ssl_protocols=strings(custom, "OriginSslProtocols", "SslProtocol"),
            read_timeout=integer(custom, "OriginReadTimeout"),
            keepalive_timeout=integer(custom, "OriginKeepaliveTimeout"),
            extras=extras(custom, _CUSTOM_FIELDS),
        ) if custom is not None else None,
        connection_attempts=integer(node, "ConnectionAttempts"),
        connection_timeout=integer(node, "ConnectionTimeout"),
        origin_access_control_id=text(node, "OriginAccessControlId"),
        extras=extras(node, _ORIGIN_FIELDS),
    )


def _error_response(node: Node) -> CustomErrorResponse:
    return CustomErrorResponse(
        error_code=required_integer(node, "ErrorCode"),
        response_page_path=text(node, "ResponsePagePath"),
        response_code=text(node, "ResponseCode"),
        error_caching_min_ttl=integer(node, "ErrorCachingMinTTL"),
    )


def _trusted(node: Node, tag: str, member: str) -> TrustedGroups | None:
    container = node.find(tag)
    if container is None:
        return None
    items = tuple(item.text for item in item_nodes(container, member))
    return TrustedGroups(required_boolean(container, "Enabled"), items)


def _forwarded(node: Node) -> ForwardedValues | None:
    forwarded = node.find("ForwardedValues")
    if forwarded is None:
        return None
    cookies = required(forwarded, "Cookies")
    return ForwardedValues(
        query_string=required_boolean(forwarded, "QueryString"),
        cookies=Cookies(required_text(cookies, "Forward"), strings(cookies, "WhitelistedNames", "Name")),
        headers=strings(forwarded, "Headers", "Name"),
        query_string_cache_keys=strings(forwarded, "QueryStringCacheKeys", "Name"),
    )


def _named_id(node: Node, tag: str) -> str | None:
    """A policy's or configuration's id; empty names none, as CloudFront takes it (Terraform
    sends `<CachePolicyId></CachePolicyId>` beside ForwardedValues for a behaviour without one)."""
    return text(node, tag) or None


def _behavior(node: Node, default: bool) -> Behavior:
    allowed = node.find("AllowedMethods")
    return Behavior(
        target_origin_id=required_text(node, "TargetOriginId"),
        viewer_protocol_policy=required_text(node, "ViewerProtocolPolicy"),
        path_pattern=None if default else required_text(node, "PathPattern"),
        trusted_signers=_trusted(node, "TrustedSigners", "AwsAccountNumber"),
        trusted_key_groups=_trusted(node, "TrustedKeyGroups", "KeyGroup"),
        allowed_methods=tuple(item.text for item in item_nodes(allowed, "Method")) if allowed is not None else None,
        cached_methods=strings(allowed, "CachedMethods", "Method") if allowed is not None else None,
        smooth_streaming=boolean(node, "SmoothStreaming"),
        compress=boolean(node, "Compress"),
        field_level_encryption_id=_named_id(node, "FieldLevelEncryptionId"),
        cache_policy_id=_named_id(node, "CachePolicyId"),
        origin_request_policy_id=_named_id(node, "OriginRequestPolicyId"),
        response_headers_policy_id=_named_id(node, "ResponseHeadersPolicyId"),
        forwarded_values=_forwarded(node),
        min_ttl=integer(node, "MinTTL"),
        default_ttl=integer(node, "DefaultTTL"),
        max_ttl=integer(node, "MaxTTL"),
        function_associations=_function_associations(node),
        extras=extras(node, _BEHAVIOR_FIELDS),
    )


def _function_associations(node: Node) -> tuple[FunctionAssociation, ...] | None:
    container = node.find("FunctionAssociations")
    if container is None:
        return None
    return tuple(FunctionAssociation(required_text(item, "EventType"), required_text(item, "FunctionARN"))
                 for item in item_nodes(container, "FunctionAssociation"))


# -- writing ------------------------------------------------------------------------------

def _with_defaults(sent: tuple[Element, ...], defaults: tuple[Node, ...]) -> tuple[Element, ...]:
    """The unmodelled members as sent, then CloudFront's defaults of those that were not."""
    present = {element.name for element in sent}
    return sent + tuple(element_of(node) for node in defaults if node.tag not in present)


def _config_defaults() -> tuple[Node, ...]:
    return (
        build("Logging", ("Enabled", False), ("IncludeCookies", False), ("Bucket", ""), ("Prefix", "")),
        build("ViewerCertificate", ("CloudFrontDefaultCertificate", True), ("SSLSupportMethod", "vip"),
              ("MinimumProtocolVersion", "TLSv1"), ("CertificateSource", "cloudfront")),
        build("Restrictions", ("GeoRestriction", quantity_list("GeoRestriction", (), ("RestrictionType", "none")))),
        Node("WebACLId", ""),
    )


def _behavior_defaults(functions_modelled: bool) -> tuple[Node, ...]:
    """Left out by the client: no Lambda@Edge or CloudFront functions (a behaviour stored before
    FunctionAssociations were modelled has them among its extras, as sent)."""
    lambdas = quantity_list("LambdaFunctionAssociations", ())
    return (lambdas,) if functions_modelled else (lambdas, quantity_list("FunctionAssociations", ()))


def _function_associations_node(associations: tuple[FunctionAssociation, ...] | None) -> Node | None:
    if associations is None:
        return None
    return quantity_list("FunctionAssociations", (
        build("FunctionAssociation", ("FunctionARN", item.function_arn), ("EventType", item.event_type))
        for item in associations))


def config_node(config: DistributionConfig, tag: str = "DistributionConfig") -> Node:
    return build(
        tag,
        ("CallerReference", config.caller_reference),
        ("Aliases", string_list("Aliases", "CNAME", config.aliases or ())),
        ("DefaultRootObject", config.default_root_object or ""),
        ("Origins", origins_node(config)),
        ("DefaultCacheBehavior", behavior_node(config.default_behavior, "DefaultCacheBehavior")),
        ("CacheBehaviors", behaviors_node(config)),
        ("CustomErrorResponses", error_responses_node(config.custom_error_responses or ())),
        ("Comment", config.comment),
        ("PriceClass", config.price_class or "PriceClass_All"),
        ("Enabled", config.enabled),
        ("HttpVersion", config.http_version or "http2"),
        ("IsIPV6Enabled", bool(config.is_ipv6_enabled)),  # CloudFront's IPv6 is opt-in: off unless sent
        ("OriginGroups", _origin_groups_node(config)),
        extra=_with_defaults(config.extras, _config_defaults()),
    )


def _origin_groups_node(config: DistributionConfig) -> Node | None:
    """The groups (none when left out); a distribution stored before OriginGroups were modelled
    has them among its extras, as sent."""
    if config.origin_groups is None and any(element.name == "OriginGroups" for element in config.extras):
        return None
    return quantity_list("OriginGroups", (_origin_group_node(group) for group in config.origin_groups or ()))


def _origin_group_node(group: OriginGroup) -> Node:
    statuses = quantity_list("StatusCodes", (Node("StatusCode", str(status)) for status in group.failover_statuses))
    members = quantity_list("Members", (build("OriginGroupMember", ("OriginId", member)) for member in group.members))
    return build("OriginGroup", ("Id", group.id), ("FailoverCriteria", build("FailoverCriteria", ("StatusCodes",
                 statuses))), ("Members", members), ("SelectionCriteria", group.selection_criteria))


def origins_node(config: DistributionConfig) -> Node:
    return quantity_list("Origins", (_origin_node(origin) for origin in config.origins))


def behaviors_node(config: DistributionConfig) -> Node:
    return quantity_list("CacheBehaviors", (behavior_node(item, "CacheBehavior") for item in config.behaviors))


def error_responses_node(responses: tuple[CustomErrorResponse, ...] | None) -> Node | None:
    if responses is None:
        return None
    return quantity_list("CustomErrorResponses", (build(
        "CustomErrorResponse", ("ErrorCode", response.error_code), ("ResponsePagePath", response.response_page_path),
        ("ResponseCode", response.response_code), ("ErrorCachingMinTTL", response.error_caching_min_ttl),
    ) for response in responses))


def _origin_node(origin: Origin) -> Node:
    """An origin, with CloudFront's defaults for what it left out (no path or headers, 3
    connection attempts of 10 s, no origin access control, no Origin Shield; 30 s reads and 5 s
    keep-alive from a custom origin)."""
    headers = quantity_list("CustomHeaders", (
        build("OriginCustomHeader", ("HeaderName", name), ("HeaderValue", value))
        for name, value in origin.custom_headers or ()
    ))
    s3 = None
    if origin.s3 is not None:
        s3 = build("S3OriginConfig", ("OriginAccessIdentity", origin.s3.origin_access_identity),
                   ("OriginReadTimeout", origin.s3.read_timeout))
    custom = None
    if origin.custom is not None:
        c = origin.custom
        custom = build(
            "CustomOriginConfig", ("HTTPPort", c.http_port), ("HTTPSPort", c.https_port),
            ("OriginProtocolPolicy", c.protocol_policy),
            ("OriginSslProtocols", string_list("OriginSslProtocols", "SslProtocol", c.ssl_protocols)),
            ("OriginReadTimeout", 30 if c.read_timeout is None else c.read_timeout),
            ("OriginKeepaliveTimeout", 5 if c.keepalive_timeout is None else c.keepalive_timeout),
            extra=c.extras,
        )
    return build(
        "Origin", ("Id", origin.id), ("DomainName", origin.domain_name), ("OriginPath", origin.origin_path or ""),
        ("CustomHeaders", headers), ("S3OriginConfig", s3), ("CustomOriginConfig", custom),
        ("ConnectionAttempts", 3 if origin.connection_attempts is None else origin.connection_attempts),
        ("ConnectionTimeout", 10 if origin.connection_timeout is None else origin.connection_timeout),
        ("OriginAccessControlId", origin.origin_access_control_id or ""),
        extra=_with_defaults(origin.extras, (build("OriginShield", ("Enabled", False)),)),
    )


def _trusted_node(tag: str, member: str, groups: TrustedGroups | None) -> Node:
    if groups is None:
        return quantity_list(tag, (), ("Enabled", False))
    return quantity_list(tag, (Node(member, item) for item in groups.items), ("Enabled", groups.enabled))


def _forwarded_node(forwarded: ForwardedValues | None) -> Node | None:
    if forwarded is None:
        return None
    cookies = build("Cookies", ("Forward", forwarded.cookies.forward),
                    ("WhitelistedNames", string_list("WhitelistedNames", "Name", forwarded.cookies.whitelisted_names)))
    return build(
        "ForwardedValues", ("QueryString", forwarded.query_string), ("Cookies", cookies),
        ("Headers", string_list("Headers", "Name", forwarded.headers)),
        ("QueryStringCacheKeys", string_list("QueryStringCacheKeys", "Name", forwarded.query_string_cache_keys)),
    )


def behavior_node(behavior: Behavior, tag: str) -> Node:
    methods = behavior.allowed_methods or ("HEAD", "GET")  # CloudFront's default
    allowed = quantity_list("AllowedMethods", (Node("Method", method) for method in methods))
    cached = string_list("CachedMethods", "Method", behavior.cached_methods or ("HEAD", "GET"))
    if cached is not None:
        allowed.children.append(cached)
    return build(
        tag,
        ("PathPattern", behavior.path_pattern),
        ("TargetOriginId", behavior.target_origin_id),
        ("TrustedSigners", _trusted_node("TrustedSigners", "AwsAccountNumber", behavior.trusted_signers)),
        ("TrustedKeyGroups", _trusted_node("TrustedKeyGroups", "KeyGroup", behavior.trusted_key_groups)),
        ("ViewerProtocolPolicy", behavior.viewer_protocol_policy),
        ("AllowedMethods", allowed),
        ("SmoothStreaming", bool(behavior.smooth_streaming)),
        ("Compress", bool(behavior.compress)),
        ("FieldLevelEncryptionId", behavior.field_level_encryption_id or ""),
        ("CachePolicyId", behavior.cache_policy_id),
        ("OriginRequestPolicyId", behavior.origin_request_policy_id),
        ("ResponseHeadersPolicyId", behavior.response_headers_policy_id),
        ("ForwardedValues", _forwarded_node(behavior.forwarded_values)),
        ("MinTTL", behavior.min_ttl),
        ("DefaultTTL", behavior.default_ttl),
        ("MaxTTL", behavior.max_ttl),
        ("FunctionAssociations", _function_associations_node(behavior.function_associations)),
        extra=_with_defaults(behavior.extras, _behavior_defaults(behavior.function_associations is not None)),
    )
