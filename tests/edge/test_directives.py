"""Cache-Control parsing, point by point against RFC 9111 5.2 and 1.2.2, RFC 5861, RFC 8246, RFC 9213."""

from __future__ import annotations

import pytest

from strato.edge.directives import DELTA_MAX, Directives, delta_seconds, parse, parse_targeted


class TestDeltaSeconds:
    """RFC 9111 1.2.2: delta-seconds = 1*DIGIT, at most 2**31."""

    @pytest.mark.parametrize(("text", "seconds"), [
        ("0", 0), ("60", 60), ("007", 7), ("2147483647", 2147483647), ("2147483648", DELTA_MAX),
        ("2147483649", DELTA_MAX), ("99999999999999999999", DELTA_MAX), ("9" * 5000, DELTA_MAX),
        ("0" * 30 + "5", 5),
    ])
    def test_digits_read_as_seconds_capped_at_two_to_the_31(self, text: str, seconds: int) -> None:
        assert delta_seconds(text) == seconds

    @pytest.mark.parametrize("text", [None, "", "-1", "+1", "1.5", "abc", "1e3", " 60", "60s", "٣", "0x10"])
    def test_anything_else_is_invalid(self, text: str | None) -> None:
        assert delta_seconds(text) is None


class TestResponseDirectives:
    """RFC 9111 5.2.2 and its extensions."""

    @pytest.mark.parametrize(("value", "expected"), [
        ("max-age=60", Directives(max_age=60)),
        ("s-maxage=120", Directives(s_maxage=120)),
        ("no-store", Directives(no_store=True)),
        ("public", Directives(public=True)),
        ("must-revalidate", Directives(must_revalidate=True)),
        ("proxy-revalidate", Directives(proxy_revalidate=True)),
        ("no-transform", Directives(no_transform=True)),
        ("must-understand, no-store", Directives(must_understand=True, no_store=True)),
        ("no-cache", Directives(no_cache=True)),
        ("private", Directives(private=True)),
        # RFC 8246 2's example
        ("max-age=31536000, immutable", Directives(max_age=31536000, immutable=True)),
        # RFC 5861 3 and 4's examples
        ("max-age=600, stale-while-revalidate=30", Directives(max_age=600, stale_while_revalidate=30)),
        ("max-age=600, stale-if-error=1200", Directives(max_age=600, stale_if_error=1200)),
    ])
    def test_each_directive_is_read(self, value: str, expected: Directives) -> None:
        assert parse(value) == expected

    def test_no_field_means_no_directives(self) -> None:
        assert parse(None) == Directives()

    @pytest.mark.parametrize("value", ["", "   ", ",", " , ,, "])
    def test_an_empty_field_means_no_directives(self, value: str) -> None:
        assert parse(value) == Directives()

    @pytest.mark.parametrize("value", ["MAX-AGE=60", "Max-Age=60", "max-age = 60", ' max-age="60" ', "\tmax-age=60\t"])
    def test_names_are_case_insensitive_and_arguments_quoted_or_not(self, value: str) -> None:
        assert parse(value).max_age == 60

    def test_a_qualified_no_cache_lists_its_fields(self) -> None:
        directives = parse('no-cache="Set-Cookie, Foo"')
        assert directives.no_cache
        assert directives.no_cache_fields == ("set-cookie", "foo")

    def test_a_qualified_private_lists_its_fields(self) -> None:
        directives = parse('private="Authorization-Info", max-age=10')
        assert directives.private
        assert directives.private_fields == ("authorization-info",)
        assert directives.max_age == 10

    def test_a_token_argument_also_qualifies_no_cache(self) -> None:
        assert parse("no-cache=set-cookie").no_cache_fields == ("set-cookie",)

    @pytest.mark.parametrize("value", ['no-cache=""', "no-cache=", 'no-cache=" , "'])
    def test_an_empty_field_list_reads_as_unqualified(self, value: str) -> None:
        directives = parse(value)
        assert directives.no_cache
        assert directives.no_cache_fields == ()

    def test_an_unqualified_occurrence_wins_over_qualified_ones(self) -> None:
        assert parse('no-cache="a", no-cache').no_cache_fields == ()
        assert parse('private, private="a"').private_fields == ()

    def test_qualified_occurrences_add_up(self) -> None:
        assert parse('no-cache="a, b", no-cache="b, c"').no_cache_fields == ("a", "b", "c")

    def test_unknown_extensions_are_ignored(self) -> None:
        # RFC 9111 5.2.3's example: an extension with a quoted argument beside a known directive.
        assert parse('private, community="UCI"') == Directives(private=True)

    @pytest.mark.parametrize("value", ["max-age 60", "foo, bar=baz, =1, =, ;;", 'x="unterminated, max-age=5'])
    def test_junk_is_ignored(self, value: str) -> None:
        assert parse(value).max_age is None

    def test_long_values_are_read_like_short_ones(self) -> None:
        padding = ", ".join(f"x-{n}" for n in range(100))
        assert parse(f"max-age=5, {padding}, no-store") == Directives(max_age=5, no_store=True)
        assert parse_targeted(f"max-age=5, {padding}, no-store") == Directives(max_age=5, no_store=True)

    def test_junk_does_not_hide_neighbours(self) -> None:
        assert parse("#$%, no-store, ???=\"\", max-age=5") == Directives(no_store=True, max_age=5)


class TestInvalidArguments:
    """RFC 9111 4.2.1: invalid freshness information is stale; other invalid arguments are absent."""

    @pytest.mark.parametrize(
        "value", ["max-age=-1", "max-age=1.5", "max-age=abc", "max-age=", "max-age", 'max-age="x"', 'max-age="'])
    def test_an_invalid_max_age_reads_as_zero(self, value: str) -> None:
        assert parse(value).max_age == 0

    @pytest.mark.parametrize("value", ["s-maxage=-5", "s-maxage=2.0", "s-maxage"])
    def test_an_invalid_s_maxage_reads_as_zero(self, value: str) -> None:
        assert parse(value).s_maxage == 0

    @pytest.mark.parametrize(("value", "attribute"), [
        ("min-fresh=-1", "min_fresh"),
        ("min-fresh", "min_fresh"),
        ("stale-while-revalidate=x", "stale_while_revalidate"),
        ("stale-while-revalidate", "stale_while_revalidate"),
        ("stale-if-error=1.5", "stale_if_error"),
        ("max-stale=-3", "max_stale"),
    ])
    def test_other_invalid_arguments_make_the_directive_absent(self, value: str, attribute: str) -> None:
        assert getattr(parse(value), attribute) is None
        assert not parse(value).max_stale_any

    def test_huge_values_read_as_two_to_the_31(self) -> None:
        assert parse("max-age=99999999999999999999999").max_age == DELTA_MAX
        assert parse("stale-if-error=4294967296").stale_if_error == DELTA_MAX

    @pytest.mark.parametrize("value", ["public=1", "immutable=yes", 'must-understand="x"'])
    def test_permissive_directives_with_an_argument_are_ignored(self, value: str) -> None:
        assert parse(value) == Directives()

    @pytest.mark.parametrize(("value", "attribute"), [
        ("no-store=1", "no_store"), ("must-revalidate=\"no\"", "must_revalidate"),
        ("proxy-revalidate=0", "proxy_revalidate"), ("only-if-cached=x", "only_if_cached"),
    ])
    def test_restrictive_directives_with_an_argument_still_count(self, value: str, attribute: str) -> None:
        assert getattr(parse(value), attribute) is True


class TestDuplicates:
    """RFC 9111 4.2.1: "the first occurrence should be used" (our choice of the two options)."""

    @pytest.mark.parametrize(("value", "expected"), [
        ("max-age=60, max-age=3600", 60),
        ("max-age=3600, max-age=60", 3600),
        ("max-age=abc, max-age=60", 0),  # the first is invalid: stale
    ])
    def test_the_first_max_age_wins(self, value: str, expected: int) -> None:
        assert parse(value).max_age == expected

    def test_joined_field_lines_behave_as_one_list(self) -> None:
        # Two Cache-Control lines "max-age=10" and "max-age=20, public", joined with ", ".
        assert parse("max-age=10, max-age=20, public") == Directives(max_age=10, public=True)

    def test_an_invalid_first_min_fresh_hides_a_later_valid_one(self) -> None:
        assert parse("min-fresh=x, min-fresh=5").min_fresh is None


class TestRequestDirectives:
    """RFC 9111 5.2.1."""

    @pytest.mark.parametrize(("value", "expected"), [
        ("max-age=0", Directives(max_age=0)),
        ("max-stale", Directives(max_stale_any=True)),
        ("max-stale=30", Directives(max_stale=30)),
        ("min-fresh=10", Directives(min_fresh=10)),
        ("no-cache", Directives(no_cache=True)),
        ("no-store", Directives(no_store=True)),
        ("only-if-cached", Directives(only_if_cached=True)),
        ("stale-if-error=60", Directives(stale_if_error=60)),
    ])
    def test_each_directive_is_read(self, value: str, expected: Directives) -> None:
        assert parse(value) == expected

    def test_the_first_max_stale_wins_with_or_without_argument(self) -> None:
        assert parse("max-stale, max-stale=5") == Directives(max_stale_any=True)
        assert parse("max-stale=5, max-stale") == Directives(max_stale=5)


class TestTargetedFields:
    """RFC 9213 2.1: targeted fields are Structured Fields Dictionaries."""

    @pytest.mark.parametrize(("value", "expected"), [
        ("max-age=600", Directives(max_age=600)),  # RFC 9213 3.1's example
        ("none", Directives()),  # RFC 9213 3.1: an unknown directive keeps the field non-empty
        ("max-age=60, no-store", Directives(max_age=60, no_store=True)),
        ('no-cache="set-cookie, foo"', Directives(no_cache=True, no_cache_fields=("set-cookie", "foo"))),
        ("private, must-revalidate", Directives(private=True, must_revalidate=True)),
        ("max-age=60;foo=bar, public;x", Directives(max_age=60, public=True)),  # parameters ignored
        ("stale-while-revalidate=30, stale-if-error=60", Directives(stale_while_revalidate=30, stale_if_error=60)),
        ("max-age=60, max-age=120", Directives(max_age=120)),  # RFC 8941 4.2.2: the last value wins
        ("no-store=?0, public", Directives(public=True)),  # Boolean false: not set
        ("no-store=?1", Directives(no_store=True)),
    ])
    def test_valid_fields_are_read(self, value: str, expected: Directives) -> None:
        assert parse_targeted(value) == expected

    @pytest.mark.parametrize("value", [None, "", "   "])
    def test_an_empty_field_is_ignored(self, value: str | None) -> None:
        assert parse_targeted(value) is None

    @pytest.mark.parametrize("value", [
        "Max-Age=60",  # keys are lower case
        "max-age=60,",  # trailing comma
        "max-age=60 no-store",
        "max-age=60,,no-store",
        'no-cache="unterminated',
        'no-cache="bad\\escape"',
        "max-age=1234567890123456",  # more than 15 digits
        "max-age=1.2345",
        "max-age=(1 2",
        "max-age=?",
        "max-age=:not base64!:",
        "1max-age=5",
    ])
    def test_a_parse_error_ignores_the_whole_field(self, value: str) -> None:
        assert parse_targeted(value) is None

    @pytest.mark.parametrize("value", ['max-age="60"', "max-age=1.5", "max-age=-1", "max-age=abc", "max-age=(1 2)"])
    def test_a_max_age_of_the_wrong_type_is_stale(self, value: str) -> None:
        # RFC 9213 2.1: such values SHOULD NOT be consumed; RFC 9111 4.2.1: invalid means stale.
        assert parse_targeted(value) == Directives(max_age=0)

    def test_a_no_cache_token_reads_as_unqualified(self) -> None:
        assert parse_targeted("no-cache=foo") == Directives(no_cache=True)

    def test_inner_lists_and_byte_sequences_parse_but_carry_nothing(self) -> None:
        assert parse_targeted('x=(1 "a" b);p, y=:AAE=:, public') == Directives(public=True)
