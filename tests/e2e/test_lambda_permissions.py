"""A function's resource-based policy through boto3 and the aws CLI against a real strato:
AddPermission, GetPolicy and RemovePermission as Terraform's aws_lambda_permission and SAM's
event sources call them, per version and alias, with Lambda's errors."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.client_errors import refused
from tests.e2e.lambda_helpers import ECHO, ROLE, RUNTIME, published_with_alias
from tests.e2e.test_awscli import Aws
from tests.servers import StratoServer

FROM_S3 = {"Action": "lambda:InvokeFunction", "Principal": "s3.amazonaws.com",
           "SourceArn": "arn:aws:s3:::uploads", "SourceAccount": "000000000000"}


@pytest.fixture
def name(lam: Any) -> Iterator[str]:
    with published_with_alias(lam, "perm") as created:
        yield created


def policy(lam: Any, name: str, **qualifier: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(lam.get_policy(FunctionName=name, **qualifier)["Policy"])
    return document


class TestAddAndGet:
    def test_add_permission_answers_the_statement_and_get_policy_holds_it(self, lam: Any, name: str) -> None:
        added = lam.add_permission(FunctionName=name, StatementId="s3-invoke", **FROM_S3)
        assert added["ResponseMetadata"]["HTTPStatusCode"] == 201
        arn = f"arn:aws:lambda:us-east-1:000000000000:function:{name}"
        expected = {"Sid": "s3-invoke", "Effect": "Allow", "Principal": {"Service": "s3.amazonaws.com"},
                    "Action": "lambda:InvokeFunction", "Resource": arn,
                    "Condition": {"StringEquals": {"AWS:SourceAccount": "000000000000"},
                                  "ArnLike": {"AWS:SourceArn": "arn:aws:s3:::uploads"}}}
        assert json.loads(added["Statement"]) == expected
        got = lam.get_policy(FunctionName=name)
        assert json.loads(got["Policy"]) == {"Version": "2012-10-17", "Id": "default", "Statement": [expected]}
        assert got["RevisionId"]

    def test_a_qualified_permission_names_the_qualified_arn_and_has_its_own_policy(self, lam: Any, name: str) -> None:
        lam.add_permission(FunctionName=name, Qualifier="live", StatementId="by-account",
                           Action="lambda:InvokeFunction", Principal="123456789012")
        lam.add_permission(FunctionName=f"{name}:1", StatementId="by-account", Action="lambda:GetFunction",
                           Principal="arn:aws:iam::123456789012:role/deployer")
        live = policy(lam, name, Qualifier="live")["Statement"]
        assert live[0]["Resource"].endswith(f"function:{name}:live")
        assert live[0]["Principal"] == {"AWS": "arn:aws:iam::123456789012:root"}
        assert policy(lam, f"{name}:1")["Statement"][0]["Principal"] == {
            "AWS": "arn:aws:iam::123456789012:role/deployer"}
        assert refused(lam.get_policy, FunctionName=name)[:2] == ("ResourceNotFoundException", 404)

    def test_latest_takes_no_permission(self, lam: Any, name: str) -> None:
        assert refused(lam.add_permission, FunctionName=name, Qualifier="$LATEST", StatementId="s", **FROM_S3) == (
            "InvalidParameterValueException", 400, "We currently do not support adding policies for $LATEST.")


class TestErrors:
    def test_a_repeated_statement_id_conflicts(self, lam: Any, name: str) -> None:
        lam.add_permission(FunctionName=name, StatementId="once", **FROM_S3)
        assert refused(lam.add_permission, FunctionName=name, StatementId="once", **FROM_S3) == (
            "ResourceConflictException", 409, "The statement id (once) provided already exists. Please provide a new "
            "statement id, or remove the existing statement.")

    def test_a_function_without_policy_has_none_to_get(self, lam: Any, name: str) -> None:
        assert refused(lam.get_policy, FunctionName=name) == (
            "ResourceNotFoundException", 404, "The resource you requested does not exist.")

    def test_an_unknown_function_version_or_alias_is_not_found(self, lam: Any, name: str) -> None:
        assert refused(lam.add_permission, FunctionName=f"{name}-gone", StatementId="s", **FROM_S3)[:2] == (
            "ResourceNotFoundException", 404)
        assert refused(lam.add_permission, FunctionName=name, Qualifier="9", StatementId="s", **FROM_S3)[:2] == (
            "ResourceNotFoundException", 404)
        assert refused(lam.get_policy, FunctionName=f"{name}-gone")[:2] == ("ResourceNotFoundException", 404)

    def test_bad_input_is_an_invalid_parameter(self, lam: Any, name: str) -> None:
        for fields in ({**FROM_S3, "Principal": "nobody"}, {**FROM_S3, "Action": "s3:GetObject"},
                       {**FROM_S3, "SourceAccount": "42"}):
            assert refused(lam.add_permission, FunctionName=name, StatementId="s", **fields)[:2] == (
                "InvalidParameterValueException", 400)

    def test_a_stale_revision_id_is_a_failed_precondition(self, lam: Any, name: str) -> None:
        lam.add_permission(FunctionName=name, StatementId="a", **FROM_S3)
        read = lam.get_policy(FunctionName=name)["RevisionId"]
        lam.add_permission(FunctionName=name, StatementId="b", RevisionId=read, **FROM_S3)
        assert refused(lam.add_permission, FunctionName=name, StatementId="c", RevisionId=read, **FROM_S3)[:2] == (
            "PreconditionFailedException", 412)
        assert refused(lam.remove_permission, FunctionName=name, StatementId="a", RevisionId=read)[:2] == (
            "PreconditionFailedException", 412)


class TestRemove:
    def test_remove_permission_takes_one_statement_out_and_the_last_one_the_policy(self, lam: Any, name: str) -> None:
        for sid in ("a", "b"):
            lam.add_permission(FunctionName=name, StatementId=sid, **FROM_S3)
        removed = lam.remove_permission(FunctionName=name, StatementId="a")
        assert removed["ResponseMetadata"]["HTTPStatusCode"] == 204
        assert [s["Sid"] for s in policy(lam, name)["Statement"]] == ["b"]
        assert refused(lam.remove_permission, FunctionName=name, StatementId="a") == (
            "ResourceNotFoundException", 404, "Statement a is not found in resource policy.")
        lam.remove_permission(FunctionName=name, StatementId="b")
        assert refused(lam.get_policy, FunctionName=name)[:2] == ("ResourceNotFoundException", 404)

    def test_a_qualified_statement_is_removed_through_its_qualifier(self, lam: Any, name: str) -> None:
        lam.add_permission(FunctionName=name, Qualifier="live", StatementId="a", **FROM_S3)
        assert refused(lam.remove_permission, FunctionName=name, StatementId="a")[:2] == (
            "ResourceNotFoundException", 404)
        lam.remove_permission(FunctionName=name, Qualifier="live", StatementId="a")

    def test_policies_go_with_the_function(self, lam: Any, name: str) -> None:
        lam.add_permission(FunctionName=name, StatementId="a", **FROM_S3)
        lam.delete_function(FunctionName=name)
        lam.create_function(FunctionName=name, Runtime=RUNTIME, Role=ROLE, Handler="handler.handler",
                            Code={"ZipFile": ECHO})
        assert refused(lam.get_policy, FunctionName=name)[:2] == ("ResourceNotFoundException", 404)


class TestAwsCli:
    def test_the_cli_adds_a_permission_and_reads_the_policy(self, server: StratoServer, tmp_path: Path,
                                                            name: str) -> None:
        aws = Aws(server, tmp_path / "home")
        added = aws.json("lambda", "add-permission", "--function-name", name, "--statement-id", "events",
                         "--action", "lambda:InvokeFunction", "--principal", "events.amazonaws.com",
                         "--source-arn", "arn:aws:events:us-east-1:000000000000:rule/nightly")
        assert json.loads(added["Statement"])["Principal"] == {"Service": "events.amazonaws.com"}
        got = aws.json("lambda", "get-policy", "--function-name", name)
        assert [s["Sid"] for s in json.loads(got["Policy"])["Statement"]] == ["events"]
