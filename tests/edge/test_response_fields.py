"""Managed response headers policies as the edge applies them (AWS CloudFront
DeveloperGuide/understanding-response-headers-policies.html): security headers on every
response, CORS headers on responses to CORS and preflight requests, the origin's own field
kept unless the policy overrides it."""

from __future__ import annotations

from strato.cdn import response_headers_policies as policies
from strato.cdn.response_headers_policies import CorsConfig, ResponseHeadersPolicy
from strato.edge.response_fields import add_fields, response_fields, with_fields

SECURITY = {
    "x-xss-protection": "1; mode=block", "x-frame-options": "SAMEORIGIN",
    "referrer-policy": "strict-origin-when-cross-origin", "x-content-type-options": "nosniff",
    "strict-transport-security": "max-age=31536000",
}
PLAIN = {"accept": "*/*"}
CORS = {"origin": "https://app.example.com"}
PREFLIGHT = {**CORS, "access-control-request-method": "PUT"}


def answer(policy_id: str, request: dict[str, str], method: str = "GET",
           origin: dict[str, str] | None = None) -> dict[str, str]:
    headers = dict(origin or {"content-type": "text/plain"})
    add_fields(headers, response_fields(policies.MANAGED[policy_id]).chosen(request, method))
    return headers


class TestSecurityHeaders:
    def test_every_response_gets_them(self) -> None:
        assert answer(policies.SECURITY_HEADERS, PLAIN) == {"content-type": "text/plain", **SECURITY}

    def test_the_origins_own_stay_except_x_content_type_options(self) -> None:
        origin = {"x-frame-options": "DENY", "x-content-type-options": "off"}
        got = answer(policies.SECURITY_HEADERS, PLAIN, origin=origin)
        assert (got["x-frame-options"], got["x-content-type-options"]) == ("DENY", "nosniff")


class TestCors:
    def test_only_cors_requests_get_cors_headers(self) -> None:
        assert answer(policies.SIMPLE_CORS, PLAIN) == {"content-type": "text/plain"}
        assert answer(policies.SIMPLE_CORS, CORS)["access-control-allow-origin"] == "*"

    def test_a_preflight_gets_the_allowed_methods_and_a_simple_request_does_not(self) -> None:
        simple = answer(policies.CORS_WITH_PREFLIGHT, CORS)
        assert (simple["access-control-allow-origin"], simple["access-control-expose-headers"]) == ("*", "*")
        assert "access-control-allow-methods" not in simple
        preflight = answer(policies.CORS_WITH_PREFLIGHT, PREFLIGHT, "OPTIONS")
        assert preflight["access-control-allow-methods"] == "DELETE, GET, HEAD, OPTIONS, PATCH, POST, PUT"
        assert "access-control-allow-methods" not in answer(policies.CORS_WITH_PREFLIGHT, PREFLIGHT, "GET")

    def test_the_origins_cors_headers_win(self) -> None:
        got = answer(policies.CORS_AND_SECURITY_HEADERS, CORS, origin={"access-control-allow-origin": "https://a"})
        assert got["access-control-allow-origin"] == "https://a"
        assert got["x-content-type-options"] == "nosniff"

    def test_listed_origins_are_echoed_and_others_get_none(self) -> None:
        cors = CorsConfig(("https://app.example.com",), ("X-Tenant",), ("ALL",), True, True, max_age=600)
        fields = response_fields(ResponseHeadersPolicy("mine", "", cors=cors))
        granted = dict((name, value) for name, value, _ in fields.chosen(PREFLIGHT, "OPTIONS"))
        assert granted == {
            "access-control-allow-origin": "https://app.example.com", "access-control-allow-credentials": "true",
            "access-control-allow-methods": "GET, DELETE, HEAD, OPTIONS, PATCH, POST, PUT",
            "access-control-allow-headers": "X-Tenant", "access-control-max-age": "600"}
        assert fields.chosen({"origin": "https://evil.example"}, "GET") == ()

    def test_one_kind_of_request_always_gets_the_same_fields(self) -> None:
        fields = response_fields(policies.MANAGED[policies.CORS_WITH_PREFLIGHT_AND_SECURITY_HEADERS])
        assert fields.chosen(CORS, "GET") is fields.chosen({"origin": "https://other"}, "HEAD")
        assert fields.chosen(PLAIN, "GET") is fields.always


class TestAsgiHeads:
    def test_fields_join_a_head_keeping_repeated_fields_and_replacing_overridden_ones(self) -> None:
        raw = [(b"set-cookie", b"a=1"), (b"set-cookie", b"b=2"), (b"x-content-type-options", b"off"),
               (b"x-frame-options", b"DENY")]
        added = (("x-content-type-options", "nosniff", True), ("x-frame-options", "SAMEORIGIN", False),
                 ("referrer-policy", "no-referrer", False))
        assert with_fields(raw, added) == [
            (b"set-cookie", b"a=1"), (b"set-cookie", b"b=2"), (b"x-frame-options", b"DENY"),
            (b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"no-referrer")]
