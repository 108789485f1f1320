"""CloudWatch Logs' JSON filter patterns, against the examples of "Using filter patterns to match
terms in JSON log events" and the forms the AWS CDK's FilterPattern writes."""

from __future__ import annotations

import json

import pytest

from strato.api.logs.errors import LogsError
from strato.api.logs.patterns import compile_pattern

EVENTS = [
    {"eventType": "UpdateTrail", "sourceIPAddress": "123.123.0.7", "latency": 1200, "error": True,
     "user": {"id": 7, "name": "ana"}, "tags": ["a", "b"], "note": None},
    {"eventType": "CreateTrail", "sourceIPAddress": "10.0.0.1", "latency": 80, "error": False,
     "user": {"id": 9, "name": "bo"}, "tags": []},
    {"level": "ERROR", "message": "disk full", "statusCode": "404"},
]
MESSAGES = [json.dumps(event) for event in EVENTS] + ["START RequestId: 1 Version: $LATEST", "[1, 2]", "{not json"]


def kept(pattern: str) -> list[int]:
    """The indexes of the MESSAGES the pattern keeps."""
    matches = compile_pattern(pattern)
    assert matches is not None
    return [index for index, message in enumerate(MESSAGES) if matches(message)]


@pytest.mark.parametrize(("pattern", "indexes"), [
    ('{ $.eventType = "UpdateTrail" }', [0]),
    ("{ $.eventType = UpdateTrail }", [0]),
    ('{ $.eventType != "UpdateTrail" }', [1]),  # events without the field are not kept
    ('{ $.eventType = "*Trail" }', [0, 1]),
    ("{ $.sourceIPAddress != 123.123.* }", [1]),
    ('{ $.user.name = "a*a" }', [0]),
    ("{ $.user.id = 9 }", [1]),
    ("{ $.tags[1] = b }", [0]),
    ("{ $.tags[0] = * }", [0]),
    ('{ $.level = "*" }', [2]),
])
def test_strings_compare_with_equal_and_not_equal_and_wildcards(pattern: str, indexes: list[int]) -> None:
    assert kept(pattern) == indexes


@pytest.mark.parametrize(("pattern", "indexes"), [
    ("{ $.latency > 1000 }", [0]),
    ("{ $.latency >= 80 }", [0, 1]),
    ("{ $.latency < 1e3 }", [1]),
    ("{ $.latency <= 79.5 }", []),
    ("{ $.latency != 80 }", [0]),
    ("{ $.statusCode = 404 }", [2]),  # a number as written, against a string field
    ("{ $.error > 0 }", []),  # a boolean is no number
])
def test_numbers_compare_with_every_operator(pattern: str, indexes: list[int]) -> None:
    assert kept(pattern) == indexes


@pytest.mark.parametrize(("pattern", "indexes"), [
    ("{ $.error IS TRUE }", [0]),
    ("{ $.error IS FALSE }", [1]),
    ("{ $.note IS NULL }", [0]),
    ("{ $.note NOT EXISTS }", [1, 2]),
])
def test_postfix_tests(pattern: str, indexes: list[int]) -> None:
    assert kept(pattern) == indexes


def test_conditions_join_with_and_binding_tighter_than_or() -> None:
    assert kept('{ $.eventType = "CreateTrail" || $.latency > 1000 && $.error IS TRUE }') == [0, 1]
    assert kept('{ ($.eventType = "CreateTrail" || $.latency > 1000) && $.error IS TRUE }') == [0]
    # The AWS CDK's FilterPattern.all(stringValue(...), any(booleanValue(...), numberValue(...))):
    assert kept('{ ($.eventType = "UpdateTrail") && (($.error IS TRUE) || ($.latency > 1000)) }') == [0]


def test_quoted_text_takes_escaped_quotes_and_backslashes() -> None:
    matches = compile_pattern(r'{ $.m = "say \"hi\" \\ now" }')
    assert matches is not None
    assert matches(json.dumps({"m": 'say "hi" \\ now'}))
    assert not matches(json.dumps({"m": "say hi now"}))


def test_a_long_field_with_many_wildcards_is_matched_in_linear_time() -> None:
    matches = compile_pattern('{ $.m = "*a*a*a*a*a*a*a*a*b" }')
    assert matches is not None
    assert not matches(json.dumps({"m": "a" * 200_000}))
    assert matches(json.dumps({"m": "a" * 200_000 + "b"}))


@pytest.mark.parametrize("pattern", [
    "{ $.a = 1", "{ a = 1 }", "{ $.a 1 }", "{ $.a = }", "{ $.a > abc }", "{ ($.a = 1 }", "{ $.a = 1 ) }",
    "{ $.a IS MAYBE }", '{ $.a = "unclosed }', "{ $.a > %regex% }", "{ $.a..b = 1 }", "{ $.a = 1 && }",
])
def test_patterns_that_do_not_parse_are_invalid_parameters(pattern: str) -> None:
    with pytest.raises(LogsError) as caught:
        compile_pattern(pattern)
    assert (caught.value.code, caught.value.status) == ("InvalidParameterException", 400)
