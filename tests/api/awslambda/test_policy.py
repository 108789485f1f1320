"""AddPermission, GetPolicy and RemovePermission against Lambda's policy size quota: a
function's (or version's, or alias's) policy document holds at most 20480 bytes. Real server,
boto3."""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.e2e.lambda_helpers import ECHO, ROLE, RUNTIME

SOURCE = "arn:aws:logs:us-east-1:000000000000:log-group:/aws/some/rather/long/log/group/name/for/a/subscription"


@pytest.fixture
def function(lam: Any) -> Iterator[str]:
    name = f"pol-{uuid.uuid4().hex[:12]}"
    lam.create_function(FunctionName=name, Runtime=RUNTIME, Role=ROLE, Handler="handler.handler",
                        Code={"ZipFile": ECHO})
    yield name
    with contextlib.suppress(lam.exceptions.ResourceNotFoundException):
        lam.delete_function(FunctionName=name)


def grant(lam: Any, function: str, sid: str) -> None:
    lam.add_permission(FunctionName=function, StatementId=sid, Action="lambda:InvokeFunction",
                       Principal="logs.amazonaws.com", SourceArn=f"{SOURCE}-{sid}:*", SourceAccount="000000000000")


def fill(lam: Any, function: str) -> tuple[int, dict[str, Any]]:
    """Grant statements until one is refused: how many were added, and the refusal."""
    for added in range(1000):
        try:
            grant(lam, function, f"s{added}")
        except ClientError as refused:
            return added, refused.response
    raise AssertionError("a thousand statements fit in the policy")


class TestPolicySize:
    def test_a_statement_that_would_take_the_policy_past_20480_bytes_is_refused(self, lam: Any,
                                                                                function: str) -> None:
        added, error = fill(lam, function)
        assert (error["Error"]["Code"], error["ResponseMetadata"]["HTTPStatusCode"]) == (
            "PolicyLengthExceededException", 400)
        assert error["Error"]["Message"].startswith("The final policy size (")
        assert error["Error"]["Message"].endswith(") is bigger than the limit (20480).")
        policy = lam.get_policy(FunctionName=function)["Policy"]
        assert len(policy.encode()) <= 20480
        assert len(json.loads(policy)["Statement"]) == added  # the refused statement left nothing behind

    def test_removing_a_statement_makes_room_again(self, lam: Any, function: str) -> None:
        fill(lam, function)
        lam.remove_permission(FunctionName=function, StatementId="s0")
        grant(lam, function, "again")
