"""Field-value lists (RFC 9110 5.6.1)."""

from __future__ import annotations

from strato.http.fields import split_list


class TestListSyntax:
    """RFC 9110 5.6.1 / 5.6.4: lists, empty members, quoted commas."""

    def test_commas_inside_quoted_strings_do_not_split(self) -> None:
        assert split_list('no-cache="a, b", max-age=1') == ['no-cache="a, b"', "max-age=1"]

    def test_empty_members_and_whitespace_are_dropped(self) -> None:
        assert split_list(" , a ,, \t b ,") == ["a", "b"]

    def test_an_escaped_quote_does_not_end_the_string(self) -> None:
        assert split_list(r'x="a\", b", y') == [r'x="a\", b"', "y"]
