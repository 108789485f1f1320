"""CloudWatch Logs' text filter patterns, point by point against the "Matching terms in
unstructured log events" examples of the filter pattern syntax page."""

from __future__ import annotations

import pytest

from strato.api.logs.errors import LogsError
from strato.api.logs.patterns import compile_pattern, terms

LINES = ["[ERROR 400] BAD REQUEST", "[ERROR 401] UNAUTHORIZED REQUEST", "[WARNING 402] PAYMENT REQUIRED",
         "[ERROR 403] FORBIDDEN", "[INFO 200] OK", "Exiting with ERROR"]


def kept(pattern: str) -> list[str]:
    matches = compile_pattern(pattern)
    return [line for line in LINES if matches is None or matches(line)]


def test_an_empty_pattern_keeps_every_event() -> None:
    assert compile_pattern("") is None
    assert compile_pattern("   ") is None


def test_every_term_must_appear_case_sensitively() -> None:
    assert kept("ERROR") == [LINES[0], LINES[1], LINES[3], LINES[5]]
    assert kept("ERROR REQUEST") == [LINES[0], LINES[1]]
    assert kept("error") == []


def test_a_quoted_phrase_is_one_term() -> None:
    assert kept('"BAD REQUEST"') == [LINES[0]]
    assert kept('"REQUEST BAD"') == []


def test_question_marked_terms_are_alternatives() -> None:
    assert kept("?ERROR ?WARNING") == [*LINES[:4], LINES[5]]
    assert kept('?"PAYMENT REQUIRED" ?OK') == [LINES[2], LINES[4]]


def test_a_minus_excludes_a_term() -> None:
    assert kept("ERROR -Exiting") == [LINES[0], LINES[1], LINES[3]]
    assert kept('ERROR -"BAD REQUEST"') == [LINES[1], LINES[3], LINES[5]]


def test_signs_inside_quotes_are_text() -> None:
    assert terms('"-1" ?"a b" -c') == [("", "-1"), ("?", "a b"), ("-", "c")]


@pytest.mark.parametrize("pattern", ["[ip, user", '"unclosed'])
def test_patterns_that_do_not_parse_are_invalid_parameters(pattern: str) -> None:
    with pytest.raises(LogsError) as caught:
        compile_pattern(pattern)
    assert (caught.value.code, caught.value.status) == ("InvalidParameterException", 400)


def test_terms_after_a_question_mark_join_its_group() -> None:
    """`?"a" "b" ?"c"` is (a and b) or c: the form the AWS CDK's FilterPattern.anyTermGroup writes."""
    assert kept('?"ERROR" "FORBIDDEN" ?"OK"') == [LINES[3], LINES[4]]
    assert kept('?ERROR REQUEST ?WARNING PAYMENT') == [LINES[0], LINES[1], LINES[2]]


def test_a_backslash_escapes_a_quote_inside_a_phrase() -> None:
    """The AWS CDK's FilterPattern.allTerms('"foo" he said') writes `"\\"foo\\" he said"`."""
    assert terms(r'"\"foo\" he said" x') == [("", '"foo" he said'), ("", "x")]
    matches = compile_pattern(r'"say \"hi\""')
    assert matches is not None
    assert matches('they say "hi" twice')
    assert not matches("they say hi")
