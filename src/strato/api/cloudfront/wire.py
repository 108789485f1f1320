"""Reading and writing CloudFront's XML idioms over strato.xmltree Nodes: typed leaves,
`Quantity` + `Items` lists, and unmodelled fields kept verbatim as Elements."""

from __future__ import annotations

from collections.abc import Iterable

from strato.cdn.records import Element
from strato.digits import is_digits
from strato.xmltree import Node

from .errors import CloudFrontError, malformed_input


def required(node: Node, tag: str) -> Node:
    child = node.find(tag)
    if child is None:
        raise malformed_input(f"Missing required field {tag} in {node.tag}.")
    return child


def text(node: Node, tag: str) -> str | None:
    child = node.find(tag)
    return None if child is None else child.text


def required_text(node: Node, tag: str) -> str:
    return required(node, tag).text


def integer(node: Node, tag: str) -> int | None:
    value = text(node, tag)
    if value is None:
        return None
    stripped = value.strip()
    digits = stripped.lstrip("-")
    # past a long's 19 digits, int() may refuse
    if not is_digits(digits) or len(digits) > 19:
        raise malformed_input(f"The value of {tag} in {node.tag} is not an integer: {value[:50]}")
    return int(stripped)


def required_integer(node: Node, tag: str) -> int:
    value = integer(node, tag)
    if value is None:
        raise malformed_input(f"Missing required field {tag} in {node.tag}.")
    return value


def boolean(node: Node, tag: str) -> bool | None:
    value = text(node, tag)
    if value is None:
        return None
    stripped = value.strip()
    if stripped not in ("true", "false"):
        raise malformed_input(f"The value of {tag} in {node.tag} is not a boolean: {value[:50]}")
    return stripped == "true"


def required_boolean(node: Node, tag: str) -> bool:
    value = boolean(node, tag)
    if value is None:
        raise malformed_input(f"Missing required field {tag} in {node.tag}.")
    return value


def item_nodes(container: Node, member: str) -> list[Node]:
    """The members of a `Quantity` + `Items` list, which must agree in number."""
    items = container.find("Items")
    found = items.find_all(member) if items is not None else []
    _count(container, len(found))
    return found


def _count(container: Node, found: int) -> None:
    if required_integer(container, "Quantity") != found:
        raise CloudFrontError("InconsistentQuantities",
                              f"The value of Quantity and the size of Items don't match in {container.tag}.")


def _check_lists(node: Node) -> None:
    """Every `Quantity` + `Items` list within `node` agrees in number, as CloudFront checks
    every list a configuration holds, modelled here or not."""
    if node.find("Quantity") is not None:
        items = node.find("Items")
        _count(node, len(items.children) if items is not None else 0)
    for child in node.children:
        _check_lists(child)


def strings(node: Node, tag: str, member: str) -> tuple[str, ...] | None:
    """The texts of a `Quantity` + `Items` list under `tag`, or None when `tag` is absent."""
    container = node.find(tag)
    if container is None:
        return None
    return tuple(item.text for item in item_nodes(container, member))


def extras(node: Node, known: Iterable[str]) -> tuple[Element, ...]:
    """The children of `node` strato does not model, kept as sent (their lists checked)."""
    names = set(known)
    kept = [child for child in node.children if child.tag not in names]
    for child in kept:
        _check_lists(child)
    return tuple(element_of(child) for child in kept)


def element_of(node: Node) -> Element:
    return Element(node.tag, "" if node.children else node.text, tuple(element_of(child) for child in node.children))


def node_of(element: Element) -> Node:
    return Node(element.name, element.text, [node_of(child) for child in element.children])


Value = str | int | bool | Node | None


def build(tag: str, *fields: tuple[str, Value], extra: tuple[Element, ...] = ()) -> Node:
    """An element of the given (name, value) fields, leaving out the None ones."""
    node = Node(tag)
    for name, value in fields:
        if value is None:
            continue
        if isinstance(value, Node):
            node.children.append(value)
        elif isinstance(value, bool):
            node.children.append(Node(name, "true" if value else "false"))
        else:
            node.children.append(Node(name, str(value)))
    node.children.extend(node_of(element) for element in extra)
    return node


def quantity_list(tag: str, items: Iterable[Node], *fields: tuple[str, Value]) -> Node:
    """`<tag>` holding extra leading fields, `Quantity` and (when not empty) `Items`."""
    members = list(items)
    node = build(tag, *fields, ("Quantity", len(members)))
    if members:
        node.children.append(Node("Items", children=members))
    return node


def string_list(tag: str, member: str, values: tuple[str, ...] | None) -> Node | None:
    if values is None:
        return None
    return quantity_list(tag, (Node(member, value) for value in values))
