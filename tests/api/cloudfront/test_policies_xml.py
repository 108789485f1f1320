"""Policy lists as ListResponseHeadersPolicies and its twins page them (API_ListCachePolicies):
the managed policies by name, then the account's own in id order, each page after its marker."""

from __future__ import annotations

from strato.api.cloudfront.policies_xml import POLICY_XML
from strato.cdn.records import Resource
from strato.cdn.response_headers_policies import ResponseHeadersPolicy
from strato.xmltree import Node


def own(policy_id: str) -> Resource[ResponseHeadersPolicy]:
    return Resource(policy_id, "E1", 0.0, 0.0, ResponseHeadersPolicy(f"mine-{policy_id}", ""))


def listed(page: Node) -> list[str]:
    items = page.find("Items")
    return [summary.children[1].children[0].text for summary in (items.children if items is not None else [])]


SPEC = POLICY_XML["response-headers-policy"]
CUSTOM = [own("a"), own("c"), own("e")]


def test_a_page_goes_on_after_its_marker() -> None:
    assert listed(SPEC.list_node(False, CUSTOM, "a", 1)) == ["c"]


def test_a_marker_deleted_since_goes_on_after_where_its_id_was() -> None:
    assert listed(SPEC.list_node(False, CUSTOM, "b", 5)) == ["c", "e"]
    assert listed(SPEC.list_node(True, CUSTOM, "f", 5)) == []


def test_no_marker_starts_with_the_managed_ones() -> None:
    page = listed(SPEC.list_node(True, CUSTOM, "", 100))
    assert page[-3:] == ["a", "c", "e"]
    assert len(page) == len(SPEC.managed) + 3
