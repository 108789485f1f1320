"""Field-value syntax shared by everything that reads HTTP headers (RFC 9110 section 5)."""

from __future__ import annotations

import re

# RFC 9110 7.6.1: fields about one connection, never passed on (with those its Connection names).
HOP_BY_HOP = frozenset({
    "connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade",
    "proxy-authenticate", "proxy-authorization",
})
TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")  # RFC 9110 5.6.2: a token (a field name, a coding)
FIELD_VALUE = re.compile(r"[^\x00-\x08\x0a-\x1f\x7f]*")  # RFC 9110 5.5: no control characters but HTAB


def split_list(value: str) -> list[str]:
    """RFC 9110 5.6.1: the members of a comma-separated list, commas inside quoted-strings kept."""
    items: list[str] = []
    start = 0
    quoted = escaped = False
    for index, char in enumerate(value):
        if escaped:
            escaped = False
        elif quoted and char == "\\":
            escaped = True
        elif char == '"':
            quoted = not quoted
        elif char == "," and not quoted:
            items.append(value[start:index])
            start = index + 1
    items.append(value[start:])
    return [item.strip(" \t") for item in items if item.strip(" \t")]
