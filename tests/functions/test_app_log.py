"""Lambda's application log-level filter for JSON-format functions: a line's level is its JSON
object's "level", else INFO; lines below the function's ApplicationLogLevel are left out."""

from __future__ import annotations

import pytest

from strato.functions.app_log import HELD_MAX, LevelFilter, level_of


@pytest.mark.parametrize(("line", "level"), [
    (b'{"level": "debug", "msg": "my debug log", "timestamp": "2024-11-02T16:51:31.587199Z"}\n', "DEBUG"),
    (b'{"timestamp": "T", "level": "WARNING", "message": "m", "logger": "root"}', "WARN"),  # the logging module's
    (b'{"level": "CRITICAL"}', "FATAL"),
    (b'{"level": "Error"}', "ERROR"),
    (b'{"level": "verbose"}', "INFO"),  # not a level: INFO, as Lambda assigns it
    (b'{"level": 40}', "INFO"),
    (b'{"msg": "no level"}', "INFO"),
    (b"printed by print()\n", "INFO"),
    (b'{"level": "debug"', "INFO"),  # not JSON
    (b"[" * 100_000, "INFO"),
    (b"{" + b'"a":[' * 100_000, "INFO"),
])
def test_a_lines_level_is_its_json_level_else_info(line: bytes, level: str) -> None:
    assert level_of(line) == level


def test_lines_below_the_level_are_left_out_each_judged_whole() -> None:
    levels = LevelFilter("WARN")
    assert levels.take(b'plain\n{"level": "warn", "m": 1}\n{"level": "er') == b'{"level": "warn", "m": 1}\n'
    assert levels.take(b'ror"}\n{"level": "debug"}\n') == b'{"level": "error"}\n'
    assert levels.take(b'{"level": "fatal", "m": "a\\nb"}\r\n') == b'{"level": "fatal", "m": "a\\nb"}\r\n'


def test_a_line_not_ended_goes_when_the_output_stops_or_grows_too_long() -> None:
    levels = LevelFilter("TRACE")
    assert levels.take(b"no newline") == b""
    assert levels.rest() == b"no newline"
    assert levels.rest() == b""
    assert levels.take(b"x" * (HELD_MAX + 1)) == b"x" * (HELD_MAX + 1)
    assert LevelFilter("ERROR").take(b"x" * (HELD_MAX + 1)) == b""
