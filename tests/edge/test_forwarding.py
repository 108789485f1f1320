"""Invalidation (RFC 9111 4.4), hop-by-hop fields (RFC 9110 7.6.1) and Cache-Status (RFC 9211)."""

from __future__ import annotations

import pytest

from strato.edge.cachekey import primary_key
from strato.edge.policy import (
    Stored,
    cache_status,
    end_to_end,
    forward_reason,
    invalidates,
    invalidation_targets,
    outgoing_response_headers,
)
from strato.http.fields import HOP_BY_HOP


class TestInvalidates:
    @pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH", "PURGE", "FOO", "get", "Head"])
    @pytest.mark.parametrize("status", [200, 201, 204, 301, 303, 399])
    def test_unsafe_or_unknown_methods_with_non_errors_invalidate(self, method: str, status: int) -> None:
        assert invalidates(method, status)

    @pytest.mark.parametrize("method", ["GET", "HEAD", "OPTIONS", "TRACE"])
    def test_safe_methods_never_invalidate(self, method: str) -> None:
        assert not invalidates(method, 200)

    @pytest.mark.parametrize("status", [100, 199, 400, 404, 409, 500, 503])
    def test_errors_and_interim_responses_do_not(self, status: int) -> None:
        assert not invalidates("POST", status)


class TestInvalidationTargets:
    HOST = "example.com"

    def key(self, path: str) -> str:
        return primary_key("GET", self.HOST, path)

    def test_the_target_uri_alone(self) -> None:
        assert invalidation_targets(self.HOST, "/a?b", {}) == [self.key("/a?b")]

    @pytest.mark.parametrize(("location", "path"), [
        ("/new", "/new"),
        ("child", "/dir/child"),
        ("../up", "/up"),
        ("?q=1", "/dir/item?q=1"),
        ("http://example.com/abs", "/abs"),
        ("https://EXAMPLE.com:443/abs", "/abs"),
        ("http://example.com", "/"),
    ])
    def test_same_origin_location_is_added(self, location: str, path: str) -> None:
        targets = invalidation_targets(self.HOST, "/dir/item", {"location": location})
        assert targets == [self.key("/dir/item"), self.key(path)]

    def test_content_location_is_added_too(self) -> None:
        targets = invalidation_targets(self.HOST, "/a", {"location": "/b", "content-location": "/c"})
        assert targets == [self.key("/a"), self.key("/b"), self.key("/c")]

    @pytest.mark.parametrize("location", [
        "http://evil.example/a",
        "//evil.example/a",
        "https://example.com.evil/a",
        "http://example.com:8080/a",
        "ftp://example.com/a",
        "javascript:alert(1)",
        "mailto:x@example.com",
        "http://[::1/a",  # unparseable
        "",
        "   ",
    ])
    def test_other_origins_and_junk_are_not_added(self, location: str) -> None:
        # RFC 9111 4.4: a cache MUST NOT invalidate a URI of another origin.
        assert invalidation_targets(self.HOST, "/a", {"location": location}) == [self.key("/a")]

    def test_duplicates_are_listed_once(self) -> None:
        targets = invalidation_targets(self.HOST, "/a", {"location": "/a", "content-location": "/a"})
        assert targets == [self.key("/a")]

    def test_the_host_may_carry_a_port(self) -> None:
        targets = invalidation_targets("example.com:8080", "/a", {"location": "http://example.com:8080/b"})
        assert targets == [primary_key("GET", "example.com:8080", "/a"), primary_key("GET", "example.com:8080", "/b")]

    def test_keys_are_get_keys_so_head_entries_go_too(self) -> None:
        assert invalidation_targets(self.HOST, "/a", {}) == [primary_key("HEAD", self.HOST, "/a")]


class TestEndToEnd:
    """RFC 9110 7.6.1."""

    @pytest.mark.parametrize("name", sorted(HOP_BY_HOP))
    def test_hop_by_hop_fields_are_dropped(self, name: str) -> None:
        assert end_to_end({name: "x", "content-type": "text/plain"}) == {"content-type": "text/plain"}

    def test_fields_named_by_connection_are_dropped(self) -> None:
        headers = {"connection": "close, X-Private ,foo", "x-private": "1", "foo": "2", "etag": '"e"'}
        assert end_to_end(headers) == {"etag": '"e"'}

    def test_end_to_end_fields_are_kept(self) -> None:
        headers = {"cache-control": "max-age=1", "etag": '"e"', "cdn-cache-control": "max-age=5"}
        assert end_to_end(headers) == headers

    def test_the_input_is_not_modified(self) -> None:
        headers = {"connection": "close", "etag": '"e"'}
        end_to_end(headers)
        assert headers == {"connection": "close", "etag": '"e"'}

    def test_outgoing_responses_lose_cdn_cache_control(self) -> None:
        # RFC 9213 3: a CDN MAY remove it; we do unless told to keep it.
        headers = {"cdn-cache-control": "max-age=600", "cache-control": "max-age=60", "keep-alive": "5"}
        assert outgoing_response_headers(headers) == {"cache-control": "max-age=60"}
        assert outgoing_response_headers(headers, keep_targeted=True) == {
            "cdn-cache-control": "max-age=600", "cache-control": "max-age=60"}


class TestCacheStatus:
    """RFC 9211 2 and the shapes of its examples."""

    @pytest.mark.parametrize(("kwargs", "value"), [
        ({"hit": True}, "strato; hit"),
        ({"hit": True, "ttl": 120}, "strato; hit; ttl=120"),
        ({"hit": True, "ttl": -412.3}, "strato; hit; ttl=-413"),  # stale: negative ttl
        ({"hit": True, "ttl": 0.9}, "strato; hit; ttl=0"),
        ({"hit": False, "fwd": "uri-miss"}, "strato; fwd=uri-miss"),
        ({"hit": False, "fwd": "uri-miss", "stored": True}, "strato; fwd=uri-miss; stored"),
        ({"hit": False, "fwd": "uri-miss", "stored": False}, "strato; fwd=uri-miss; stored=?0"),
        ({"hit": False, "fwd": "stale", "fwd_status": 304}, "strato; fwd=stale; fwd-status=304"),
        ({"hit": False, "fwd": "uri-miss", "collapsed": True}, "strato; fwd=uri-miss; collapsed"),
        ({"hit": False, "fwd": "bypass", "detail": "no-store"}, "strato; fwd=bypass; detail=no-store"),
        ({"hit": False, "fwd": "miss", "detail": "origin down"}, 'strato; fwd=miss; detail="origin down"'),
        ({"hit": True, "key": "GET example.com/"}, 'strato; hit; key="GET example.com/"'),
        ({"hit": True, "name": "CDN Company Here"}, '"CDN Company Here"; hit'),
        ({"hit": True, "name": 'a"b\\c'}, '"a\\"b\\\\c"; hit'),
        ({"hit": False}, "strato"),
    ])
    def test_values(self, kwargs: dict[str, object], value: str) -> None:
        assert cache_status(**kwargs) == value  # type: ignore[arg-type]

    @pytest.mark.parametrize("fwd", ["uri miss", "", "1miss", 'a"b'])
    def test_fwd_must_be_a_token(self, fwd: str) -> None:
        with pytest.raises(ValueError, match="token"):
            cache_status(False, fwd=fwd)

    def test_non_ascii_cannot_be_written(self) -> None:
        with pytest.raises(ValueError, match="Structured Field"):
            cache_status(True, detail="é")


class TestForwardReason:
    """RFC 9211 2.2: the fwd parameter says why a request went to the origin."""

    NOW = 784111777.0

    def stored(self, cache_control: str, age: float = 0) -> Stored:
        return Stored({"cache-control": cache_control}, 200, self.NOW - age, self.NOW - age)

    def test_nothing_stored_for_the_uri_is_a_uri_miss(self) -> None:
        assert forward_reason(None, self.NOW) == "uri-miss"

    def test_only_other_variants_stored_is_a_vary_miss(self) -> None:
        assert forward_reason(None, self.NOW, varied=True) == "vary-miss"

    def test_a_stale_response_is_stale(self) -> None:
        assert forward_reason(self.stored("max-age=60", age=120), self.NOW) == "stale"

    def test_a_fresh_response_the_request_would_not_take_is_request(self) -> None:
        assert forward_reason(self.stored("max-age=60", age=10), self.NOW) == "request"

    def test_a_fresh_response_that_must_be_validated_every_time_is_stale(self) -> None:
        assert forward_reason(self.stored("max-age=60, no-cache", age=10), self.NOW) == "stale"
