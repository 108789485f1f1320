"""Custom response headers policies as `strato serve`'s edge applies them, set with boto3's
CloudFront client and seen by a real client in front of a real origin: CORS, the security
headers, custom headers (replacing the origin's only with Override), removed headers and
Server-Timing on misses and hits, on new and kept-alive connections; and an update to the policy
reaching the edge without touching the distribution."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from strato.cdn.cache_policies import CACHING_OPTIMIZED
from tests.conftest import make_client
from tests.e2e.edge_sites import Site, managed, open_site
from tests.edge.origin import Origin, Route
from tests.servers import StratoServer

GET_HEAD_OPTIONS = {"Quantity": 3, "Items": ["GET", "HEAD", "OPTIONS"],
                    "CachedMethods": {"Quantity": 2, "Items": ["GET", "HEAD"]}}
APP = "https://app.example.com"
ORIGINS = {"Cache-Control": "max-age=300", "Content-Type": "text/plain", "X-Site": "origin", "X-Powered-By": "php",
           "Server-Timing": "app;dur=5", "X-Frame-Options": "SAMEORIGIN", "Referrer-Policy": "origin"}
SECURITY = {
    "x-xss-protection": "1; report=https://r.example/xss", "x-frame-options": "DENY",
    "referrer-policy": "origin",  # the origin's, kept: no Override
    "content-security-policy": "default-src 'self'", "x-content-type-options": "nosniff",
    "strict-transport-security": "max-age=63072000; includeSubDomains; preload",
}


def policy_config(name: str, **changes: Any) -> dict[str, Any]:
    return {
        "Name": name,
        "CorsConfig": {
            "AccessControlAllowOrigins": {"Quantity": 1, "Items": [APP]},
            "AccessControlAllowHeaders": {"Quantity": 1, "Items": ["X-Tenant"]},
            "AccessControlAllowMethods": {"Quantity": 2, "Items": ["GET", "PUT"]},
            "AccessControlAllowCredentials": True, "AccessControlMaxAgeSec": 600, "OriginOverride": False},
        "SecurityHeadersConfig": {
            "XSSProtection": {"Override": False, "Protection": True, "ReportUri": "https://r.example/xss"},
            "FrameOptions": {"Override": True, "FrameOption": "DENY"},
            "ReferrerPolicy": {"Override": False, "ReferrerPolicy": "no-referrer"},
            "ContentSecurityPolicy": {"Override": False, "ContentSecurityPolicy": "default-src 'self'"},
            "ContentTypeOptions": {"Override": False},
            "StrictTransportSecurity": {"Override": False, "IncludeSubdomains": True, "Preload": True,
                                        "AccessControlMaxAgeSec": 63072000}},
        "ServerTimingHeadersConfig": {"Enabled": True, "SamplingRate": 100},
        "CustomHeadersConfig": {"Quantity": 2, "Items": [
            {"Header": "Cache-Control", "Value": "public, max-age=60", "Override": True},
            {"Header": "X-Site", "Value": "policy", "Override": False}]},
        "RemoveHeadersConfig": {"Quantity": 1, "Items": [{"Header": "X-Powered-By"}]},
        **changes}


@pytest.fixture(scope="module")
def site(server: StratoServer, cloudfront: Any) -> Iterator[Site]:
    created = cloudfront.create_response_headers_policy(
        ResponseHeadersPolicyConfig=policy_config(f"edge-{uuid.uuid4().hex[:8]}"))
    origin = Origin()
    running = open_site(server, cloudfront, origin, [managed(
        "/custom/*", CACHING_OPTIMIZED, ResponseHeadersPolicyId=created["ResponseHeadersPolicy"]["Id"],
        AllowedMethods=GET_HEAD_OPTIONS)])
    yield running
    origin.close()


def edge_name(headers: dict[str, str]) -> str:
    return headers["cache-status"].split(";")[0].strip().strip('"')


class TestEveryResponse:
    def test_misses_and_hits_get_the_security_and_custom_headers_without_the_removed_ones(self, site: Site) -> None:
        site.origin.routes["/custom/a.txt"] = Route(200, ORIGINS, b"a")
        for expected in ("stored", "hit"):
            status, headers, body = site.get("/custom/a.txt")
            assert (status, body) == (200, b"a")
            assert expected in headers["cache-status"]
            assert {name: headers.get(name) for name in SECURITY} == SECURITY
            assert headers["cache-control"] == "public, max-age=60"  # Override: the policy's replaces the origin's
            assert headers["x-site"] == "origin"  # no Override: the origin's stays
            assert "x-powered-by" not in headers

    def test_kept_alive_answers_from_the_fast_paths_get_them_too(self, site: Site) -> None:
        site.origin.routes["/custom/b.txt"] = Route(200, ORIGINS, b"b", together=True)
        answers = site.kept_alive(("/custom/b.txt", {}), ("/custom/b.txt", {}),
                                  ("/custom/b.txt", {"Cache-Control": "max-age=0"}))
        assert [status for status, _ in answers] == [200, 200, 200]
        for _, headers in answers:
            assert {name: headers.get(name) for name in SECURITY} == SECURITY
            assert (headers["cache-control"], headers["x-site"]) == ("public, max-age=60", "origin")
            assert "x-powered-by" not in headers

    def test_kept_alive_not_modified_and_failed_precondition_answers_get_them_as_the_asgi_apps_do(
        self, site: Site
    ) -> None:
        """A 304 or 412 keeps few of the stored fields; the policy's are added to it all the same,
        on a miss and a hit answered on a kept-alive connection (the fast paths) as on a request
        the ASGI app answers (one with a body)."""
        site.origin.routes["/custom/v.txt"] = Route(200, {**ORIGINS, "ETag": '"v"'}, b"v", together=True)
        through_asgi = {"Content-Length": "0"}
        for fields in ({"If-None-Match": '"v"', "Origin": APP}, {"If-Match": '"other"'}):
            answers = site.kept_alive(("/custom/v.txt", fields), ("/custom/v.txt", fields),
                                      ("/custom/v.txt", {**fields, **through_asgi}))
            for status, headers in answers:
                assert status == (304 if "If-None-Match" in fields else 412)
                assert {name: headers.get(name) for name in SECURITY} == {**SECURITY, "referrer-policy": "no-referrer"}
                assert headers["x-site"] == "policy"
                if "Origin" in fields:
                    assert headers["access-control-allow-origin"] == APP
            fast_hit, through = answers[1][1], answers[2][1]
            assert {k: v for k, v in fast_hit.items() if k not in ("date", "age")} == {
                k: v for k, v in through.items() if k not in ("date", "age")}

    def test_a_field_the_origin_did_not_send_is_added(self, site: Site) -> None:
        site.origin.routes["/custom/bare.txt"] = Route(200, {"Cache-Control": "max-age=300"}, b"bare")
        _, headers, _ = site.get("/custom/bare.txt")
        assert (headers["x-site"], headers["referrer-policy"], headers["x-frame-options"]) == (
            "policy", "no-referrer", "DENY")


class TestServerTiming:
    def test_a_miss_and_a_hit_say_so_after_the_origins_own_metrics(self, site: Site) -> None:
        site.origin.routes["/custom/timed.txt"] = Route(200, ORIGINS, b"t")
        _, miss, _ = site.get("/custom/timed.txt")
        _, hit, _ = site.get("/custom/timed.txt")
        pop = f'cdn-pop;desc="{edge_name(miss)}"'
        assert miss["server-timing"] == f'app;dur=5, cdn-cache-miss, cdn-upstream-layer;desc="EDGE", {pop}'
        assert hit["server-timing"] == f'app;dur=5, cdn-cache-hit, cdn-hit-layer;desc="EDGE", {pop}'

    def test_the_edges_own_refusal_has_no_empty_field(self, site: Site) -> None:
        status, headers, _ = site.get("/custom/timed.txt", method="DELETE")  # a method the behaviour refuses
        assert status == 403
        assert "server-timing" not in headers

    def test_kept_alive_hits_carry_it(self, site: Site) -> None:
        site.origin.routes["/custom/timed-b.txt"] = Route(200, {"Cache-Control": "max-age=300"}, b"t", together=True)
        (_, miss), (_, hit) = site.kept_alive(("/custom/timed-b.txt", {}), ("/custom/timed-b.txt", {}))
        assert miss["server-timing"].startswith("cdn-cache-miss, ")
        assert hit["server-timing"].startswith("cdn-cache-hit, ")


class TestCors:
    def test_a_listed_origin_is_echoed_with_credentials_and_another_gets_nothing(self, site: Site) -> None:
        site.origin.routes["/custom/app.js"] = Route(200, {"Cache-Control": "max-age=300"}, b"js", together=True)
        (_, listed), (_, other) = site.kept_alive(("/custom/app.js", {"Origin": APP}),
                                                  ("/custom/app.js", {"Origin": "https://evil.example"}))
        assert (listed["access-control-allow-origin"], listed["access-control-allow-credentials"]) == (APP, "true")
        assert "access-control-allow-methods" not in listed
        assert "access-control-allow-origin" not in other
        assert other["x-frame-options"] == "DENY"

    def test_every_answer_varies_by_origin_when_listed_origins_are_echoed(self, site: Site) -> None:
        """Misses and hits, with and without an Origin, from either path: no cache downstream may
        give one origin's answer (or one made for no origin) to another."""
        site.origin.routes["/custom/shared.css"] = Route(
            200, {"Cache-Control": "max-age=300", "Vary": "Accept-Language"}, b"css", together=True)
        answers = site.kept_alive(("/custom/shared.css", {}), ("/custom/shared.css", {}),
                                  ("/custom/shared.css", {"Origin": APP}),
                                  ("/custom/shared.css", {"Origin": "https://evil.example"}))
        assert [headers["vary"] for _, headers in answers] == ["Accept-Language, Origin"] * 4
        assert "; hit" in answers[1][1]["cache-status"]  # the hit path's kept head has it too

    def test_a_preflight_gets_the_methods_headers_and_max_age(self, site: Site) -> None:
        site.origin.routes["/custom/upload"] = Route(204, {}, b"")
        status, headers, _ = site.get("/custom/upload", method="OPTIONS", Origin=APP,
                                      Access_Control_Request_Method="PUT")
        assert status == 204
        assert (headers["access-control-allow-methods"], headers["access-control-allow-headers"],
                headers["access-control-max-age"], headers["access-control-allow-origin"]) == (
            "GET, PUT", "X-Tenant", "600", APP)


def test_cors_of_listed_origins_alone_echoes_the_origin(server: StratoServer, cloudfront: Any) -> None:
    """No credentials, exposed headers or other fields: the listed origin is still echoed, and a
    preflight still gets the methods."""
    cors = {"AccessControlAllowOrigins": {"Quantity": 1, "Items": [APP]},
            "AccessControlAllowHeaders": {"Quantity": 0, "Items": []},
            "AccessControlAllowMethods": {"Quantity": 1, "Items": ["GET"]},
            "AccessControlAllowCredentials": False, "OriginOverride": False}
    created = cloudfront.create_response_headers_policy(ResponseHeadersPolicyConfig={
        "Name": f"edge-{uuid.uuid4().hex[:8]}", "CorsConfig": cors})
    origin = Origin()
    try:
        site = open_site(server, cloudfront, origin, [managed(
            "/listed/*", CACHING_OPTIMIZED, ResponseHeadersPolicyId=created["ResponseHeadersPolicy"]["Id"],
            AllowedMethods=GET_HEAD_OPTIONS)])
        origin.routes["/listed/app.js"] = Route(200, {"Cache-Control": "max-age=300"}, b"js")
        origin.routes["/listed/api"] = Route(204, {}, b"")
        for _ in ("miss", "hit"):
            assert site.get("/listed/app.js", Origin=APP)[1].get("access-control-allow-origin") == APP
        _, preflight, _ = site.get("/listed/api", method="OPTIONS", Origin=APP, Access_Control_Request_Method="GET")
        assert (preflight.get("access-control-allow-origin"), preflight.get("access-control-allow-methods")) == (
            APP, "GET")
    finally:
        origin.close()


def test_a_rate_limited_client_gets_the_fields_on_its_429_from_either_path(tmp_path: Path) -> None:
    """The 429 a client past its rate gets on a miss answered in the protocol carries the policy's
    fields (CORS among them: a page's script can read Retry-After) as the ASGI app's 429 does.
    The site is ready once a request gets through (a token every 2 s): the next two find none."""
    limited = StratoServer(tmp_path / "data", env={"STRATO_EDGE_RATE": "0.5"}).start()
    origin = Origin()
    try:
        client = make_client(limited.url, "cloudfront")
        created = client.create_response_headers_policy(
            ResponseHeadersPolicyConfig=policy_config(f"edge-{uuid.uuid4().hex[:8]}"))
        site = open_site(limited, client, origin, [managed(
            "/custom/*", CACHING_OPTIMIZED, ResponseHeadersPolicyId=created["ResponseHeadersPolicy"]["Id"])])
        cors = {"Origin": APP}
        through_asgi = {**cors, "Content-Length": "0"}
        answers = site.kept_alive(("/custom/limited.txt", cors), ("/custom/limited.txt", through_asgi))
        for status, headers in answers:
            assert (status, int(headers["retry-after"]) > 0) == (429, True)
            assert (headers.get("access-control-allow-origin"), headers.get("x-frame-options")) == (APP, "DENY")
        fast, slow = ({k: v for k, v in headers.items() if k != "retry-after"} for _, headers in answers)
        assert fast == slow
        assert site.seen("/custom/limited.txt") == []
    finally:
        origin.close()
        limited.stop()


def test_a_compressed_miss_answered_in_the_protocol_has_the_fields_the_asgi_apps_has(
    server: StratoServer, cloudfront: Any
) -> None:
    """Compression adds Accept-Encoding to Vary, the policy Origin (it echoes listed origins): in
    the same order on a miss answered in the protocol as on one the ASGI app answers."""
    created = cloudfront.create_response_headers_policy(
        ResponseHeadersPolicyConfig=policy_config(f"edge-{uuid.uuid4().hex[:8]}"))
    origin = Origin()
    try:
        site = open_site(server, cloudfront, origin, [managed(
            "/zipped/*", CACHING_OPTIMIZED, Compress=True,
            ResponseHeadersPolicyId=created["ResponseHeadersPolicy"]["Id"])])
        text = b"compress me, " * 200
        for path in ("/zipped/fast.txt", "/zipped/asgi.txt"):
            origin.routes[path] = Route(200, {"Cache-Control": "max-age=300", "Content-Type": "text/plain"}, text,
                                        together=True)
        fields = {"Accept-Encoding": "gzip", "Origin": APP}
        (_, fast), (_, slow) = site.kept_alive(("/zipped/fast.txt", fields),
                                               ("/zipped/asgi.txt", {**fields, "Content-Length": "0"}))
        assert (fast["content-encoding"], fast["cache-status"]) == ("gzip", slow["cache-status"])
        assert {k: v for k, v in fast.items() if k not in ("date", "age", "server-timing")} == {
            k: v for k, v in slow.items() if k not in ("date", "age", "server-timing")}
    finally:
        origin.close()


def test_an_update_changes_what_the_edge_adds(server: StratoServer, cloudfront: Any) -> None:
    name = f"edge-{uuid.uuid4().hex[:8]}"
    created = cloudfront.create_response_headers_policy(ResponseHeadersPolicyConfig=policy_config(name))
    policy_id = created["ResponseHeadersPolicy"]["Id"]
    origin = Origin()
    try:
        site = open_site(server, cloudfront, origin, [managed("/custom/*", CACHING_OPTIMIZED,
                                                              ResponseHeadersPolicyId=policy_id)])
        origin.routes["/custom/page"] = Route(200, {"Cache-Control": "max-age=300", "X-Powered-By": "php"}, b"p")
        _, before, _ = site.get("/custom/page")
        assert (before["x-site"], "x-powered-by" in before, "server-timing" in before) == ("policy", False, True)

        changed = policy_config(name, ServerTimingHeadersConfig={"Enabled": True, "SamplingRate": 0},
                                CustomHeadersConfig={"Quantity": 1, "Items": [
                                    {"Header": "X-Site", "Value": "changed", "Override": True}]},
                                RemoveHeadersConfig={"Quantity": 0})
        cloudfront.update_response_headers_policy(Id=policy_id, ResponseHeadersPolicyConfig=changed,
                                                  IfMatch=created["ETag"])
        deadline = time.monotonic() + 10  # the edge reads the registry again within a second
        while site.get("/custom/page")[1].get("x-site") != "changed" and time.monotonic() < deadline:
            time.sleep(0.1)
        _, after, _ = site.get("/custom/page")
        assert "hit" in after["cache-status"]  # the stored response, with the new policy's fields
        assert (after["x-site"], after["x-powered-by"], "server-timing" in after) == ("changed", "php", False)
    finally:
        origin.close()
