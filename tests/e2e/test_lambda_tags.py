"""Lambda function tags through boto3 and the aws CLI against a real strato: CreateFunction's
Tags, TagResource, UntagResource, ListTags and GetFunction's Tags, as deployment tools use
them (Terraform lists a function's tags right after creating it), with Lambda's errors."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.client_errors import refused
from tests.e2e.lambda_helpers import ECHO, ROLE, RUNTIME, package
from tests.e2e.test_awscli import Aws
from tests.servers import StratoServer

ACCOUNT_ARN = "arn:aws:lambda:us-east-1:000000000000:function:"


def create(lam: Any, name: str | None = None, **extra: Any) -> dict[str, Any]:
    name = name or f"tag-{uuid.uuid4().hex[:12]}"
    created: dict[str, Any] = lam.create_function(FunctionName=name, Runtime=RUNTIME, Role=ROLE,
                                                  Handler="handler.handler", Code={"ZipFile": ECHO}, **extra)
    return created


@pytest.fixture
def arn(lam: Any) -> Iterator[str]:
    """An untagged function's (unqualified) ARN."""
    created = create(lam)
    yield created["FunctionArn"]
    with contextlib.suppress(lam.exceptions.ResourceNotFoundException):
        lam.delete_function(FunctionName=created["FunctionName"])


class TestTagsAtCreate:
    def test_tags_given_at_create_are_listed_at_once_by_the_arn_create_answered(self, lam: Any) -> None:
        created = create(lam, Tags={"team": "core", "cost-center": "42", "empty": ""})
        try:
            listed = lam.list_tags(Resource=created["FunctionArn"])
            assert listed["ResponseMetadata"]["HTTPStatusCode"] == 200
            assert listed["Tags"] == {"team": "core", "cost-center": "42", "empty": ""}
            got = lam.get_function(FunctionName=created["FunctionName"])
            assert got["Tags"] == {"team": "core", "cost-center": "42", "empty": ""}
        finally:
            lam.delete_function(FunctionName=created["FunctionName"])

    def test_an_untagged_function_lists_no_tags_and_get_function_leaves_tags_out(self, lam: Any, arn: str) -> None:
        assert lam.list_tags(Resource=arn)["Tags"] == {}
        assert "Tags" not in lam.get_function(FunctionName=arn)

    def test_invalid_tags_at_create_create_nothing(self, lam: Any) -> None:
        name = f"tag-{uuid.uuid4().hex[:12]}"
        for tags in ({"aws:team": "core"}, {"k" * 129: "v"}, {f"k{i}": "v" for i in range(51)}):
            code, status, _ = refused(lam.create_function, FunctionName=name, Runtime=RUNTIME, Role=ROLE,
                                      Handler="handler.handler", Code={"ZipFile": ECHO}, Tags=tags)
            assert (code, status) == ("InvalidParameterValueException", 400)
        assert refused(lam.get_function, FunctionName=name)[:2] == ("ResourceNotFoundException", 404)


class TestTagAndUntag:
    def test_tag_resource_adds_and_replaces_and_untag_resource_removes(self, lam: Any, arn: str) -> None:
        tagged = lam.tag_resource(Resource=arn, Tags={"a": "1", "b": "2"})
        assert tagged["ResponseMetadata"]["HTTPStatusCode"] == 204
        lam.tag_resource(Resource=arn, Tags={"b": "two", "c": "3"})
        assert lam.list_tags(Resource=arn)["Tags"] == {"a": "1", "b": "two", "c": "3"}
        untagged = lam.untag_resource(Resource=arn, TagKeys=["a", "c", "never-set"])
        assert untagged["ResponseMetadata"]["HTTPStatusCode"] == 204
        assert lam.list_tags(Resource=arn)["Tags"] == {"b": "two"}
        assert lam.get_function(FunctionName=arn)["Tags"] == {"b": "two"}

    def test_tags_survive_configuration_and_code_updates_and_publishing(self, lam: Any, arn: str) -> None:
        lam.tag_resource(Resource=arn, Tags={"team": "core"})
        lam.update_function_configuration(FunctionName=arn, Timeout=30, Description="changed")
        lam.update_function_code(FunctionName=arn, ZipFile=package({"handler.py": "def handler(e, c):\n    pass\n"}))
        version = lam.publish_version(FunctionName=arn)["Version"]
        lam.create_alias(FunctionName=arn, Name="live", FunctionVersion=version)
        assert lam.list_tags(Resource=arn)["Tags"] == {"team": "core"}
        for qualifier in (version, "live", "$LATEST"):
            assert lam.get_function(FunctionName=arn, Qualifier=qualifier)["Tags"] == {"team": "core"}

    def test_tags_are_deleted_with_the_function_and_a_new_one_of_its_name_has_none(self, lam: Any) -> None:
        created = create(lam, Tags={"team": "core"})
        lam.delete_function(FunctionName=created["FunctionName"])
        assert refused(lam.list_tags, Resource=created["FunctionArn"]) == (
            "ResourceNotFoundException", 404, f"Function not found: {created['FunctionArn']}")
        again = create(lam, created["FunctionName"])
        try:
            assert lam.list_tags(Resource=again["FunctionArn"])["Tags"] == {}
        finally:
            lam.delete_function(FunctionName=again["FunctionName"])

    def test_a_function_holds_at_most_50_tags(self, lam: Any, arn: str) -> None:
        lam.tag_resource(Resource=arn, Tags={f"k{i}": "v" for i in range(50)})
        assert refused(lam.tag_resource, Resource=arn, Tags={"one-more": "v"}) == (
            "InvalidParameterValueException", 400, "Number of tags exceeds function tag limit.")
        lam.tag_resource(Resource=arn, Tags={"k0": "replaced"})
        assert len(lam.list_tags(Resource=arn)["Tags"]) == 50


class TestErrors:
    @pytest.mark.parametrize("qualifier", ["$LATEST", "1", "live"])
    def test_a_qualified_arn_is_refused_by_every_tag_operation(self, lam: Any, arn: str, qualifier: str) -> None:
        message = "Tags on function aliases and versions are not supported. Please specify a function ARN."
        for call, kwargs in ((lam.list_tags, {}), (lam.tag_resource, {"Tags": {"a": "b"}}),
                             (lam.untag_resource, {"TagKeys": ["a"]})):
            assert refused(call, Resource=f"{arn}:{qualifier}", **kwargs) == (
                "InvalidParameterValueException", 400, message)

    def test_a_missing_function_is_not_found_by_its_arn(self, lam: Any) -> None:
        missing = f"{ACCOUNT_ARN}tag-never-created"
        for call, kwargs in ((lam.list_tags, {}), (lam.tag_resource, {"Tags": {"a": "b"}}),
                             (lam.untag_resource, {"TagKeys": ["a"]})):
            assert refused(call, Resource=missing, **kwargs) == (
                "ResourceNotFoundException", 404, f"Function not found: {missing}")

    def test_a_function_name_is_not_a_resource_arn(self, lam: Any, arn: str) -> None:
        name = arn.removeprefix(ACCOUNT_ARN)
        code, status, message = refused(lam.list_tags, Resource=name)
        assert (code, status) == ("InvalidParameterValueException", 400)
        assert message.startswith(f"1 validation error detected: Value '{name}' at 'resource' failed to satisfy")

    def test_reserved_long_and_empty_tags_are_refused_and_change_nothing(self, lam: Any, arn: str) -> None:
        lam.tag_resource(Resource=arn, Tags={"keep": "me"})
        for tags in ({"AWS:team": "x"}, {"k" * 129: "v"}, {"k": "v" * 257}, {}):
            code, status, _ = refused(lam.tag_resource, Resource=arn, Tags=tags)
            assert (code, status) == ("InvalidParameterValueException", 400)
        assert refused(lam.untag_resource, Resource=arn, TagKeys=[])[:2] == ("InvalidParameterValueException", 400)
        assert lam.list_tags(Resource=arn)["Tags"] == {"keep": "me"}


class TestAwsCli:
    def test_the_cli_tags_lists_and_untags(self, server: StratoServer, tmp_path: Path, lam: Any, arn: str) -> None:
        aws = Aws(server, tmp_path / "home")
        aws("lambda", "tag-resource", "--resource", arn, "--tags", "team=core,stage=test")
        assert aws.json("lambda", "list-tags", "--resource", arn) == {"Tags": {"team": "core", "stage": "test"}}
        aws("lambda", "untag-resource", "--resource", arn, "--tag-keys", "stage")
        assert aws.json("lambda", "list-tags", "--resource", arn) == {"Tags": {"team": "core"}}
        qualified = aws("lambda", "list-tags", "--resource", f"{arn}:$LATEST", check=False)
        assert qualified.returncode != 0
        assert "InvalidParameterValueException" in qualified.stderr
