"""CloudWatch Logs' regular-expression filter patterns, against the examples of "Supported
regular expressions (regex) syntax", checked against Python's own re on the same expressions,
and matched in linear time where a backtracking engine takes quadratic or worse."""

from __future__ import annotations

import json
import re

import pytest

from strato.api.logs.errors import LogsError
from strato.api.logs.patterns import compile_pattern

LINES = ["[ERROR 401] UNAUTHORIZED REQUEST", "[SUCCESS 200] AUTHORIZED REQUEST", "hat on", "the cat", "color",
         "colour", "aaa", "aaaaaa", "10.0.0.1 GET", "user_id=42;", "Error in db", "fail: disk", "tab\there", ""]


def kept(pattern: str) -> list[str]:
    matches = compile_pattern(pattern)
    assert matches is not None
    return [line for line in LINES if matches(line)]


@pytest.mark.parametrize("regex", [
    "AUTHORIZED", "^[hc]at", "[hc]at$", "colou?r", "[abc]", "[a-z]", "[abcx-z]", "a{3,5}", "^a{3}$", "a{2,}",
    r"\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}", "[Ee]rror|[Ff]ail", r"\w+=\d+;$", r"\s", r"\S+:", "[^a-z]at", "c.t",
    "^$", r"\[ERROR", "A+U", "x*", "E.*D",
])
def test_expressions_keep_what_pythons_re_finds(regex: str) -> None:
    assert kept(f"%{regex}%") == [line for line in LINES if re.search(regex, line)]


def test_the_docs_example_finds_the_word_anywhere() -> None:
    assert kept("%AUTHORIZED%") == LINES[:2]


@pytest.mark.parametrize("regex", ["(a|b)", "a!", "ünï", "", "a|", "[a-", "a{2", "a{5,2}", "a{1001}", "a.{300}c",
                                   "x{150}y{150}", "*a", "a**", "z-a]", "[z-a]"])
def test_what_aws_does_not_support_is_an_invalid_parameter(regex: str) -> None:
    with pytest.raises(LogsError) as caught:
        compile_pattern(f"%{regex}%")
    assert caught.value.code == "InvalidParameterException"


def test_a_long_message_is_matched_in_linear_time() -> None:
    """re.search('a*a*a*a*b', ...) backtracks for hours on this message; a step per character
    ends at once (a backtracking engine here would never let the test end)."""
    matches = compile_pattern("%a*a*a*a*b%")
    assert matches is not None
    assert not matches("a" * 50_000)
    assert matches("a" * 50_000 + "b")


def test_the_longest_count_taken_matches_over_a_long_message() -> None:
    """`.{0,198}` keeps up to two hundred positions in each state, stepped once per character."""
    matches = compile_pattern("%a.{0,198}c%")
    assert matches is not None
    assert not matches("ab" * 128 * 1024)
    assert matches("ab" * 128 * 1024 + "c")
    assert not matches("a" + "b" * 199 + "c")


def test_json_values_may_be_regular_expressions_two_at_most() -> None:
    matches = compile_pattern('{ $.msg = %time[do]ut% && $.level != %^DEBUG$% }')
    assert matches is not None
    assert matches(json.dumps({"msg": "a timeout", "level": "ERROR"}))
    assert not matches(json.dumps({"msg": "a timeout", "level": "DEBUG"}))
    assert not matches(json.dumps({"msg": 5, "level": "ERROR"}))
    with pytest.raises(LogsError):
        compile_pattern("{ $.a = %x% || $.b = %y% || $.c = %z% }")
