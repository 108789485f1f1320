"""Byte ranges, point by point against RFC 9110 section 14."""

from __future__ import annotations

import pytest

from strato.http.ranges import ByteRange, RangeNotSatisfiable, parse_range

SIZE = 10000  # the representation length of RFC 9110's examples


class TestTheRfcExamples:
    """RFC 9110 14.1.2, for a representation of 10000 bytes."""

    def test_the_first_500_bytes(self) -> None:
        assert parse_range("bytes=0-499", SIZE) == [ByteRange(0, 499)]

    def test_the_second_500_bytes(self) -> None:
        assert parse_range("bytes=500-999", SIZE) == [ByteRange(500, 999)]

    def test_the_final_500_bytes_as_a_suffix(self) -> None:
        assert parse_range("bytes=-500", SIZE) == [ByteRange(9500, 9999)]

    def test_the_final_500_bytes_as_an_open_range(self) -> None:
        assert parse_range("bytes=9500-", SIZE) == [ByteRange(9500, 9999)]

    def test_the_first_and_last_bytes_only(self) -> None:
        assert parse_range("bytes=0-0,-1", SIZE) == [ByteRange(0, 0), ByteRange(9999, 9999)]

    def test_adjacent_ranges_are_kept_as_sent(self) -> None:
        assert parse_range("bytes=500-600,601-999", SIZE) == [ByteRange(500, 600), ByteRange(601, 999)]

    def test_overlapping_ranges_are_kept_as_sent(self) -> None:
        assert parse_range("bytes=500-700,601-999", SIZE) == [ByteRange(500, 700), ByteRange(601, 999)]


class TestClippingToTheRepresentation:
    def test_a_last_position_past_the_end_means_the_rest(self) -> None:
        assert parse_range("bytes=9000-20000", SIZE) == [ByteRange(9000, 9999)]

    def test_a_suffix_longer_than_the_representation_means_all_of_it(self) -> None:
        assert parse_range("bytes=-20000", SIZE) == [ByteRange(0, 9999)]

    def test_the_last_byte(self) -> None:
        assert parse_range("bytes=9999-9999", SIZE) == [ByteRange(9999, 9999)]

    def test_ranges_past_the_end_are_dropped_when_another_is_satisfiable(self) -> None:
        assert parse_range("bytes=20000-,0-9", SIZE) == [ByteRange(0, 9)]

    def test_a_range_reports_its_length_and_content_range(self) -> None:
        selected = ByteRange(42, 1233)
        assert selected.length == 1192
        assert selected.content_range(1234) == "bytes 42-1233/1234"  # RFC 9110 14.4

    def test_a_huge_position_is_just_a_number(self) -> None:
        assert parse_range("bytes=0-99999999999999999999999999", SIZE) == [ByteRange(0, 9999)]


class TestLenientSyntax:
    def test_the_unit_is_case_insensitive(self) -> None:
        assert parse_range("Bytes=0-1", SIZE) == [ByteRange(0, 1)]

    def test_whitespace_around_list_members_is_allowed(self) -> None:
        assert parse_range("bytes=0-1 , 5-6", SIZE) == [ByteRange(0, 1), ByteRange(5, 6)]

    def test_empty_list_elements_are_ignored(self) -> None:
        # RFC 9110 5.6.1.2: recipients accept and ignore empty list elements.
        assert parse_range("bytes=0-1,,5-6,", SIZE) == [ByteRange(0, 1), ByteRange(5, 6)]


class TestInvalidHeadersAreIgnored:
    """RFC 9110 14.2: a Range that cannot be understood is ignored: a 200 with everything."""

    @pytest.mark.parametrize(
        "header",
        [
            "bytes=500-100",  # last before first: the range-spec is invalid (14.1.1)
            "bytes=abc",
            "bytes=1-2-3",
            "bytes=-",
            "bytes=",
            "bytes=,",
            "bytes 0-1",
            "items=0-1",
            "0-1",
            "bytes=0x10-",
            "bytes=+1-2",
            "bytes=-+1",
            "bytes=1.5-2",
            "bytes=0-1,bogus",
            "bytes=²-5",
            "bytes=0-٣",
            "",
        ],
    )
    def test_the_header_is_ignored(self, header: str) -> None:
        assert parse_range(header, SIZE) is None


class TestUnsatisfiableRanges:
    """RFC 9110 15.5.17: a valid Range none of whose ranges overlaps the representation."""

    @pytest.mark.parametrize(
        "header", ["bytes=10000-", "bytes=10000-10001", "bytes=20000-,30000-", "bytes=-0"]
    )
    def test_no_overlap_is_not_satisfiable(self, header: str) -> None:
        with pytest.raises(RangeNotSatisfiable):
            parse_range(header, SIZE)

    @pytest.mark.parametrize("header", ["bytes=0-", "bytes=0-0", "bytes=0-100", "bytes=-0"])
    def test_no_position_is_inside_a_zero_length_representation(self, header: str) -> None:
        with pytest.raises(RangeNotSatisfiable):
            parse_range(header, 0)

    @pytest.mark.parametrize("header", ["bytes=-1", "bytes=-500", "bytes=0-,-5"])
    def test_a_non_zero_suffix_of_a_zero_length_representation_is_served_whole(self, header: str) -> None:
        # 14.1.1: "the only satisfiable form of range-spec is a suffix-range with a non-zero
        # suffix-length"; it selects nothing, so the range is ignored (S3 answers 200 there).
        assert parse_range(header, 0) is None
