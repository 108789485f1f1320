"""The one place S3 XML is written and read.

Writing: response shapes are dataclasses; each field becomes an element named by its
`xml` metadata or its PascalCase name; lists repeat, nested shapes nest, None is left out.
Reading: expat with DOCTYPE, entities and external references refused, on bodies the caller
has already bounded in size.
"""

from __future__ import annotations

import dataclasses
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, NoReturn
from xml.parsers import expat

from strato.http.responses import Response

NAMESPACE = "http://s3.amazonaws.com/doc/2006-03-01/"
_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n'
_SPECIAL = re.compile(r"[&<>\r\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_NAMED = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}


class IsoTime(float):
    """Epoch seconds rendered as S3's ISO 8601 timestamp (millisecond precision)."""


def escape(text: str) -> str:
    if not _SPECIAL.search(text):
        return text
    return _SPECIAL.sub(lambda m: _NAMED.get(m.group(), f"&#{ord(m.group())};"), text)


@lru_cache(maxsize=4096)
def _iso_second(whole: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole))


def iso8601(epoch: float) -> str:
    whole = int(epoch)
    return f"{_iso_second(whole)}.{int((epoch - whole) * 1000):03d}Z"


def element(name: str) -> Any:
    """A dataclass field rendered as `<name>`, for names PascalCase cannot produce."""
    return field(default=None, metadata={"xml": name})


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
            plan.append((f.name, "", "") if f.metadata.get("flatten") else (f.name, f"<{tag}>", f"</{tag}>"))
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


class MalformedXML(Exception):
    pass


@dataclass(slots=True)
class Node:
    tag: str
    text: str = ""
    children: list[Node] = field(default_factory=list)

    def find(self, tag: str) -> Node | None:
        return next((child for child in self.children if child.tag == tag), None)

    def find_all(self, tag: str) -> list[Node]:
        return [child for child in self.children if child.tag == tag]

    def text_of(self, tag: str, default: str | None = None) -> str | None:
        child = self.find(tag)
        return child.text if child is not None else default


def _refuse(*_: Any) -> NoReturn:
    raise MalformedXML("DOCTYPE, entities and external references are not allowed")


def parse(data: bytes, max_depth: int = 16) -> Node:
    """Parse a small XML document into Nodes; raises MalformedXML."""
    parser = expat.ParserCreate()
    parser.StartDoctypeDeclHandler = _refuse
    parser.EntityDeclHandler = _refuse
    parser.UnparsedEntityDeclHandler = _refuse
    parser.ExternalEntityRefHandler = _refuse
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    stack: list[Node] = []
    root: list[Node] = []

    def start(tag: str, _attrs: dict[str, str]) -> None:
        node = Node(tag.rpartition(":")[2])
        if stack:
            stack[-1].children.append(node)
        else:
            root.append(node)
        stack.append(node)
        if len(stack) > max_depth:
            raise MalformedXML("too deeply nested")

    def end(_tag: str) -> None:
        stack.pop()

    def text(data: str) -> None:
        if stack:
            stack[-1].text += data

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = text
    try:
        parser.Parse(data, True)
    except expat.ExpatError as exc:
        raise MalformedXML(str(exc)) from None
    except (LookupError, ValueError) as exc:  # a declared encoding Python cannot decode with
        raise MalformedXML(f"unsupported encoding: {exc}") from None
    if not root:
        raise MalformedXML("empty document")
    return root[0]


def response(root: str, shape: Any, status: int = 200, headers: list[tuple[str, str]] | None = None) -> Response:
    return Response(status, [("content-type", "application/xml"), *(headers or [])], render(root, shape))
