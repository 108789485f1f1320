"""The CloudFront request headers `strato serve`'s edge computes (AWS CloudFront
DeveloperGuide/adding-cloudfront-headers.html), set with boto3's CloudFront client and seen from
a real origin and a real client: a legacy header whitelist naming a device field keys the cache
on the edge's value, the AllViewerAndCloudFrontHeaders-2022-06 policy sends the viewer's
connection facts, and a viewer's own fields of these names never reach the origin."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from strato.cdn.cache_policies import CACHING_DISABLED
from strato.cdn.origin_request_policies import ALL_VIEWER_AND_CLOUDFRONT_HEADERS
from tests.e2e.edge_sites import Site, managed, open_site
from tests.edge.origin import Origin, Route, Seen
from tests.servers import StratoServer

IPHONE = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
          "Version/17.0 Mobile/15E148 Safari/604.1")
DESKTOP = "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0"
DEVICE_KEYED = {"PathPattern": "/device/*", "TargetOriginId": "web", "ViewerProtocolPolicy": "allow-all",
                "MinTTL": 0, "DefaultTTL": 300, "MaxTTL": 3600,
                "ForwardedValues": {"QueryString": False, "Cookies": {"Forward": "none"},
                                    "Headers": {"Quantity": 2, "Items": ["CloudFront-Is-Mobile-Viewer",
                                                                        "CloudFront-Viewer-Country"]}}}


def by_device(seen: Seen) -> tuple[int, dict[str, str], bytes]:
    """A page made for the device the edge says the viewer has."""
    mobile = seen.headers.get("cloudfront-is-mobile-viewer")
    return 200, {"Cache-Control": "max-age=300"}, f"page for mobile={mobile}".encode()


@pytest.fixture(scope="module")
def site(server: StratoServer, cloudfront: Any) -> Iterator[Site]:
    origin = Origin()
    behaviours = [DEVICE_KEYED,
                  managed("/viewer/*", CACHING_DISABLED, OriginRequestPolicyId=ALL_VIEWER_AND_CLOUDFRONT_HEADERS)]
    running = open_site(server, cloudfront, origin, behaviours)
    yield running
    origin.close()


def cloudfront_fields(seen: Seen) -> dict[str, str]:
    return {name: value for name, value in seen.headers.items() if name.startswith("cloudfront-")}


class TestDeviceKeyedCache:
    def test_phones_and_desktops_get_their_own_stored_page(self, site: Site) -> None:
        site.origin.routes["/device/home"] = Route(answer=by_device)
        answers = site.kept_alive(*[("/device/home", {"User-Agent": agent}) for agent in (IPHONE, DESKTOP) * 2])
        assert [headers["cache-status"].split(";")[1].strip() for _, headers in answers] == [
            "fwd=uri-miss", "fwd=vary-miss", "hit", "hit"]
        assert [cloudfront_fields(seen) for seen in site.seen("/device/home")] == [
            {"cloudfront-is-mobile-viewer": "true"}, {"cloudfront-is-mobile-viewer": "false"}]
        assert site.get("/device/home", User_Agent=IPHONE)[2] == b"page for mobile=true"
        assert site.get("/device/home", User_Agent=DESKTOP)[2] == b"page for mobile=false"

    def test_a_viewer_claiming_a_device_gets_the_page_for_the_one_it_has(self, site: Site) -> None:
        site.origin.routes["/device/claimed"] = Route(answer=by_device)
        assert site.get("/device/claimed", User_Agent=DESKTOP)[2] == b"page for mobile=false"
        status, headers, body = site.get("/device/claimed", User_Agent=DESKTOP, CloudFront_Is_Mobile_Viewer="true",
                                         CloudFront_Viewer_Country="FR")
        assert (status, body) == (200, b"page for mobile=false")
        assert "hit" in headers["cache-status"]
        [seen] = site.seen("/device/claimed")
        assert cloudfront_fields(seen) == {"cloudfront-is-mobile-viewer": "false"}  # and no country: no GeoIP


class TestAllViewerAndCloudFrontHeaders:
    def test_the_origin_gets_the_viewers_fields_and_its_connections_facts(self, site: Site) -> None:
        site.origin.routes["/viewer/page"] = Route(200, {"Content-Type": "text/plain"}, b"page")
        site.get("/viewer/page", User_Agent=IPHONE, Referer="http://elsewhere/", CloudFront_Viewer_Country="FR",
                 CloudFront_Forwarded_Proto="https")
        [seen] = site.seen("/viewer/page")
        fields = cloudfront_fields(seen)
        address = fields.pop("cloudfront-viewer-address")
        assert address.startswith("127.0.0.1:")
        assert int(address.rsplit(":", 1)[1]) > 0
        assert fields == {
            "cloudfront-forwarded-proto": "http", "cloudfront-viewer-http-version": "1.1",
            "cloudfront-is-android-viewer": "false", "cloudfront-is-desktop-viewer": "false",
            "cloudfront-is-ios-viewer": "true", "cloudfront-is-mobile-viewer": "true",
            "cloudfront-is-smarttv-viewer": "false", "cloudfront-is-tablet-viewer": "false"}
        assert (seen.headers["user-agent"], seen.headers["referer"]) == (IPHONE, "http://elsewhere/")
