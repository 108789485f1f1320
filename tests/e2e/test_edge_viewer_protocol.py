"""A cache behaviour's ViewerProtocolPolicy at `strato serve`'s edge, which speaks plain HTTP:
`redirect-to-https` sends viewers to the https:// URL, `https-only` refuses them, `allow-all`
serves them; behind a TLS-terminating proxy the operator trusts
(STRATO_EDGE_TRUST_FORWARDED_PROTO), `X-Forwarded-Proto: https` counts as HTTPS."""

from __future__ import annotations

import http.client
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import make_client
from tests.e2e.test_serve_edge import http_origin
from tests.edge.origin import Origin, Route
from tests.servers import StratoServer, raw_exchange, request_head

EVERY_METHOD = {"Quantity": 7, "Items": ["GET", "HEAD", "OPTIONS", "PUT", "PATCH", "POST", "DELETE"],
                "CachedMethods": {"Quantity": 2, "Items": ["GET", "HEAD"]}}


def behaviour(policy: str, path: str | None = None) -> dict[str, Any]:
    found: dict[str, Any] = {
        "TargetOriginId": "web", "ViewerProtocolPolicy": policy, "MinTTL": 0, "DefaultTTL": 60, "MaxTTL": 3600,
        "AllowedMethods": EVERY_METHOD, "ForwardedValues": {"QueryString": True, "Cookies": {"Forward": "none"}}}
    if path is not None:
        found["PathPattern"] = path
    return found


@dataclass
class Site:
    server: StratoServer
    alias: str
    origin: Origin

    def ask(self, method: str, target: str, host: str | None = None,
            **headers: str) -> tuple[int, dict[str, str], bytes]:
        return ask(self.server.edge_url, method, target, host or self.alias,
                   {name.replace("_", "-"): value for name, value in headers.items()})


def ask(edge_url: str, method: str, target: str, host: str,
        headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
    """One request on a keep-alive connection (which the edge may answer from its hit path),
    redirects not followed."""
    connection = http.client.HTTPConnection(edge_url.removeprefix("http://"), timeout=30)
    try:
        connection.request(method, target, body=b"payload" if method in ("POST", "PUT") else None,
                           headers={"Host": host, **headers})
        response = connection.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        connection.close()


def open_site(server: StratoServer, cloudfront: Any) -> Site:
    origin = Origin()
    for path in ("/page", "/open/page", "/strict/page", "/ready", "/form"):
        origin.routes[path] = Route(200, {"Cache-Control": "max-age=300"}, f"origin {path}".encode())
    alias = f"{uuid.uuid4().hex[:12]}.example.com"
    origin.routes["/proto/page"] = Route(answer=lambda seen: (
        200, {"Cache-Control": "max-age=300"}, seen.headers["cloudfront-forwarded-proto"].encode()))
    by_protocol = behaviour("allow-all", "/proto/*")
    by_protocol["ForwardedValues"]["Headers"] = {"Quantity": 1, "Items": ["CloudFront-Forwarded-Proto"]}
    behaviours = [behaviour("allow-all", "/open/*"), behaviour("https-only", "/strict/*"),
                  behaviour("allow-all", "/ready"), by_protocol]
    cloudfront.create_distribution(DistributionConfig={
        "CallerReference": uuid.uuid4().hex, "Comment": "", "Enabled": True,
        "Aliases": {"Quantity": 1, "Items": [alias]},
        "Origins": {"Quantity": 1, "Items": [http_origin(origin.url)]},
        "DefaultCacheBehavior": behaviour("redirect-to-https"),
        "CacheBehaviors": {"Quantity": len(behaviours), "Items": behaviours},
    })
    site = Site(server, alias, origin)
    deadline = time.monotonic() + 10
    while site.ask("GET", "/ready")[0] != 200 and time.monotonic() < deadline:
        time.sleep(0.1)  # the edge reloads distributions each second
    return site


@pytest.fixture(scope="module")
def site(server: StratoServer, cloudfront: Any) -> Iterator[Site]:
    running = open_site(server, cloudfront)
    yield running
    running.origin.close()


@pytest.fixture(scope="module")
def behind_tls(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """A strato whose edge trusts the X-Forwarded-Proto of the proxy in front of it."""
    data: Path = tmp_path_factory.mktemp("trusting")
    server = StratoServer(data, env={"STRATO_EDGE_TRUST_FORWARDED_PROTO": "1"}).start()
    running = open_site(server, make_client(server.url, "cloudfront"))
    yield running
    running.origin.close()
    server.stop()


class TestOverHttp:
    def test_redirect_to_https_sends_a_get_to_the_same_url_in_https(self, site: Site) -> None:
        status, headers, body = site.ask("GET", "/page?size=large&x=%20y", host=f"{site.alias}:8080")
        assert status == 301
        assert headers["location"] == f"https://{site.alias}/page?size=large&x=%20y"
        assert b"301 Moved Permanently" in body
        assert not [seen for seen in site.origin.seen if seen.path.startswith("/page")]  # never asked

    def test_a_head_is_redirected_without_a_body(self, site: Site) -> None:
        status, headers, body = site.ask("HEAD", "/page")
        assert (status, body) == (301, b"")
        assert headers["location"] == f"https://{site.alias}/page"

    def test_other_methods_are_sent_again_with_307_so_they_keep_their_body(self, site: Site) -> None:
        status, headers, _ = site.ask("POST", "/form")
        assert status == 307
        assert headers["location"] == f"https://{site.alias}/form"

    def test_over_http_1_0_other_methods_are_refused(self, site: Site) -> None:
        request = request_head("POST", "/form", {"Host": site.alias, "Content-Length": "0"}).replace(
            b"HTTP/1.1", b"HTTP/1.0", 1)
        assert raw_exchange(int(site.server.edge_url.rsplit(":", 1)[1]), request).status == 403

    def test_https_only_refuses_with_403(self, site: Site) -> None:
        for method in ("GET", "HEAD"):
            assert site.ask(method, "/strict/page")[0] == 403
        assert not [seen for seen in site.origin.seen if seen.path == "/strict/page"]

    def test_allow_all_serves(self, site: Site) -> None:
        assert site.ask("GET", "/open/page")[:3:2] == (200, b"origin /open/page")

    def test_x_forwarded_proto_from_any_viewer_is_not_believed(self, site: Site) -> None:
        assert site.ask("GET", "/page", X_Forwarded_Proto="https")[0] == 301
        assert site.ask("GET", "/strict/page", X_Forwarded_Proto="https")[0] == 403
        assert site.ask("GET", "/proto/page", X_Forwarded_Proto="https", CloudFront_Forwarded_Proto="https")[2] == (
            b"http")


class TestBehindATrustedTlsProxy:
    def test_requests_the_proxy_says_came_over_https_are_served(self, behind_tls: Site) -> None:
        assert behind_tls.ask("GET", "/strict/page", X_Forwarded_Proto="https")[:3:2] == (
            200, b"origin /strict/page")
        assert behind_tls.ask("GET", "/page", X_Forwarded_Proto="https")[:3:2] == (200, b"origin /page")

    def test_cloudfront_forwarded_proto_says_what_the_proxy_says_and_keys_the_cache(self, behind_tls: Site) -> None:
        assert behind_tls.ask("GET", "/proto/page", X_Forwarded_Proto="https")[2] == b"https"
        assert behind_tls.ask("GET", "/proto/page")[2] == b"http"
        status, headers, body = behind_tls.ask("GET", "/proto/page", X_Forwarded_Proto="https")
        assert (status, body) == (200, b"https")
        assert "hit" in headers["cache-status"]

    def test_a_cached_object_is_still_redirected_when_asked_for_over_http(self, behind_tls: Site) -> None:
        for _ in range(2):
            behind_tls.ask("GET", "/page", X_Forwarded_Proto="https")
        status, headers, _ = behind_tls.ask("GET", "/page")
        assert status == 301
        assert headers["location"] == f"https://{behind_tls.alias}/page"
        assert behind_tls.ask("GET", "/page", X_Forwarded_Proto="http")[0] == 301
