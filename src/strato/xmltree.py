"""XML documents as plain trees, for every XML protocol (S3, CloudFront): a safe parser and
a writer. Parsing uses expat with DOCTYPE, entities and external references refused, on
bodies the caller has already bounded in size; writing escapes every text it is given."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, NoReturn
from xml.parsers import expat

DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n'
_SPECIAL = re.compile(r"[&<>\r\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_NAMED = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}


def escape(text: str) -> str:
    if not _SPECIAL.search(text):
        return text
    return _SPECIAL.sub(lambda m: _NAMED.get(m.group(), f"&#{ord(m.group())};"), text)


@lru_cache(maxsize=4096)
def _iso_second(whole: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole))


def iso8601(epoch: float) -> str:
    """Epoch seconds as an ISO 8601 UTC timestamp with milliseconds, as AWS XML writes them."""
    whole = int(epoch)
    return f"{_iso_second(whole)}.{int((epoch - whole) * 1000):03d}Z"


class MalformedXML(Exception):
    pass


@dataclass(slots=True)
class Node:
    """One element: its local name (namespace prefix dropped), its text, its child elements."""

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


def _write(out: list[str], node: Node) -> None:
    if node.children:
        out.append(f"<{node.tag}>")
        for child in node.children:
            _write(out, child)
        out.append(f"</{node.tag}>")
    else:
        out.append(f"<{node.tag}>{escape(node.text)}</{node.tag}>")


def serialize(root: Node, namespace: str | None = None) -> bytes:
    """The document whose root element is `root`, declared in `namespace` when given."""
    out = [DECLARATION, f'<{root.tag} xmlns="{namespace}">' if namespace else f"<{root.tag}>"]
    for child in root.children:
        _write(out, child)
    if not root.children:
        out.append(escape(root.text))
    out.append(f"</{root.tag}>")
    return "".join(out).encode()
