"""The conditions JSON and space-delimited filter patterns share, pure: comparisons of an event's
fields joined by `&&` and `||`.

https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/FilterAndPatternSyntax.html: a field
compared with `= "text"` or `!=` (a `*` in the text matches any run of characters; `= "*"`
alone: the field exists), with a number by = != < <= > >=, or with `= %regex%` / `!= %regex%`
(regex_patterns.py; two at most per pattern, AWS's quota); `IS TRUE`, `IS FALSE`, `IS NULL`,
`NOT EXISTS`; `&&` binding tighter than `||`, and parentheses. A comparison holds only where its
field exists, so `!=` keeps no event without the field. How a field is named and found is the
pattern kind's: json_patterns.py walks `$.a.b[0]`, space_patterns.py names a field by its place.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

from .errors import invalid_parameter
from .regex_patterns import compile_regex

Condition = Callable[[Any], bool]  # the event (a parsed object, or a space-delimited event's fields) -> kept?
Steps = tuple[str | int, ...]  # names and indexes from the event to a field

_TOKEN = re.compile(r"""\s*(?:(?P<join>&&|\|\|)|(?P<paren>[()])|(?P<op>!=|<=|>=|=|<|>)"""
                    r"""|(?P<quoted>"(?:[^"\\]|\\.)*")|(?P<regex>%[^%]*%)|(?P<word>[^\s()&|=!<>"%]+))""")
_NUMBER = re.compile(r"-?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")
_MISSING = object()
MAX_REGEXES = 2
MAX_DEPTH = 100  # parentheses within parentheses: a 1,024-character pattern could nest past Python's stack


def invalid(pattern: str, why: str) -> Exception:
    return invalid_parameter(f"Invalid filter pattern {pattern!r}: {why}.")


def _tokens(text: str, pattern: str) -> list[tuple[str, str]]:
    """(kind, text) of each token; kinds are the groups of _TOKEN."""
    found: list[tuple[str, str]] = []
    index = 0
    while text[index:].strip():
        match = _TOKEN.match(text, index)
        if match is None or match.lastgroup is None:
            raise invalid(pattern, f"cannot read {text[index:].strip()[:20]!r}")
        found.append((match.lastgroup, match[match.lastgroup]))
        index = match.end()
    return found


class ConditionParser:
    """Recursive descent over one pattern's conditions: expression := conjunction ('||' conjunction)*;
    conjunction := primary ('&&' primary)*; primary := '(' expression ')' | comparison. `selector`
    turns a comparison's field name into the steps that find it in an event; with `text_numbers`,
    a number compares with text fields that hold numbers (space-delimited fields are all text)."""

    def __init__(self, pattern: str, selector: Callable[[str], Steps], *, text_numbers: bool = False) -> None:
        self.pattern = pattern
        self.selector = selector
        self.text_numbers = text_numbers
        self.tokens: list[tuple[str, str]] = []
        self.position = 0
        self.regexes = 0  # across every parse of the pattern: the quota is the pattern's
        self.depth = 0

    def parse(self, text: str) -> Condition:
        """The condition `text` (a part of the pattern) stands for; InvalidParameterException if it does not parse."""
        self.tokens = _tokens(text, self.pattern)
        self.position = 0
        condition = self.expression()
        if self.position != len(self.tokens):
            raise invalid(self.pattern, f"unexpected {self.tokens[self.position][1]!r}")
        return condition

    def peek(self) -> tuple[str, str]:
        return self.tokens[self.position] if self.position < len(self.tokens) else ("end", "the end")

    def take(self, kind: str) -> str:
        token = self.peek()
        if token[0] != kind:
            raise invalid(self.pattern, f"expected {kind} at {token[1]!r}")
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
                raise invalid(self.pattern, f"parentheses nest at most {MAX_DEPTH} deep")
            inner = self.expression()
            if self.take("paren") != ")":
                raise invalid(self.pattern, "unbalanced parentheses")
            self.depth -= 1
            return inner
        return self.comparison()

    def comparison(self) -> Condition:
        steps = self.selector(self.take("word"))
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
                raise invalid(self.pattern, f"a pattern holds at most {MAX_REGEXES} regular expressions")
            return _regex_test(steps, operator, compile_regex(text[1:-1]), self.pattern)
        if kind == "quoted":
            return _text_test(steps, operator, re.sub(r"\\(.)", r"\1", text[1:-1]), self.pattern)
        if kind != "word":
            raise invalid(self.pattern, f"expected a value after {operator}, not {text!r}")
        if _NUMBER.fullmatch(text):
            return _number_test(steps, operator, float(text), text, self.text_numbers)
        return _text_test(steps, operator, text, self.pattern)


def _field(event: Any, steps: Steps) -> Any:
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


def _postfix(steps: Steps, test: str, pattern: str) -> Condition:
    wanted = {"IS TRUE": True, "IS FALSE": False, "IS NULL": None}
    if test == "NOT EXISTS":
        return lambda event: _field(event, steps) is _MISSING
    if test not in wanted:
        raise invalid(pattern, f"unknown test {test!r}")
    value = wanted[test]
    return lambda event: _field(event, steps) is value


def _text_test(steps: Steps, operator: str, text: str, pattern: str) -> Condition:
    if operator not in ("=", "!="):
        raise invalid(pattern, f"{operator} compares numbers, not {text!r}")
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


def _regex_test(steps: Steps, operator: str, matches: Callable[[str], bool], pattern: str
                ) -> Condition:
    if operator not in ("=", "!="):
        raise invalid(pattern, f"{operator} compares numbers, not a regular expression")
    equal = operator == "="

    def test(event: Any) -> bool:
        value = _field(event, steps)
        return isinstance(value, str) and matches(value) == equal

    return test


def _number_test(steps: Steps, operator: str, number: float, text: str, text_numbers: bool) -> Condition:
    """A bare number: compared as a number with numbers (and with text that holds one, where
    `text_numbers`), and as written with other text (= and !=)."""
    compare: Callable[[float], bool] = {
        "=": lambda value: value == number, "!=": lambda value: value != number,
        "<": lambda value: value < number, "<=": lambda value: value <= number,
        ">": lambda value: value > number, ">=": lambda value: value >= number,
    }[operator]

    def test(event: Any) -> bool:
        value = _field(event, steps)
        if isinstance(value, bool) or value is _MISSING:
            return False
        if isinstance(value, str) and text_numbers and _NUMBER.fullmatch(value):
            value = float(value)
        if isinstance(value, int | float):
            return compare(value)
        if isinstance(value, str) and operator in ("=", "!="):
            return (value == text) == (operator == "=")
        return False

    return test
