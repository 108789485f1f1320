"""AddPermission, GetPolicy and RemovePermission against Lambda's policy size quota: a
function's (or version's, or alias's) policy document holds at most 20480 bytes. Real server,
boto3."""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import ClientError

SOURCE = "arn:aws:logs:us-east-1:000000000000:log-group:/aws/some/rather/long/log/group/name/for/a/subscription"


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
