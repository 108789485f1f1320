"""An operation's input read against botocore's constraints, log group names and ARNs, and tokens."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from strato.api.logs.errors import LogsError
from strato.api.logs.params import (
    Params,
    event_token,
    list_token,
    parse_event_token,
    parse_list_token,
)


def refused(call: Callable[..., object], *args: object) -> tuple[str, str]:
    with pytest.raises(LogsError) as caught:
        call(*args)
    return caught.value.code, caught.value.message


def test_a_group_is_named_or_given_by_its_arn() -> None:
    assert Params({"logGroupName": "/aws/lambda/fn-1"}).group_name() == "/aws/lambda/fn-1"
    arn = "arn:aws:logs:us-east-1:000000000000:log-group:/aws/lambda/fn-1"
    assert Params({"logGroupIdentifier": arn}).group_name() == "/aws/lambda/fn-1"
    assert Params({"logGroupIdentifier": arn + ":*"}).group_name() == "/aws/lambda/fn-1"


def test_a_group_must_be_named_once() -> None:
    assert refused(Params({}).group_name)[0] == "InvalidParameterException"
    both = Params({"logGroupName": "/aws/lambda/a", "logGroupIdentifier": "/aws/lambda/a"})
    assert refused(both.group_name) == ("ValidationException",
                                        "LogGroup name and LogGroup ARN are mutually exclusive parameters.")


def test_tags_are_checked_against_their_bounds() -> None:
    assert Params({"tags": {"team": "a b", "k:v/x": ""}}).tags("tags") == {"team": "a b", "k:v/x": ""}
    assert Params({}).tags("tags", required=False) is None
    for bad in ({}, {"": "v"}, {"k": "v" * 257}, {"k": 1}, ["k"], {f"k{n}": "v" for n in range(51)}):
        assert refused(Params({"tags": bad}).tags, "tags")[0] == "InvalidParameterException"


def test_numbers_are_checked_against_their_bounds() -> None:
    params = Params({"limit": 0, "other": 10001, "text": "5", "flag": True})
    assert refused(params.number, "limit", 1, 10000) == (
        "InvalidParameterException", "1 validation error detected: Value '0' at 'limit' failed to satisfy "
                                     "constraint: Member must have value greater than or equal to 1")
    assert refused(params.number, "other", 1, 10000)[0] == "InvalidParameterException"
    assert refused(params.number, "text")[0] == "InvalidParameterException"
    assert refused(params.number, "flag")[0] == "InvalidParameterException"
    assert params.number("absent", 1, 10) is None


def test_event_tokens_round_trip_and_refuse_garbage() -> None:
    assert parse_event_token(event_token("f", (3, 4096, -1)), "fb") == ("f", (3, 4096, -1))
    for token in ("x/1/2/3", "f/1/2", "f/a/b/c", "n/1/2/3"):
        assert refused(parse_event_token, token, "fb") == ("InvalidParameterException",
                                                           "The specified nextToken is invalid.")


def test_list_tokens_round_trip_and_refuse_garbage() -> None:
    assert parse_list_token(list_token([5, "a/[$LATEST]b"])) == [5, "a/[$LATEST]b"]
    assert refused(parse_list_token, "!!")[0] == "InvalidParameterException"
    assert refused(parse_list_token, list_token({"a": 1}))[0] == "InvalidParameterException"  # type: ignore[arg-type]
