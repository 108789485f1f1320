"""select(): a request's distribution by Host and its cache behaviour by path, as CloudFront
chooses them (DownloadDistValuesPathPattern in the CloudFront developer guide)."""

from __future__ import annotations

import pytest

from strato.cdn.records import Distribution
from strato.cdn.selection import path_matches, select

from .samples import behavior, config, distribution

IMAGES = behavior(pattern="/images/*.jpg")
API = behavior("web", pattern="api/*")
ALL_IMAGES = behavior("web", pattern="/images/*")
SITE = distribution(config(IMAGES, API, ALL_IMAGES, aliases=("www.example.com", "Static.Example.com")),
                    "E1SITE00000001")
WILD = distribution(config(aliases=("*.example.com",)), "E1WILD00000001")
DEEPER = distribution(config(aliases=("*.eu.example.com",)), "E1DEEP00000001")
OFF = distribution(config(aliases=("off.example.org",), enabled=False), "E1OFF000000001")
ALL = [WILD, SITE, DEEPER, OFF]


def chosen(host: str) -> Distribution | None:
    selected = select(ALL, host, "/")
    return selected[0] if selected else None


class TestPathPatterns:
    @pytest.mark.parametrize(("pattern", "path", "matches"), [
        ("/images/*.jpg", "/images/a.jpg", True),
        ("/images/*.jpg", "/images/2024/deep/a.jpg", True),  # * crosses slashes
        ("/images/*.jpg", "/images/a.JPG", False),  # case sensitive
        ("/images/*.jpg", "/images/a.jpg.png", False),  # the whole path must match
        ("images/*", "/images/a", True),  # a leading slash is implied
        ("/a?c", "/abc", True),
        ("/a?c", "/ac", False),  # ? is exactly one character
        ("/a.c", "/abc", False),  # other characters are literal
        ("/file[1].txt", "/file[1].txt", True),
        ("*", "/anything/at/all", True),
        ("*.gif", "/x/y.gif", True),
    ])
    def test_cloudfront_wildcards(self, pattern: str, path: str, matches: bool) -> None:
        assert path_matches(pattern, path) is matches


class TestSelect:
    def test_the_first_matching_behaviour_in_order_wins(self) -> None:
        assert select(ALL, "www.example.com", "/images/cat.jpg") == (SITE, IMAGES)
        assert select(ALL, "www.example.com", "/images/cat.png") == (SITE, ALL_IMAGES)
        assert select(ALL, "www.example.com", "/api/v1/users") == (SITE, API)

    def test_no_matching_pattern_means_the_default_behaviour(self) -> None:
        assert select(ALL, "www.example.com", "/index.html") == (SITE, SITE.config.default_behavior)

    def test_the_host_is_matched_without_port_and_case(self) -> None:
        assert select(ALL, "STATIC.example.com:8080", "/") == (SITE, SITE.config.default_behavior)

    def test_an_exact_alias_beats_a_wildcard(self) -> None:
        assert chosen("www.example.com") is SITE

    def test_the_longest_wildcard_alias_covers_other_names(self) -> None:
        assert chosen("shop.example.com") is WILD
        assert chosen("a.b.example.com") is WILD
        assert chosen("fr.eu.example.com") is DEEPER
        assert chosen("example.com") is None

    def test_the_distribution_domain_name_selects_it(self) -> None:
        assert chosen("e1site00000001.cdn.strato.local") is SITE

    def test_disabled_and_unknown_hosts_select_nothing(self) -> None:
        assert chosen("off.example.org") is None
        assert chosen("nowhere.test") is None
        assert select([], "www.example.com", "/") is None
