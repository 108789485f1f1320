"""Freshness, point by point against RFC 9111 4.2 (and RFC 9213's targeted fields)."""

from __future__ import annotations

from typing import ClassVar

import pytest

from strato.edge.directives import DELTA_MAX, Directives
from strato.edge.freshness import (
    HEURISTICALLY_CACHEABLE,
    age_value,
    current_age,
    date_value,
    freshness_lifetime,
    has_explicit_expiration,
    is_fresh,
    response_directives,
)
from strato.http.conditionals import format_http_date

T = 784111777.0  # Sun, 06 Nov 1994 08:49:37 GMT, RFC 9110's example date
DATE = format_http_date(T)


def at(offset: float) -> str:
    return format_http_date(T + offset)


class TestTargetedField:
    """RFC 9213 2.2 and 3.1's examples."""

    BOTH: ClassVar[dict[str, str]] = {
        "cache-control": "max-age=60, s-maxage=120", "cdn-cache-control": "max-age=600", "date": DATE}

    def test_a_cdn_uses_cdn_cache_control(self) -> None:
        assert freshness_lifetime(self.BOTH) == 600

    def test_other_shared_caches_use_s_maxage(self) -> None:
        assert freshness_lifetime(self.BOTH, cdn=False) == 120

    def test_private_caches_use_max_age(self) -> None:
        assert freshness_lifetime(self.BOTH, cdn=False, shared=False) == 60

    def test_cdn_cache_control_overrides_no_store(self) -> None:
        headers = {"cdn-cache-control": "max-age=600", "cache-control": "no-store"}
        assert response_directives(headers) == Directives(max_age=600)
        assert response_directives(headers, cdn=False).no_store

    def test_expires_is_ignored_when_the_targeted_field_is_used(self) -> None:
        headers = {"cdn-cache-control": "public", "expires": at(3600), "date": DATE}
        assert freshness_lifetime(headers) == 0  # no Last-Modified: no heuristic either
        assert not has_explicit_expiration(headers)
        assert freshness_lifetime(headers, cdn=False) == 3600

    @pytest.mark.parametrize("value", ["", "  ", "Max-Age=600", "max-age=600,"])
    def test_an_empty_or_invalid_targeted_field_falls_back_to_cache_control(self, value: str) -> None:
        headers = {"cdn-cache-control": value, "cache-control": "max-age=60", "expires": at(5), "date": DATE}
        assert freshness_lifetime(headers) == 60


class TestExplicitLifetime:
    """RFC 9111 4.2.1: s-maxage (shared) > max-age > Expires - Date."""

    @pytest.mark.parametrize(("headers", "shared", "lifetime"), [
        ({"cache-control": "max-age=60, s-maxage=120"}, True, 120),
        ({"cache-control": "max-age=60, s-maxage=120"}, False, 60),
        ({"cache-control": "s-maxage=120"}, False, 0),
        ({"cache-control": "max-age=60", "expires": at(3600), "date": DATE}, True, 60),
        ({"cache-control": "max-age=0", "expires": at(3600), "date": DATE}, True, 0),
        ({"expires": at(3600), "date": DATE}, True, 3600),
        ({"cache-control": "s-maxage=7", "expires": at(3600), "date": DATE}, True, 7),
    ])
    def test_precedence(self, headers: dict[str, str], shared: bool, lifetime: float) -> None:
        assert freshness_lifetime(headers, shared=shared) == lifetime

    def test_expires_in_the_past_is_no_lifetime(self) -> None:
        assert freshness_lifetime({"expires": at(-10), "date": DATE}) == 0

    # RFC 9111 5.3: invalid dates, especially "0", mean already expired.
    @pytest.mark.parametrize("expires", ["0", "-1", "", "never", "Thu, 01 Dec 1994", f"{DATE}, {at(60)}"])
    def test_an_invalid_expires_is_already_expired(self, expires: str) -> None:
        headers = {"expires": expires, "date": DATE, "last-modified": at(-86400)}
        assert freshness_lifetime(headers) == 0  # and no heuristic either: Expires was present

    # RFC 9110 5.6.7: an HTTP-date is one of three exact formats; anything else is invalid (5.3).
    @pytest.mark.parametrize("expires", [
        "Thu, 18 Aug 2050 02:01:18 UTC", "Thu, 18 Aug 2050 02:01:18 AEST", "Thu, 18 Aug 50 02:01:18 GMT",
        "Thu 18 Aug 2050 02:01:18 GMT", "Thu, 18  Aug  2050 02:01:18 GMT", "Thu, 18-Aug-2050 02:01:18 GMT",
        "Thu, 18 Aug 2050 02.01.18 GMT", "Thu, 18 Aug 2050 2:01:18 GMT", "Fry, 19 Aug 2050 02:01:18 GMT",
    ])
    def test_an_expires_that_is_not_an_http_date_is_already_expired(self, expires: str) -> None:
        assert freshness_lifetime({"expires": expires, "date": DATE}) == 0

    @pytest.mark.parametrize("expires", [
        "Thu, 18 Aug 2050 02:01:18 GMT", "Thursday, 18-Aug-50 02:01:18 GMT", "Thu Aug 18 02:01:18 2050",
        "Thu Aug  8 02:01:18 2050", "THU, 18 AUG 2050 02:01:18 gmt",
    ])
    def test_each_http_date_format_gives_a_lifetime(self, expires: str) -> None:
        assert freshness_lifetime({"expires": expires, "date": DATE}) > 55 * 365 * 86400  # 1994 to 2050

    def test_expires_is_measured_from_the_reception_time_without_a_date(self) -> None:
        assert freshness_lifetime({"expires": at(100)}, response_time=T + 40) == 60

    @pytest.mark.parametrize("date", ["garbage", "", f"{DATE}, {DATE}"])
    def test_an_invalid_date_reads_as_the_reception_time(self, date: str) -> None:
        assert freshness_lifetime({"expires": at(100), "date": date}, response_time=T) == 100

    def test_expires_without_any_date_is_no_lifetime(self) -> None:
        assert freshness_lifetime({"expires": at(100)}) == 0

    def test_rfc_9111_5_3_example_expires_field(self) -> None:
        headers = {"expires": "Thu, 01 Dec 1994 16:00:00 GMT", "date": "Thu, 01 Dec 1994 15:00:00 GMT"}
        assert freshness_lifetime(headers) == 3600

    def test_lifetimes_are_capped_at_two_to_the_31(self) -> None:
        assert freshness_lifetime({"expires": "Fri, 31 Dec 9999 23:59:59 GMT", "date": DATE}) == DELTA_MAX
        assert freshness_lifetime({"cache-control": "max-age=999999999999"}) == DELTA_MAX

    def test_an_invalid_max_age_is_stale_even_with_expires(self) -> None:
        assert freshness_lifetime({"cache-control": "max-age=1.5", "expires": at(3600), "date": DATE}) == 0


class TestHeuristicLifetime:
    """RFC 9111 4.2.2."""

    MODIFIED: ClassVar[dict[str, str]] = {"date": DATE, "last-modified": at(-100_000)}

    def test_ten_percent_of_the_time_since_last_modified(self) -> None:
        assert freshness_lifetime(self.MODIFIED) == pytest.approx(10_000)

    def test_the_fraction_and_cap_are_configurable(self) -> None:
        assert freshness_lifetime(self.MODIFIED, heuristic_fraction=0.5) == pytest.approx(50_000)
        assert freshness_lifetime(self.MODIFIED, heuristic_max=3600) == 3600

    def test_capped_at_a_day_by_default(self) -> None:
        assert freshness_lifetime({"date": DATE, "last-modified": at(-10 * 365 * 86400)}) == 86400

    @pytest.mark.parametrize("status", sorted(HEURISTICALLY_CACHEABLE))
    def test_heuristically_cacheable_statuses_get_one(self, status: int) -> None:
        assert freshness_lifetime(self.MODIFIED, status=status) > 0

    @pytest.mark.parametrize("status", [201, 302, 303, 307, 400, 403, 500, 502, 503])
    def test_other_statuses_do_not(self, status: int) -> None:
        assert freshness_lifetime(self.MODIFIED, status=status) == 0

    def test_public_makes_any_status_eligible(self) -> None:
        assert freshness_lifetime({**self.MODIFIED, "cache-control": "public"}, status=302) > 0

    def test_no_heuristic_without_last_modified(self) -> None:
        assert freshness_lifetime({"date": DATE}) == 0

    @pytest.mark.parametrize("modified", ["yesterday", "", "0"])
    def test_no_heuristic_with_an_invalid_last_modified(self, modified: str) -> None:
        assert freshness_lifetime({"date": DATE, "last-modified": modified}) == 0

    def test_a_last_modified_in_the_future_gives_none(self) -> None:
        assert freshness_lifetime({"date": DATE, "last-modified": at(3600)}) == 0

    def test_the_reception_time_stands_in_for_a_missing_date(self) -> None:
        assert freshness_lifetime({"last-modified": at(-1000)}, response_time=T) == pytest.approx(100)
        assert freshness_lifetime({"last-modified": at(-1000)}) == 0

    def test_never_with_an_explicit_expiration(self) -> None:
        assert freshness_lifetime({**self.MODIFIED, "cache-control": "max-age=5"}) == 5


class TestAge:
    """RFC 9111 5.1 and 4.2.3."""

    @pytest.mark.parametrize(("value", "seconds"), [
        ("60", 60), ("0", 0), ("60, 120", 60), (" 7 ,x", 7), ("99999999999", DELTA_MAX),
        ("-5", 0), ("1.5", 0), ("abc", 0), ("", 0), (", 60", 0),
    ])
    def test_the_age_field_first_member_or_ignored(self, value: str, seconds: int) -> None:
        assert age_value({"age": value}) == seconds

    def test_no_age_field_is_zero(self) -> None:
        assert age_value({}) == 0

    def test_date_value_falls_back_to_the_reception_time(self) -> None:
        assert date_value({"date": DATE}, T + 5) == T
        assert date_value({}, T + 5) == T + 5
        assert date_value({"date": "nonsense"}) is None

    def test_a_fresh_response_straight_from_the_origin_has_age_zero(self) -> None:
        assert current_age({"date": DATE}, request_time=T, response_time=T, now=T) == 0

    def test_resident_time_adds_up(self) -> None:
        assert current_age({"date": DATE}, request_time=T, response_time=T, now=T + 30) == 30

    def test_the_age_field_is_corrected_by_the_response_delay(self) -> None:
        # age_value 100, 2 s in flight: corrected_age_value 102 beats apparent_age 0.
        assert current_age({"date": DATE, "age": "100"}, request_time=T - 2, response_time=T, now=T + 10) == 112

    def test_apparent_age_wins_when_larger(self) -> None:
        # Date says the response left the origin 50 s before it arrived; Age says 10.
        headers = {"date": at(-50), "age": "10"}
        assert current_age(headers, request_time=T - 1, response_time=T, now=T) == 50

    def test_a_date_in_the_future_gives_no_negative_apparent_age(self) -> None:
        assert current_age({"date": at(500)}, request_time=T, response_time=T, now=T + 1) == 1

    def test_without_a_date_the_reception_time_is_used(self) -> None:
        assert current_age({}, request_time=T - 3, response_time=T, now=T + 7) == 10

    def test_an_invalid_age_field_is_ignored(self) -> None:
        assert current_age({"date": DATE, "age": "-100"}, request_time=T, response_time=T, now=T) == 0


class TestIsFresh:
    """RFC 9111 4.2: response_is_fresh = (freshness_lifetime > current_age)."""

    @pytest.mark.parametrize(("now", "fresh"), [(T, True), (T + 59.9, True), (T + 60, False), (T + 61, False)])
    def test_fresh_until_the_age_reaches_the_lifetime(self, now: float, fresh: bool) -> None:
        headers = {"cache-control": "max-age=60", "date": DATE}
        assert is_fresh(headers, request_time=T, response_time=T, now=now) is fresh

    def test_an_age_field_consumes_lifetime(self) -> None:
        headers = {"cache-control": "max-age=60", "date": DATE, "age": "59"}
        assert is_fresh(headers, request_time=T, response_time=T, now=T)
        assert not is_fresh(headers, request_time=T, response_time=T, now=T + 1)

    def test_max_age_zero_is_never_fresh(self) -> None:
        assert not is_fresh({"cache-control": "max-age=0"}, request_time=T, response_time=T, now=T)

    def test_s_maxage_only_for_shared_caches(self) -> None:
        headers = {"cache-control": "s-maxage=60", "date": DATE}
        assert is_fresh(headers, request_time=T, response_time=T, now=T + 1)
        assert not is_fresh(headers, request_time=T, response_time=T, now=T + 1, shared=False)

    def test_the_status_decides_heuristic_freshness(self) -> None:
        headers = {"date": DATE, "last-modified": at(-1000)}
        assert is_fresh(headers, request_time=T, response_time=T, now=T + 1)
        assert not is_fresh(headers, request_time=T, response_time=T, now=T + 1, status=500)
