"""How long the edge keeps an origin's error under a distribution (AWS CloudFront
DeveloperGuide/custom-error-pages-expiration.html and HTTPStatusCodes.html), the pages that
replace errors, and the viewer protocol rules, as pure functions over values."""

from __future__ import annotations

import pytest

from strato.cdn.records import Behavior, Cookies, CustomErrorResponse, ForwardedValues
from strato.config import Settings
from strato.edge.behavior_rules import behavior_rules, error_rules
from strato.edge.rules import OPEN, ErrorPage, ErrorRules, Rules, Ttls, stored_fields, viewer_protocol_refusal
from strato.edge.viewer import over_https, page_scope
from strato.http.conditionals import format_http_date

NOW = 1_700_000_000.0
DEFAULTS = ErrorRules()
NOTHING = ForwardedValues(False, Cookies("none"))


def kept_for(headers: dict[str, str], status: int, errors: ErrorRules = DEFAULTS, ttls: Ttls | None = None) -> str:
    """The CDN-Cache-Control the edge stores an error with."""
    return stored_fields(Rules(errors=errors, ttls=ttls), headers, status, NOW)["cdn-cache-control"]


class TestErrorCaching:
    @pytest.mark.parametrize("status", [404, 414, 500, 501, 502, 503, 504])
    def test_an_error_with_no_rule_is_kept_ten_seconds(self, status: int) -> None:
        assert kept_for({}, status) == "max-age=10"

    def test_a_rules_error_caching_min_ttl_replaces_the_ten_seconds(self) -> None:
        errors = ErrorRules(min_ttls={404: 300, 503: 0})
        assert kept_for({}, 404, errors) == "max-age=300"
        assert kept_for({}, 503, errors) == "no-store"
        assert kept_for({}, 500, errors) == "max-age=10"

    def test_the_longer_of_the_minimum_and_the_origins_lifetime_wins(self) -> None:
        assert kept_for({"cache-control": "max-age=600"}, 404) == "max-age=600"
        assert kept_for({"cache-control": "s-maxage=5"}, 404) == "max-age=10"
        expires = {"date": format_http_date(NOW), "expires": format_http_date(NOW + 120)}
        assert kept_for(expires, 502) == "max-age=120"

    def test_the_origins_lifetime_is_capped_by_the_behaviours_max_ttl(self) -> None:
        assert kept_for({"cache-control": "max-age=600"}, 404, ttls=Ttls(0, 60, 100)) == "max-age=100"
        assert kept_for({"cache-control": "max-age=600"}, 404) == "max-age=600"  # CloudFront's MaxTTL: a year

    @pytest.mark.parametrize("directive", ["no-store", "no-cache", "private"])
    def test_an_origin_can_keep_a_404_410_414_or_501_out(self, directive: str) -> None:
        for status in (404, 410, 414, 501):
            assert kept_for({"cache-control": f"{directive}, max-age=60"}, status) == "no-store"

    @pytest.mark.parametrize("status", [500, 502, 503, 504])
    def test_for_other_errors_no_store_is_ignored(self, status: int) -> None:
        fields = stored_fields(Rules(errors=DEFAULTS), {"cache-control": "no-store"}, status, NOW)
        assert fields["cdn-cache-control"] == "max-age=10"
        assert fields["cache-control"] == "no-store"  # what the viewer is told stays the origin's

    @pytest.mark.parametrize("status", [400, 403, 405, 412, 415])
    def test_some_client_errors_are_kept_only_when_the_origin_gives_a_max_age(self, status: int) -> None:
        assert kept_for({}, status) == "no-store"
        assert kept_for({"cache-control": "public"}, status) == "no-store"
        assert kept_for({"cache-control": "max-age=60"}, status) == "max-age=60"
        assert kept_for({"cache-control": "s-maxage=5"}, status, ErrorRules(min_ttls={status: 30})) == "max-age=30"

    def test_a_416_is_never_kept(self) -> None:
        assert kept_for({"cache-control": "max-age=60"}, 416, ErrorRules(min_ttls={416: 60})) == "no-store"

    def test_statuses_cloudfront_does_not_list_keep_rfc_9111s_rules(self) -> None:
        assert stored_fields(Rules(errors=DEFAULTS), {"cache-control": "max-age=5"}, 429, NOW) == {
            "cache-control": "max-age=5"}

    def test_without_error_rules_errors_keep_rfc_9111s_rules(self) -> None:
        assert stored_fields(OPEN, {}, 404, NOW) == {}
        assert stored_fields(Rules(ttls=Ttls(0, 60, 100)), {}, 502, NOW) == {}

    def test_successes_keep_the_behaviours_ttls(self) -> None:
        rules = Rules(errors=DEFAULTS, ttls=Ttls(0, 60, 100))
        assert stored_fields(rules, {}, 200, NOW)["cdn-cache-control"] == "max-age=60"
        assert stored_fields(Rules(errors=DEFAULTS), {}, 200, NOW) == {}


class TestErrorRulesFromTheConfiguration:
    def test_times_and_pages_come_from_the_custom_error_responses(self) -> None:
        errors = error_rules((
            CustomErrorResponse(404, "/404.html", "200", 60),
            CustomErrorResponse(503, error_caching_min_ttl=0),
            CustomErrorResponse(403, "", "", None),  # empty, as the console sends: no page
            CustomErrorResponse(500, "/500.html", "OK"),  # stored before codes were checked: no page
        ))
        assert errors.min_ttls == {404: 60, 503: 0}
        assert errors.pages == {404: ErrorPage("/404.html", 200)}

    def test_rules_answer_which_statuses_get_a_page(self) -> None:
        rules = Rules(errors=ErrorRules(pages={404: ErrorPage("/404.html", 200)}))
        assert rules.error_page(404) == ErrorPage("/404.html", 200)
        assert rules.error_page(500) is None
        assert OPEN.error_page(404) is None


class TestViewerProtocol:
    def test_redirect_to_https_answers_get_and_head_with_a_permanent_redirect(self) -> None:
        answer = viewer_protocol_refusal("redirect-to-https", "GET", "www.example.com:8080", "/a%20b?x=1", "1.1")
        assert answer.status == 301
        assert answer.headers["location"] == "https://www.example.com/a%20b?x=1"
        head = viewer_protocol_refusal("redirect-to-https", "HEAD", "www.example.com", "/", "1.1")
        assert (head.status, head.body) == (301, None)

    def test_other_methods_get_307_over_http_1_1_and_403_over_http_1_0(self) -> None:
        assert viewer_protocol_refusal("redirect-to-https", "POST", "example.com", "/form", "1.1").status == 307
        assert viewer_protocol_refusal("redirect-to-https", "DELETE", "example.com", "/x", "1.0").status == 403

    def test_https_only_answers_403(self) -> None:
        answer = viewer_protocol_refusal("https-only", "GET", "example.com", "/", "1.1")
        assert answer.status == 403
        assert "location" not in answer.headers

    @pytest.mark.parametrize(("trusted", "scheme", "forwarded", "https"), [
        (False, "http", b"https", False),
        (True, "http", b"https", True),
        (True, "http", b"HTTPS, http", True),
        (True, "http", b"http", False),
        (True, "http", None, False),
        (False, "https", None, True),
    ])
    def test_x_forwarded_proto_counts_only_when_the_operator_trusts_it(
        self, trusted: bool, scheme: str, forwarded: bytes | None, https: bool,
    ) -> None:
        headers = [(b"host", b"example.com")] + ([(b"x-forwarded-proto", forwarded)] if forwarded else [])
        assert over_https({"type": "http", "scheme": scheme, "headers": headers}, trusted) is https

    @pytest.mark.parametrize(("value", "trusted"), [
        (None, False), ("", False), ("0", False), ("false", False), ("1", True), ("true", True), ("ON", True),
    ])
    def test_trusting_x_forwarded_proto_is_off_unless_the_operator_turns_it_on(
        self, value: str | None, trusted: bool,
    ) -> None:
        environ = {} if value is None else {"STRATO_EDGE_TRUST_FORWARDED_PROTO": value}
        assert Settings.from_env(environ).edge_trust_forwarded_proto is trusted

    def test_a_behaviours_policy_is_in_its_rules(self) -> None:
        for policy in ("allow-all", "redirect-to-https", "https-only"):
            assert behavior_rules("E1", Behavior("web", policy, forwarded_values=NOTHING), {}, {}).viewer_protocol == (
                policy)


class TestPageRequests:
    def test_the_page_is_asked_for_like_the_request_without_its_query_conditionals_or_ranges(self) -> None:
        scope = {"type": "http", "method": "GET", "path": "/missing", "raw_path": b"/missing",
                 "query_string": b"a=1", "headers": [(b"host", b"example.com"), (b"range", b"bytes=0-1"),
                                                     (b"if-none-match", b'"x"'), (b"accept-encoding", b"gzip")]}
        asked = page_scope(scope, "/errors/not%20found.html")
        assert (asked["path"], asked["raw_path"], asked["query_string"]) == (
            "/errors/not found.html", b"/errors/not%20found.html", b"")
        assert asked["headers"] == [(b"host", b"example.com"), (b"accept-encoding", b"gzip")]
        assert asked["method"] == "GET"
