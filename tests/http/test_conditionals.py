"""Conditional requests, point by point against RFC 9110 section 13."""

from __future__ import annotations

import pytest

from strato.http.conditionals import Outcome, etag_matches, evaluate, format_http_date, is_http_date, parse_http_date

ETAG = "5eb63bbbe01eeed093cb22bb8f5acdc3"
MODIFIED = 784111777.0  # Sun, 06 Nov 1994 08:49:37 GMT, RFC 9110's example date
AT = "Sun, 06 Nov 1994 08:49:37 GMT"
BEFORE = "Sun, 06 Nov 1994 08:49:36 GMT"
AFTER = "Sun, 06 Nov 1994 08:49:38 GMT"


def get(**headers: str) -> Outcome:
    return evaluate(
        {name.replace("_", "-"): value for name, value in headers.items()}, ETAG, MODIFIED, safe=True
    )


def put(**headers: str) -> Outcome:
    return evaluate(
        {name.replace("_", "-"): value for name, value in headers.items()}, ETAG, MODIFIED, safe=False
    )


class TestHttpDates:
    """RFC 9110 5.6.7: recipients accept all three formats."""

    @pytest.mark.parametrize(
        "value",
        [
            "Sun, 06 Nov 1994 08:49:37 GMT",  # IMF-fixdate
            "Sunday, 06-Nov-94 08:49:37 GMT",  # obsolete RFC 850 format
            "Sun Nov  6 08:49:37 1994",  # ANSI C's asctime() format
        ],
    )
    def test_every_format_reads_as_the_same_instant(self, value: str) -> None:
        assert parse_http_date(value) == MODIFIED

    @pytest.mark.parametrize(
        "value",
        [
            "",
            "yesterday",
            "Sun, 06 Nov 1994",
            "Sun, 32 Nov 1994 08:49:37 GMT",
            "1994-11-06T08:49:37Z",
            "Sun, 06 Nov 99999 08:49:37 GMT",
        ],
    )
    def test_a_malformed_date_reads_as_nothing(self, value: str) -> None:
        assert parse_http_date(value) is None

    def test_dates_are_written_as_imf_fixdate(self) -> None:
        assert format_http_date(MODIFIED) == AT

    def test_the_three_formats_are_http_dates_to_the_letter(self) -> None:
        assert all(is_http_date(value) for value in (
            "Sun, 06 Nov 1994 08:49:37 GMT", "Sunday, 06-Nov-94 08:49:37 GMT", "Sun Nov  6 08:49:37 1994"))
        assert not any(is_http_date(value) for value in (
            "Sun, 06 Nov 1994 08:49:37 UTC", "Sun, 06 Nov 94 08:49:37 GMT", "Sun, 06 Nov 1994 8:49:37 GMT",
            "Sun,  06 Nov 1994 08:49:37 GMT", "Sun, 06-Nov-1994 08:49:37 GMT"))


class TestEntityTagComparison:
    """RFC 9110 8.8.3.2: strong comparison for If-Match, weak for If-None-Match."""

    def test_a_quoted_tag_matches(self) -> None:
        assert etag_matches(f'"{ETAG}"', ETAG, weak=False)

    def test_one_of_a_list_matches(self) -> None:
        assert etag_matches(f'"xyzzy", "{ETAG}" , "r2d2xxxx"', ETAG, weak=False)

    def test_a_star_matches_any_current_representation(self) -> None:
        assert etag_matches("*", ETAG, weak=False)
        assert etag_matches(" * ", ETAG, weak=True)

    def test_a_weak_tag_never_matches_strongly(self) -> None:
        assert not etag_matches(f'W/"{ETAG}"', ETAG, weak=False)

    def test_a_weak_tag_matches_weakly(self) -> None:
        assert etag_matches(f'W/"{ETAG}"', ETAG, weak=True)

    def test_another_tag_does_not_match(self) -> None:
        assert not etag_matches('"xyzzy"', ETAG, weak=True)

    def test_an_unquoted_tag_is_tolerated_as_s3_clients_send_it(self) -> None:
        assert etag_matches(ETAG, ETAG, weak=False)


class TestIfMatch:
    """RFC 9110 13.1.1 and step 1 of 13.2.2."""

    def test_a_matching_tag_proceeds(self) -> None:
        assert get(if_match=f'"{ETAG}"') is Outcome.PROCEED

    def test_a_different_tag_fails_the_precondition(self) -> None:
        assert get(if_match='"xyzzy"') is Outcome.PRECONDITION_FAILED
        assert put(if_match='"xyzzy"') is Outcome.PRECONDITION_FAILED

    def test_a_star_proceeds_when_the_representation_exists(self) -> None:
        assert put(if_match="*") is Outcome.PROCEED

    def test_a_weak_tag_fails_because_if_match_compares_strongly(self) -> None:
        assert get(if_match=f'W/"{ETAG}"') is Outcome.PRECONDITION_FAILED

    def test_when_it_holds_if_unmodified_since_is_not_evaluated(self) -> None:
        # Step 2 applies only "when If-Match is not present".
        assert get(if_match=f'"{ETAG}"', if_unmodified_since=BEFORE) is Outcome.PROCEED

    def test_when_it_fails_a_true_if_unmodified_since_cannot_rescue_it(self) -> None:
        assert get(if_match='"xyzzy"', if_unmodified_since=AFTER) is Outcome.PRECONDITION_FAILED


class TestIfUnmodifiedSince:
    """RFC 9110 13.1.4 and step 2 of 13.2.2."""

    def test_unmodified_since_a_later_date_proceeds(self) -> None:
        assert put(if_unmodified_since=AFTER) is Outcome.PROCEED

    def test_modified_exactly_at_the_date_proceeds(self) -> None:
        assert put(if_unmodified_since=AT) is Outcome.PROCEED

    def test_modified_after_the_date_fails_the_precondition(self) -> None:
        assert put(if_unmodified_since=BEFORE) is Outcome.PRECONDITION_FAILED
        assert get(if_unmodified_since=BEFORE) is Outcome.PRECONDITION_FAILED

    def test_a_malformed_date_is_ignored(self) -> None:
        assert put(if_unmodified_since="not a date") is Outcome.PROCEED

    def test_sub_second_modification_times_compare_at_the_resolution_of_http_dates(self) -> None:
        outcome = evaluate({"if-unmodified-since": AT}, ETAG, MODIFIED + 0.9, safe=False)
        assert outcome is Outcome.PROCEED


class TestIfNoneMatch:
    """RFC 9110 13.1.2 and step 3 of 13.2.2."""

    def test_a_matching_tag_on_a_get_is_not_modified(self) -> None:
        assert get(if_none_match=f'"{ETAG}"') is Outcome.NOT_MODIFIED

    def test_a_matching_tag_on_a_put_fails_the_precondition(self) -> None:
        assert put(if_none_match=f'"{ETAG}"') is Outcome.PRECONDITION_FAILED

    def test_a_star_on_a_put_fails_when_the_representation_exists(self) -> None:
        assert put(if_none_match="*") is Outcome.PRECONDITION_FAILED

    def test_a_star_on_a_get_is_not_modified(self) -> None:
        assert get(if_none_match="*") is Outcome.NOT_MODIFIED

    def test_a_weak_tag_matches_because_if_none_match_compares_weakly(self) -> None:
        assert get(if_none_match=f'W/"{ETAG}"') is Outcome.NOT_MODIFIED

    def test_a_different_tag_proceeds(self) -> None:
        assert get(if_none_match='"xyzzy"') is Outcome.PROCEED
        assert put(if_none_match='"xyzzy"') is Outcome.PROCEED

    def test_when_present_if_modified_since_is_not_evaluated(self) -> None:
        # Step 4 applies only "when If-None-Match is not present".
        assert get(if_none_match='"xyzzy"', if_modified_since=AFTER) is Outcome.PROCEED
        assert get(if_none_match=f'"{ETAG}"', if_modified_since=BEFORE) is Outcome.NOT_MODIFIED


class TestIfModifiedSince:
    """RFC 9110 13.1.3 and step 4 of 13.2.2."""

    def test_not_modified_since_a_later_date_is_not_modified(self) -> None:
        assert get(if_modified_since=AFTER) is Outcome.NOT_MODIFIED

    def test_modified_exactly_at_the_date_is_not_modified(self) -> None:
        assert get(if_modified_since=AT) is Outcome.NOT_MODIFIED

    def test_modified_after_the_date_proceeds(self) -> None:
        assert get(if_modified_since=BEFORE) is Outcome.PROCEED

    @pytest.mark.parametrize("value", ["Sunday, 06-Nov-94 08:49:38 GMT", "Sun Nov  6 08:49:38 1994"])
    def test_the_obsolete_date_formats_are_honoured(self, value: str) -> None:
        assert get(if_modified_since=value) is Outcome.NOT_MODIFIED

    def test_a_malformed_date_is_ignored(self) -> None:
        assert get(if_modified_since="tomorrow") is Outcome.PROCEED

    def test_it_is_ignored_on_unsafe_methods(self) -> None:
        assert put(if_modified_since=AFTER) is Outcome.PROCEED


class TestPrecedence:
    """RFC 9110 13.2.2: the order in which preconditions are evaluated."""

    def test_a_failed_if_match_wins_over_a_matching_if_none_match(self) -> None:
        assert get(if_match='"xyzzy"', if_none_match=f'"{ETAG}"') is Outcome.PRECONDITION_FAILED

    def test_a_failed_if_unmodified_since_wins_over_if_modified_since(self) -> None:
        assert get(if_unmodified_since=BEFORE, if_modified_since=AFTER) is Outcome.PRECONDITION_FAILED

    def test_a_held_if_match_then_a_matching_if_none_match_is_not_modified(self) -> None:
        assert get(if_match=f'"{ETAG}"', if_none_match=f'"{ETAG}"') is Outcome.NOT_MODIFIED

    def test_s3s_documented_pair_if_match_true_and_if_unmodified_since_false_proceeds(self) -> None:
        # GetObject: "If both of the If-Match and If-Unmodified-Since headers are present ...
        # If-Match condition evaluates to true, and; If-Unmodified-Since condition evaluates
        # to false; then, S3 returns 200 OK and the data requested."
        assert get(if_match=f'"{ETAG}"', if_unmodified_since=BEFORE) is Outcome.PROCEED

    def test_s3s_documented_pair_if_none_match_false_and_if_modified_since_true_is_not_modified(self) -> None:
        # GetObject: "If-None-Match condition evaluates to false, and; If-Modified-Since
        # condition evaluates to true; then, S3 returns 304 Not Modified status code."
        assert get(if_none_match=f'"{ETAG}"', if_modified_since=BEFORE) is Outcome.NOT_MODIFIED

    def test_no_preconditions_proceed(self) -> None:
        assert get() is Outcome.PROCEED
        assert put() is Outcome.PROCEED
