"""CloudFront Functions <-> XML (https://docs.aws.amazon.com/cloudfront/latest/APIReference/
API_CreateFunction.html, API_FunctionSummary.html, API_FunctionMetadata.html, API_TestResult.html):
the request documents of CreateFunction, UpdateFunction and TestFunction, and the summaries,
lists and test results answered. Code and test events are base64 in XML (blobs)."""

from __future__ import annotations

import base64
import binascii

from strato.cdn.functions import DEVELOPMENT, CloudFrontFunction, FunctionConfig
from strato.xmltree import Node, iso8601

from .errors import CloudFrontError
from .wire import build, item_nodes, quantity_list, required, required_text, text


def _blob(node: Node, tag: str) -> bytes:
    try:
        return base64.b64decode(required_text(node, tag), validate=True)
    except (binascii.Error, ValueError):
        raise CloudFrontError("InvalidArgument", f"The parameter {tag} is not valid base64.") from None


def _function_config(node: Node) -> FunctionConfig:
    config = required(node, "FunctionConfig")
    stores = config.find("KeyValueStoreAssociations")
    if stores is not None and item_nodes(stores, "KeyValueStoreAssociation"):
        raise CloudFrontError("UnsupportedOperation", "strato has no key value stores to associate.")
    return FunctionConfig(text(config, "Comment") or "", required_text(config, "Runtime"))


def parse_create(node: Node) -> tuple[str, FunctionConfig, bytes]:
    """CreateFunctionRequest: Name, FunctionConfig and FunctionCode."""
    return required_text(node, "Name"), _function_config(node), _blob(node, "FunctionCode")


def parse_update(node: Node) -> tuple[FunctionConfig, bytes]:
    """UpdateFunctionRequest: FunctionConfig and FunctionCode."""
    return _function_config(node), _blob(node, "FunctionCode")


def parse_test(node: Node) -> tuple[str, bytes]:
    """TestFunctionRequest: the Stage to test (DEVELOPMENT unless given) and the EventObject."""
    return text(node, "Stage") or DEVELOPMENT, _blob(node, "EventObject")


def summary_node(function: CloudFrontFunction) -> Node:
    config = build("FunctionConfig", ("Comment", function.config.comment), ("Runtime", function.config.runtime))
    metadata = build("FunctionMetadata", ("FunctionARN", function.arn), ("Stage", function.stage),
                     ("CreatedTime", iso8601(function.created)), ("LastModifiedTime", iso8601(function.modified)))
    return build("FunctionSummary", ("Name", function.name), ("Status", function.status),
                 ("FunctionConfig", config), ("FunctionMetadata", metadata))


def list_node(page: list[CloudFrontFunction], max_items: int, next_marker: str | None) -> Node:
    return quantity_list("FunctionList", (summary_node(function) for function in page),
                         ("NextMarker", next_marker), ("MaxItems", max_items))


def test_result_node(function: CloudFrontFunction, utilization: int, logs: tuple[str, ...], error: str | None,
                     output: str | None) -> Node:
    lines = Node("FunctionExecutionLogs", children=[Node("member", line) for line in logs])
    return build("TestResult", ("FunctionSummary", summary_node(function)), ("ComputeUtilization", str(utilization)),
                 ("FunctionExecutionLogs", lines), ("FunctionErrorMessage", error), ("FunctionOutput", output))
