"""Cache keys, point by point against RFC 9111 4.1 and RFC 9110 4.2.3's URI normalisation."""

from __future__ import annotations

import json

import pytest

from strato.edge.cachekey import primary_key, secondary_key, vary_fields


class TestPrimaryKey:
    """RFC 9111 2 / 4.1: method and target URI."""

    def test_method_host_and_target(self) -> None:
        assert primary_key("GET", "example.com", "/a/b?c=1") == "GET example.com/a/b?c=1"

    def test_head_shares_gets_entries(self) -> None:
        assert primary_key("HEAD", "example.com", "/x") == primary_key("GET", "example.com", "/x")

    def test_other_methods_have_their_own_keys(self) -> None:
        assert primary_key("POST", "example.com", "/x") == "POST example.com/x"

    def test_methods_are_case_sensitive(self) -> None:
        # RFC 9110 9.1: "head" is not HEAD.
        assert primary_key("head", "example.com", "/x") == "head example.com/x"

    # RFC 9110 4.2.3's equivalent URIs: http://example.com:80/~smith/home.html and friends.
    @pytest.mark.parametrize(("host", "target"), [
        ("example.com:80", "/~smith/home.html"),
        ("EXAMPLE.com", "/%7Esmith/home.html"),
        ("EXAMPLE.com:", "/%7esmith/home.html"),
        ("example.com", "http://EXAMPLE.com:80/~smith/home.html"),
    ])
    def test_rfc_9110_equivalent_uris_share_a_key(self, host: str, target: str) -> None:
        assert primary_key("GET", host, target) == "GET example.com/~smith/home.html"

    @pytest.mark.parametrize(("target", "normal"), [
        ("", "/"),
        ("/a%2fb", "/a%2Fb"),  # reserved characters stay encoded, hex upper-cased
        ("/a%20b", "/a%20b"),
        ("/%41%42%2D", "/AB-"),  # unreserved characters decoded
        ("/a?x=%7e&y=1", "/a?x=~&y=1"),
        ("/a#frag", "/a"),
        ("/a%zz", "/a%zz"),  # a broken escape is kept as it is
        ("/b?z=1&a=2", "/b?z=1&a=2"),  # query order is significant
    ])
    def test_targets_are_normalised(self, target: str, normal: str) -> None:
        assert primary_key("GET", "h", target) == f"GET h{normal}"

    def test_paths_differ_by_case(self) -> None:
        assert primary_key("GET", "h", "/A") != primary_key("GET", "h", "/a")

    def test_non_default_ports_are_kept(self) -> None:
        assert primary_key("GET", "example.com:8080", "/") == "GET example.com:8080/"
        assert primary_key("GET", "[::1]:80", "/") == "GET [::1]/"
        assert primary_key("GET", "[::1]", "/") == "GET [::1]/"

    def test_an_absolute_form_target_brings_its_own_authority(self) -> None:
        # RFC 9112 3.2.2: the Host field is ignored then.
        assert primary_key("GET", "ignored", "https://Origin.example:443/p?q") == "GET origin.example/p?q"


class TestVaryFields:
    """RFC 9111 4.1 and RFC 9110 12.5.5."""

    def test_no_vary_is_no_fields(self) -> None:
        assert vary_fields({}) == ()

    def test_rfc_9110_example(self) -> None:
        assert vary_fields({"vary": "accept-encoding, accept-language"}) == ("accept-encoding", "accept-language")

    def test_lower_cased_deduplicated_sorted(self) -> None:
        assert vary_fields({"vary": "User-Agent, Accept-Encoding,accept-encoding ,, "}) == (
            "accept-encoding", "user-agent")

    @pytest.mark.parametrize("value", ["*", "accept, *", " * "])
    def test_a_star_never_matches(self, value: str) -> None:
        assert vary_fields({"vary": value}) is None

    def test_an_empty_vary_is_no_fields(self) -> None:
        assert vary_fields({"vary": ""}) == ()


class TestSecondaryKey:
    """RFC 9111 4.1: selecting responses with the Vary fields of the request."""

    def test_no_fields_is_the_empty_key(self) -> None:
        assert secondary_key((), {"accept": "x"}) == ""

    def test_the_key_names_each_field_and_value(self) -> None:
        assert json.loads(secondary_key(("accept",), {"accept": "text/html"})) == [["accept", "text/html"]]

    def test_an_absent_field_differs_from_an_empty_one(self) -> None:
        assert secondary_key(("accept",), {}) != secondary_key(("accept",), {"accept": ""})

    def test_different_values_differ(self) -> None:
        assert secondary_key(("accept",), {"accept": "a/b"}) != secondary_key(("accept",), {"accept": "a/c"})

    def test_other_fields_do_not_matter(self) -> None:
        assert secondary_key(("accept",), {"accept": "x", "cookie": "1"}) == secondary_key(("accept",), {"accept": "x"})

    @pytest.mark.parametrize(("left", "right"), [
        ("gzip, br", "gzip,br"),  # whitespace around commas
        ("gzip,   br", " gzip , br "),
        ("text/html;q=0.9", "text/html ; q=0.9"),  # whitespace around parameters
        ("a  b", "a b"),  # runs of whitespace
        ("a\tb", "a b"),
    ])
    def test_whitespace_is_normalised(self, left: str, right: str) -> None:
        assert secondary_key(("accept",), {"accept": left}) == secondary_key(("accept",), {"accept": right})

    def test_joined_field_lines_equal_one_line(self) -> None:
        # Two lines "Accept: a" and "Accept: b" reach us joined as "a, b".
        assert secondary_key(("accept",), {"accept": "a, b"}) == secondary_key(("accept",), {"accept": "a,b"})

    def test_order_matters_where_it_may_carry_meaning(self) -> None:
        assert secondary_key(("accept-language",), {"accept-language": "en, fr"}) != secondary_key(
            ("accept-language",), {"accept-language": "fr, en"})

    def test_accept_encoding_is_case_and_order_insensitive(self) -> None:
        assert secondary_key(("accept-encoding",), {"accept-encoding": "GZIP, br"}) == secondary_key(
            ("accept-encoding",), {"accept-encoding": "br, gzip"})

    def test_accept_language_is_case_insensitive(self) -> None:
        assert secondary_key(("accept-language",), {"accept-language": "en-US"}) == secondary_key(
            ("accept-language",), {"accept-language": "en-us"})

    def test_other_fields_keep_their_case(self) -> None:
        assert secondary_key(("x-token",), {"x-token": "A"}) != secondary_key(("x-token",), {"x-token": "a"})

    def test_commas_in_quoted_strings_are_kept(self) -> None:
        assert secondary_key(("x",), {"x": '"a, b"'}) != secondary_key(("x",), {"x": '"a,b"'})

    def test_the_key_is_stable_and_unambiguous(self) -> None:
        fields = ("a", "b")
        assert secondary_key(fields, {"a": "1", "b": "2"}) == secondary_key(fields, {"b": "2", "a": "1"})
        assert secondary_key(fields, {"a": '1","b'}) != secondary_key(fields, {"a": "1", "b": ""})

    def test_non_ascii_values_survive(self) -> None:
        assert json.loads(secondary_key(("x",), {"x": "é"})) == [["x", "é"]]
