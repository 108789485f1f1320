"""AWS's managed response headers policies, the ones a cache behaviour may name by
ResponseHeadersPolicyId: CORS and security headers the edge adds to what viewers receive, with
their real ids and settings (AWS CloudFront DeveloperGuide/using-managed-response-headers-policies.html,
understanding-response-headers-policies.html). strato has no CreateResponseHeadersPolicy: any
other id is refused with NoSuchResponseHeadersPolicy. The comments of SimpleCORS,
SecurityHeadersPolicy and CORS-With-Preflight are AWS's; the others are strato's summaries of
the guide's descriptions."""

from __future__ import annotations

from dataclasses import dataclass


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
class SecurityHeadersConfig:
    """ResponseHeadersPolicySecurityHeadersConfig as the managed policies set it: X-XSS-Protection,
    X-Frame-Options, Referrer-Policy, X-Content-Type-Options and Strict-Transport-Security (no
    Content-Security-Policy); `overridden`: the fields whose Override is true."""

    xss_protection: bool
    xss_mode_block: bool
    frame_option: str
    referrer_policy: str
    content_type_options: bool
    hsts_max_age: int
    overridden: frozenset[str]

    def overrides(self, field: str) -> bool:
        return field in self.overridden


@dataclass(frozen=True, slots=True)
class ResponseHeadersPolicy:
    name: str
    comment: str
    cors: CorsConfig | None = None
    security: SecurityHeadersConfig | None = None


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
    xss_protection=True, xss_mode_block=True, frame_option="SAMEORIGIN",
    referrer_policy="strict-origin-when-cross-origin", content_type_options=True, hsts_max_age=31536000,
    overridden=frozenset({"X-Content-Type-Options"}))

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
