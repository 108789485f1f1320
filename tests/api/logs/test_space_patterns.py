"""CloudWatch Logs' space-delimited filter patterns, against the Apache log examples of "Using
filter patterns to match terms in space-delimited log events" and the forms the AWS CDK's
SpaceDelimitedTextPattern writes."""

from __future__ import annotations

import pytest

from strato.api.logs.errors import LogsError
from strato.api.logs.patterns import compile_pattern
from strato.api.logs.space_patterns import fields

LINES = [
    '127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /index.html HTTP/1.0" 404 1534',
    '10.0.0.7 - ana [10/Oct/2000:13:25:16 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326',
    '127.0.0.2 - bo [10/Oct/2000:13:25:17 -0700] "POST /form.html HTTP/1.1" 503 -',
    "START RequestId: 1 Version: $LATEST",
]
APACHE = "ip, user, username, timestamp, request, status_code, bytes"


def kept(pattern: str) -> list[int]:
    """The indexes of the LINES the pattern keeps."""
    matches = compile_pattern(pattern)
    assert matches is not None
    return [index for index, line in enumerate(LINES) if matches(line)]


def test_a_bracketed_or_quoted_run_is_one_field_without_its_marks() -> None:
    assert fields(LINES[0]) == ("127.0.0.1", "-", "frank", "10/Oct/2000:13:25:15 -0700", "GET /index.html HTTP/1.0",
                                "404", "1534")
    assert fields('a  "" [x y]z "open') == ("a", "", "[x", "y]z", '"open')


def test_naming_every_field_keeps_the_events_with_that_many_fields() -> None:
    assert kept(f"[{APACHE}]") == [0, 1, 2]
    assert kept("[a, b, c, d, e]") == [3]
    assert kept("[a, b]") == []


@pytest.mark.parametrize(("place", "indexes"), [
    ("status_code = 404", [0]),
    ("status_code = 4*", [0]),
    ("status_code != 200", [0, 2]),
    ('status_code = "5*"', [2]),
    ("status_code >= 400", [0, 2]),
    ("status_code < 1e3 && status_code > 300", [0, 2]),
    ("status_code = 4* || status_code = 5*", [0, 2]),
    ("(status_code = 200 || status_code = 503) && status_code != 200", [2]),
])
def test_a_place_holds_a_condition_on_its_field(place: str, indexes: list[int]) -> None:
    assert kept(f"[ip, user, username, timestamp, request, {place}, bytes]") == indexes


def test_numbers_compare_only_with_fields_that_hold_numbers() -> None:
    assert kept("[ip, user, username, timestamp, request, status_code, bytes > 1000]") == [0, 1]
    assert kept("[ip, user, username, timestamp, request, status_code, bytes = -]") == [2]


def test_text_conditions_take_wildcards_and_regular_expressions() -> None:
    assert kept("[ip, user, username, timestamp, request =*.html*, status_code = 4*, bytes]") == [0]
    assert kept('[ip, user, username, timestamp, request = "POST *", status_code, bytes]') == [2]
    assert kept(r"[ip=%127\.0\.0\.[1-9]%, user, username, timestamp, request, status_code, bytes]") == [0, 2]


def test_an_ellipsis_stands_for_any_number_of_fields() -> None:
    assert kept("[..., status_code = 200, bytes]") == [1]
    assert kept("[ip = 127*, ...]") == [0, 2]
    assert kept("[ip, ..., status_code = 5*, ...]") == [2]
    assert kept("[..., label = Version:, version]") == [3]
    assert kept("[...]") == [0, 1, 2, 3]


def test_the_cdks_space_delimited_text_pattern() -> None:
    """SpaceDelimitedTextPattern.construct([...]).whereString(...).whereNumber(...) writes
    quoted texts and joins a column's restrictions with &&."""
    pattern = '[ip, user, username, timestamp, request = "GET*", status_code != 404 && status_code != 503, bytes]'
    assert kept(pattern) == [1]


def test_many_fields_and_ellipses_take_linear_time() -> None:
    matches = compile_pattern("[..., a = x*, ..., b = y*, ...]")
    assert matches is not None
    assert not matches("z " * 100_000)
    assert matches("z " * 50_000 + "x1 y2 " + "z " * 50_000)


@pytest.mark.parametrize("pattern", [
    "[ip, user",  # unclosed
    "[]",
    "[ip, , bytes]",
    "[ip, status = 4* || bytes > 3]",  # a condition on another place's field
    "[ip, bytes >]",
    '[ip, request = "GET]',
    "[ip = %a%, b = %b%, c = %c%]",  # three regular expressions: AWS allows two
    "[ip.address]",
])
def test_patterns_that_do_not_parse_are_invalid_parameters(pattern: str) -> None:
    with pytest.raises(LogsError) as caught:
        compile_pattern(pattern)
    assert (caught.value.code, caught.value.status) == ("InvalidParameterException", 400)
