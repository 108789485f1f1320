"""Decimal numbers in text from outside (query strings, headers, XML, function results).

`str.isdigit` also takes characters `int()` refuses (superscripts: `²`), so a check with it
followed by `int()` answered a 500 for such text where the protocol answers a 400. Numbers on
the wire are ASCII digits.
"""

from __future__ import annotations


def is_digits(text: str) -> bool:
    """Whether `text` is one or more ASCII digits."""
    return text.isascii() and text.isdigit()
