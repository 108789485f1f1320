"""AddPermission's and AddLayerVersionPermission's statements, pure: each request field checked
against botocore's Lambda service model, and the policy statement Lambda builds from them.

Source: the Lambda API reference, "AddPermission" (Principal: a service's domain-style name,
an account id, an IAM ARN or `*`; SourceArn, SourceAccount, PrincipalOrgID, EventSourceToken,
FunctionUrlAuthType, InvokedViaFunctionUrl become the statement's conditions) and botocore's
shapes StatementId, Action, Principal, Arn, SourceOwner, PrincipalOrgID, EventSourceToken.
"""

from __future__ import annotations

import functools
import re
from typing import Any

from .errors import enum_value, invalid_parameter, validation_error
from .shapes import at_most

STATEMENT_ID = r"([a-zA-Z0-9-_]+)"
REMOVED_STATEMENT_ID = r"([a-zA-Z0-9-_.]+)"  # RemovePermission's NamespacedStatementId
ACTION = r"(lambda:[*]|lambda:[a-zA-Z]+|[*])"
PRINCIPAL = r"[^\s]+"
SOURCE_ARN = (r"arn:(aws[a-zA-Z0-9-]*):([a-zA-Z0-9\-])+:((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1})?:"
              r"(\d{12})?:(.*)")
SOURCE_ACCOUNT = r"\d{12}"
PRINCIPAL_ORG_ID = r"o-[a-z0-9]{10,32}"
EVENT_SOURCE_TOKEN = r"[a-zA-Z0-9._\-]+"
LAYER_ACTION = r"lambda:GetLayerVersion"
LAYER_PRINCIPAL = r"\d{12}|\*|arn:(aws[a-zA-Z-]*):iam::\d{12}:root"
AUTH_TYPES = ("NONE", "AWS_IAM")
_ACCOUNT = re.compile(r"\d{12}")
_IAM_ARN = re.compile(r"arn:aws[a-zA-Z-]*:iam::\d{12}:.+")


def check(value: str | None, member: str, pattern: str, low: int = 0, high: int = 10000,
          required: bool = False) -> str | None:
    """A field against its shape's pattern and length, worded as Lambda's validation words it."""
    if value is None:
        if required:
            raise validation_error(None, member, "Member must not be null")
        return None
    at_most(value, high, member)
    if len(value) < low:
        raise validation_error(value, member, f"Member must have length greater than or equal to {low}")
    if not re.fullmatch(pattern, value):
        raise validation_error(value, member, f"Member must satisfy regular expression pattern: {pattern}")
    return value


def principal_of(principal: str) -> str | dict[str, str]:
    """The statement's Principal: a service by name, an account as its root ARN, an IAM ARN, or *."""
    if principal == "*":
        return "*"
    if principal.endswith(".amazonaws.com"):
        return {"Service": principal}
    if _ACCOUNT.fullmatch(principal):
        return {"AWS": f"arn:aws:iam::{principal}:root"}
    if _IAM_ARN.fullmatch(principal):
        return {"AWS": principal}
    raise invalid_parameter("The provided principal was invalid. Please check the principal and try again.")


def _text(fields: dict[str, Any], name: str) -> str | None:
    """A request field that must be a string, when given."""
    value = fields.get(name)
    if value is not None and not isinstance(value, str):
        raise invalid_parameter(f"{name} must be a string")
    return value


def statement(resource: str, fields: dict[str, Any]) -> dict[str, Any]:
    """The policy statement for AddPermission's request `fields` on `resource` (the function's
    ARN, qualified when the request named a qualifier)."""
    text = functools.partial(_text, fields)
    sid = check(text("StatementId"), "statementId", STATEMENT_ID, 1, 100, required=True)
    action = check(text("Action"), "action", ACTION, required=True)
    principal = check(text("Principal"), "principal", PRINCIPAL, 0, 2048, required=True)
    source_arn = check(text("SourceArn"), "sourceArn", SOURCE_ARN)
    source_account = check(text("SourceAccount"), "sourceAccount", SOURCE_ACCOUNT, 0, 12)
    org_id = check(text("PrincipalOrgID"), "principalOrgID", PRINCIPAL_ORG_ID, 12, 34)
    token = check(text("EventSourceToken"), "eventSourceToken", EVENT_SOURCE_TOKEN, 0, 256)
    auth_type = enum_value(text("FunctionUrlAuthType"), "functionUrlAuthType", AUTH_TYPES)
    via_url = fields.get("InvokedViaFunctionUrl")
    if via_url is not None and not isinstance(via_url, bool):
        raise invalid_parameter("InvokedViaFunctionUrl must be a boolean")

    equals = {key: value for key, value in (
        ("AWS:SourceAccount", source_account), ("aws:PrincipalOrgID", org_id),
        ("lambda:EventSourceToken", token), ("lambda:FunctionUrlAuthType", auth_type),
    ) if value is not None}
    condition: dict[str, dict[str, str]] = {}
    if equals:
        condition["StringEquals"] = equals
    if source_arn is not None:
        condition["ArnLike"] = {"AWS:SourceArn": source_arn}
    if via_url:
        condition["Bool"] = {"lambda:InvokedViaFunctionUrl": "true"}
    built: dict[str, Any] = {"Sid": sid, "Effect": "Allow", "Principal": principal_of(str(principal)),
                             "Action": action, "Resource": resource}
    if condition:
        built["Condition"] = condition
    return built


def layer_statement(resource: str, fields: dict[str, Any]) -> dict[str, Any]:
    """The statement AddLayerVersionPermission's `fields` add to the policy of the layer version
    `resource` (an ARN): who may use it, an account, an organisation or everyone."""
    text = functools.partial(_text, fields)
    sid = check(text("StatementId"), "statementId", STATEMENT_ID, 1, 100, required=True)
    action = check(text("Action"), "action", LAYER_ACTION, 0, 22, required=True)
    principal = check(text("Principal"), "principal", LAYER_PRINCIPAL, 0, 10000, required=True)
    org_id = check(text("OrganizationId"), "organizationId", PRINCIPAL_ORG_ID, 0, 34)
    built: dict[str, Any] = {"Sid": sid, "Effect": "Allow", "Principal": principal_of(str(principal)),
                             "Action": action, "Resource": resource}
    if org_id is not None:
        built["Condition"] = {"StringEquals": {"aws:PrincipalOrgID": org_id}}
    return built
