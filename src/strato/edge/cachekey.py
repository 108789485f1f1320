"""Cache keys (RFC 9111 section 4.1): the primary key of a request and the secondary key of Vary.

A primary key is "<method> <host><target>", e.g. "GET example.com/a?b=1", with HEAD keyed as
GET, the host lower-cased without a default port, and the target normalised as RFC 3986
6.2.2 allows (percent-encoding hex upper-cased, unreserved characters decoded). The scheme is
not part of the key: http and https of one host share entries.

A secondary key is a JSON array of [field, value] pairs, value null for an absent field;
"" when the response has no Vary.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping
from urllib.parse import urlsplit

from strato.http.fields import split_list

_PERCENT = re.compile(r"%([0-9A-Fa-f]{2})")
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
_WHITESPACE = re.compile(r"[ \t]+")
_AROUND_SEMICOLON = re.compile(r"[ \t]*;[ \t]*")

# RFC 9110 12.5: values that are case-insensitive, and lists whose order carries no meaning.
_CASE_INSENSITIVE = frozenset({"accept-encoding", "accept-language", "accept-charset"})
_UNORDERED = frozenset({"accept-encoding"})


def normal_host(host: str) -> str:
    """RFC 9110 4.2.3: host case-insensitive, an empty or default port (80, 443) omitted."""
    host = host.strip().lower()
    for suffix in (":", ":80", ":443"):
        if host.endswith(suffix) and host[: -len(suffix)]:
            host = host[: -len(suffix)]
            break
    return host


def _percent(match: re.Match[str]) -> str:
    char = chr(int(match.group(1), 16))
    return char if char in _UNRESERVED else "%" + match.group(1).upper()


def normal_target(target: str) -> str:
    """RFC 9110 4.2.3 / RFC 3986 6.2.2: "" is "/", no fragment, percent-encoding normalised."""
    target = target.split("#", 1)[0]
    if not target:
        return "/"
    if target == "*":
        return target
    if not target.startswith("/"):
        target = "/" + target
    return _PERCENT.sub(_percent, target)


def split_absolute(host: str, target: str) -> tuple[str, str]:
    """RFC 9112 3.2.2: an absolute-form target's authority replaces Host."""
    lowered = target[:8].lower()
    if lowered.startswith(("http://", "https://")):
        parts = urlsplit(target)
        path = parts.path or "/"
        return parts.netloc, path + ("?" + parts.query if parts.query else "")
    return host, target


@functools.lru_cache(maxsize=8192)  # pure, and asked again for every hit on the same target
def primary_key(method: str, host: str, target: str) -> str:
    """RFC 9111 4.1 / 2: method and target URI; HEAD shares GET's entries (RFC 9110 9.3.2)."""
    if method == "HEAD":
        method = "GET"
    host, target = split_absolute(host, target)
    return f"{method} {normal_host(host)}{normal_target(target)}"


def vary_fields(response_headers: Mapping[str, str]) -> tuple[str, ...] | None:
    """RFC 9111 4.1: the fields Vary names, sorted; None for "*", which never matches."""
    value = response_headers.get("vary")
    if value is None:
        return ()
    names = {name.strip(" \t").lower() for name in value.split(",")}
    names.discard("")
    if "*" in names:
        return None
    return tuple(sorted(names))


def normal_value(name: str, value: str) -> str:
    """RFC 9111 4.1: whitespace, joined field lines, and case/order where the field allows."""
    items = [_AROUND_SEMICOLON.sub(";", _WHITESPACE.sub(" ", item)) for item in split_list(value)]
    if name in _CASE_INSENSITIVE:
        items = [item.lower() for item in items]
    if name in _UNORDERED:
        items.sort()
    return ",".join(items)


def secondary_key(fields: tuple[str, ...], request_headers: Mapping[str, str]) -> str:
    """RFC 9111 4.1: the request's values of the Vary fields; an absent field differs from an empty one."""
    if not fields:
        return ""
    pairs: list[list[str | None]] = []
    for name in fields:
        name = name.lower()
        value = request_headers.get(name)
        pairs.append([name, None if value is None else normal_value(name, value)])
    return json.dumps(pairs, separators=(",", ":"), ensure_ascii=False)
