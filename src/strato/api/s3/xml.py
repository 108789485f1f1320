"""The one place S3 XML is written and read.

Writing: response shapes are dataclasses; each field becomes an element named by its
`xml` metadata or its PascalCase name; lists repeat, nested shapes nest, None is left out.
Reading: the shared safe parser (strato.xmltree), re-exported here for the S3 layer.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import field
from typing import Any

from strato.http.responses import Response
from strato.xmltree import DECLARATION as _DECLARATION
from strato.xmltree import MalformedXML as MalformedXML
from strato.xmltree import Node as Node
from strato.xmltree import escape as escape
from strato.xmltree import iso8601 as iso8601
from strato.xmltree import parse as parse

NAMESPACE = "http://s3.amazonaws.com/doc/2006-03-01/"


class IsoTime(float):
    """Epoch seconds rendered as S3's ISO 8601 timestamp (millisecond precision)."""


def element(name: str) -> Any:
    """A dataclass field rendered as `<name>`, for names PascalCase cannot produce."""
    return field(default=None, metadata={"xml": name})


def attributed(name: str, attributes: str) -> Any:
    """A field rendered as `<name attributes>`: S3's Grantee carries its xsi:type this way."""
    return field(default=None, metadata={"xml": name, "attributes": " " + attributes})


def flattened() -> Any:
    """A nested shape whose elements are written in place, without an element of its own."""
    return field(default=None, metadata={"flatten": True})


def _pascal(name: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in name.split("_"))


def _boolean(value: bool) -> str:
    return "true" if value else "false"


# How each scalar type becomes element text; lists repeat the element; anything else is a shape.
_TEXT: dict[type, Callable[[Any], str]] = {str: escape, int: str, bool: _boolean, IsoTime: iso8601, float: repr}
_PLANS: dict[type, list[tuple[str, str, str]]] = {}


def _plan(cls: type) -> list[tuple[str, str, str]]:
    """(attribute, opening tag, closing tag) for each field of a shape, computed once."""
    plan = _PLANS.get(cls)
    if plan is None:
        plan = []
        for f in dataclasses.fields(cls):
            tag = f.metadata.get("xml") or _pascal(f.name)
            opening = f"<{tag}{f.metadata.get('attributes', '')}>"
            plan.append((f.name, "", "") if f.metadata.get("flatten") else (f.name, opening, f"</{tag}>"))
        _PLANS[cls] = plan
    return plan


def _value(out: list[str], opening: str, closing: str, value: Any) -> None:
    kind = type(value)
    text = _TEXT.get(kind)
    if text is not None:
        out.append(opening + text(value) + closing)
    elif kind is list or kind is tuple:
        for item in value:
            _value(out, opening, closing, item)
    elif value is not None:
        out.append(opening)
        _fields(out, value)
        out.append(closing)


def _fields(out: list[str], shape: Any) -> None:
    for attr, opening, closing in _plan(type(shape)):
        value = getattr(shape, attr)
        text = _TEXT.get(type(value))
        if text is not None:  # the common case, inlined: a listing page renders thousands
            out.append(opening + text(value) + closing)
        elif value is not None:
            _value(out, opening, closing, value)


def render(root: str, shape: Any, namespace: str | None = NAMESPACE) -> bytes:
    out = [_DECLARATION, f'<{root} xmlns="{namespace}">' if namespace else f"<{root}>"]
    _fields(out, shape)
    out.append(f"</{root}>")
    return "".join(out).encode()


def render_text(root: str, text: str) -> bytes:
    return f'{_DECLARATION}<{root} xmlns="{NAMESPACE}">{escape(text)}</{root}>'.encode()


def response(root: str, shape: Any, status: int = 200, headers: list[tuple[str, str]] | None = None) -> Response:
    return Response(status, [("content-type", "application/xml"), *(headers or [])], render(root, shape))


def text_response(root: str, text: str) -> Response:
    """A 200 whose body is one element holding text (empty for a configuration never set)."""
    return Response(200, [("content-type", "application/xml")], render_text(root, text))
