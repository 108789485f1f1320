"""Lambda's application log-level filter (LoggingConfig JSON): each line a runtime writes goes
to the log when its level is at or above the function's ApplicationLogLevel. A line's level is
a JSON object's "level" (in any case; WARNING is WARN and CRITICAL is FATAL, the logging
module's names); a line without one (print()'s, any text) or with another is INFO, as Lambda
assigns it.
https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs-log-level.html
"""

from __future__ import annotations

import json

from .records import APPLICATION_LOG_LEVELS

HELD_MAX = 64 * 1024  # a line not ended past this is judged as it is
_ALIASES = {"WARNING": "WARN", "CRITICAL": "FATAL"}


def level_of(line: bytes) -> str:
    """The level Lambda assigns a line of output."""
    text = line.strip()
    if text.startswith(b"{"):
        try:
            found = json.loads(text)
        except (ValueError, RecursionError):
            return "INFO"
        level = found.get("level") if isinstance(found, dict) else None
        if isinstance(level, str):
            level = _ALIASES.get(level.upper(), level.upper())
            if level in APPLICATION_LOG_LEVELS:
                return str(level)
    return "INFO"


class LevelFilter:
    """The lines of a runtime's output at or above a level, judged whole: a line not ended yet
    is held until it is (or until `rest`)."""

    __slots__ = ("_held", "_lowest")

    def __init__(self, level: str) -> None:
        self._lowest = APPLICATION_LOG_LEVELS.index(level)
        self._held = b""

    def take(self, data: bytes) -> bytes:
        """Of what was held and `data` (read after it), the whole lines kept."""
        held = self._held + data
        cut = held.rfind(b"\n") + 1
        self._held = held[cut:]
        kept = b"".join(line + b"\n" for line in held[:cut].split(b"\n")[:-1] if self.keeps(line))
        if len(self._held) > HELD_MAX:
            kept += self.rest()
        return kept

    def rest(self) -> bytes:
        """The line not ended yet, if kept: the output stops there for now (strato writes a
        line, or the log is flushed)."""
        held, self._held = self._held, b""
        return held if held and self.keeps(held) else b""

    def keeps(self, line: bytes) -> bool:
        return APPLICATION_LOG_LEVELS.index(level_of(line)) >= self._lowest
