"""A planned answer's head as the bytes uvicorn would write for it (status line, lower-cased
field lines), for the answers the edge's protocol writes itself (edge/hitpath.py, edge/misspath.py);
None when uvicorn would refuse a field, so that such an answer goes through ASGI and fails there
as it always did."""

from __future__ import annotations

from collections.abc import Mapping

from uvicorn.protocols.http.httptools_impl import HEADER_RE, HEADER_VALUE_RE, STATUS_LINE

from strato.edge import set_cookie
from strato.edge.delivery import Answer

_NO_LINES: dict[str, bytes] = {}
_NAMES_KEPT = 1024
_names: dict[str, bytes] = {}  # field name -> b"name: ", for names uvicorn accepts (bounded)


def head(
    answer: Answer, known: Mapping[str, str] | None = None, lines: Mapping[str, bytes] = _NO_LINES,
) -> bytes | None:
    """`lines`: fields already encoded (a stored entry's), used for the values of `known` that
    the answer carries unchanged (the same object)."""
    out = [STATUS_LINE[answer.status]]
    values: list[bytes] = []  # every value encoded here, checked in one search
    for name, value in answer.headers.items():
        if known is not None and known.get(name) is value:
            line = lines.get(name)
            if line is None:
                return None
            out.append(line)
            continue
        prefix = _names.get(name) or _name(name)
        if prefix is None:
            return None
        for text in set_cookie.values(name, value):
            raw_value = text.encode("latin-1", "replace")
            values.append(raw_value)
            out += (prefix, raw_value, b"\r\n")
    if values and HEADER_VALUE_RE.search(b"\t".join(values)):  # a tab is allowed in a value
        return None
    out.append(b"\r\n")
    return b"".join(out)


def field_line(name: str, value: str) -> bytes | None:
    """The field's line (Set-Cookie's lines)."""
    prefix = _names.get(name) or _name(name)
    if prefix is None:
        return None
    lines = []
    for text in set_cookie.values(name, value):
        raw_value = text.encode("latin-1", "replace")
        if HEADER_VALUE_RE.search(raw_value):
            return None
        lines.append(prefix + raw_value + b"\r\n")
    return b"".join(lines)


def _name(name: str) -> bytes | None:
    try:
        raw = name.lower().encode("latin-1")
    except UnicodeEncodeError:
        return None
    if HEADER_RE.search(raw):
        return None
    if len(_names) < _NAMES_KEPT:
        _names[name] = raw + b": "
    return raw + b": "


def body_length(answer: Answer, size: int = 0) -> int:
    """The body bytes an answer sends through ASGI (what EdgeProxy counts as served)."""
    if answer.body is None:
        return 0
    return sum(len(p) if isinstance(p, bytes) else (size if p[1] is None else p[1]) - p[0] for p in answer.body)
