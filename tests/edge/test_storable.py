"""Storing responses, point by point against RFC 9111 3 and 3.5."""

from __future__ import annotations

from typing import ClassVar

import pytest

from strato.edge.policy import UNDERSTOOD_STATUSES, is_storable
from strato.http.conditionals import format_http_date

T = 784111777.0
DATE = format_http_date(T)
CACHEABLE = {"cache-control": "max-age=60", "date": DATE}


def storable(
    response: dict[str, str],
    request: dict[str, str] | None = None,
    *,
    method: str = "GET",
    status: int = 200,
    shared: bool = True,
    cdn: bool = True,
) -> bool:
    return is_storable(method, status, request or {}, response, shared=shared, cdn=cdn)


class TestMethodAndRequest:
    def test_a_get_with_explicit_freshness_is_stored(self) -> None:
        assert storable(CACHEABLE)

    @pytest.mark.parametrize("method", ["HEAD", "POST", "PUT", "DELETE", "OPTIONS", "get", "PATCH", "FOO"])
    def test_only_get_is_stored(self, method: str) -> None:
        assert not storable(CACHEABLE, method=method)

    def test_a_range_request_is_not_stored(self) -> None:
        assert not storable(CACHEABLE, {"range": "bytes=0-10"})

    @pytest.mark.parametrize("value", ["no-store", "max-age=0, no-store", "NO-STORE"])
    def test_request_no_store_forbids_storing(self, value: str) -> None:
        # RFC 9111 5.2.1.5.
        assert not storable(CACHEABLE, {"cache-control": value})

    def test_request_no_cache_does_not_forbid_storing(self) -> None:
        assert storable(CACHEABLE, {"cache-control": "no-cache"})


class TestStatus:
    @pytest.mark.parametrize("status", [100, 101, 103, 199, 0, 600, 999])
    def test_non_final_or_impossible_statuses_are_not_stored(self, status: int) -> None:
        assert not storable(CACHEABLE, status=status)

    @pytest.mark.parametrize("status", [206, 304])
    def test_partial_and_not_modified_are_not_stored(self, status: int) -> None:
        assert not storable(CACHEABLE, status=status)

    @pytest.mark.parametrize("status", [201, 302, 307, 400, 403, 500, 503])
    def test_any_final_status_with_explicit_freshness_is_stored(self, status: int) -> None:
        assert storable(CACHEABLE, status=status)

    @pytest.mark.parametrize("status", [200, 203, 204, 300, 301, 308, 404, 405, 410, 414, 501])
    def test_heuristically_cacheable_statuses_need_only_a_validator(self, status: int) -> None:
        assert storable({"etag": '"v1"'}, status=status)

    @pytest.mark.parametrize("status", [201, 302, 400, 500, 503])
    def test_other_statuses_need_explicit_freshness(self, status: int) -> None:
        assert not storable({"etag": '"v1"', "last-modified": DATE}, status=status)

    def test_public_makes_any_status_eligible(self) -> None:
        assert storable({"cache-control": "public", "etag": '"v"'}, status=302)


class TestNoStoreAndMustUnderstand:
    """RFC 9111 5.2.2.5 and 5.2.2.3."""

    @pytest.mark.parametrize("value", ["no-store", "max-age=60, no-store", "no-store, public"])
    def test_response_no_store_forbids_storing(self, value: str) -> None:
        assert not storable({"cache-control": value})

    @pytest.mark.parametrize("status", sorted(UNDERSTOOD_STATUSES))
    def test_must_understand_overrides_no_store_for_understood_statuses(self, status: int) -> None:
        assert storable({"cache-control": "must-understand, no-store, max-age=60"}, status=status)

    @pytest.mark.parametrize("status", [201, 299, 418, 500])
    def test_must_understand_forbids_storing_other_statuses(self, status: int) -> None:
        assert not storable({"cache-control": "must-understand, no-store, max-age=60"}, status=status)
        assert not storable({"cache-control": "must-understand, max-age=60"}, status=status)


class TestPrivate:
    """RFC 9111 5.2.2.7."""

    @pytest.mark.parametrize("value", ["private", "private, max-age=60", 'private="set-cookie", max-age=60'])
    def test_a_shared_cache_does_not_store_private_responses(self, value: str) -> None:
        assert not storable({"cache-control": value})

    def test_a_private_cache_does(self) -> None:
        assert storable({"cache-control": "private", "etag": '"v"'}, shared=False)
        assert storable({"cache-control": "private, max-age=60"}, status=500, shared=False)

    def test_s_maxage_alone_counts_only_in_a_shared_cache(self) -> None:
        assert storable({"cache-control": "s-maxage=60"}, status=500)
        assert not storable({"cache-control": "s-maxage=60"}, status=500, shared=False)


class TestAuthorization:
    """RFC 9111 3.5: public, must-revalidate or s-maxage let a shared cache store it."""

    AUTH: ClassVar[dict[str, str]] = {"authorization": "Bearer x"}

    def test_not_stored_by_default(self) -> None:
        assert not storable(CACHEABLE, self.AUTH)

    @pytest.mark.parametrize("value", ["public, max-age=60", "must-revalidate, max-age=60", "s-maxage=60"])
    def test_explicitly_allowed(self, value: str) -> None:
        assert storable({"cache-control": value}, self.AUTH)

    def test_a_private_cache_stores_it(self) -> None:
        assert storable(CACHEABLE, self.AUTH, shared=False)

    def test_the_targeted_field_can_allow_it(self) -> None:
        assert storable({"cdn-cache-control": "public, max-age=60", "cache-control": "private"}, self.AUTH)


class TestExpirationOrValidator:
    """RFC 9111 3's last condition, and its note that useless responses need not be stored."""

    @pytest.mark.parametrize("response", [
        {"cache-control": "max-age=60"},
        {"cache-control": "max-age=0"},  # explicit, stale at once, still revalidatable on reuse
        {"expires": format_http_date(T + 60), "date": DATE},
        {"expires": "0"},  # an Expires field counts, even an expired one
        {"etag": '"x"'},
        {"etag": 'W/"x"'},
        {"last-modified": DATE},
    ])
    def test_stored_with_an_expiration_time_or_a_validator(self, response: dict[str, str]) -> None:
        assert storable(response)

    @pytest.mark.parametrize("response", [
        {},
        {"cache-control": "public"},
        {"last-modified": "not a date"},
        {"etag": ""},
        {"cache-control": "stale-while-revalidate=60"},
    ])
    def test_not_stored_when_it_could_never_be_reused(self, response: dict[str, str]) -> None:
        assert not storable(response)

    def test_expires_does_not_count_under_a_targeted_field(self) -> None:
        assert not storable({"cdn-cache-control": "public", "expires": format_http_date(T + 60)})
        assert storable({"cdn-cache-control": "public", "expires": format_http_date(T + 60)}, cdn=False)


class TestTargetedAndVary:
    def test_cdn_cache_control_lets_a_cdn_store_what_cache_control_forbids(self) -> None:
        # RFC 9213 3.1's example.
        response = {"cdn-cache-control": "max-age=600", "cache-control": "no-store"}
        assert storable(response)
        assert not storable(response, cdn=False)

    def test_cdn_cache_control_can_forbid_what_cache_control_allows(self) -> None:
        response = {"cdn-cache-control": "no-store", "cache-control": "max-age=600"}
        assert not storable(response)
        assert storable(response, cdn=False)

    def test_vary_star_is_not_stored(self) -> None:
        assert not storable({**CACHEABLE, "vary": "*"})

    def test_other_vary_is_stored(self) -> None:
        assert storable({**CACHEABLE, "vary": "accept-encoding"})
