"""Serving from cache, point by point against RFC 9111 4, 4.2.4, 5.2.1, 5.4 and RFC 5861."""

from __future__ import annotations

import pytest

from strato.edge.policy import Action, Stored, age_field, can_serve_stale_on_error, decide, remaining_ttl
from strato.http.conditionals import format_http_date

T = 784111777.0
DATE = format_http_date(T)
ETAG = '"v1"'


def stored(cache_control: str | None = None, *, status: int = 200, **fields: str) -> Stored:
    """A response received at T (Date T), with an ETag unless told otherwise."""
    headers = {"date": DATE, "etag": ETAG}
    if cache_control is not None:
        headers["cache-control"] = cache_control
    headers.update({name.replace("_", "-"): value for name, value in fields.items()})
    return Stored({k: v for k, v in headers.items() if v}, status, T, T)


def request(cache_control: str | None = None, **fields: str) -> dict[str, str]:
    headers = {name.replace("_", "-"): value for name, value in fields.items()}
    if cache_control is not None:
        headers["cache-control"] = cache_control
    return headers


class TestNothingStored:
    def test_a_miss_fetches(self) -> None:
        assert decide({}, None, T) is Action.FETCH

    def test_only_if_cached_answers_504(self) -> None:
        # RFC 9111 5.2.1.7.
        assert decide(request("only-if-cached"), None, T) is Action.GATEWAY_TIMEOUT


class TestFresh:
    def test_a_fresh_response_is_served(self) -> None:
        assert decide({}, stored("max-age=60"), T + 30) is Action.FRESH

    def test_a_stale_response_with_a_validator_is_revalidated(self) -> None:
        assert decide({}, stored("max-age=60"), T + 60) is Action.REVALIDATE

    def test_a_stale_response_without_a_validator_is_fetched(self) -> None:
        assert decide({}, stored("max-age=60", etag=""), T + 61) is Action.FETCH

    def test_last_modified_is_a_validator_too(self) -> None:
        assert decide({}, stored("max-age=60", etag="", last_modified=DATE), T + 61) is Action.REVALIDATE

    def test_the_stored_status_decides_heuristic_freshness(self) -> None:
        modified = format_http_date(T - 100_000)
        assert decide({}, stored(last_modified=modified), T + 10) is Action.FRESH
        assert decide({}, stored(last_modified=modified, status=302), T + 10) is Action.REVALIDATE

    def test_s_maxage_applies_to_a_shared_cache_only(self) -> None:
        response = stored("max-age=10, s-maxage=100")
        assert decide({}, response, T + 50) is Action.FRESH
        assert decide({}, response, T + 50, shared=False) is Action.REVALIDATE

    def test_the_targeted_field_applies_to_a_cdn_only(self) -> None:
        response = stored("max-age=10", cdn_cache_control="max-age=100")
        assert decide({}, response, T + 50) is Action.FRESH
        assert decide({}, response, T + 50, cdn=False) is Action.REVALIDATE


class TestNoCache:
    """RFC 9111 5.2.1.4, 5.2.2.4 and 5.4."""

    @pytest.mark.parametrize("req", [
        request("no-cache"),
        request("No-Cache, max-stale"),
        request(pragma="no-cache"),
        request(pragma="foo, no-cache"),
    ])
    def test_the_client_asks_for_validation(self, req: dict[str, str]) -> None:
        assert decide(req, stored("max-age=600"), T + 1) is Action.REVALIDATE

    def test_pragma_is_ignored_when_cache_control_is_present(self) -> None:
        assert decide(request("max-stale", pragma="no-cache"), stored("max-age=600"), T + 1) is Action.FRESH
        assert decide(request("", pragma="no-cache"), stored("max-age=600"), T + 1) is Action.FRESH

    @pytest.mark.parametrize("value", ["no-cache", "no-cache, max-age=600", 'no-cache="set-cookie", max-age=600'])
    def test_a_no_cache_response_is_always_revalidated(self, value: str) -> None:
        assert decide({}, stored(value), T + 1) is Action.REVALIDATE

    @pytest.mark.parametrize("response", [stored("private, max-age=600"),
                                          stored("max-age=600", cdn_cache_control="private")])
    def test_a_response_a_304_made_private_is_revalidated_for_each_request(self, response: Stored) -> None:
        """RFC 9111 3.5, 4.3.4: a shared cache reuses it for no request but the one it validated,
        not even with max-stale."""
        assert decide({}, response, T + 1) is Action.REVALIDATE
        assert decide(request("max-stale"), response, T + 1) is Action.REVALIDATE

    def test_no_cache_without_a_validator_fetches(self) -> None:
        assert decide({}, stored("no-cache", etag=""), T + 1) is Action.FETCH

    def test_only_if_cached_with_no_cache_answers_504(self) -> None:
        assert decide(request("only-if-cached, no-cache"), stored("max-age=600"), T) is Action.GATEWAY_TIMEOUT


class TestRequestFreshness:
    """RFC 9111 5.2.1.1 max-age, 5.2.1.3 min-fresh, 5.2.1.2 max-stale."""

    @pytest.mark.parametrize(("value", "now", "action"), [
        ("max-age=30", T + 30, Action.FRESH),
        ("max-age=30", T + 31, Action.REVALIDATE),
        ("max-age=0", T, Action.FRESH),
        ("max-age=0", T + 1, Action.REVALIDATE),
        ("max-age=junk", T + 1, Action.REVALIDATE),  # invalid reads as 0
        ("min-fresh=20", T + 40, Action.FRESH),  # 20 s of freshness left
        ("min-fresh=20", T + 41, Action.REVALIDATE),
        ("min-fresh=junk", T + 59, Action.FRESH),  # invalid: ignored
    ])
    def test_the_client_can_demand_more_freshness(self, value: str, now: float, action: Action) -> None:
        assert decide(request(value), stored("max-age=60"), now) is action

    @pytest.mark.parametrize(("value", "now", "action"), [
        ("max-stale=30", T + 90, Action.STALE),  # 30 s stale
        ("max-stale=30", T + 91, Action.REVALIDATE),
        ("max-stale", T + 86400 * 365, Action.STALE),
        ("max-stale=junk", T + 61, Action.REVALIDATE),
        ("max-stale, max-age=100", T + 100, Action.STALE),
        ("max-stale, max-age=100", T + 101, Action.REVALIDATE),
        ("max-stale, min-fresh=1", T + 61, Action.REVALIDATE),
    ])
    def test_the_client_can_accept_staleness(self, value: str, now: float, action: Action) -> None:
        assert decide(request(value), stored("max-age=60"), now) is action

    @pytest.mark.parametrize("value", ["max-age=60, must-revalidate", "max-age=60, proxy-revalidate", "s-maxage=60"])
    def test_max_stale_cannot_override_the_origins_prohibition(self, value: str) -> None:
        # RFC 9111 4.2.4, 5.2.2.2, 5.2.2.8, 5.2.2.10.
        assert decide(request("max-stale"), stored(value), T + 61) is Action.REVALIDATE

    def test_proxy_revalidate_and_s_maxage_do_not_bind_a_private_cache(self) -> None:
        for value in ("max-age=60, proxy-revalidate", "max-age=60, s-maxage=60"):
            assert decide(request("max-stale"), stored(value), T + 61, shared=False) is Action.STALE


class TestStaleWhileRevalidate:
    """RFC 5861 3: max-age=600, stale-while-revalidate=30 (its own example)."""

    RESPONSE = stored("max-age=600, stale-while-revalidate=30")

    @pytest.mark.parametrize(("now", "action"), [
        (T + 599, Action.FRESH),
        (T + 600, Action.STALE_WHILE_REVALIDATE),
        (T + 630, Action.STALE_WHILE_REVALIDATE),
        (T + 631, Action.REVALIDATE),
    ])
    def test_served_stale_for_the_window_then_revalidated(self, now: float, action: Action) -> None:
        assert decide({}, self.RESPONSE, now) is action

    @pytest.mark.parametrize("value", ["must-revalidate", "proxy-revalidate", "s-maxage=600"])
    def test_forbidden_when_the_origin_forbids_stale(self, value: str) -> None:
        assert decide({}, stored(f"max-age=600, stale-while-revalidate=30, {value}"), T + 610) is Action.REVALIDATE

    def test_wins_over_max_stale(self) -> None:
        assert decide(request("max-stale"), self.RESPONSE, T + 610) is Action.STALE_WHILE_REVALIDATE
        assert decide(request("max-stale"), self.RESPONSE, T + 700) is Action.STALE

    @pytest.mark.parametrize("value", ["max-age=0", "max-age=605", "min-fresh=1"])
    def test_a_client_demanding_freshness_is_not_served_stale(self, value: str) -> None:
        assert decide(request(value), self.RESPONSE, T + 610) is Action.REVALIDATE

    def test_a_client_age_limit_that_the_response_meets_allows_it(self) -> None:
        assert decide(request("max-age=700"), self.RESPONSE, T + 610) is Action.STALE_WHILE_REVALIDATE

    def test_no_validator_still_serves_stale(self) -> None:
        assert decide({}, stored("max-age=600, stale-while-revalidate=30", etag=""), T + 610) is (
            Action.STALE_WHILE_REVALIDATE)

    def test_the_targeted_field_can_grant_it(self) -> None:
        response = stored("max-age=600", cdn_cache_control="max-age=600, stale-while-revalidate=30")
        assert decide({}, response, T + 610) is Action.STALE_WHILE_REVALIDATE
        assert decide({}, response, T + 610, cdn=False) is Action.REVALIDATE


class TestOnlyIfCached:
    """RFC 9111 5.2.1.7: a stored response consistent with the request, or 504."""

    @pytest.mark.parametrize(("response", "now", "action"), [
        (stored("max-age=60"), T + 1, Action.FRESH),
        (stored("max-age=60"), T + 61, Action.GATEWAY_TIMEOUT),
        (stored("max-age=60", etag=""), T + 61, Action.GATEWAY_TIMEOUT),
        (stored("no-cache"), T, Action.GATEWAY_TIMEOUT),
        (stored("max-age=60, stale-while-revalidate=60"), T + 61, Action.STALE_WHILE_REVALIDATE),
    ])
    def test_never_contacts_the_origin(self, response: Stored, now: float, action: Action) -> None:
        assert decide(request("only-if-cached"), response, now) is action

    def test_with_max_stale_a_stale_response_is_served(self) -> None:
        assert decide(request("only-if-cached, max-stale"), stored("max-age=60"), T + 600) is Action.STALE

    def test_must_revalidate_answers_504_rather_than_stale(self) -> None:
        # RFC 9111 5.2.2.2: a disconnected cache generates an error instead of reusing it.
        response = stored("max-age=60, must-revalidate")
        assert decide(request("only-if-cached, max-stale"), response, T + 61) is Action.GATEWAY_TIMEOUT


class TestStaleIfError:
    """RFC 5861 4: max-age=600, stale-if-error=1200 (its own example)."""

    RESPONSE = stored("max-age=600, stale-if-error=1200")

    @pytest.mark.parametrize(("now", "allowed"), [(T + 599, True), (T + 1800, True), (T + 1801, False)])
    def test_the_response_directive_bounds_staleness(self, now: float, allowed: bool) -> None:
        assert can_serve_stale_on_error({}, self.RESPONSE, now) is allowed

    def test_without_the_directive_it_is_not_allowed(self) -> None:
        assert not can_serve_stale_on_error({}, stored("max-age=600"), T + 601)

    def test_the_request_directive_can_grant_it(self) -> None:
        assert can_serve_stale_on_error(request("stale-if-error=100"), stored("max-age=600"), T + 700)
        assert not can_serve_stale_on_error(request("stale-if-error=100"), stored("max-age=600"), T + 701)

    def test_the_request_directive_governs_when_both_are_given(self) -> None:
        assert not can_serve_stale_on_error(request("stale-if-error=10"), self.RESPONSE, T + 700)
        assert can_serve_stale_on_error(request("stale-if-error=5000"), self.RESPONSE, T + 3000)

    @pytest.mark.parametrize("value", ["must-revalidate", "proxy-revalidate", "s-maxage=600", "no-cache", "no-store"])
    def test_never_when_stale_is_forbidden(self, value: str) -> None:
        assert not can_serve_stale_on_error({}, stored(f"max-age=600, stale-if-error=1200, {value}"), T + 601)

    def test_proxy_revalidate_does_not_bind_a_private_cache(self) -> None:
        response = stored("max-age=600, stale-if-error=1200, proxy-revalidate")
        assert can_serve_stale_on_error({}, response, T + 601, shared=False)

    def test_the_targeted_field_decides_for_a_cdn(self) -> None:
        response = stored("max-age=600, stale-if-error=1200", cdn_cache_control="max-age=600, must-revalidate")
        assert not can_serve_stale_on_error({}, response, T + 601)
        assert can_serve_stale_on_error({}, response, T + 601, cdn=False)


class TestReportedAge:
    def test_age_field_counts_resident_time_in_whole_seconds(self) -> None:
        assert age_field(stored("max-age=60", age="10"), T + 5.7) == "15"

    def test_age_field_is_never_negative(self) -> None:
        assert age_field(stored("max-age=60"), T - 100) == "0"

    def test_remaining_ttl_goes_negative_once_stale(self) -> None:
        assert remaining_ttl(stored("max-age=60"), T + 20) == 40
        assert remaining_ttl(stored("max-age=60"), T + 100) == -40
