"""CloudWatch Logs' JSON filter patterns, pure: which JSON log events a `{ ... }` pattern keeps.

https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/FilterAndPatternSyntax.html, "Using
filter patterns to match terms in JSON log events", in the forms the AWS CDK's FilterPattern
writes: conditions (conditions.py) on fields named by selectors, which walk from `$` by `.name`
and `[index]`. Events whose message is not a JSON object are never kept (Lambda's JSON log
format writes objects). Patterns that do not parse are refused.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from strato import jsontext

from .conditions import ConditionParser, Steps, invalid

_STEP = re.compile(r"\.([^.\[\]]+)|\[(\d+)\]")


def compile_json(pattern: str) -> Callable[[str], bool]:
    """The predicate of a pattern that begins with `{`; InvalidParameterException if it does not parse."""
    body = pattern.strip()
    if not body.endswith("}"):
        raise invalid(pattern, "a JSON filter pattern ends with }")
    condition = ConditionParser(pattern, lambda text: _selector(text, pattern)).parse(body[1:-1])

    def matches(message: str) -> bool:
        try:
            event = jsontext.loads(message)
        except ValueError:  # a nesting deeper than the parser goes too
            return False
        return isinstance(event, dict) and condition(event)

    return matches


def _selector(text: str, pattern: str) -> Steps:
    """`$.a.b[0]` -> ("a", "b", 0)."""
    if not text.startswith("$"):
        raise invalid(pattern, f"a selector begins with $, not {text!r}")
    steps: list[str | int] = []
    index = 1
    while index < len(text):
        match = _STEP.match(text, index)
        if match is None:
            raise invalid(pattern, f"cannot read the selector {text!r}")
        steps.append(match[1] if match[1] is not None else int(match[2]))
        index = match.end()
    return tuple(steps)
