"""Managed origin request and response headers policies as `strato serve`'s edge applies them,
set with boto3's CloudFront client and seen from a real origin and a real client: what the
origin receives follows the origin request policy, and every answer (miss or hit, on a new
connection or a kept-alive one, the edge's fast paths and its ASGI app alike) carries the
response headers policy's fields."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from strato.cdn.cache_policies import CACHING_DISABLED, CACHING_OPTIMIZED
from strato.cdn.origin_request_policies import ALL_VIEWER, ALL_VIEWER_EXCEPT_HOST_HEADER, CORS_CUSTOM_ORIGIN
from strato.cdn.response_headers_policies import CORS_WITH_PREFLIGHT_AND_SECURITY_HEADERS, SECURITY_HEADERS
from tests.e2e.edge_sites import Site, managed, open_site
from tests.edge.origin import Origin, Route
from tests.servers import StratoServer

GET_HEAD_OPTIONS = {"Quantity": 3, "Items": ["GET", "HEAD", "OPTIONS"],
                    "CachedMethods": {"Quantity": 2, "Items": ["GET", "HEAD"]}}
SECURITY = {
    "x-xss-protection": "1; mode=block", "x-frame-options": "SAMEORIGIN",
    "referrer-policy": "strict-origin-when-cross-origin", "x-content-type-options": "nosniff",
    "strict-transport-security": "max-age=31536000",
}
KEPT = {"Cache-Control": "max-age=300", "Content-Type": "text/plain"}


@pytest.fixture(scope="module")
def site(server: StratoServer, cloudfront: Any) -> Iterator[Site]:
    origin = Origin()
    behaviours = [
        managed("/all-viewer/*", CACHING_OPTIMIZED, OriginRequestPolicyId=ALL_VIEWER),
        managed("/api/*", CACHING_DISABLED, OriginRequestPolicyId=ALL_VIEWER_EXCEPT_HOST_HEADER),
        managed("/cors/*", CACHING_OPTIMIZED, OriginRequestPolicyId=CORS_CUSTOM_ORIGIN,
                  ResponseHeadersPolicyId=CORS_WITH_PREFLIGHT_AND_SECURITY_HEADERS, AllowedMethods=GET_HEAD_OPTIONS),
        managed("/secure/*", CACHING_OPTIMIZED, ResponseHeadersPolicyId=SECURITY_HEADERS),
    ]
    running = open_site(server, cloudfront, origin, behaviours)
    yield running
    origin.close()


class TestOriginRequestPolicies:
    def test_all_viewer_sends_the_viewers_fields_cookies_and_query_yet_keys_none_of_them(self, site: Site) -> None:
        site.origin.routes["/all-viewer/page"] = Route(200, KEPT, b"page")
        site.get("/all-viewer/page?lang=fr", Cookie="session=a", Referer="http://elsewhere/", User_Agent="curl/8")
        status, headers, body = site.get("/all-viewer/page?lang=de", Cookie="session=b")
        assert (status, body) == (200, b"page")
        assert "hit" in headers["cache-status"]
        [seen] = site.seen("/all-viewer/page")
        assert seen.path == "/all-viewer/page?lang=fr"
        assert (seen.headers["cookie"], seen.headers["referer"], seen.headers["user-agent"]) == (
            "session=a", "http://elsewhere/", "curl/8")
        assert seen.headers["host"] == site.alias

    def test_all_viewer_except_host_keeps_the_origins_own_host(self, site: Site) -> None:
        site.origin.routes["/api/orders"] = Route(200, {"Content-Type": "application/json"}, b"[]")
        site.get("/api/orders?page=2", Referer="http://elsewhere/")
        [seen] = site.seen("/api/orders")
        assert seen.headers["host"] == site.origin.url.removeprefix("http://")
        assert (seen.path, seen.headers["referer"]) == ("/api/orders?page=2", "http://elsewhere/")

    def test_cors_custom_origin_sends_origin_and_nothing_else_of_the_viewers(self, site: Site) -> None:
        site.origin.routes["/cors/fonts.css"] = Route(200, KEPT, b"css")
        site.get("/cors/fonts.css?v=3", Origin="https://app.example.com", Referer="http://elsewhere/",
                 Cookie="session=a")
        [seen] = site.seen("/cors/fonts.css")
        assert (seen.path, seen.headers["origin"]) == ("/cors/fonts.css", "https://app.example.com")
        assert "referer" not in seen.headers
        assert "cookie" not in seen.headers
        assert seen.headers["user-agent"] == "Amazon CloudFront"


class TestResponseHeadersPolicies:
    def test_misses_and_hits_carry_the_security_headers_the_origins_own_kept(self, site: Site) -> None:
        site.origin.routes["/secure/a.txt"] = Route(200, {**KEPT, "X-Frame-Options": "DENY"}, b"a")
        for expected in ("stored", "hit"):
            status, headers, _ = site.get("/secure/a.txt")
            assert status == 200
            assert expected in headers["cache-status"]
            assert {name: headers[name] for name in SECURITY} == {**SECURITY, "x-frame-options": "DENY"}

    def test_answers_on_a_kept_alive_connection_carry_them_too(self, site: Site) -> None:
        site.origin.routes["/secure/b.txt"] = Route(200, KEPT, b"b", together=True)
        answers = site.kept_alive(("/secure/b.txt", {}), ("/secure/b.txt", {}),
                                  ("/secure/b.txt", {"Cache-Control": "max-age=0"}))
        assert [status for status, _ in answers] == [200, 200, 200]
        for _, headers in answers:
            assert {name: headers.get(name) for name in SECURITY} == SECURITY

    def test_cors_requests_get_cors_headers_and_others_do_not(self, site: Site) -> None:
        site.origin.routes["/cors/app.js"] = Route(200, KEPT, b"js", together=True)
        plain, cors, cors_again = site.kept_alive(("/cors/app.js", {}), ("/cors/app.js", {"Origin": "https://a.io"}),
                                                  ("/cors/app.js", {"Origin": "https://b.io"}))
        assert "access-control-allow-origin" not in plain[1]
        assert plain[1]["x-content-type-options"] == "nosniff"
        for _, headers in (cors, cors_again):
            assert (headers["access-control-allow-origin"], headers["access-control-expose-headers"]) == ("*", "*")
            assert "access-control-allow-methods" not in headers
            assert headers["x-frame-options"] == "SAMEORIGIN"
        assert "hit" in cors_again[1]["cache-status"]

    def test_a_preflight_gets_the_allowed_methods(self, site: Site) -> None:
        site.origin.routes["/cors/upload"] = Route(204, {}, b"")
        status, headers, _ = site.get("/cors/upload", method="OPTIONS", Origin="https://app.example.com",
                                      Access_Control_Request_Method="PUT")
        assert status == 204
        assert headers["access-control-allow-methods"] == "DELETE, GET, HEAD, OPTIONS, PATCH, POST, PUT"
        assert headers["access-control-allow-origin"] == "*"
        [seen] = site.seen("/cors/upload")
        assert (seen.method, seen.headers["origin"]) == ("OPTIONS", "https://app.example.com")
        assert "access-control-request-method" not in seen.headers  # CORS-CustomOrigin sends Origin only
