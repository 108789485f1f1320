"""Heads the edge's protocol writes itself (edge/heads.py): the bytes uvicorn writes for the same
fields, and no head at all for a field uvicorn would refuse."""

from __future__ import annotations

from strato.edge.delivery import Answer
from strato.edge.heads import body_length, field_line, head


class TestHeads:
    def test_the_status_line_and_lower_cased_fields_in_order(self) -> None:
        answer = Answer(200, {"Content-Type": "text/plain", "content-length": "5", "ETag": '"a b"'}, [b"hello"])
        assert head(answer) == (b'HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 5\r\n'
                                b'etag: "a b"\r\n\r\n')

    def test_a_tab_in_a_value_is_kept(self) -> None:
        assert field_line("x-list", "a\tb") == b"x-list: a\tb\r\n"
        assert head(Answer(204, {"x-list": "a\tb"}, None)) == b"HTTP/1.1 204 No Content\r\nx-list: a\tb\r\n\r\n"

    def test_a_value_with_a_control_character_or_line_break_gives_no_head(self) -> None:
        for value in ("a\r\nx-injected: 1", "a\x00", "a\x7f"):
            assert field_line("x-bad", value) is None
            assert head(Answer(200, {"content-length": "0", "x-bad": value}, None)) is None

    def test_a_name_that_is_not_a_token_gives_no_head(self) -> None:
        for name in ("bad name", "bad:name", "naïve\u20ac"):
            assert field_line(name, "v") is None
            assert head(Answer(200, {name: "v"}, None)) is None

    def test_fields_already_encoded_are_used_for_the_values_they_were_made_from(self) -> None:
        etag = '"stored"'
        known = {"etag": etag}
        answer = Answer(200, {"etag": etag, "age": "3"}, None)
        assert head(answer, known, {"etag": b"etag: from-the-entry\r\n"}) == (
            b"HTTP/1.1 200 OK\r\netag: from-the-entry\r\nage: 3\r\n\r\n")
        assert head(Answer(200, {"etag": '"other"'}, None), known, {"etag": b"etag: x\r\n"}) == (
            b'HTTP/1.1 200 OK\r\netag: "other"\r\n\r\n')

    def test_the_body_length_counts_bytes_and_ranges_of_the_representation(self) -> None:
        assert body_length(Answer(206, {}, [b"--b\r\n", (10, 20), (90, None)]), size=100) == 5 + 10 + 10
        assert body_length(Answer(304, {}, None)) == 0
