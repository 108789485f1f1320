"""AddPermission's statement as Lambda builds it, field by field, and its request checks."""

from __future__ import annotations

from typing import Any

import pytest

from strato.api.awslambda.errors import LambdaError
from strato.api.awslambda.permissions import statement

FN = "arn:aws:lambda:us-east-1:000000000000:function:fn"
BASE = {"StatementId": "s1", "Action": "lambda:InvokeFunction", "Principal": "s3.amazonaws.com"}


def refused(fields: dict[str, Any]) -> str:
    with pytest.raises(LambdaError) as caught:
        statement(FN, fields)
    assert (caught.value.code, caught.value.status) == ("InvalidParameterValueException", 400)
    return caught.value.message


class TestPrincipal:
    def test_a_service_principal_is_named_as_a_service(self) -> None:
        assert statement(FN, BASE) == {"Sid": "s1", "Effect": "Allow", "Principal": {"Service": "s3.amazonaws.com"},
                                       "Action": "lambda:InvokeFunction", "Resource": FN}

    def test_an_account_id_becomes_its_root_arn(self) -> None:
        built = statement(FN, {**BASE, "Principal": "123456789012"})
        assert built["Principal"] == {"AWS": "arn:aws:iam::123456789012:root"}

    def test_an_iam_arn_is_kept_as_given(self) -> None:
        role = "arn:aws:iam::123456789012:role/caller"
        assert statement(FN, {**BASE, "Principal": role})["Principal"] == {"AWS": role}

    def test_a_star_is_everyone(self) -> None:
        assert statement(FN, {**BASE, "Principal": "*"})["Principal"] == "*"

    def test_anything_else_is_refused_with_lambdas_message(self) -> None:
        assert refused({**BASE, "Principal": "somebody"}) == ("The provided principal was invalid. Please check the "
                                                              "principal and try again.")


class TestConditions:
    def test_source_arn_is_arn_like_and_source_account_string_equals(self) -> None:
        built = statement(FN, {**BASE, "SourceArn": "arn:aws:s3:::bucket", "SourceAccount": "123456789012"})
        assert built["Condition"] == {"StringEquals": {"AWS:SourceAccount": "123456789012"},
                                      "ArnLike": {"AWS:SourceArn": "arn:aws:s3:::bucket"}}

    def test_org_id_token_and_url_auth_type_are_string_equals(self) -> None:
        built = statement(FN, {**BASE, "Principal": "*", "PrincipalOrgID": "o-abcdefghij",
                               "EventSourceToken": "alexa.token-1", "FunctionUrlAuthType": "NONE",
                               "Action": "lambda:InvokeFunctionUrl"})
        assert built["Condition"] == {"StringEquals": {"aws:PrincipalOrgID": "o-abcdefghij",
                                                       "lambda:EventSourceToken": "alexa.token-1",
                                                       "lambda:FunctionUrlAuthType": "NONE"}}

    def test_invoked_via_function_url_is_a_bool_condition(self) -> None:
        built = statement(FN, {**BASE, "InvokedViaFunctionUrl": True})
        assert built["Condition"] == {"Bool": {"lambda:InvokedViaFunctionUrl": "true"}}

    def test_no_condition_field_means_no_condition(self) -> None:
        assert "Condition" not in statement(FN, {**BASE, "InvokedViaFunctionUrl": False})


class TestChecks:
    @pytest.mark.parametrize("missing", ["StatementId", "Action", "Principal"])
    def test_each_required_field_must_be_given(self, missing: str) -> None:
        fields = {key: value for key, value in BASE.items() if key != missing}
        member = missing[0].lower() + missing[1:]
        assert refused(fields) == (f"1 validation error detected: Value null at '{member}' failed to satisfy "
                                   "constraint: Member must not be null")

    def test_a_statement_id_outside_its_pattern_or_length_is_refused(self) -> None:
        assert "at 'statementId'" in refused({**BASE, "StatementId": "has space"})
        assert "length less than or equal to 100" in refused({**BASE, "StatementId": "s" * 101})

    def test_an_action_must_be_a_lambda_action_or_a_star(self) -> None:
        assert statement(FN, {**BASE, "Action": "lambda:*"})["Action"] == "lambda:*"
        assert statement(FN, {**BASE, "Action": "*"})["Action"] == "*"
        assert refused({**BASE, "Action": "s3:GetObject"}) == (
            "1 validation error detected: Value 's3:GetObject' at 'action' failed to satisfy constraint: Member must "
            "satisfy regular expression pattern: (lambda:[*]|lambda:[a-zA-Z]+|[*])")

    @pytest.mark.parametrize(("field", "value", "member"), [
        ("SourceAccount", "12345", "sourceAccount"),
        ("SourceArn", "not-an-arn", "sourceArn"),
        ("PrincipalOrgID", "org-1", "principalOrgID"),
        ("EventSourceToken", "a token", "eventSourceToken"),
        ("FunctionUrlAuthType", "OPEN", "functionUrlAuthType"),
    ])
    def test_condition_fields_are_checked_against_their_shapes(self, field: str, value: str, member: str) -> None:
        assert f"Value '{value}' at '{member}' failed to satisfy constraint" in refused({**BASE, field: value})
