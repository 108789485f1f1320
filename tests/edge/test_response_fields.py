"""Response headers policies as the edge applies them (AWS CloudFront
DeveloperGuide/understanding-response-headers-policies.html): security and custom headers on
every response, CORS headers on responses to CORS and preflight requests, the origin's own field
kept unless the policy overrides it, removed fields gone, Server-Timing on the sampled share."""

from __future__ import annotations

import pytest

from strato.cdn import response_headers_policies as policies
from strato.cdn.response_headers_policies import (
    CorsConfig,
    CustomHeader,
    ResponseHeadersPolicy,
    SecurityHeadersConfig,
    ServerTiming,
    StrictTransportSecurity,
    XssProtection,
)
from strato.edge.response_fields import VARY_ORIGIN, add_fields, response_fields, server_timing, with_fields

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
            "access-control-allow-headers": "X-Tenant", "access-control-max-age": "600", "vary": "Origin"}
        assert fields.chosen({"origin": "https://evil.example"}, "GET") == (VARY_ORIGIN,)

    @pytest.mark.parametrize(("vary", "joined"), [
        (None, "Origin"), ("Accept-Encoding", "Accept-Encoding, Origin"), ("accept-encoding, origin",
                                                                            "accept-encoding, origin"),
        ("*", "*"),
    ])
    def test_echoed_origins_make_every_response_vary_by_origin(self, vary: str | None, joined: str) -> None:
        """Downstream caches must not give one listed origin's answer to another, nor a response
        to a request without Origin to a CORS request."""
        cors = CorsConfig(("https://app.example.com", "https://b.example.com"), (), ("GET",), False, True)
        fields = response_fields(ResponseHeadersPolicy("mine", "", cors=cors))
        for request in (PLAIN, CORS, {"origin": "https://evil.example"}):
            headers = {} if vary is None else {"vary": vary}
            add_fields(headers, fields.chosen(request, "GET"))
            assert headers["vary"] == joined
            raw = [] if vary is None else [(b"Vary", vary.encode())]
            assert [value for name, value in with_fields(raw, fields.chosen(request, "GET"))
                    if name.lower() == b"vary"] == [joined.encode()]

    def test_answering_any_origin_or_removing_vary_adds_no_vary(self) -> None:
        assert "vary" not in answer(policies.SIMPLE_CORS, CORS)
        cors = CorsConfig(("https://app.example.com",), (), ("GET",), False, True)
        removed = ResponseHeadersPolicy("mine", "", cors=cors, remove_headers=("Vary",))
        headers = {"vary": "Accept-Encoding"}
        add_fields(headers, response_fields(removed).chosen(CORS, "GET"))
        assert "vary" not in headers

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


MINE = ResponseHeadersPolicy(
    "mine", "", security=SecurityHeadersConfig(
        xss_protection=XssProtection(True, report_uri="https://r.example/"), content_security_policy="default-src *",
        strict_transport_security=StrictTransportSecurity(600, include_subdomains=True), overridden=(
            "Content-Security-Policy",)),
    custom_headers=(CustomHeader("X-Site", "policy", False), CustomHeader("Cache-Control", "no-cache", True)),
    remove_headers=("X-Powered-By",))


class TestCustomPolicies:
    def test_removed_fields_go_custom_ones_join_and_security_ones_follow_their_override(self) -> None:
        headers = {"x-powered-by": "php", "x-site": "origin", "cache-control": "max-age=60",
                   "content-security-policy": "none", "content-type": "text/plain"}
        add_fields(headers, response_fields(MINE).chosen(PLAIN, "GET"))
        assert headers == {
            "x-site": "origin", "cache-control": "no-cache", "content-security-policy": "default-src *",
            "content-type": "text/plain", "x-xss-protection": "1; report=https://r.example/",
            "strict-transport-security": "max-age=600; includeSubDomains"}

    def test_an_asgi_head_loses_every_copy_of_a_removed_field(self) -> None:
        raw = [(b"X-Powered-By", b"php"), (b"x-powered-by", b"asp"), (b"content-type", b"text/plain")]
        assert with_fields(raw, response_fields(MINE).chosen(PLAIN, "GET"))[:2] == [
            (b"content-type", b"text/plain"), (b"x-xss-protection", b"1; report=https://r.example/")]


class TestServerTiming:
    @pytest.mark.parametrize(("status", "metrics"), [
        ("strato; hit; ttl=60", 'cdn-cache-hit, cdn-hit-layer;desc="EDGE", cdn-pop;desc="strato"'),
        ("strato; fwd=uri-miss; stored", 'cdn-cache-miss, cdn-upstream-layer;desc="EDGE", cdn-pop;desc="strato"'),
        ("origin-cache; hit, strato; fwd=stale; fwd-status=304",
         'cdn-cache-refresh, cdn-upstream-layer;desc="EDGE", cdn-pop;desc="strato"'),
    ])
    def test_its_metrics_come_from_the_edges_own_cache_status(self, status: str, metrics: str) -> None:
        assert server_timing(status, None) == metrics
        assert server_timing(status, "db;dur=3") == f"db;dur=3, {metrics}"

    @pytest.mark.parametrize(("rate", "timed"), [(100, True), (0, False)])
    def test_it_goes_on_the_sampled_share_of_responses(self, rate: float, timed: bool) -> None:
        fields = response_fields(ResponseHeadersPolicy("timed", "", server_timing=ServerTiming(True, rate)))
        for _ in range(20):
            headers = {"cache-status": "strato; hit"}
            add_fields(headers, fields.chosen(PLAIN, "GET"))
            assert ("server-timing" in headers) is timed

    def test_a_disabled_one_adds_nothing(self) -> None:
        fields = response_fields(ResponseHeadersPolicy("off", "", server_timing=ServerTiming(False, 100)))
        assert fields.empty
