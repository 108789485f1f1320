"""Every S3 operation strato answers is named by an IAM action a bucket policy can grant."""

from __future__ import annotations

import pytest

from strato.api.s3.actions import ACTIONS, action_of
from strato.api.s3.handlers import HANDLERS
from strato.auth.policy import ACCOUNT_ACTIONS, BUCKET_ACTIONS, OBJECT_ACTIONS


def test_every_handled_operation_has_an_action() -> None:
    assert set(HANDLERS) <= set(ACTIONS)


@pytest.mark.parametrize("operation", sorted(ACTIONS))
def test_every_action_is_one_a_policy_can_name(operation: str) -> None:
    for query in ({}, {"versionId": "null"}):
        action = action_of(operation, query)
        assert action is not None
        service, _, name = action.partition(":")
        assert service == "s3"
        assert name in OBJECT_ACTIONS | BUCKET_ACTIONS | ACCOUNT_ACTIONS


@pytest.mark.parametrize(("operation", "action"), [
    ("GetObject", "s3:GetObjectVersion"), ("HeadObject", "s3:GetObjectVersion"),
    ("DeleteObject", "s3:DeleteObjectVersion"), ("PutObject", "s3:PutObject"),
])
def test_a_request_for_a_version_needs_the_version_action(operation: str, action: str) -> None:
    assert action_of(operation, {"versionId": "null"}) == action


def test_an_operation_no_policy_can_grant_has_no_action() -> None:
    assert action_of("PutBucketLifecycleConfiguration", {}) is None
