"""Cache directives: Cache-Control (RFC 9111 5.2, RFC 5861, RFC 8246) and targeted fields (RFC 9213).

Choices where the RFCs allow several:

- A directive given more than once in Cache-Control: the first occurrence is used (RFC 9111
  4.2.1 allows "the first occurrence" or "stale"). no-cache and private are the exception:
  their occurrences add up, and an unqualified one wins over qualified ones (the most
  restrictive reading, 4.2.1). In a targeted field the Structured Fields algorithm decides:
  the last occurrence of a key wins (RFC 8941 4.2.2).
- An invalid max-age or s-maxage (missing, negative, "1.5", "abc", quoted junk) reads as 0,
  so the response is stale (4.2.1: caches are encouraged to consider responses with invalid
  freshness information stale). Any other invalid delta-seconds argument (min-fresh,
  max-stale, stale-while-revalidate, stale-if-error) makes its directive absent, which is
  the restrictive reading for each of them.
- delta-seconds over 2**31 read as 2**31 (1.2.2).
- An argument given to a directive that takes none: restrictive directives (no-store,
  must-revalidate, proxy-revalidate, no-transform, only-if-cached) still count;
  permissive ones (public, immutable, must-understand) are ignored.
- no-cache and private with an empty or unusable field list read as unqualified.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass

from strato.http.fields import split_list

DELTA_MAX = 2**31

_DIGITS = re.compile(r"[0-9]+")


@dataclass(frozen=True, slots=True)
class Directives:
    """The cache directives of one Cache-Control (or targeted) field, request or response."""

    max_age: int | None = None
    s_maxage: int | None = None
    no_cache: bool = False
    no_cache_fields: tuple[str, ...] = ()  # empty with no_cache: the unqualified form
    no_store: bool = False
    private: bool = False
    private_fields: tuple[str, ...] = ()  # empty with private: the unqualified form
    public: bool = False
    must_revalidate: bool = False
    proxy_revalidate: bool = False
    no_transform: bool = False
    immutable: bool = False
    must_understand: bool = False
    stale_while_revalidate: int | None = None
    stale_if_error: int | None = None
    max_stale: int | None = None
    max_stale_any: bool = False  # max-stale without an argument: any staleness
    min_fresh: int | None = None
    only_if_cached: bool = False


def delta_seconds(text: str | None) -> int | None:
    """RFC 9111 1.2.2: 1*DIGIT, values beyond 2**31 read as 2**31; None when invalid."""
    if text is None or not _DIGITS.fullmatch(text):
        return None
    significant = text.lstrip("0") or "0"
    if len(significant) > 10:  # never hand int() thousands of digits
        return DELTA_MAX
    return min(int(significant), DELTA_MAX)


def _unquote(text: str) -> str:
    """RFC 9110 5.6.4: the content of a quoted-string (unterminated: up to the end)."""
    out: list[str] = []
    escaped = False
    for char in text[1:]:
        if escaped:
            out.append(char)
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == '"':
            break
        else:
            out.append(char)
    return "".join(out)


# An argument: (kind, text). kind is "bare" (no argument), "token", "string" or "other".
_Arg = tuple[str, str | None]


def _cache_control_items(value: str) -> Iterable[tuple[str, _Arg]]:
    """RFC 9111 5.2: cache-directive = token [ "=" ( token / quoted-string ) ]."""
    for item in split_list(value):
        name, equals, argument = item.partition("=")
        name = name.strip(" \t").lower()
        if not equals:
            yield name, ("bare", None)
            continue
        argument = argument.strip(" \t")
        if argument.startswith('"'):
            yield name, ("string", _unquote(argument))
        else:
            yield name, ("token", argument)


def _field_names(kind: str, text: str | None, strict: bool) -> tuple[str, ...]:
    """RFC 9111 5.2.2.4 / 5.2.2.7: the field names a qualified no-cache or private lists."""
    if text is None or kind not in ("string", "token") or (strict and kind != "string"):
        return ()
    names: list[str] = []
    for name in text.split(","):
        name = name.strip(" \t").lower()
        if name and name not in names:
            names.append(name)
    return tuple(names)


_RESTRICTIVE_FLAGS = {
    "no-store": "no_store",
    "must-revalidate": "must_revalidate",
    "proxy-revalidate": "proxy_revalidate",
    "no-transform": "no_transform",
    "only-if-cached": "only_if_cached",
}
_PERMISSIVE_FLAGS = {"public": "public", "immutable": "immutable", "must-understand": "must_understand"}
_DELTAS = {
    "max-age": "max_age",
    "s-maxage": "s_maxage",
    "min-fresh": "min_fresh",
    "stale-while-revalidate": "stale_while_revalidate",
    "stale-if-error": "stale_if_error",
}
_STALE_WHEN_INVALID = frozenset({"max-age", "s-maxage"})


def _build(items: Iterable[tuple[str, _Arg]], *, strict: bool) -> Directives:
    """RFC 9111 5.2.1 / 5.2.2, RFC 5861 3-4, RFC 8246 2: directives from parsed members."""
    fields: dict[str, object] = {}
    seen: set[str] = set()  # valued directives already met: the first occurrence wins (4.2.1)
    qualified: dict[str, list[str]] = {"no_cache": [], "private": []}
    unqualified: set[str] = set()
    for name, (kind, text) in items:
        if name in _RESTRICTIVE_FLAGS:
            fields[_RESTRICTIVE_FLAGS[name]] = True
        elif name in _PERMISSIVE_FLAGS:
            if kind == "bare":
                fields[_PERMISSIVE_FLAGS[name]] = True
        elif name in ("no-cache", "private"):
            attribute = name.replace("-", "_")
            fields[attribute] = True
            names = _field_names(kind, text, strict)
            if names:
                qualified[attribute].extend(n for n in names if n not in qualified[attribute])
            else:
                unqualified.add(attribute)
        elif name in _DELTAS:
            attribute = _DELTAS[name]
            if attribute in seen:
                continue
            seen.add(attribute)
            usable = kind == "token" or (kind == "string" and not strict)
            seconds = delta_seconds(text) if usable else None
            if seconds is None and name in _STALE_WHEN_INVALID:
                seconds = 0
            if seconds is not None:
                fields[attribute] = seconds
        elif name == "max-stale":
            if "max_stale" in seen:
                continue
            seen.add("max_stale")
            if kind == "bare":
                fields["max_stale_any"] = True
            else:
                usable = kind == "token" or (kind == "string" and not strict)
                seconds = delta_seconds(text) if usable else None
                if seconds is not None:
                    fields["max_stale"] = seconds
    for attribute in ("no_cache", "private"):
        if attribute in unqualified:
            fields[f"{attribute}_fields"] = ()
        elif qualified[attribute]:
            fields[f"{attribute}_fields"] = tuple(qualified[attribute])
    return Directives(**fields)  # type: ignore[arg-type]


_CACHED_LENGTH = 256  # longer (client-chosen) values are parsed each time, never kept
_NONE = Directives()  # most requests carry no Cache-Control: one shared (frozen) answer


def parse(value: str | None) -> Directives:
    """RFC 9111 5.2: the directives of a Cache-Control field value (None: no field)."""
    if value is None:
        return _NONE
    if len(value) <= _CACHED_LENGTH:
        return _parse_cached(value)
    return _build(_cache_control_items(value), strict=False)


@functools.lru_cache(maxsize=4096)
def _parse_cached(value: str) -> Directives:
    return _build(_cache_control_items(value), strict=False)


def parse_targeted(value: str | None) -> Directives | None:
    """RFC 9213 2.1: a targeted field (a Structured Fields Dictionary); None when empty or invalid."""
    if value is None:
        return None
    if len(value) <= _CACHED_LENGTH:
        return _parse_targeted_cached(value)
    return _parse_targeted(value)


@functools.lru_cache(maxsize=1024)
def _parse_targeted_cached(value: str) -> Directives | None:
    return _parse_targeted(value)


def _parse_targeted(value: str) -> Directives | None:
    try:
        members = _sf_dictionary(value)
    except _SFError:
        return None
    if not members:
        return None
    return _build(((name, arg) for name, arg in members.items() if arg[0] != "false"), strict=True)


# --- RFC 8941 Structured Fields: just enough of a Dictionary parser for targeted fields ---


class _SFError(ValueError):
    pass


_SF_KEY_FIRST = frozenset("abcdefghijklmnopqrstuvwxyz*")
_SF_KEY_REST = _SF_KEY_FIRST | frozenset("0123456789_-.")
_TCHAR = frozenset("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
_SF_TOKEN_REST = _TCHAR | frozenset(":/")
_SF_NUMBER = re.compile(r"-?([0-9]{1,15})(\.[0-9]{1,3})?")
_BASE64 = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=")


def _sf_dictionary(text: str) -> dict[str, _Arg]:
    """RFC 8941 4.2.2: parse a Dictionary; members map to (kind, text) like Cache-Control's."""
    s = text.strip(" \t")
    pos, members = 0, {}
    while pos < len(s):
        key, pos = _sf_key(s, pos)
        arg: _Arg = ("bare", None)
        if pos < len(s) and s[pos] == "=":
            pos += 1
            if pos < len(s) and s[pos] == "(":
                pos = _sf_inner_list(s, pos)
                arg = ("other", None)
            else:
                arg, pos = _sf_bare_item(s, pos)
        pos = _sf_parameters(s, pos)
        members[key] = arg  # a repeated key overwrites the earlier value (4.2.2)
        while pos < len(s) and s[pos] in " \t":
            pos += 1
        if pos == len(s):
            break
        if s[pos] != ",":
            raise _SFError("expected a comma")
        pos += 1
        while pos < len(s) and s[pos] in " \t":
            pos += 1
        if pos == len(s):
            raise _SFError("trailing comma")
    return members


def _sf_key(s: str, pos: int) -> tuple[str, int]:
    """RFC 8941 4.2.3.3."""
    if pos >= len(s) or s[pos] not in _SF_KEY_FIRST:
        raise _SFError("bad key")
    end = pos + 1
    while end < len(s) and s[end] in _SF_KEY_REST:
        end += 1
    return s[pos:end], end


def _sf_parameters(s: str, pos: int) -> int:
    """RFC 8941 4.2.3.2 (parameters of cache directives are ignored, RFC 9213 2.1)."""
    while pos < len(s) and s[pos] == ";":
        pos += 1
        while pos < len(s) and s[pos] == " ":
            pos += 1
        _, pos = _sf_key(s, pos)
        if pos < len(s) and s[pos] == "=":
            _, pos = _sf_bare_item(s, pos + 1)
    return pos


def _sf_inner_list(s: str, pos: int) -> int:
    """RFC 8941 4.2.1.2."""
    pos += 1
    while pos < len(s):
        while pos < len(s) and s[pos] == " ":
            pos += 1
        if pos < len(s) and s[pos] == ")":
            return _sf_parameters(s, pos + 1)
        _, pos = _sf_bare_item(s, pos)
        pos = _sf_parameters(s, pos)
        if pos < len(s) and s[pos] not in " )":
            raise _SFError("bad inner list")
    raise _SFError("unterminated inner list")


def _sf_bare_item(s: str, pos: int) -> tuple[_Arg, int]:
    """RFC 8941 4.2.3.1: Integer and Decimal as "token" text, String, Token, Boolean, Byte Sequence."""
    if pos >= len(s):
        raise _SFError("missing item")
    char = s[pos]
    if char == "-" or char.isdigit():
        match = _SF_NUMBER.match(s, pos)
        if match is None or (match.group(2) and len(match.group(1)) > 12):
            raise _SFError("bad number")
        return ("token", match.group(0)), match.end()
    if char == '"':
        out: list[str] = []
        pos += 1
        while pos < len(s):
            char = s[pos]
            if char == "\\":
                if pos + 1 >= len(s) or s[pos + 1] not in '"\\':
                    raise _SFError("bad escape")
                out.append(s[pos + 1])
                pos += 2
            elif char == '"':
                return ("string", "".join(out)), pos + 1
            elif " " <= char <= "~":
                out.append(char)
                pos += 1
            else:
                raise _SFError("bad string character")
        raise _SFError("unterminated string")
    if char == "*" or ("A" <= char <= "Z") or ("a" <= char <= "z"):
        end = pos + 1
        while end < len(s) and s[end] in _SF_TOKEN_REST:
            end += 1
        return ("token", s[pos:end]), end
    if char == ":":
        end = s.find(":", pos + 1)
        if end < 0 or not set(s[pos + 1 : end]) <= _BASE64:
            raise _SFError("bad byte sequence")
        return ("other", None), end + 1
    if char == "?" and s[pos + 1 : pos + 2] in ("0", "1"):
        return ("bare" if s[pos + 1] == "1" else "false", None), pos + 2
    raise _SFError("bad item")
