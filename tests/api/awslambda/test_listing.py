"""ListFunctions and ListVersionsByFunction page by page: Marker and NextMarker, as boto3's
paginators and the aws CLI follow them, and markers from outside. Real server, boto3."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.lambda_helpers import ECHO, ROLE, RUNTIME

HUGE = "9" * 20  # a number past SQLite's (and Lambda's Long's) largest


@pytest.fixture
def published(lam: Any) -> Iterator[str]:
    """A function with versions 1 and 2 besides $LATEST."""
    name = f"list-{uuid.uuid4().hex[:12]}"
    lam.create_function(FunctionName=name, Runtime=RUNTIME, Role=ROLE, Handler="handler.handler",
                        Code={"ZipFile": ECHO}, Publish=True)
    lam.update_function_configuration(FunctionName=name, Timeout=5)
    lam.publish_version(FunctionName=name)
    yield name
    with contextlib.suppress(lam.exceptions.ResourceNotFoundException):
        lam.delete_function(FunctionName=name)


class TestListVersionsByFunction:
    def test_the_paginator_walks_every_version_one_by_one(self, lam: Any, published: str) -> None:
        pages = lam.get_paginator("list_versions_by_function").paginate(FunctionName=published,
                                                                        PaginationConfig={"PageSize": 1})
        assert [[item["Version"] for item in page["Versions"]] for page in pages] == [["$LATEST"], ["1"], ["2"]]

    def test_a_marker_past_the_largest_number_lists_nothing(self, lam: Any, published: str) -> None:
        listed = lam.list_versions_by_function(FunctionName=published, Marker=HUGE)
        assert (listed["Versions"], "NextMarker" in listed) == ([], False)


class TestListFunctionsWithEveryVersion:
    def test_a_marker_past_the_largest_number_lists_the_functions_after_its_name(self, lam: Any,
                                                                                published: str) -> None:
        listed = lam.list_functions(FunctionVersion="ALL", Marker=f"{published}:{HUGE}", MaxItems=1000)
        assert published not in {item["FunctionName"] for item in listed["Functions"]}

    def test_a_marker_of_a_version_lists_the_versions_after_it(self, lam: Any, published: str) -> None:
        listed = lam.list_functions(FunctionVersion="ALL", Marker=f"{published}:1", MaxItems=1)
        assert [item["FunctionArn"].rsplit(":", 1)[1] for item in listed["Functions"]] == ["2"]
