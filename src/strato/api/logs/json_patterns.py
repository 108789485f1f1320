"""CloudWatch Logs' JSON filter patterns, pure: which JSON log events a `{ ... }` pattern keeps.

https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/FilterAndPatternSyntax.html, "Using
filter patterns to match terms in JSON log events", in the forms the AWS CDK's FilterPattern
writes: `$.field = "text"` and `!=` (a `*` in the text matches any run of characters; `= "*"`
alone: the field exists), `$.field > 100` with = != < <= > >= for numbers, `IS TRUE`,
`IS FALSE`, `IS NULL`, `NOT EXISTS`, and conditions joined by `&&` and `||` (`&&` binding
tighter) with parentheses, and `= %regex%` / `!= %regex%` on text (regex_patterns.py; two at
most, AWS's quota). A selector walks from `$` by `.name` and `[index]`. A comparison holds only
where its field exists, so `!=` keeps no event without the field. Events whose message is not a
JSON object are never kept (Lambda's JSON log format writes objects). Patterns that do not parse
are refused.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

from strato import jsontext

from .errors import invalid_parameter
from .regex_patterns import compile_regex

Condition = Callable[[Any], bool]  # the event's parsed object -> kept?

_TOKEN = re.compile(r"""\s*(?:(?P<join>&&|\|\|)|(?P<paren>[()])|(?P<op>!=|<=|>=|=|<|>)"""
                    r"""|(?P<quoted>"(?:[^"\\]|\\.)*")|(?P<regex>%[^%]*%)|(?P<word>[^\s()&|=!<>"%]+))""")
_STEP = re.compile(r"\.([^.\[\]]+)|\[(\d+)\]")
_NUMBER = re.compile(r"-?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")
_MISSING = object()
MAX_REGEXES = 2
MAX_DEPTH = 100  # parentheses within parentheses: a 1,024-character pattern could nest past Python's stack


def compile_json(pattern: str) -> Callable[[str], bool]:
    """The predicate of a pattern that begins with `{`; InvalidParameterException if it does not parse."""
    body = pattern.strip()
    if not body.endswith("}"):
        raise _invalid(pattern, "a JSON filter pattern ends with }")
    tokens = _tokens(body[1:-1], pattern)
    parser = _Parser(tokens, pattern)
    condition = parser.expression()
    if parser.position != len(tokens):
        raise _invalid(pattern, f"unexpected {tokens[parser.position][1]!r}")

    def matches(message: str) -> bool:
        try:
            event = jsontext.loads(message)
        except ValueError:  # a nesting deeper than the parser goes too
            return False
        return isinstance(event, dict) and condition(event)

    return matches


def _invalid(pattern: str, why: str) -> Exception:
    return invalid_parameter(f"Invalid filter pattern {pattern!r}: {why}.")


def _tokens(text: str, pattern: str) -> list[tuple[str, str]]:
    """(kind, text) of each token; kinds are the groups of _TOKEN."""
    found: list[tuple[str, str]] = []
    index = 0
    while text[index:].strip():
        match = _TOKEN.match(text, index)
        if match is None or match.lastgroup is None:
            raise _invalid(pattern, f"cannot read {text[index:].strip()[:20]!r}")
        found.append((match.lastgroup, match[match.lastgroup]))
        index = match.end()
    return found


class _Parser:
    """Recursive descent: expression := conjunction ('||' conjunction)*;
    conjunction := primary ('&&' primary)*; primary := '(' expression ')' | comparison."""

    def __init__(self, tokens: list[tuple[str, str]], pattern: str) -> None:
        self.tokens = tokens
        self.pattern = pattern
        self.position = 0
        self.regexes = 0
        self.depth = 0

    def peek(self) -> tuple[str, str]:
        return self.tokens[self.position] if self.position < len(self.tokens) else ("end", "the end")

    def take(self, kind: str) -> str:
        token = self.peek()
        if token[0] != kind:
            raise _invalid(self.pattern, f"expected {kind} at {token[1]!r}")
        self.position += 1
        return token[1]

    def expression(self) -> Condition:
        return self.joined("||", self.conjunction, any)

    def conjunction(self) -> Condition:
        return self.joined("&&", self.primary, all)

    def joined(self, join: str, part: Callable[[], Condition], combine: Callable[[Iterator[bool]], bool]
               ) -> Condition:
        """`part` ('join' `part`)*: one condition, or `combine` (any, all) of several."""
        parts = [part()]
        while self.peek() == ("join", join):
            self.position += 1
            parts.append(part())
        if len(parts) == 1:
            return parts[0]
        return lambda event: combine(condition(event) for condition in parts)

    def primary(self) -> Condition:
        if self.peek() == ("paren", "("):
            self.position += 1
            self.depth += 1
            if self.depth > MAX_DEPTH:
                raise _invalid(self.pattern, f"parentheses nest at most {MAX_DEPTH} deep")
            inner = self.expression()
            if self.take("paren") != ")":
                raise _invalid(self.pattern, "unbalanced parentheses")
            self.depth -= 1
            return inner
        return self.comparison()

    def comparison(self) -> Condition:
        steps = _selector(self.take("word"), self.pattern)
        kind, text = self.peek()
        if kind == "word" and text in ("IS", "NOT"):
            self.position += 1
            return _postfix(steps, f"{text} {self.take('word')}", self.pattern)
        operator = self.take("op")
        kind, text = self.peek()
        self.position += 1
        if kind == "regex":
            self.regexes += 1
            if self.regexes > MAX_REGEXES:
                raise _invalid(self.pattern, f"a pattern holds at most {MAX_REGEXES} regular expressions")
            return _regex_test(steps, operator, compile_regex(text[1:-1]), self.pattern)
        if kind == "quoted":
            return _text_test(steps, operator, re.sub(r"\\(.)", r"\1", text[1:-1]), self.pattern)
        if kind != "word":
            raise _invalid(self.pattern, f"expected a value after {operator}, not {text!r}")
        if _NUMBER.fullmatch(text):
            return _number_test(steps, operator, float(text), text)
        return _text_test(steps, operator, text, self.pattern)


def _selector(text: str, pattern: str) -> tuple[str | int, ...]:
    """`$.a.b[0]` -> ("a", "b", 0)."""
    if not text.startswith("$"):
        raise _invalid(pattern, f"a selector begins with $, not {text!r}")
    steps: list[str | int] = []
    index = 1
    while index < len(text):
        match = _STEP.match(text, index)
        if match is None:
            raise _invalid(pattern, f"cannot read the selector {text!r}")
        steps.append(match[1] if match[1] is not None else int(match[2]))
        index = match.end()
    return tuple(steps)


def _field(event: Any, steps: tuple[str | int, ...]) -> Any:
    """The value the selector names, or _MISSING."""
    value = event
    for step in steps:
        if isinstance(step, int):
            if not isinstance(value, list) or step >= len(value):
                return _MISSING
            value = value[step]
        elif isinstance(value, dict) and step in value:
            value = value[step]
        else:
            return _MISSING
    return value


def _postfix(steps: tuple[str | int, ...], test: str, pattern: str) -> Condition:
    wanted = {"IS TRUE": True, "IS FALSE": False, "IS NULL": None}
    if test == "NOT EXISTS":
        return lambda event: _field(event, steps) is _MISSING
    if test not in wanted:
        raise _invalid(pattern, f"unknown test {test!r}")
    value = wanted[test]
    return lambda event: _field(event, steps) is value


def _text_test(steps: tuple[str | int, ...], operator: str, text: str, pattern: str) -> Condition:
    if operator not in ("=", "!="):
        raise _invalid(pattern, f"{operator} compares numbers, not {text!r}")
    if text == "*" and operator == "=":
        return lambda event: _field(event, steps) is not _MISSING
    parts = text.split("*")
    equal = operator == "="

    def test(event: Any) -> bool:
        value = _field(event, steps)
        if value is _MISSING:
            return False
        return (isinstance(value, str) and _wildcard(parts, value)) == equal

    return test


def _wildcard(parts: list[str], value: str) -> bool:
    """`value` is the parts of a text split at its `*`s with anything between them: each part
    found leftmost after the one before (linear, whatever the text; a regular expression of
    several `.*` could take a long field's length to a power)."""
    if len(parts) == 1:
        return value == parts[0]
    first, *middle, last = parts
    end = len(value) - len(last)
    if end < len(first) or not value.startswith(first) or not value.endswith(last):
        return False
    index = len(first)
    for part in middle:
        found = value.find(part, index, end)
        if found < 0:
            return False
        index = found + len(part)
    return True


def _regex_test(steps: tuple[str | int, ...], operator: str, matches: Callable[[str], bool], pattern: str
                ) -> Condition:
    if operator not in ("=", "!="):
        raise _invalid(pattern, f"{operator} compares numbers, not a regular expression")
    equal = operator == "="

    def test(event: Any) -> bool:
        value = _field(event, steps)
        return isinstance(value, str) and matches(value) == equal

    return test


def _number_test(steps: tuple[str | int, ...], operator: str, number: float, text: str) -> Condition:
    """A bare number: compared as a number with numbers, and as written with strings (= and !=)."""
    compare: Callable[[float], bool] = {
        "=": lambda value: value == number, "!=": lambda value: value != number,
        "<": lambda value: value < number, "<=": lambda value: value <= number,
        ">": lambda value: value > number, ">=": lambda value: value >= number,
    }[operator]

    def test(event: Any) -> bool:
        value = _field(event, steps)
        if isinstance(value, bool) or value is _MISSING:
            return False
        if isinstance(value, int | float):
            return compare(value)
        if isinstance(value, str) and operator in ("=", "!="):
            return (value == text) == (operator == "=")
        return False

    return test
