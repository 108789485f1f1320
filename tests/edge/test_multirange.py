"""Ranges served from a cached full object, against RFC 9110 sections 13.1.5, 14 and 15.3.7."""

from __future__ import annotations

import email.parser
import email.policy
import re

import pytest

from strato.edge.multirange import MAX_RANGES, RangePlan, if_range_matches, plan_ranges

SIZE = 8000  # RFC 9110 15.3.7.2's example: a PDF of 8000 bytes
BODY = bytes(i % 251 for i in range(SIZE))
ETAG = '"xyzzy"'
LAST_MODIFIED = "Wed, 15 Nov 1995 04:58:08 GMT"
DATE = "Wed, 15 Nov 1995 06:25:24 GMT"


def plan(range_header: str | None, if_range: str | None = None, *, size: int = SIZE,
         content_type: str | None = "application/pdf", max_ranges: int = MAX_RANGES) -> RangePlan:
    return plan_ranges(range_header, if_range, size=size, content_type=content_type, etag=ETAG,
                       last_modified=LAST_MODIFIED, max_ranges=max_ranges, boundary="THIS_STRING_SEPARATES")


def render(p: RangePlan, body: bytes = BODY) -> bytes:
    rendered = b"".join(p.iter_body(body))
    assert len(rendered) == int(p.headers["content-length"]) == p.content_length
    return rendered


def parse_multipart(p: RangePlan, body: bytes = BODY) -> list[tuple[str | None, str, bytes]]:
    """The (Content-Type, Content-Range, bytes) of each part, read by the standard library's MIME parser."""
    raw = b"Content-Type: " + p.headers["content-type"].encode() + b"\r\n\r\n" + render(p, body)
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(raw)
    assert message.is_multipart()
    parts = []
    for part in message.iter_parts():
        payload = part.get_payload(decode=True)
        assert isinstance(payload, bytes)
        parts.append((part.get("content-type"), str(part["content-range"]), payload))
    return parts


class TestIfRange:
    """RFC 9110 13.1.5."""

    def test_an_absent_if_range_is_true(self) -> None:
        assert if_range_matches(None, ETAG, LAST_MODIFIED)

    def test_the_same_strong_etag_matches(self) -> None:
        assert if_range_matches('"xyzzy"', ETAG, LAST_MODIFIED)

    def test_another_etag_does_not(self) -> None:
        assert not if_range_matches('"other"', ETAG, LAST_MODIFIED)

    def test_a_weak_etag_never_matches(self) -> None:
        assert not if_range_matches('W/"xyzzy"', ETAG, LAST_MODIFIED)
        assert not if_range_matches('"xyzzy"', 'W/"xyzzy"', LAST_MODIFIED)

    def test_an_etag_does_not_match_a_response_without_one(self) -> None:
        assert not if_range_matches('"xyzzy"', None, LAST_MODIFIED)

    def test_the_same_date_matches_last_modified(self) -> None:
        assert if_range_matches(LAST_MODIFIED, ETAG, LAST_MODIFIED)

    def test_the_same_instant_in_an_obsolete_date_format_matches(self) -> None:
        assert if_range_matches("Wednesday, 15-Nov-95 04:58:08 GMT", ETAG, LAST_MODIFIED)
        assert if_range_matches("Wed Nov 15 04:58:08 1995", ETAG, LAST_MODIFIED)

    def test_another_date_does_not_match_even_a_later_one(self) -> None:
        assert not if_range_matches("Wed, 15 Nov 1995 04:58:09 GMT", ETAG, LAST_MODIFIED)
        assert not if_range_matches("Wed, 15 Nov 1995 04:58:07 GMT", ETAG, LAST_MODIFIED)

    def test_a_date_does_not_match_a_response_without_last_modified(self) -> None:
        assert not if_range_matches(LAST_MODIFIED, ETAG, None)

    def test_garbage_is_false(self) -> None:
        assert not if_range_matches("yesterday", ETAG, LAST_MODIFIED)
        assert not if_range_matches("", ETAG, LAST_MODIFIED)

    def test_last_modified_is_strong_only_a_second_before_the_stored_date(self) -> None:
        """8.8.2.2: a cache may treat Last-Modified as strong when its Date is at least one second later."""
        assert if_range_matches(LAST_MODIFIED, ETAG, LAST_MODIFIED, date=DATE)
        assert if_range_matches(LAST_MODIFIED, ETAG, LAST_MODIFIED, date="Wed, 15 Nov 1995 04:58:09 GMT")
        assert not if_range_matches(LAST_MODIFIED, ETAG, LAST_MODIFIED, date=LAST_MODIFIED)
        assert not if_range_matches(LAST_MODIFIED, ETAG, LAST_MODIFIED, date="not a date")


class TestTheWholeBody:
    def test_no_range_is_200_with_everything(self) -> None:
        p = plan(None)
        assert (p.status, p.headers) == (200, {"content-length": str(SIZE)})
        assert render(p) == BODY

    def test_if_range_without_range_is_ignored(self) -> None:
        assert plan(None, '"other"').status == 200

    @pytest.mark.parametrize("header", ["bytes=", "bytes=5-1", "items=0-1", "bytes=a-b", "0-499", "bytes=-"])
    def test_an_invalid_range_is_ignored(self, header: str) -> None:
        """14.2: a recipient ignores a Range it does not understand."""
        p = plan(header)
        assert p.status == 200
        assert render(p) == BODY

    def test_a_failed_if_range_sends_everything(self) -> None:
        p = plan("bytes=0-499", '"changed"')
        assert p.status == 200
        assert render(p) == BODY

    def test_a_failed_if_range_wins_over_an_unsatisfiable_range(self) -> None:
        """13.2.2 step 5: a false If-Range means the Range is ignored."""
        assert plan("bytes=9000-", '"changed"').status == 200

    def test_an_empty_object_is_an_empty_200(self) -> None:
        p = plan(None, size=0)
        assert (p.status, p.parts, p.headers["content-length"]) == (200, [], "0")


class TestOneRange:
    def test_the_first_500_bytes(self) -> None:
        p = plan("bytes=0-499")
        assert p.status == 206
        assert p.headers == {"content-range": "bytes 0-499/8000", "content-length": "500"}
        assert p.parts == [(0, 500)]
        assert render(p) == BODY[:500]

    def test_a_suffix_range(self) -> None:
        p = plan("bytes=-500")
        assert p.headers["content-range"] == "bytes 7500-7999/8000"
        assert render(p) == BODY[-500:]

    def test_an_open_range_past_the_end_is_clipped(self) -> None:
        p = plan("bytes=7990-99999")
        assert p.headers["content-range"] == "bytes 7990-7999/8000"
        assert render(p) == BODY[7990:]

    def test_a_matching_if_range_allows_the_range(self) -> None:
        assert plan("bytes=0-499", ETAG).status == 206
        assert plan("bytes=0-499", LAST_MODIFIED).status == 206

    def test_the_whole_object_as_a_range_is_still_a_206(self) -> None:
        p = plan("bytes=0-")
        assert (p.status, p.headers["content-range"]) == (206, "bytes 0-7999/8000")


class TestUnsatisfiable:
    def test_a_range_past_the_end_is_416_with_the_size(self) -> None:
        """15.5.17: Content-Range: bytes */complete-length."""
        p = plan("bytes=8000-8100")
        assert p.status == 416
        assert p.headers == {"content-range": "bytes */8000", "content-length": "0"}
        assert p.parts == []

    def test_every_range_unsatisfiable_is_416(self) -> None:
        assert plan("bytes=9000-9100,8000-").status == 416

    def test_one_satisfiable_range_among_unsatisfiable_ones_is_served(self) -> None:
        p = plan("bytes=9000-9100,0-9")
        assert (p.status, p.headers["content-range"]) == (206, "bytes 0-9/8000")

    def test_a_range_of_an_empty_object_is_416(self) -> None:
        p = plan("bytes=0-", size=0)
        assert (p.status, p.headers["content-range"]) == (416, "bytes */0")


class TestMultipleRanges:
    def test_the_rfc_example_is_multipart_byteranges(self) -> None:
        """15.3.7.2's example: two ranges of a PDF, each part with its Content-Type and Content-Range."""
        p = plan("bytes=500-999,7000-7999")
        assert p.status == 206
        assert p.headers["content-type"] == "multipart/byteranges; boundary=THIS_STRING_SEPARATES"
        assert "content-range" not in p.headers
        assert parse_multipart(p) == [
            ("application/pdf", "bytes 500-999/8000", BODY[500:1000]),
            ("application/pdf", "bytes 7000-7999/8000", BODY[7000:8000]),
        ]

    def test_the_body_is_laid_out_as_in_the_rfc(self) -> None:
        rendered = render(plan("bytes=0-1,7998-7999"), b"ab" + bytes(7996) + b"yz")
        assert rendered == (
            b"--THIS_STRING_SEPARATES\r\nContent-Type: application/pdf\r\nContent-Range: bytes 0-1/8000\r\n\r\nab"
            b"\r\n--THIS_STRING_SEPARATES\r\nContent-Type: application/pdf\r\nContent-Range: bytes 7998-7999/8000"
            b"\r\n\r\nyz\r\n--THIS_STRING_SEPARATES--\r\n")

    def test_body_slices_and_literal_parts_alternate(self) -> None:
        parts = plan("bytes=0-1,100-101").parts
        assert [type(part).__name__ for part in parts] == ["bytes", "tuple", "bytes", "tuple", "bytes"]
        assert parts[1] == (0, 2)
        assert parts[3] == (100, 102)

    def test_parts_keep_the_order_of_the_request(self) -> None:
        """15.3.7.2: parts SHOULD be sent in the order the ranges were asked for."""
        p = plan("bytes=7000-7099,500-599")
        assert [r for _, r, _ in parse_multipart(p)] == ["bytes 7000-7099/8000", "bytes 500-599/8000"]

    def test_a_part_without_a_content_type_has_no_content_type_line(self) -> None:
        p = plan("bytes=0-9,5000-5009", content_type=None)
        assert b"Content-Type" not in render(p)
        assert [r for _, r, _ in parse_multipart(p)] == ["bytes 0-9/8000", "bytes 5000-5009/8000"]

    def test_the_boundary_is_random_and_not_in_the_headers_twice(self) -> None:
        first = plan_ranges("bytes=0-9,5000-5009", None, size=SIZE, content_type="text/plain", etag=None,
                            last_modified=None)
        second = plan_ranges("bytes=0-9,5000-5009", None, size=SIZE, content_type="text/plain", etag=None,
                             last_modified=None)
        boundary = re.fullmatch(r"multipart/byteranges; boundary=([0-9a-f]{32})", first.headers["content-type"])
        assert boundary is not None
        assert first.headers["content-type"] != second.headers["content-type"]
        assert len(parse_multipart(first)) == 2

    def test_content_length_is_the_sum_of_the_parts(self) -> None:
        for header in ("bytes=0-0,-1", "bytes=1-2,10-20,30-40,-5", "bytes=0-99,1000-1099,7000-"):
            p = plan(header)
            assert int(p.headers["content-length"]) == len(render(p))


class TestCoalescing:
    """15.3.7.2: a server MAY coalesce overlapping ranges or ranges separated by a small gap."""

    def test_overlapping_ranges_become_one(self) -> None:
        p = plan("bytes=500-700,601-999")
        assert (p.status, p.headers["content-range"]) == (206, "bytes 500-999/8000")
        assert render(p) == BODY[500:1000]

    def test_adjacent_ranges_become_one(self) -> None:
        assert plan("bytes=500-600,601-999").headers["content-range"] == "bytes 500-999/8000"

    def test_ranges_a_few_bytes_apart_become_one(self) -> None:
        assert plan("bytes=0-9,20-29").headers["content-range"] == "bytes 0-29/8000"

    def test_distant_ranges_stay_apart(self) -> None:
        p = plan("bytes=0-9,1000-1009")
        assert p.headers["content-type"].startswith("multipart/byteranges")

    def test_a_range_bridging_two_others_merges_all_three_in_the_first_slot(self) -> None:
        p = plan("bytes=3000-3099,0-99,5000-5099,50-3050")
        assert [r for _, r, _ in parse_multipart(p)] == ["bytes 0-3099/8000", "bytes 5000-5099/8000"]

    def test_the_first_and_last_byte(self) -> None:
        p = plan("bytes=0-0,-1")
        assert [payload for _, _, payload in parse_multipart(p)] == [BODY[:1], BODY[-1:]]


class TestDenialOfServiceRanges:
    """14.2 security considerations: many or overlapping ranges are answered with the whole body."""

    def test_more_ranges_than_the_limit_are_ignored(self) -> None:
        header = "bytes=" + ",".join(f"{i * 200}-{i * 200 + 9}" for i in range(MAX_RANGES + 1))
        assert plan(header).status == 200
        assert plan(header, max_ranges=MAX_RANGES + 1).status == 206

    def test_the_limit_itself_is_allowed(self) -> None:
        header = "bytes=" + ",".join(f"{i * 200}-{i * 200 + 9}" for i in range(MAX_RANGES))
        assert len(parse_multipart(plan(header))) == MAX_RANGES

    def test_ranges_asking_for_more_than_the_object_are_ignored(self) -> None:
        assert plan("bytes=0-,0-").status == 200
        assert plan("bytes=0-4999,3000-7999").status == 200

    def test_a_single_range_of_everything_is_not_an_attack(self) -> None:
        assert plan("bytes=0-").status == 206
