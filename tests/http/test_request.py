"""The parsed view of an ASGI request: raw pieces kept for signatures, the rest decoded once."""

from __future__ import annotations

import pytest

from strato.http.request import MalformedRequest, Request, parse_query
from strato.http.types import Message


async def _no_body() -> Message:
    return {"type": "http.request", "body": b"", "more_body": False}


def request(
    raw_path: bytes = b"/", query: bytes = b"", headers: list[tuple[bytes, bytes]] | None = None
) -> Request:
    scope = {
        "type": "http",
        "method": "GET",
        "path": "/",
        "raw_path": raw_path,
        "query_string": query,
        "headers": headers or [],
        "client": ("10.0.0.1", 5555),
    }
    return Request.from_scope(scope, _no_body)


class TestThePath:
    def test_the_raw_path_is_kept_as_sent_and_the_path_is_decoded(self) -> None:
        parsed = request(b"/bucket/a%20b%2Fc/%E6%97%A5")
        assert parsed.raw_path == b"/bucket/a%20b%2Fc/%E6%97%A5"
        assert parsed.path == "/bucket/a b/c/日"

    def test_a_plus_in_the_path_is_a_plus(self) -> None:
        assert request(b"/bucket/a+b").path == "/bucket/a+b"

    def test_invalid_utf_8_in_the_path_is_malformed(self) -> None:
        with pytest.raises(MalformedRequest):
            request(b"/bucket/%FF")


class TestTheQuery:
    def test_parameters_keep_their_order_and_a_bare_name_has_an_empty_value(self) -> None:
        assert parse_query(b"uploads&prefix=a%2Fb&max-keys=2") == [
            ("uploads", ""),
            ("prefix", "a/b"),
            ("max-keys", "2"),
        ]

    def test_a_plus_in_the_query_is_a_space(self) -> None:
        assert parse_query(b"prefix=a+b%2Bc") == [("prefix", "a b+c")]

    def test_the_raw_query_is_kept_for_signatures(self) -> None:
        parsed = request(query=b"prefix=a+b&list-type=2")
        assert parsed.raw_query == b"prefix=a+b&list-type=2"
        assert parsed.query == {"prefix": "a b", "list-type": "2"}

    def test_invalid_utf_8_in_the_query_is_malformed(self) -> None:
        with pytest.raises(MalformedRequest):
            request(query=b"prefix=%C3")


class TestHeaders:
    def test_names_are_lower_cased_and_repeated_headers_are_joined_with_commas(self) -> None:
        parsed = request(headers=[(b"X-Amz-Meta-A", b"1"), (b"x-amz-meta-a", b"2"), (b"Host", b"h")])
        assert parsed.headers == {"x-amz-meta-a": "1,2", "host": "h"}
        assert parsed.header_list == [("x-amz-meta-a", "1"), ("x-amz-meta-a", "2"), ("host", "h")]

    def test_the_client_address_is_kept(self) -> None:
        assert request().client == "10.0.0.1"


class TestContentLength:
    def test_a_number_is_the_length(self) -> None:
        assert request(headers=[(b"content-length", b"42")]).content_length() == 42

    def test_no_header_is_no_length(self) -> None:
        assert request().content_length() is None

    @pytest.mark.parametrize("value", [b"", b"-1", b"1.0", b"0x10", b"ten", b"\xb2", b" 1"])
    def test_anything_but_digits_is_malformed(self, value: bytes) -> None:
        with pytest.raises(MalformedRequest):
            request(headers=[(b"content-length", value)]).content_length()
