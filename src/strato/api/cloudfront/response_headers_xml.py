"""ResponseHeadersPolicyConfig <-> XML (API_ResponseHeadersPolicyConfig and the shapes it holds:
CorsConfig, SecurityHeadersConfig, ServerTimingHeadersConfig, CustomHeadersConfig,
RemoveHeadersConfig), written for managed and custom policies alike and read as
CreateResponseHeadersPolicy and UpdateResponseHeadersPolicy send it (checked by the registry)."""

from __future__ import annotations

import math

from strato.cdn.response_headers_policies import (
    CorsConfig,
    CustomHeader,
    ResponseHeadersPolicy,
    SecurityHeadersConfig,
    ServerTiming,
    StrictTransportSecurity,
    XssProtection,
)
from strato.xmltree import Node

from .errors import malformed_input
from .wire import (
    boolean,
    build,
    integer,
    item_nodes,
    quantity_list,
    required_boolean,
    required_integer,
    required_text,
    strings,
    text,
)

# Each security field's element and the response field it sets (whose name says, in
# SecurityHeadersConfig.overridden, that its Override is true), in the config's order.
_XSS = ("XSSProtection", "X-XSS-Protection")
_FRAME = ("FrameOptions", "X-Frame-Options")
_REFERRER = ("ReferrerPolicy", "Referrer-Policy")
_CSP = ("ContentSecurityPolicy", "Content-Security-Policy")
_CONTENT_TYPE = ("ContentTypeOptions", "X-Content-Type-Options")
_HSTS = ("StrictTransportSecurity", "Strict-Transport-Security")
_SECURITY_FIELDS = (_XSS, _FRAME, _REFERRER, _CSP, _CONTENT_TYPE, _HSTS)
_CUSTOM = ("CustomHeadersConfig", "ResponseHeadersPolicyCustomHeader")
_REMOVE = ("RemoveHeadersConfig", "ResponseHeadersPolicyRemoveHeader")


def response_headers_policy_config(policy: ResponseHeadersPolicy) -> Node:
    timing = policy.server_timing
    return build(
        "ResponseHeadersPolicyConfig", ("Comment", policy.comment), ("Name", policy.name),
        ("CorsConfig", _cors(policy.cors) if policy.cors is not None else None),
        ("SecurityHeadersConfig", _security(policy.security) if policy.security is not None else None),
        ("ServerTimingHeadersConfig", build(
            "ServerTimingHeadersConfig", ("Enabled", timing.enabled),
            ("SamplingRate", None if timing.sampling_rate is None else f"{timing.sampling_rate:g}"),
        ) if timing is not None else None),
        ("CustomHeadersConfig", None if policy.custom_headers is None else quantity_list(_CUSTOM[0], (
            build(_CUSTOM[1], ("Header", header.header), ("Value", header.value), ("Override", header.override))
            for header in policy.custom_headers))),
        ("RemoveHeadersConfig", None if policy.remove_headers is None else quantity_list(_REMOVE[0], (
            build(_REMOVE[1], ("Header", name)) for name in policy.remove_headers))),
    )


def _names(tag: str, member: str, names: tuple[str, ...]) -> Node:
    return quantity_list(tag, (Node(member, name) for name in names))


def _cors(cors: CorsConfig) -> Node:
    exposed = None
    if cors.expose_headers is not None:
        exposed = _names("AccessControlExposeHeaders", "Header", cors.expose_headers)
    return build(
        "CorsConfig",
        ("AccessControlAllowOrigins", _names("AccessControlAllowOrigins", "Origin", cors.allow_origins)),
        ("AccessControlAllowHeaders", _names("AccessControlAllowHeaders", "Header", cors.allow_headers)),
        ("AccessControlAllowMethods", _names("AccessControlAllowMethods", "Method", cors.allow_methods)),
        ("AccessControlAllowCredentials", cors.allow_credentials),
        ("AccessControlExposeHeaders", exposed),
        ("AccessControlMaxAgeSec", cors.max_age),
        ("OriginOverride", cors.origin_override),
    )


def _security(security: SecurityHeadersConfig) -> Node:
    def field(spec: tuple[str, str], *values: tuple[str, str | int | bool | None]) -> Node:
        return build(spec[0], ("Override", security.overrides(spec[1])), *values)

    xss, hsts = security.xss_protection, security.strict_transport_security
    return build(
        "SecurityHeadersConfig",
        ("XSSProtection", field(_XSS, ("Protection", xss.protection), ("ModeBlock", xss.mode_block),
                                ("ReportUri", xss.report_uri)) if xss is not None else None),
        ("FrameOptions", field(_FRAME, ("FrameOption", security.frame_option))
         if security.frame_option is not None else None),
        ("ReferrerPolicy", field(_REFERRER, ("ReferrerPolicy", security.referrer_policy))
         if security.referrer_policy is not None else None),
        ("ContentSecurityPolicy", field(_CSP, ("ContentSecurityPolicy", security.content_security_policy))
         if security.content_security_policy is not None else None),
        ("ContentTypeOptions", field(_CONTENT_TYPE) if security.content_type_options else None),
        ("StrictTransportSecurity", field(_HSTS, ("IncludeSubdomains", hsts.include_subdomains),
                                          ("Preload", hsts.preload), ("AccessControlMaxAgeSec", hsts.max_age))
         if hsts is not None else None),
    )


def parse_response_headers_policy_config(node: Node) -> ResponseHeadersPolicy:
    cors = node.find("CorsConfig")
    security = node.find("SecurityHeadersConfig")
    timing = node.find("ServerTimingHeadersConfig")
    custom = node.find(_CUSTOM[0])
    removed = node.find(_REMOVE[0])
    return ResponseHeadersPolicy(
        name=required_text(node, "Name"), comment=text(node, "Comment") or "",
        cors=_read_cors(cors) if cors is not None else None,
        security=_read_security(security) if security is not None else None,
        server_timing=ServerTiming(required_boolean(timing, "Enabled"), _rate(timing))
        if timing is not None else None,
        custom_headers=None if custom is None else tuple(
            CustomHeader(required_text(item, "Header"), required_text(item, "Value"),
                         required_boolean(item, "Override")) for item in item_nodes(custom, _CUSTOM[1])),
        remove_headers=None if removed is None else tuple(
            required_text(item, "Header") for item in item_nodes(removed, _REMOVE[1])),
    )


def _listed(node: Node, tag: str, member: str) -> tuple[str, ...]:
    names = strings(node, tag, member)
    if names is None:
        raise malformed_input(f"Missing required field {tag} in {node.tag}.")
    return names


def _read_cors(node: Node) -> CorsConfig:
    return CorsConfig(
        allow_origins=_listed(node, "AccessControlAllowOrigins", "Origin"),
        allow_headers=_listed(node, "AccessControlAllowHeaders", "Header"),
        allow_methods=_listed(node, "AccessControlAllowMethods", "Method"),
        allow_credentials=required_boolean(node, "AccessControlAllowCredentials"),
        origin_override=required_boolean(node, "OriginOverride"),
        expose_headers=strings(node, "AccessControlExposeHeaders", "Header"),
        max_age=integer(node, "AccessControlMaxAgeSec"),
    )


def _read_security(node: Node) -> SecurityHeadersConfig:
    elements = [node.find(tag) for tag, _ in _SECURITY_FIELDS]
    overridden = tuple(name for (_, name), element in zip(_SECURITY_FIELDS, elements, strict=True)
                       if element is not None and required_boolean(element, "Override"))
    xss, frame, referrer, csp, content_type, hsts = elements
    return SecurityHeadersConfig(
        xss_protection=XssProtection(required_boolean(xss, "Protection"), boolean(xss, "ModeBlock"),
                                     text(xss, "ReportUri")) if xss is not None else None,
        frame_option=required_text(frame, "FrameOption") if frame is not None else None,
        referrer_policy=required_text(referrer, "ReferrerPolicy") if referrer is not None else None,
        content_security_policy=required_text(csp, "ContentSecurityPolicy") if csp is not None else None,
        content_type_options=content_type is not None,
        strict_transport_security=StrictTransportSecurity(
            required_integer(hsts, "AccessControlMaxAgeSec"), boolean(hsts, "IncludeSubdomains"),
            boolean(hsts, "Preload")) if hsts is not None else None,
        overridden=overridden,
    )


def _rate(node: Node) -> float | None:
    """SamplingRate, a double."""
    value = text(node, "SamplingRate")
    if value is None:
        return None
    try:
        rate = float(value)
    except ValueError:
        raise malformed_input(f"The value of SamplingRate is not a number: {value[:50]}") from None
    if not math.isfinite(rate):
        raise malformed_input(f"The value of SamplingRate is not a number: {value[:50]}")
    return rate
