"""Whether a function URL with AuthType NONE may be called, pure: only when the function's (or
the alias's) resource-based policy allows lambda:InvokeFunctionUrl to everyone for URLs of auth
type NONE, as AddPermission builds it (`--principal "*" --function-url-auth-type NONE`).
Source: the Lambda developer guide, "Control access to Lambda function URLs".
"""

from __future__ import annotations

from typing import Any

_ACTIONS = frozenset({"lambda:InvokeFunctionUrl", "lambda:*", "*"})


def _public(statement: dict[str, Any]) -> bool:
    principal = statement.get("Principal")
    condition = statement.get("Condition") or {}
    return (statement.get("Effect") == "Allow" and principal in ("*", {"AWS": "*"})
            and statement.get("Action") in _ACTIONS
            and (condition.get("StringEquals") or {}).get("lambda:FunctionUrlAuthType") == "NONE")


def allows_public(statements: list[dict[str, Any]]) -> bool:
    return any(_public(statement) for statement in statements)
