"""Set-Cookie in the edge's field maps (one value per lower-cased name). Set-Cookie is the one
field whose lines cannot be joined with commas (RFC 9110 5.3, RFC 6265 3): its dates hold
commas, and a browser reads one cookie from a line. Its lines are kept joined by a line feed,
which no field value holds, and written out as lines of their own.

CloudFront's cookie settings decide which of them reach viewers (DeveloperGuide/Cookies.html):
none when the behaviour forwards no cookies to the origin, only the named ones when it names
some (CloudFront caches only those, and strato passes on only those), all when it forwards all."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

NAME = "set-cookie"
SEPARATOR = "\n"


def joined(existing: str, value: str) -> str:
    return f"{existing}{SEPARATOR}{value}"


def values(name: str, value: str) -> Sequence[str]:
    """A field's values as they go on lines of their own: Set-Cookie's each, another's whole."""
    return value.split(SEPARATOR) if name == NAME else (value,)


def field_items(headers: Mapping[str, str]) -> Iterable[tuple[str, str]]:
    """The fields as lines: each Set-Cookie line on its own."""
    value = headers.get(NAME)
    if value is None or SEPARATOR not in value:
        return headers.items()
    return [(name, line) for name, text in headers.items() for line in values(name, text)]


def cookie_name(line: str) -> str:
    """The name of the cookie a Set-Cookie line sets (RFC 6265 5.2)."""
    return line.split(";", 1)[0].split("=", 1)[0].strip()


def passed_on(headers: dict[str, str], named: frozenset[str] | None, withheld: frozenset[str]) -> None:
    """Keep the Set-Cookie lines of the cookies a behaviour forwards (`named`: those alone, all
    when None, `withheld` never); drop the field when none is left."""
    value = headers.get(NAME)
    if value is None or (named is None and not withheld):
        return
    kept = [line for line, name in ((line, cookie_name(line)) for line in value.split(SEPARATOR))
            if (named is None or name in named) and name not in withheld]
    if kept:
        headers[NAME] = SEPARATOR.join(kept)
    else:
        del headers[NAME]
