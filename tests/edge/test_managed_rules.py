"""Behaviours naming AWS's managed policies, as the edge applies them: what the origin receives
(headers, cookies, query strings) under each managed origin request policy together with the
cache policy's key, what the key holds, and which origins get the viewer's Host
(AWS CloudFront DeveloperGuide/using-managed-origin-request-policies.html, controlling-origin-requests.html)."""

from __future__ import annotations

import pytest

from strato.cdn import origin_request_policies as requests
from strato.cdn.cache_policies import (
    AMPLIFY,
    AMPLIFY_DEFAULT,
    AMPLIFY_DEFAULT_NO_COOKIES,
    AMPLIFY_IMAGE_OPTIMIZATION,
    AMPLIFY_STATIC_CONTENT,
    CACHING_DISABLED,
    CACHING_OPTIMIZED,
    ELEMENTAL_MEDIA_PACKAGE,
    USE_ORIGIN_CACHE_CONTROL_HEADERS_QUERY_STRINGS,
)
from strato.cdn.records import Behavior
from strato.edge.behavior_rules import behavior_rules, forwards_host
from strato.edge.cloudfront_fields import Viewer
from strato.edge.rules import USER_AGENT, Rules, Ttls, edge_target, forwarded_headers, key_target

VIEWER = {
    "host": "shop.example.com", "accept": "text/html", "accept-language": "fr", "accept-encoding": "gzip, br",
    "user-agent": "curl/8", "referer": "http://elsewhere/", "origin": "https://app.example.com",
    "access-control-request-method": "PUT", "x-tenant": "blue", "x-edge-location": "here",
    "if-none-match": '"v1"', "cookie": "session=abc; theme=dark", "cloudfront-viewer-country": "FR",
}
TARGET = "/a?v=2&start=10&response-content-type=text/plain"


def behavior(cache: str = CACHING_OPTIMIZED, request: str | None = None) -> Behavior:
    return Behavior("web", "allow-all", cache_policy_id=cache, origin_request_policy_id=request)


def rules(cache: str = CACHING_OPTIMIZED, request: str | None = None, *, s3_origin: bool = False) -> Rules:
    return behavior_rules("E1", behavior(cache, request), {}, {}, s3_origin=s3_origin)


def sent(found: Rules) -> dict[str, str]:
    return forwarded_headers(found, dict(VIEWER))


class TestWithoutAnOriginRequestPolicy:
    def test_the_origin_gets_the_request_itself_and_the_key(self) -> None:
        found = rules()
        assert sent(found) == {"host": "shop.example.com", "accept-encoding": "br,gzip", "user-agent": USER_AGENT,
                               "origin": "https://app.example.com", "if-none-match": '"v1"'}
        assert edge_target(found, TARGET) == "/a"

    def test_a_keys_headers_cookies_and_query_strings_go_as_they_came(self) -> None:
        found = rules(USE_ORIGIN_CACHE_CONTROL_HEADERS_QUERY_STRINGS)
        forwarded = sent(found)
        assert forwarded["cookie"] == "session=abc; theme=dark"
        assert forwarded["origin"] == "https://app.example.com"
        assert "referer" not in forwarded
        assert edge_target(found, TARGET) == TARGET
        assert found.ttls is not None
        assert found.ttls.default == 0

    def test_a_whitelisted_query_goes_alone_and_makes_the_key(self) -> None:
        found = rules(ELEMENTAL_MEDIA_PACKAGE)
        target = edge_target(found, TARGET)
        assert target == "/a?start=10"
        assert key_target(found, target) == "/a?start=10"

    def test_accept_encoding_names_only_the_codings_the_policy_enables(self) -> None:
        assert sent(rules(ELEMENTAL_MEDIA_PACKAGE))["accept-encoding"] == "gzip"  # gzip alone
        assert "accept-encoding" not in sent(rules(CACHING_DISABLED))

    def test_authorization_reaches_the_origin_of_a_get_only_when_the_key_holds_it(self) -> None:
        signed = {**VIEWER, "authorization": "Bearer t"}
        assert forwarded_headers(rules(AMPLIFY), signed)["authorization"] == "Bearer t"
        assert "authorization" not in forwarded_headers(rules(request=requests.ALL_VIEWER), signed)


class TestAmplifyPolicies:
    def test_amplify_default_keys_on_accept_authorization_host_cookies_and_query(self) -> None:
        found = rules(AMPLIFY_DEFAULT)
        assert found.headers is not None
        assert found.headers.keyed == ("accept", "authorization", "cloudfront-viewer-country", "cookie", "host")
        assert found.ttls == Ttls(0, 0, 31536000)
        assert edge_target(found, TARGET) == key_target(found, TARGET) == TARGET
        assert sent(found)["accept"] == "text/html"
        assert "cloudfront-viewer-country" not in sent(found)  # no GeoIP: every viewer keys alike

    def test_amplify_default_no_cookies_sends_no_cookie(self) -> None:
        assert "cookie" not in sent(rules(AMPLIFY_DEFAULT_NO_COOKIES))

    def test_amplify_image_optimization_and_static_content_key_on_less(self) -> None:
        image, static = rules(AMPLIFY_IMAGE_OPTIMIZATION), rules(AMPLIFY_STATIC_CONTENT)
        assert image.headers is not None
        assert static.headers is not None
        assert image.headers.keyed == ("accept", "authorization", "host")
        assert static.headers.keyed == ("authorization", "host")
        assert edge_target(image, TARGET) == TARGET
        assert edge_target(static, TARGET) == "/a"


class TestOriginRequestPolicies:
    def test_all_viewer_sends_every_viewer_field_cookie_and_parameter_but_keys_none(self) -> None:
        found = rules(request=requests.ALL_VIEWER)
        forwarded = sent(found)
        assert forwarded == {name: value for name, value in VIEWER.items()
                             if name not in ("x-edge-location", "cloudfront-viewer-country", "accept-encoding")} | {
            "accept-encoding": "br,gzip"}
        assert edge_target(found, TARGET) == TARGET
        assert key_target(found, TARGET) == "/a"
        assert found.headers is not None
        assert found.headers.keyed == ()

    def test_cloudfronts_own_headers_are_never_the_viewers(self) -> None:
        forwarded = sent(rules(request=requests.ALL_VIEWER_AND_CLOUDFRONT_HEADERS))
        assert "cloudfront-viewer-country" not in forwarded
        assert forwarded["referer"] == "http://elsewhere/"

    def test_all_viewer_and_cloudfront_headers_adds_those_the_edge_computes(self) -> None:
        found = rules(request=requests.ALL_VIEWER_AND_CLOUDFRONT_HEADERS)
        forwarded = forwarded_headers(found, dict(VIEWER), viewer=Viewer("203.0.113.7", 50123, "1.1", https=True))
        assert {name: value for name, value in forwarded.items() if name.startswith("cloudfront-")} == {
            "cloudfront-forwarded-proto": "https", "cloudfront-viewer-address": "203.0.113.7:50123",
            "cloudfront-viewer-http-version": "1.1", "cloudfront-is-android-viewer": "false",
            "cloudfront-is-desktop-viewer": "true", "cloudfront-is-ios-viewer": "false",
            "cloudfront-is-mobile-viewer": "false", "cloudfront-is-smarttv-viewer": "false",
            "cloudfront-is-tablet-viewer": "false"}
        assert forwarded["user-agent"] == "curl/8"
        assert found.headers is not None
        assert found.headers.keyed == ()

    def test_all_viewer_computes_no_cloudfront_header(self) -> None:
        assert not rules(request=requests.ALL_VIEWER).computes_fields
        assert not rules(AMPLIFY).computes_fields  # its key names only CloudFront-Viewer-Country

    def test_all_viewer_except_host_keeps_the_viewers_host_from_a_custom_origin(self) -> None:
        assert not forwards_host(behavior(request=requests.ALL_VIEWER_EXCEPT_HOST_HEADER))
        assert forwards_host(behavior(request=requests.ALL_VIEWER))
        assert forwards_host(behavior(AMPLIFY))
        assert not forwards_host(behavior())
        assert sent(rules(request=requests.ALL_VIEWER_EXCEPT_HOST_HEADER))["accept"] == "text/html"

    def test_cors_s3_origin_sends_the_cors_request_fields_only(self) -> None:
        forwarded = sent(rules(CACHING_DISABLED, requests.CORS_S3_ORIGIN))
        assert forwarded == {"host": "shop.example.com", "user-agent": USER_AGENT, "origin": "https://app.example.com",
                             "access-control-request-method": "PUT", "if-none-match": '"v1"'}

    def test_user_agent_referer_headers_sends_the_viewers_user_agent(self) -> None:
        forwarded = sent(rules(request=requests.USER_AGENT_REFERER_HEADERS))
        assert (forwarded["user-agent"], forwarded["referer"]) == ("curl/8", "http://elsewhere/")
        assert "cookie" not in forwarded
        assert "accept-language" not in forwarded

    def test_host_header_only_sends_the_viewers_host_and_nothing_else(self) -> None:
        found = rules(CACHING_DISABLED, requests.HOST_HEADER_ONLY)
        assert forwards_host(behavior(CACHING_DISABLED, requests.HOST_HEADER_ONLY))
        assert sent(found) == {"host": "shop.example.com", "user-agent": USER_AGENT,
                               "origin": "https://app.example.com", "if-none-match": '"v1"'}
        assert edge_target(found, TARGET) == "/a"

    def test_media_tailor_adds_every_parameter_to_a_whitelisted_key(self) -> None:
        found = rules(ELEMENTAL_MEDIA_PACKAGE, requests.ELEMENTAL_MEDIA_TAILOR)
        target = edge_target(found, TARGET)
        assert target == TARGET
        assert key_target(found, target) == "/a?start=10"

    @pytest.mark.parametrize("request_policy", sorted(requests.S3_WITHHOLDING))
    def test_s3s_response_content_parameters_stay_from_an_s3_origin(self, request_policy: str) -> None:
        assert edge_target(rules(request=request_policy, s3_origin=True), TARGET) == "/a?v=2&start=10"
        assert edge_target(rules(request=request_policy), TARGET) == TARGET

    def test_an_id_no_managed_policy_has_adds_nothing(self) -> None:
        assert rules(request="my-own") == rules()
