"""A response headers policy as the edge applies it to what viewers receive (AWS CloudFront
DeveloperGuide/understanding-response-headers-policies.html): security headers on every
response; Access-Control-Allow-Origin, -Allow-Credentials and -Expose-Headers on responses to
CORS requests (those with an Origin field); Access-Control-Allow-Methods, -Allow-Headers and
-Max-Age besides on responses to preflight requests (OPTIONS with Origin and
Access-Control-Request-Method). Each field yields to the origin's own unless its Override is set.

The fields a request gets are chosen once per request (`ResponseFields.chosen`), as a tuple that
is the same object for every request of one kind, so a head built with them can be kept."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from strato.cdn.response_headers_policies import CorsConfig, ResponseHeadersPolicy, SecurityHeadersConfig

Field = tuple[str, str, bool]  # lower-case name, value, whether it replaces the origin's
Fields = tuple[Field, ...]
_EVERY_METHOD = ("GET", "DELETE", "HEAD", "OPTIONS", "PATCH", "POST", "PUT")


@dataclass(frozen=True, slots=True)
class ResponseFields:
    """`always`: for every response; `cors` and `preflight`: for responses to CORS and preflight
    requests (each holding `always` too); `origins`: the allowed origins when they are listed
    rather than `*` (Access-Control-Allow-Origin is then the request's Origin, when listed)."""

    always: Fields = ()
    cors: Fields = ()
    preflight: Fields = ()
    origins: frozenset[str] | None = None
    origin_override: bool = False

    def chosen(self, headers: Mapping[str, str], method: str) -> Fields:
        """The fields for a response to a request with these (lower-case) `headers`."""
        origin = headers.get("origin")
        if origin is None or not self.cors:
            return self.always
        fields = self.preflight if method == "OPTIONS" and "access-control-request-method" in headers else self.cors
        if self.origins is None:
            return fields
        if origin not in self.origins:
            return self.always
        return (*fields, ("access-control-allow-origin", origin, self.origin_override))


NO_FIELDS = ResponseFields()


def add_fields(headers: dict[str, str], fields: Fields) -> None:
    """Each field into `headers` (lower-case names), unless the origin sent it and it does not override."""
    for name, value, override in fields:
        if override or name not in headers:
            headers[name] = value


def response_fields(policy: ResponseHeadersPolicy) -> ResponseFields:
    always = _security_fields(policy.security) if policy.security is not None else ()
    cors = policy.cors
    if cors is None:
        return ResponseFields(always=always)
    override = cors.origin_override
    listed = "*" not in cors.allow_origins
    simple: list[Field] = [] if listed else [("access-control-allow-origin", "*", override)]
    if cors.allow_credentials:
        simple.append(("access-control-allow-credentials", "true", override))
    if cors.expose_headers:
        simple.append(("access-control-expose-headers", ", ".join(cors.expose_headers), override))
    return ResponseFields(always=always, cors=(*always, *simple), preflight=(*always, *simple, *_preflight(cors)),
                          origins=frozenset(cors.allow_origins) if listed else None, origin_override=override)


def _preflight(cors: CorsConfig) -> list[Field]:
    override = cors.origin_override
    methods = _EVERY_METHOD if "ALL" in cors.allow_methods else cors.allow_methods
    fields = []
    if methods:
        fields.append(("access-control-allow-methods", ", ".join(methods), override))
    if cors.allow_headers:
        fields.append(("access-control-allow-headers", ", ".join(cors.allow_headers), override))
    if cors.max_age is not None:
        fields.append(("access-control-max-age", str(cors.max_age), override))
    return fields


def _security_fields(security: SecurityHeadersConfig) -> Fields:
    xss = "1; mode=block" if security.xss_protection and security.xss_mode_block else (
        "1" if security.xss_protection else "0")
    fields = [
        ("X-XSS-Protection", xss),
        ("X-Frame-Options", security.frame_option),
        ("Referrer-Policy", security.referrer_policy),
        ("X-Content-Type-Options", "nosniff" if security.content_type_options else ""),
        ("Strict-Transport-Security", f"max-age={security.hsts_max_age}"),
    ]
    return tuple((name.lower(), value, security.overrides(name)) for name, value in fields if value)
