"""A planned answer's head as the bytes uvicorn would write for it (status line, lower-cased
field lines), for the answers the edge's protocol writes itself (edge/hitpath.py, edge/misspath.py);
None when uvicorn would refuse a field, so that such an answer goes through ASGI and fails there
as it always did."""

from __future__ import annotations

from collections.abc import Mapping

from uvicorn.protocols.http.httptools_impl import HEADER_RE, HEADER_VALUE_RE, STATUS_LINE

from strato.edge.delivery import Answer

_NO_LINES: dict[str, bytes] = {}


def head(
    answer: Answer, known: Mapping[str, str] | None = None, lines: Mapping[str, bytes] = _NO_LINES,
) -> bytes | None:
    """`lines`: fields already encoded (a stored entry's), used for the values of `known` that
    the answer carries unchanged (the same object)."""
    out = [STATUS_LINE[answer.status]]
    for name, value in answer.headers.items():
        line = lines.get(name) if known is not None and known.get(name) is value else field_line(name, value)
        if line is None:
            return None
        out.append(line)
    out.append(b"\r\n")
    return b"".join(out)


def field_line(name: str, value: str) -> bytes | None:
    try:
        raw_name, raw_value = name.lower().encode("latin-1"), value.encode("latin-1", "replace")
    except UnicodeEncodeError:
        return None
    if HEADER_RE.search(raw_name) or HEADER_VALUE_RE.search(raw_value):
        return None
    return b"%s: %s\r\n" % (raw_name, raw_value)


def body_length(answer: Answer, size: int = 0) -> int:
    """The body bytes an answer sends through ASGI (what EdgeProxy counts as served)."""
    if answer.body is None:
        return 0
    return sum(len(p) if isinstance(p, bytes) else (size if p[1] is None else p[1]) - p[0] for p in answer.body)
