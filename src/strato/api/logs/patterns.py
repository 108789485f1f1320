"""CloudWatch Logs' text filter patterns, pure: which messages a FilterLogEvents pattern keeps.

https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/FilterAndPatternSyntax.html
"Matching terms in unstructured log events": terms are separated by spaces and all must
appear (case-sensitive); a "quoted phrase" is one term (`\\"` a quote in it); `?term` terms
are alternatives (at least one must appear), and the unmarked terms after one join its group:
`?a b ?c` is (a and b) or c, as the AWS CDK's FilterPattern.anyTermGroup writes it; `-term` excludes events that
hold it. An empty pattern keeps every event. JSON patterns (`{...}`) are json_patterns.py's,
regular expressions (`%...%`) regex_patterns.py's, space-delimited patterns (`[...]`)
space_patterns.py's.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .errors import invalid_parameter
from .json_patterns import compile_json
from .regex_patterns import compile_regex
from .space_patterns import compile_space_delimited


@dataclass(frozen=True, slots=True)
class TextPattern:
    required: tuple[str, ...] = ()
    groups: tuple[tuple[str, ...], ...] = ()  # alternatives: all of one group's terms must appear
    excluded: tuple[str, ...] = ()

    def __call__(self, message: str) -> bool:
        return (all(term in message for term in self.required)
                and (not self.groups or any(all(term in message for term in group) for group in self.groups))
                and not any(term in message for term in self.excluded))


def terms(pattern: str) -> list[tuple[str, str]]:
    """The pattern's terms as (sign: "", "?" or "-", text); quotes group a phrase and are dropped."""
    found: list[tuple[str, str]] = []
    index = 0
    while index < len(pattern):
        if pattern[index].isspace():
            index += 1
            continue
        sign = pattern[index] if pattern[index] in "?-" else ""
        start = index + len(sign)
        if start < len(pattern) and pattern[start] == '"':
            text, index = _phrase(pattern, start + 1)
            found.append((sign, text))
        else:
            end = start
            while end < len(pattern) and not pattern[end].isspace():
                end += 1
            found.append((sign, pattern[start:end]))
            index = end
    return found


def _phrase(pattern: str, start: int) -> tuple[str, int]:
    """A quoted phrase's text from just after its opening quote, and the index after its closing
    one; a backslash takes the next character as it is (`\\"` is a quote, as the AWS CDK writes it)."""
    text: list[str] = []
    index = start
    while index < len(pattern):
        char = pattern[index]
        if char == '"':
            return "".join(text), index + 1
        if char == "\\" and index + 1 < len(pattern):
            index += 1
            char = pattern[index]
        text.append(char)
        index += 1
    raise invalid_parameter("Invalid character(s) in term '\"'")


def compile_pattern(pattern: str) -> Callable[[str], bool] | None:
    """The predicate a filter pattern stands for; None for an empty pattern (every event)."""
    stripped = pattern.strip()
    if not stripped:
        return None
    if stripped[0] == "{":
        return compile_json(stripped)
    if stripped[0] == "%" and stripped[-1] == "%" and len(stripped) > 1:
        return compile_regex(stripped[1:-1])
    if stripped[0] == "[":
        return compile_space_delimited(stripped)
    required: list[str] = []  # the unmarked terms before the first `?`
    groups: list[list[str]] = []
    excluded: list[str] = []
    for sign, text in terms(stripped):
        if sign == "?":
            groups.append([text] if text else [])
        elif text:
            (excluded if sign == "-" else groups[-1] if groups else required).append(text)
    return TextPattern(tuple(required), tuple(tuple(group) for group in groups if group), tuple(excluded))
