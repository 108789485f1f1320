"""HTTP caching conformance of `strato edge` in front of a real origin, for the behaviours the
public cache-tests suite (cache-tests.fyi) found wrong: each test is one of its cases, as a
client and an origin on loopback see it. docs/edge-caching.md says how to run the suite itself."""

from __future__ import annotations

import pytest

from tests.edge.conftest import StratoEdge, edge, origin
from tests.edge.origin import Origin, Route, Seen
from tests.edge.test_proxy import call

__all__ = ["edge", "origin"]  # the edge tests' fixtures, used here by name


def validated_once(headers: dict[str, str], body: bytes, not_modified: dict[str, str]) -> Route:
    """200 with `headers` first, then 304 with `not_modified` to every conditional request."""

    def answer(seen: Seen) -> tuple[int, dict[str, str], bytes]:
        if "if-none-match" in seen.headers or "if-modified-since" in seen.headers:
            return 304, not_modified, b""
        return 200, headers, body

    return Route(answer=answer)


class TestAge:
    """RFC 9111 4.2.3 and 5.1: the Age a response arrives with is never lost on the way through."""

    def test_a_miss_carries_the_origins_age(self, origin: Origin, edge: StratoEdge) -> None:
        origin.routes["/aged"] = Route(200, {"Cache-Control": "max-age=100000", "Age": "30"}, b"aged")
        status, headers, _ = call(edge, "/aged")
        assert status == 200
        assert int(headers["age"]) >= 30

    def test_a_response_older_than_its_lifetime_is_stale_from_the_start(self, origin: Origin, edge: StratoEdge) -> None:
        origin.routes["/old"] = Route(200, {"Cache-Control": "max-age=3600", "Age": "7200"}, b"old")
        assert int(call(edge, "/old")[1]["age"]) >= 7200
        call(edge, "/old")
        assert origin.count("/old") == 2


class TestValidation:
    """RFC 9111 4.3.3 / 4.3.4: the edge's own conditional request and the 304 it gets back."""

    def test_a_304_without_validators_still_answers_with_the_stored_response(
        self, origin: Origin, edge: StratoEdge
    ) -> None:
        origin.routes["/page"] = validated_once({"Cache-Control": "max-age=0", "ETag": '"v1"'}, b"stored body", {})
        call(edge, "/page")
        status, headers, body = call(edge, "/page")
        assert (status, body) == (200, b"stored body")
        assert headers["etag"] == '"v1"'
        assert origin.last("/page").headers["if-none-match"] == '"v1"'

    def test_a_304_with_the_stored_validator_freshens_the_stored_response(
        self, origin: Origin, edge: StratoEdge
    ) -> None:
        stale = {"Cache-Control": "max-age=0", "ETag": '"v1"'}
        fresh_again = {"Cache-Control": "max-age=3600", "ETag": '"v1"'}
        origin.routes["/page"] = validated_once(stale, b"stored body", fresh_again)
        call(edge, "/page")
        assert call(edge, "/page")[2] == b"stored body"
        assert call(edge, "/page")[2] == b"stored body"
        assert origin.count("/page") == 2  # the third came from the freshened copy

    def test_the_revalidation_carries_the_stored_validator_not_the_clients(
        self, origin: Origin, edge: StratoEdge
    ) -> None:
        modified = "Sun, 06 Nov 1994 08:49:37 GMT"
        origin.routes["/page"] = validated_once(
            {"Cache-Control": "max-age=0", "Last-Modified": modified}, b"stored body", {"Last-Modified": modified})
        call(edge, "/page")
        status, _, body = call(edge, "/page", {"If-None-Match": '"something else"'})
        assert (status, body) == (200, b"stored body")
        revalidation = origin.last("/page").headers
        assert revalidation["if-modified-since"] == modified
        assert "if-none-match" not in revalidation


class TestStaleIfError:
    """RFC 5861 4: a stale response stands in for an origin error, with or without a validator."""

    @pytest.mark.parametrize(("response_directive", "request_directive"), [
        ("max-age=0, stale-if-error=3600", None),
        ("max-age=0", "stale-if-error=3600"),
    ])
    def test_an_error_from_the_origin_is_answered_with_the_stale_response(
        self, origin: Origin, edge: StratoEdge, response_directive: str, request_directive: str | None
    ) -> None:
        origin.routes["/flaky"] = Route(200, {"Cache-Control": response_directive}, b"last good")
        call(edge, "/flaky")
        origin.routes["/flaky"] = Route(500, {}, b"broken")
        asked = {"Cache-Control": request_directive} if request_directive else {}
        status, headers, body = call(edge, "/flaky", asked)
        assert (status, body) == (200, b"last good")
        assert "stale-if-error" in headers["cache-status"]
        assert origin.count("/flaky") == 2

    def test_without_stale_if_error_the_error_goes_to_the_client(self, origin: Origin, edge: StratoEdge) -> None:
        origin.routes["/flaky"] = Route(200, {"Cache-Control": "max-age=0"}, b"last good")
        call(edge, "/flaky")
        origin.routes["/flaky"] = Route(500, {}, b"broken")
        status, _, body = call(edge, "/flaky")
        assert (status, body) == (500, b"broken")


class TestExpires:
    """RFC 9111 5.3: an Expires that is not an HTTP-date means already expired."""

    @pytest.mark.parametrize("expires", ["Thu, 18 Aug 2050 02:01:18 UTC", "Thu, 18 Aug 50 02:01:18 GMT"])
    def test_an_invalid_expires_is_not_reused(self, origin: Origin, edge: StratoEdge, expires: str) -> None:
        origin.routes["/dated"] = Route(200, {"Expires": expires}, b"dated")
        call(edge, "/dated")
        call(edge, "/dated")
        assert origin.count("/dated") == 2

    def test_a_valid_expires_is_reused(self, origin: Origin, edge: StratoEdge) -> None:
        origin.routes["/dated"] = Route(200, {"Expires": "Thu, 18 Aug 2050 02:01:18 GMT"}, b"dated")
        call(edge, "/dated")
        call(edge, "/dated")
        assert origin.count("/dated") == 1
