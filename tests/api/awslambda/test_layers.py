"""AddLayerVersionPermission against Lambda's policy size quota: a layer version's policy
document holds at most 20480 bytes, as a function's does. Real server, boto3."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.e2e.lambda_helpers import ECHO


@pytest.fixture
def layer(lam: Any) -> Iterator[str]:
    name = f"lay-{uuid.uuid4().hex[:12]}"
    lam.publish_layer_version(LayerName=name, Content={"ZipFile": ECHO})
    yield name
    lam.delete_layer_version(LayerName=name, VersionNumber=1)


def fill(lam: Any, layer: str) -> tuple[int, dict[str, Any]]:
    """Grant statements until one is refused: how many were added, and the refusal."""
    for added in range(1000):
        try:
            lam.add_layer_version_permission(LayerName=layer, VersionNumber=1, StatementId=f"account-{added}",
                                             Action="lambda:GetLayerVersion", Principal=f"{added:012d}")
        except ClientError as refused:
            return added, refused.response
    raise AssertionError("a thousand statements fit in the policy")


def test_a_statement_that_would_take_the_policy_past_20480_bytes_is_refused(lam: Any, layer: str) -> None:
    added, error = fill(lam, layer)
    assert (error["Error"]["Code"], error["ResponseMetadata"]["HTTPStatusCode"]) == (
        "PolicyLengthExceededException", 400)
    assert error["Error"]["Message"].endswith(") is bigger than the limit (20480).")
    policy = lam.get_layer_version_policy(LayerName=layer, VersionNumber=1)["Policy"]
    assert len(policy.encode()) <= 20480
    assert len(json.loads(policy)["Statement"]) == added
