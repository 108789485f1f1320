"""Response headers policies: what one holds, how a custom one is checked, and AWS's managed
ones, the ones a cache behaviour may name by ResponseHeadersPolicyId besides the account's own
(CreateResponseHeadersPolicy; kept with the other resources): CORS, security, custom and
Server-Timing fields the edge adds to what viewers receive and fields it removes, with the
managed ones' real ids and settings (AWS CloudFront DeveloperGuide/using-managed-response-headers-policies.html,
understanding-response-headers-policies.html, cloudfront-limits.html). The comments of
SimpleCORS, SecurityHeadersPolicy and CORS-With-Preflight are AWS's; the others are strato's
summaries of the guide's descriptions."""

from __future__ import annotations

from dataclasses import dataclass

from .errors import InvalidArgument, PolicyQuotaExceeded
from .managed import check_policy

MAX_CUSTOM_HEADERS = 10  # custom headers a policy may add, and headers it may remove (cloudfront-limits.html)
MAX_REMOVED_HEADERS = 10
MAX_CSP = 1783  # characters in a Content-Security-Policy (TooLongCSPInResponseHeadersPolicy)
METHODS = ("GET", "POST", "OPTIONS", "PUT", "DELETE", "PATCH", "HEAD", "ALL")
FRAME_OPTIONS = ("DENY", "SAMEORIGIN")
REFERRER_POLICIES = ("no-referrer", "no-referrer-when-downgrade", "origin", "origin-when-cross-origin", "same-origin",
                     "strict-origin", "strict-origin-when-cross-origin", "unsafe-url")
# Fields a policy cannot remove, nor add as custom ones: what HTTP or CloudFront itself needs
# (understanding-response-headers-policies.html).
UNREMOVABLE = frozenset({
    "connection", "content-encoding", "content-length", "expect", "host", "keep-alive", "proxy-authenticate",
    "proxy-authorization", "proxy-connection", "trailer", "transfer-encoding", "upgrade", "via", "warning",
    "x-accel-buffering", "x-accel-charset", "x-accel-limit-rate", "x-accel-redirect", "x-cache", "x-forwarded-proto",
    "x-real-ip",
})
UNREMOVABLE_PREFIXES = ("x-amz-cf-", "x-edge-")


@dataclass(frozen=True, slots=True)
class CorsConfig:
    """ResponseHeadersPolicyCorsConfig: the Access-Control-* values for responses to CORS
    requests (and, for Allow-Headers, Allow-Methods and Max-Age, to preflight requests);
    `origin_override`: the policy's values replace the origin's instead of yielding to them."""

    allow_origins: tuple[str, ...]
    allow_headers: tuple[str, ...]
    allow_methods: tuple[str, ...]
    allow_credentials: bool
    origin_override: bool
    expose_headers: tuple[str, ...] | None = None
    max_age: int | None = None


@dataclass(frozen=True, slots=True)
class XssProtection:
    """ResponseHeadersPolicyXSSProtection: X-XSS-Protection's 0 or 1, with mode=block or a report URI."""

    protection: bool
    mode_block: bool | None = None
    report_uri: str | None = None


@dataclass(frozen=True, slots=True)
class StrictTransportSecurity:
    """ResponseHeadersPolicyStrictTransportSecurity: max-age, includeSubDomains, preload."""

    max_age: int
    include_subdomains: bool | None = None
    preload: bool | None = None


@dataclass(frozen=True, slots=True)
class SecurityHeadersConfig:
    """ResponseHeadersPolicySecurityHeadersConfig: each of the six security fields, when set;
    `overridden`: the names of those whose Override is true."""

    xss_protection: XssProtection | None = None
    frame_option: str | None = None
    referrer_policy: str | None = None
    content_security_policy: str | None = None
    content_type_options: bool = False
    strict_transport_security: StrictTransportSecurity | None = None
    overridden: tuple[str, ...] = ()

    def overrides(self, field: str) -> bool:
        return field in self.overridden


@dataclass(frozen=True, slots=True)
class CustomHeader:
    """ResponseHeadersPolicyCustomHeader: a field added to responses, replacing the origin's only with `override`."""

    header: str
    value: str
    override: bool


@dataclass(frozen=True, slots=True)
class ServerTiming:
    """ResponseHeadersPolicyServerTimingHeadersConfig: Server-Timing on `sampling_rate` percent of responses."""

    enabled: bool
    sampling_rate: float | None = None

    @property
    def share(self) -> float:
        """The percentage of responses that carry it."""
        return (self.sampling_rate or 0.0) if self.enabled else 0.0


@dataclass(frozen=True, slots=True)
class ResponseHeadersPolicy:
    """A ResponseHeadersPolicyConfig; a config left out stays None, so that it reads back as sent."""

    name: str
    comment: str
    cors: CorsConfig | None = None
    security: SecurityHeadersConfig | None = None
    server_timing: ServerTiming | None = None
    custom_headers: tuple[CustomHeader, ...] | None = None
    remove_headers: tuple[str, ...] | None = None


def check_response_headers_policy(policy: ResponseHeadersPolicy) -> None:
    """A custom response headers policy's config, refused as CloudFront refuses it."""
    check_policy(policy.name, policy.comment, (), "response headers policy")
    if policy.cors is not None:
        _check_cors(policy.cors)
    if policy.security is not None:
        _check_security(policy.security)
    timing = policy.server_timing
    if timing is not None and timing.sampling_rate is not None and not (
            0 <= timing.sampling_rate <= 100 and round(timing.sampling_rate, 4) == timing.sampling_rate):
        raise InvalidArgument("The parameter SamplingRate must be a number from 0 to 100 with at most four "
                              "decimal places.")
    custom = policy.custom_headers or ()
    if len(custom) > MAX_CUSTOM_HEADERS:
        raise PolicyQuotaExceeded("custom-headers", f"A response headers policy adds at most {MAX_CUSTOM_HEADERS} "
                                                    "custom headers.")
    removed = policy.remove_headers or ()
    if len(removed) > MAX_REMOVED_HEADERS:
        raise PolicyQuotaExceeded("remove-headers", f"A response headers policy removes at most "
                                                    f"{MAX_REMOVED_HEADERS} headers.")
    _check_names(custom, removed, policy.security)
    _check_values(policy)


def _check_values(policy: ResponseHeadersPolicy) -> None:
    """Every text the policy puts into a response field: visible ASCII, spaces and tabs. A line
    break would split the response's head (a field of the policy's making, or a response of its
    own), and what latin-1 cannot carry could not be sent at all."""
    cors, security = policy.cors, policy.security
    values = [header.value for header in policy.custom_headers or ()]
    if cors is not None:
        values += [*cors.allow_origins, *cors.allow_headers, *(cors.expose_headers or ())]
    if security is not None:
        values += [security.content_security_policy or "",
                   security.xss_protection.report_uri or "" if security.xss_protection is not None else ""]
    for value in values:
        if not all(" " <= char <= "~" or char == "\t" for char in value):
            raise InvalidArgument(f"The header value {value[:100]!r} holds a character an HTTP field value cannot.")


def _check_cors(cors: CorsConfig) -> None:
    if not cors.allow_origins:
        raise InvalidArgument("The parameter AccessControlAllowOrigins must list at least one origin.")
    if not cors.allow_methods:
        raise InvalidArgument("The parameter AccessControlAllowMethods must list at least one method.")
    for method in cors.allow_methods:
        if method not in METHODS:
            raise InvalidArgument(f"The parameter AccessControlAllowMethods has an invalid value: {method}")
    if "ALL" in cors.allow_methods and len(cors.allow_methods) > 1:
        raise InvalidArgument("The parameter AccessControlAllowMethods lists ALL alone.")
    if cors.allow_credentials:
        for label, values in (("Access-Control-Allow-Origins", cors.allow_origins),
                              ("Access-Control-Allow-Headers", cors.allow_headers)):
            if "*" in values:
                raise InvalidArgument(f"The parameter {label} cannot contain * when allowCredentials is true.")
    if cors.max_age is not None and cors.max_age < 0:
        raise InvalidArgument("The parameter AccessControlMaxAgeSec must not be negative.")


def _check_security(security: SecurityHeadersConfig) -> None:
    xss = security.xss_protection
    if xss is not None and (xss.mode_block or xss.report_uri) and not xss.protection:
        raise InvalidArgument("XSSProtection's ModeBlock and ReportUri need Protection true.")
    if xss is not None and xss.mode_block and xss.report_uri:
        raise InvalidArgument("XSSProtection takes ModeBlock true or a ReportUri, not both.")
    if security.frame_option is not None and security.frame_option not in FRAME_OPTIONS:
        raise InvalidArgument(f"The parameter FrameOption has an invalid value: {security.frame_option}")
    if security.referrer_policy is not None and security.referrer_policy not in REFERRER_POLICIES:
        raise InvalidArgument(f"The parameter ReferrerPolicy has an invalid value: {security.referrer_policy}")
    if security.content_security_policy is not None and len(security.content_security_policy) > MAX_CSP:
        raise PolicyQuotaExceeded("content-security-policy", f"A Content-Security-Policy holds at most {MAX_CSP} "
                                                             "characters.")
    hsts = security.strict_transport_security
    if hsts is not None and hsts.max_age < 0:
        raise InvalidArgument("The parameter AccessControlMaxAgeSec must not be negative.")


def _check_names(custom: tuple[CustomHeader, ...], removed: tuple[str, ...],
                 security: SecurityHeadersConfig | None) -> None:
    """Custom and removed fields: HTTP field names, each named once, none both added and removed,
    none a security field the policy sets, and none HTTP or CloudFront needs."""
    added = [header.header.lower() for header in custom]
    gone = [name.lower() for name in removed]
    for name in (*added, *gone):
        if not name or not all(char.isascii() and (char.isalnum() or char in "!#$%&'*+-.^_`|~") for char in name):
            raise InvalidArgument(f"The header name {name!r} is not a valid HTTP field name.")
    if len(set(added)) < len(added) or len(set(gone)) < len(gone) or set(added) & set(gone):
        raise InvalidArgument("A header is named once, in CustomHeadersConfig or RemoveHeadersConfig.")
    for header in custom:
        if not header.value:
            raise InvalidArgument(f"The custom header {header.header} needs a value.")
    clash = sorted(set(added) & set(_security_names(security))) if security is not None else []
    if clash:
        raise InvalidArgument(f"The custom header {clash[0]} is a security header: set it in SecurityHeadersConfig.")
    for name in (*added, *gone):  # added, Content-Length or Transfer-Encoding would break the answer's framing
        if name in UNREMOVABLE or name.startswith(UNREMOVABLE_PREFIXES):
            raise InvalidArgument(f"The header {name} cannot be added or removed.")


def _security_names(security: SecurityHeadersConfig) -> tuple[str, ...]:
    """The lower-case names of the security fields `security` sets."""
    present = (
        ("x-xss-protection", security.xss_protection is not None),
        ("x-frame-options", security.frame_option is not None),
        ("referrer-policy", security.referrer_policy is not None),
        ("content-security-policy", security.content_security_policy is not None),
        ("x-content-type-options", security.content_type_options),
        ("strict-transport-security", security.strict_transport_security is not None),
    )
    return tuple(name for name, set_here in present if set_here)


CORS_AND_SECURITY_HEADERS = "e61eb60c-9c35-4d20-a928-2b84e02af89c"
CORS_WITH_PREFLIGHT = "5cc3b908-e619-4b99-88e5-2cf7f45965bd"
CORS_WITH_PREFLIGHT_AND_SECURITY_HEADERS = "eaab4381-ed33-4a86-88ca-d9558dc6cd63"
SECURITY_HEADERS = "67f7725c-6f97-4210-82d7-5512b31e9d03"
SIMPLE_CORS = "60669652-455b-4ae9-85a4-c4c02393f86c"

# The guide lists only the fields below; the policies' other CORS settings are left empty.
_SIMPLE = CorsConfig(allow_origins=("*",), allow_headers=(), allow_methods=(), allow_credentials=False,
                     origin_override=False)
_PREFLIGHT = CorsConfig(allow_origins=("*",), allow_headers=(),
                        allow_methods=("DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT"),
                        allow_credentials=False, origin_override=False, expose_headers=("*",))
_SECURITY = SecurityHeadersConfig(
    xss_protection=XssProtection(True, mode_block=True), frame_option="SAMEORIGIN",
    referrer_policy="strict-origin-when-cross-origin", content_type_options=True,
    strict_transport_security=StrictTransportSecurity(31536000), overridden=("X-Content-Type-Options",))

MANAGED: dict[str, ResponseHeadersPolicy] = {
    CORS_AND_SECURITY_HEADERS: ResponseHeadersPolicy(
        "Managed-CORS-and-SecurityHeadersPolicy",
        "Allows all origins for simple CORS requests, and adds security headers to all responses",
        cors=_SIMPLE, security=_SECURITY),
    CORS_WITH_PREFLIGHT: ResponseHeadersPolicy(
        "Managed-CORS-With-Preflight", "Allows all origins for CORS requests, including preflight requests",
        cors=_PREFLIGHT),
    CORS_WITH_PREFLIGHT_AND_SECURITY_HEADERS: ResponseHeadersPolicy(
        "Managed-CORS-with-preflight-and-SecurityHeadersPolicy",
        "Allows all origins for CORS requests, including preflight requests, and adds security headers",
        cors=_PREFLIGHT, security=_SECURITY),
    SECURITY_HEADERS: ResponseHeadersPolicy(
        "Managed-SecurityHeadersPolicy", "Adds a set of security headers to every response", security=_SECURITY),
    SIMPLE_CORS: ResponseHeadersPolicy(
        "Managed-SimpleCORS", "Allows all origins for simple CORS requests", cors=_SIMPLE),
}
