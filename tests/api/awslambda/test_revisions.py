"""RevisionId as a precondition, through the operations that renew it: what AWS answered in
LocalStack's AWS-validated test_function_revisions_version_and_alias (tests/aws/services/
lambda_/test_lambda_api.py). Real server, boto3."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.lambda_helpers import ECHO, ROLE, RUNTIME


@pytest.fixture
def function(lam: Any) -> Iterator[str]:
    name = f"rev-{uuid.uuid4().hex[:12]}"
    lam.create_function(FunctionName=name, Runtime=RUNTIME, Role=ROLE, Handler="handler.handler",
                        Code={"ZipFile": ECHO})
    yield name
    with contextlib.suppress(lam.exceptions.ResourceNotFoundException):
        lam.delete_function(FunctionName=name)


class TestPublishVersion:
    def test_publishing_renews_latests_revision_so_one_read_before_no_longer_holds(self, lam: Any,
                                                                                  function: str) -> None:
        before = lam.get_function(FunctionName=function)["Configuration"]["RevisionId"]
        published = lam.publish_version(FunctionName=function, RevisionId=before)
        after = lam.get_function(FunctionName=function)["Configuration"]["RevisionId"]
        assert len({before, published["RevisionId"], after}) == 3
        with pytest.raises(lam.exceptions.PreconditionFailedException):
            lam.update_function_configuration(FunctionName=function, Timeout=5, RevisionId=before)
        assert lam.update_function_configuration(FunctionName=function, Timeout=5, RevisionId=after)["Timeout"] == 5

    def test_the_published_versions_revision_stays_as_it_was_published(self, lam: Any, function: str) -> None:
        published = lam.publish_version(FunctionName=function)
        lam.update_function_configuration(FunctionName=function, Timeout=5)
        version = lam.get_function(FunctionName=function, Qualifier=published["Version"])["Configuration"]
        assert version["RevisionId"] == published["RevisionId"]

    def test_publishing_nothing_new_answers_the_last_version_and_keeps_latests_revision(self, lam: Any,
                                                                                       function: str) -> None:
        first = lam.publish_version(FunctionName=function)
        latest = lam.get_function(FunctionName=function)["Configuration"]["RevisionId"]
        again = lam.publish_version(FunctionName=function, RevisionId=latest)
        assert (again["Version"], again["RevisionId"]) == (first["Version"], first["RevisionId"])
        assert lam.get_function(FunctionName=function)["Configuration"]["RevisionId"] == latest
