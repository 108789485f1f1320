"""A parsed view of an ASGI HTTP request: the raw pieces signatures need, decoded once."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import unquote_to_bytes

from strato.http.types import Receive, Scope


class MalformedRequest(Exception):
    """The request line or headers cannot be understood (bad percent-encoding, bad UTF-8)."""


def _decode(raw: bytes, plus_is_space: bool, errors: str = "strict") -> str:
    if plus_is_space:
        raw = raw.replace(b"+", b" ")
    try:
        return unquote_to_bytes(raw).decode("utf-8", errors)
    except UnicodeDecodeError as exc:
        raise MalformedRequest("invalid UTF-8 in URL") from exc


def parse_query(raw: bytes, errors: str = "strict") -> list[tuple[str, str]]:
    """Query parameters in order; a name without '=' has an empty value. `errors="replace"`:
    what is not UTF-8 once percent-decoded becomes U+FFFD instead of refusing the request."""
    pairs = []
    for item in raw.split(b"&"):
        if not item:
            continue
        name, _, value = item.partition(b"=")
        pairs.append((_decode(name, True, errors), _decode(value, True, errors)))
    return pairs


@dataclass(slots=True)
class Request:
    method: str
    raw_path: bytes
    path: str
    raw_query: bytes
    query: dict[str, str]
    query_list: list[tuple[str, str]]
    headers: dict[str, str]
    header_list: list[tuple[str, str]]
    client: str
    receive: Receive
    scheme: str = "http"
    state: dict[str, object] = field(default_factory=dict)

    @classmethod
    def from_scope(cls, scope: Scope, receive: Receive, errors: str = "strict") -> Request:
        """`errors`: as parse_query's, for the path and the query alike."""
        raw_path: bytes = scope.get("raw_path") or scope["path"].encode()
        raw_path = raw_path.split(b"?", 1)[0]
        header_list: list[tuple[str, str]] = []
        headers: dict[str, str] = {}
        for raw_name, raw_value in scope["headers"]:
            name = raw_name.decode("latin-1").lower()
            value = raw_value.decode("latin-1")
            header_list.append((name, value))
            headers[name] = f"{headers[name]},{value}" if name in headers else value
        raw_query: bytes = scope.get("query_string", b"")
        query_list = parse_query(raw_query, errors)
        client = scope.get("client")
        return cls(
            method=scope["method"],
            raw_path=raw_path,
            path=_decode(raw_path, False, errors),
            raw_query=raw_query,
            query=dict(query_list),
            query_list=query_list,
            headers=headers,
            header_list=header_list,
            client=client[0] if client else "",
            receive=receive,
            scheme=scope.get("scheme", "http"),
        )

    def content_length(self) -> int | None:
        value = self.headers.get("content-length")
        if value is None:
            return None
        if not (value.isascii() and value.isdigit()):
            raise MalformedRequest("Content-Length is not a number")
        return int(value)
