"""How long a FunctionName may be, per operation, as botocore's Lambda service model bounds it:
NamespacedFunctionName (GetFunction, Invoke, AddPermission...) 256 characters, so that a long
name's ARN with a long alias is accepted; FunctionName (CreateFunction, UpdateFunctionConfiguration,
aliases...) 140. Real server, boto3."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.e2e.lambda_helpers import ECHO, ROLE, RUNTIME

NAME = "n" * 64  # the longest a function's name may be
ALIAS = "a" * 60
QUALIFIED_ARN = f"arn:aws:lambda:us-east-1:000000000000:function:{NAME}:{ALIAS}"  # 172 characters


@pytest.fixture(scope="module")
def aliased(lam: Any) -> Iterator[str]:
    lam.create_function(FunctionName=NAME, Runtime=RUNTIME, Role=ROLE, Handler="handler.handler",
                        Code={"ZipFile": ECHO}, Publish=True)
    lam.create_alias(FunctionName=NAME, Name=ALIAS, FunctionVersion="1")
    yield QUALIFIED_ARN
    with contextlib.suppress(lam.exceptions.ResourceNotFoundException):
        lam.delete_function(FunctionName=NAME)


def refusal(call: Any, **kwargs: Any) -> tuple[str, str]:
    with pytest.raises(ClientError) as caught:
        call(**kwargs)
    return caught.value.response["Error"]["Code"], caught.value.response["Error"]["Message"]


class TestNamespacedOperationsTakeArnsUpTo256Characters:
    def test_an_alias_arn_over_140_characters_names_the_alias(self, lam: Any, aliased: str) -> None:
        configuration = lam.get_function_configuration(FunctionName=aliased)
        assert (configuration["FunctionArn"], configuration["Version"]) == (aliased, "1")
        assert lam.get_function(FunctionName=aliased)["Configuration"]["FunctionArn"] == aliased

    def test_it_is_invoked_by_that_arn(self, lam: Any, aliased: str) -> None:
        answer = lam.invoke(FunctionName=aliased, Payload=json.dumps({"hello": "alias"}))
        assert (answer["StatusCode"], answer["ExecutedVersion"]) == (200, "1")
        assert json.loads(answer["Payload"].read()) == {"hello": "alias"}

    def test_its_permissions_are_added_by_that_arn(self, lam: Any, aliased: str) -> None:
        lam.add_permission(FunctionName=aliased, StatementId="long", Action="lambda:InvokeFunction",
                           Principal="s3.amazonaws.com")
        policy = json.loads(lam.get_policy(FunctionName=aliased)["Policy"])
        assert [statement["Resource"] for statement in policy["Statement"]] == [aliased]

    def test_257_characters_are_refused(self, lam: Any) -> None:
        name = QUALIFIED_ARN + "b" * (257 - len(QUALIFIED_ARN))
        assert refusal(lam.get_function, FunctionName=name) == (
            "InvalidParameterValueException", f"1 validation error detected: Value '{name}' at 'functionName' "
                                              "failed to satisfy constraint: Member must have length less than or "
                                              "equal to 256")


class TestOtherOperationsStillTakeAtMost140:
    def expected(self, name: str) -> tuple[str, str]:
        return ("InvalidParameterValueException", f"1 validation error detected: Value '{name}' at 'functionName' "
                                                  "failed to satisfy constraint: Member must have length less than "
                                                  "or equal to 140")

    def test_update_function_configuration_and_get_alias_refuse_the_longer_arn(self, lam: Any,
                                                                              aliased: str) -> None:
        assert refusal(lam.update_function_configuration, FunctionName=aliased,
                       Description="x") == self.expected(aliased)
        assert refusal(lam.get_alias, FunctionName=aliased, Name=ALIAS) == self.expected(aliased)

    def test_create_function_refuses_a_name_over_140_in_its_body(self, lam: Any) -> None:
        name = f"arn:aws:lambda:us-east-1:000000000000:function:{NAME}:{'q' * 40}"
        assert refusal(lam.create_function, FunctionName=name, Runtime=RUNTIME, Role=ROLE,
                       Handler="handler.handler", Code={"ZipFile": ECHO}) == self.expected(name)
