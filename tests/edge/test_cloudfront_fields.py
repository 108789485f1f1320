"""The CloudFront request headers the edge computes (AWS CloudFront
DeveloperGuide/adding-cloudfront-headers.html): device type from the User-Agent, the protocol,
HTTP version and address of the viewer's connection."""

from __future__ import annotations

import pytest

from strato.edge.cloudfront_fields import COMPUTED, Viewer, computed_fields, device_fields, viewer_of

IPHONE = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
          "Version/17.0 Mobile/15E148 Safari/604.1")
IPAD = ("Mozilla/5.0 (iPad; CPU OS 13_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/13.0.3 "
        "Mobile/15E148 Safari/604.1")
ANDROID_PHONE = ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
                 "Chrome/120.0.0.0 Mobile Safari/537.36")
ANDROID_TABLET = ("Mozilla/5.0 (Linux; Android 13; SM-X700) AppleWebKit/537.36 (KHTML, like Gecko) "
                  "Chrome/120.0.0.0 Safari/537.36")
SMART_TV = ("Mozilla/5.0 (SMART-TV; LINUX; Tizen 6.0) AppleWebKit/537.36 (KHTML, like Gecko) 76.0.3809.146/6.0 "
            "TV Safari/537.36")
FIRE_TV = ("Mozilla/5.0 (Linux; Android 9; AFTMM Build/PS7633) AppleWebKit/537.36 (KHTML, like Gecko) "
           "Chrome/120.0.0.0 Mobile Safari/537.36")
TIZEN_TV = "Mozilla/5.0 (Linux; Tizen 2.3) AppleWebKit/538.1 (KHTML, like Gecko)Version/2.3 TV Safari/538.1"
TIZEN_PHONE = ("Mozilla/5.0 (Linux; Tizen 2.3; SAMSUNG SM-Z130H) AppleWebKit/537.3 (KHTML, like Gecko) "
               "Version/2.3 Mobile Safari/537.3")
FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0"


def kinds(user_agent: str) -> set[str]:
    """The device fields that are `true`, by their middle word."""
    return {name.split("-")[2] for name, value in device_fields(user_agent).items() if value == "true"}


class TestDeviceType:
    @pytest.mark.parametrize(("user_agent", "expected"), [
        (IPHONE, {"ios", "mobile"}),
        (IPAD, {"ios", "mobile", "tablet"}),  # the guide: some tablets are both
        (ANDROID_PHONE, {"android", "mobile"}),
        (ANDROID_TABLET, {"android", "tablet"}),
        (SMART_TV, {"smarttv"}),
        (FIRE_TV, {"android", "smarttv"}),
        (TIZEN_TV, {"smarttv"}),  # TV after Tizen
        (TIZEN_PHONE, {"mobile"}),
        (FIREFOX, {"desktop"}),
        ("curl/8.5.0", {"desktop"}),
        ("", {"desktop"}),
    ])
    def test_each_field_says_true_or_false_by_the_user_agent(self, user_agent: str, expected: set[str]) -> None:
        assert kinds(user_agent) == expected

    def test_all_six_fields_are_always_given(self) -> None:
        assert sorted(device_fields(FIREFOX).values()) == ["false"] * 5 + ["true"]


class TestConnectionFields:
    def test_protocol_version_and_address_come_from_the_connection(self) -> None:
        names = ("cloudfront-forwarded-proto", "cloudfront-viewer-address", "cloudfront-viewer-http-version")
        assert computed_fields(names, "", Viewer("198.51.100.10", 46532, "2", https=True)) == {
            "cloudfront-forwarded-proto": "https", "cloudfront-viewer-address": "198.51.100.10:46532",
            "cloudfront-viewer-http-version": "2.0"}
        assert computed_fields(names, "", Viewer("2001:db8::1", 80, "1.0")) == {
            "cloudfront-forwarded-proto": "http", "cloudfront-viewer-address": "2001:db8::1:80",
            "cloudfront-viewer-http-version": "1.0"}

    def test_only_the_names_asked_for_are_computed(self) -> None:
        assert computed_fields(("cloudfront-is-tablet-viewer",), IPAD, Viewer()) == {
            "cloudfront-is-tablet-viewer": "true"}

    def test_a_viewer_is_read_from_the_asgi_scope(self) -> None:
        scope = {"type": "http", "client": ("127.0.0.1", 40000), "http_version": "1.1", "scheme": "https"}
        assert viewer_of(scope) == Viewer("127.0.0.1", 40000, "1.1", https=True)
        assert viewer_of({"type": "http"}) == Viewer()

    def test_location_and_tls_fields_are_not_among_those_computed(self) -> None:
        assert not {"cloudfront-viewer-country", "cloudfront-viewer-city", "cloudfront-viewer-tls",
                    "cloudfront-viewer-asn", "cloudfront-viewer-ja3-fingerprint"} & COMPUTED
