"""CloudWatch Logs' regular expressions in filter patterns (`%...%`), pure, matched in time
linear in the message whatever the expression.

https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/FilterAndPatternSyntax.html,
"Supported regular expressions (regex) syntax": letters, digits, the symbols `: _ # = @ / ; , -`
and the operators `^ $ ? [ ] { } | \\ * + .`; no parentheses (so no groups: `|` separates whole
alternatives) and no multibyte characters. What else a pattern holds is refused, as AWS
refuses it. Each alternative is a sequence of atoms (a character, `.`, a class, an escape such
as `\\d`) each with a count (`?`, `*`, `+`, `{m}`, `{m,}`, `{m,n}`), run as a set of positions
stepped once per character of the message (with each step's result kept, as a lazy DFA does),
never by backtracking, which a message of 256 KB could make take hours. An alternative holds at
most MAX_POSITIONS positions once its counts are spelled out, which bounds what a step costs
when its sets rarely repeat (`a.{1000}c` would cost a thousand positions a character).
"""

from __future__ import annotations

import string
from collections.abc import Callable
from dataclasses import dataclass

from .errors import invalid_parameter

MAX_POSITIONS = 200  # an alternative's atoms once its counts are spelled out
_PLAIN = frozenset(string.ascii_letters + string.digits + ":_#=@/;,-")
_ESCAPES: dict[str, Callable[[str], bool]] = {
    "d": str.isdigit, "D": lambda char: not char.isdigit(),
    "w": lambda char: char.isalnum() or char == "_", "W": lambda char: not (char.isalnum() or char == "_"),
    "s": str.isspace, "S": lambda char: not char.isspace(),
}
_CACHE_MAX = 4096  # steps kept per alternative before starting over

Test = Callable[[str], bool]
State = frozenset[int]


@dataclass(frozen=True, slots=True)
class _Node:
    test: Test
    repeats: bool  # may match again after matching (`*`, or the rest of `+`)
    optional: bool  # may be skipped (`?`, `*`, the optional part of `{m,n}`)


class _Alternative:
    """One `|`-separated part: nodes matched in order; the state is the set of nodes reached."""

    def __init__(self, nodes: list[_Node], anchored_start: bool, anchored_end: bool) -> None:
        self.nodes = nodes
        self.anchored_start = anchored_start
        self.anchored_end = anchored_end
        self.start = self._closure({0})
        self._steps: dict[tuple[State, str], State] = {}
        # One object per state, the start's included: a cached step is then found by identity,
        # not by comparing sets of up to every node.
        self._states: dict[State, State] = {self.start: self.start}

    def _closure(self, reached: set[int]) -> State:
        """The nodes reached, and those after every optional node among them."""
        pending = list(reached)
        while pending:
            index = pending.pop()
            if index < len(self.nodes) and self.nodes[index].optional and index + 1 not in reached:
                reached.add(index + 1)
                pending.append(index + 1)
        return frozenset(reached)

    def _step(self, state: State, char: str) -> State:
        key = (state, char)
        found = self._steps.get(key)
        if found is None:
            reached: set[int] = set()
            for index in state:
                if index < len(self.nodes) and self.nodes[index].test(char):
                    reached.add(index + 1)
                    if self.nodes[index].repeats:
                        reached.add(index)
            found = self._closure(reached)
            if not self.anchored_start:  # a match may begin at every character
                found |= self.start
            if len(self._steps) >= _CACHE_MAX:
                self._steps.clear()
                self._states = {self.start: self.start}
            found = self._states.setdefault(found, found)
            self._steps[key] = found
        return found

    def search(self, text: str) -> bool:
        done = len(self.nodes)
        state = self.start
        for char in text:
            if done in state and not self.anchored_end:
                return True
            state = self._step(state, char)
            if not state:
                return False
        return done in state


def compile_regex(body: str) -> Callable[[str], bool]:
    """The predicate of a regular expression (without its `%`s): does it occur in a message?"""
    if not body:
        raise _invalid(body, "it is empty")
    if not body.isascii():
        raise _invalid(body, "multibyte characters are not supported")
    alternatives = [_alternative(part, body) for part in _split(body)]
    return lambda message: any(alternative.search(message) for alternative in alternatives)


def _invalid(body: str, why: str) -> Exception:
    return invalid_parameter(f"Invalid regular expression %{body}%: {why}.")


def _split(body: str) -> list[str]:
    """The alternatives, split at each `|` outside a class and not escaped."""
    parts: list[str] = []
    current: list[str] = []
    index = 0
    in_class = False
    while index < len(body):
        char = body[index]
        if char == "\\" and index + 1 < len(body):
            current.append(body[index:index + 2])
            index += 2
            continue
        if char == "[":
            in_class = True
        elif char == "]":
            in_class = False
        if char == "|" and not in_class:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
        index += 1
    parts.append("".join(current))
    return parts


def _alternative(text: str, body: str) -> _Alternative:
    if not text:
        raise _invalid(body, "an alternative is empty")
    anchored_start = text.startswith("^")
    anchored_end = text.endswith("$") and not text.endswith("\\$") and len(text) > anchored_start
    text = text[1 if anchored_start else 0:len(text) - 1 if anchored_end else len(text)]
    nodes: list[_Node] = []
    index = 0
    while index < len(text):
        test, index = _atom(text, index, body)
        low, high, index = _count(text, index, body)
        nodes += [_Node(test, False, False)] * low
        if high is None:
            nodes.append(_Node(test, True, True))
        else:
            nodes += [_Node(test, False, True)] * (high - low)
        if len(nodes) > MAX_POSITIONS:
            raise _invalid(body, f"its counts spell out more than {MAX_POSITIONS} characters")
    return _Alternative(nodes, anchored_start, anchored_end)


def _atom(text: str, index: int, body: str) -> tuple[Test, int]:
    char = text[index]
    if char == ".":
        return (lambda _: True), index + 1
    if char == "\\":
        return _escape(text, index, body)
    if char == "[":
        return _class(text, index + 1, body)
    if char in _PLAIN:
        return char.__eq__, index + 1
    raise _invalid(body, f"{char!r} is not supported here")


def _escape(text: str, index: int, body: str) -> tuple[Test, int]:
    if index + 1 >= len(text):
        raise _invalid(body, "it ends with a backslash")
    char = text[index + 1]
    return _ESCAPES.get(char, char.__eq__), index + 2


def _class(text: str, index: int, body: str) -> tuple[Test, int]:
    """A class from just after its `[`: characters, ranges `a-z` and escapes, `^` first negating."""
    negated = index < len(text) and text[index] == "^"
    index += negated
    tests: list[Test] = []
    first = True
    while index < len(text) and (text[index] != "]" or first):
        first = False
        if text[index] == "\\":
            test, index = _escape(text, index, body)
            tests.append(test)
            continue
        low = text[index]
        if index + 2 < len(text) and text[index + 1] == "-" and text[index + 2] != "]":
            high = text[index + 2]
            if high < low:
                raise _invalid(body, f"the range {low}-{high} is backwards")
            tests.append(_within(low, high))
            index += 3
        else:
            tests.append(low.__eq__)
            index += 1
    if index >= len(text):
        raise _invalid(body, "a [ is not closed")
    return (lambda char: any(test(char) for test in tests) != negated), index + 1


def _within(low: str, high: str) -> Test:
    return lambda char: low <= char <= high


def _count(text: str, index: int, body: str) -> tuple[int, int | None, int]:
    """(at least, at most (None: no bound), where the pattern goes on)."""
    if index >= len(text):
        return 1, 1, index
    char = text[index]
    if char == "?":
        return 0, 1, index + 1
    if char in "*+":
        return (0 if char == "*" else 1), None, index + 1
    if char != "{":
        return 1, 1, index
    end = text.find("}", index)
    low_text, comma, high_text = text[index + 1:end].partition(",") if end > 0 else ("", "", "")
    if end < 0 or not low_text.isdigit() or not (high_text.isdigit() or not high_text):
        raise _invalid(body, "a count is written {m}, {m,} or {m,n}")
    low = int(low_text)
    high = None if comma and not high_text else int(high_text) if high_text else low
    if (high is not None and high < low) or max(low, high or 0) > MAX_POSITIONS:
        raise _invalid(body, f"the count {text[index:end + 1]} is out of range")
    return low, high, end + 1
