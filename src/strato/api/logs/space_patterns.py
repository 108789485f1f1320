"""CloudWatch Logs' space-delimited filter patterns, pure: which events a `[...]` pattern keeps.

https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/FilterAndPatternSyntax.html, "Using
filter patterns to match terms in space-delimited log events", in the forms the AWS CDK's
SpaceDelimitedTextPattern writes: `[ip, user, ..., status_code = 4*, bytes > 1000]`. An event's
fields are separated by spaces; characters between `[` and `]` or between two `"` are one field
(without them). The pattern names the fields in order, each alone or in a condition
(conditions.py; a number compares with fields that hold numbers, as Apache's log sizes and
status codes are); `...` stands for any number of fields, so without one the event must have
exactly as many fields as the pattern. A condition names its own field only: `status_code = 4*
|| status_code = 5*` holds in the status code's place.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from .conditions import Condition, ConditionParser, Steps, invalid

ELLIPSIS = "..."
_NAME = re.compile(r"[A-Za-z0-9_-]+")  # the AWS CDK's column names
_FIELD = re.compile(r'\[[^\]]*\](?=\s|$)|"[^"]*"(?=\s|$)|\S+')  # marks count where they end a field


@dataclass(frozen=True, slots=True)
class _Slot:
    name: str  # ELLIPSIS for `...`
    condition: Condition | None = None


def compile_space_delimited(pattern: str) -> Callable[[str], bool]:
    """The predicate of a pattern that begins with `[`; InvalidParameterException if it does not parse."""
    body = pattern.strip()
    if not body.endswith("]"):
        raise invalid(pattern, "a space-delimited filter pattern ends with ]")
    named: list[str] = []  # the fields the condition being parsed names

    def selector(name: str) -> Steps:
        if not _NAME.fullmatch(name):
            raise invalid(pattern, f"{name!r} is no field name (letters, digits, _ and -)")
        named.append(name)
        return (name,)

    parser = ConditionParser(pattern, selector, text_numbers=True)
    slots = []
    for part in _parts(body[1:-1], pattern):
        named.clear()
        slots.append(_slot(part.strip(), parser, named, pattern))
    places = tuple(slots)
    return lambda message: _matches(places, fields(message))


def fields(message: str) -> tuple[str, ...]:
    """A message's space-delimited fields, a bracketed or quoted one without its brackets or quotes."""
    found = []
    for match in _FIELD.finditer(message):
        text = match[0]
        found.append(text[1:-1] if len(text) > 1 and text[0] + text[-1] in ("[]", '""') else text)
    return tuple(found)


def _parts(body: str, pattern: str) -> list[str]:
    """The pattern's places, split at each comma outside quotes and regular expressions."""
    parts: list[str] = []
    start = index = 0
    while index < len(body):
        char = body[index]
        if char in "\"%":
            index = _closing(body, index, pattern)
        elif char == ",":
            parts.append(body[start:index])
            start = index + 1
        index += 1
    parts.append(body[start:])
    return parts


def _closing(body: str, opening: int, pattern: str) -> int:
    """The index of the quote or `%` that closes the one at `opening` (a backslash escapes in quotes)."""
    mark = body[opening]
    index = opening + 1
    while index < len(body):
        if mark == '"' and body[index] == "\\":
            index += 2
            continue
        if body[index] == mark:
            return index
        index += 1
    raise invalid(pattern, f"unclosed {mark}")


def _slot(text: str, parser: ConditionParser, named: list[str], pattern: str) -> _Slot:
    """A place of the pattern: `...`, a field's name, or a condition on the one field it names."""
    if text == ELLIPSIS:
        return _Slot(ELLIPSIS)
    if _NAME.fullmatch(text):
        return _Slot(text)
    condition = parser.parse(text)
    if len(set(named)) != 1:
        raise invalid(pattern, f"a condition names the field of its place only, not {', '.join(sorted(set(named)))}")
    return _Slot(named[0], condition)


def _matches(slots: tuple[_Slot, ...], values: tuple[str, ...]) -> bool:
    """Do the fields fill the places in order, each place's condition holding? The fields each
    place may end before are carried from place to place (an ellipsis takes any run of fields), so
    several ellipses cost at most places x fields steps."""
    if not any(slot.name == ELLIPSIS for slot in slots) and len(slots) != len(values):
        return False
    reached = {0}  # the indexes of the fields the next place may begin at
    for slot in slots:
        if slot.name == ELLIPSIS:
            reached = set(range(min(reached), len(values) + 1))
            continue
        reached = {index + 1 for index in reached if index < len(values)
                   and (slot.condition is None or slot.condition({slot.name: values[index]}))}
        if not reached:
            return False
    return len(values) in reached
