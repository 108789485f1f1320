"""LogsError, the one error type of the CloudWatch Logs protocol, rendered as awsJson1_1's
`{"__type": code, "message": text}`, and the table mapping auth and body errors to it. Anything
not in the table is a 500 ServiceUnavailableException, logged with its request id.
Source: the CloudWatch Logs API reference, "Common Errors" and each operation's "Errors"."""

from __future__ import annotations

import json
from collections.abc import Callable

from strato.api.signed import json_auth_error
from strato.auth.errors import AuthError
from strato.errortable import translate
from strato.http.bodies import BodyIncomplete, BodyTimeout, BodyTooLarge
from strato.http.request import MalformedRequest


class LogsError(Exception):
    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status

    def body(self) -> bytes:
        return json.dumps({"__type": self.code, "message": self.message}).encode()


def invalid_parameter(message: str) -> LogsError:
    return LogsError("InvalidParameterException", message)


def no_such_group() -> LogsError:
    return LogsError("ResourceNotFoundException", "The specified log group does not exist.")


def no_such_stream() -> LogsError:
    return LogsError("ResourceNotFoundException", "The specified log stream does not exist.")


def bad_token() -> LogsError:
    return invalid_parameter("The specified nextToken is invalid.")


def unknown_operation(operation: str) -> LogsError:
    return LogsError("UnknownOperationException",
                     f"{operation or 'The request'} is not a CloudWatch Logs operation strato implements.")


_Mapper = Callable[[Exception], LogsError]

_TABLE: dict[type[Exception], _Mapper] = {
    AuthError: lambda e: LogsError(*json_auth_error(e)),  # type: ignore[arg-type]
    BodyTooLarge: lambda e: LogsError("SerializationException", "The request body is too large.", 413),
    BodyIncomplete: lambda e: LogsError("SerializationException", f"The request body ended early: {e}"),
    BodyTimeout: lambda e: LogsError("RequestTimeout", f"The request body stalled: {e}", 408),
    MalformedRequest: lambda e: LogsError("SerializationException", str(e)),
}


def to_logs_error(exc: Exception) -> LogsError | None:
    """The protocol error for an exception; None when it is unexpected (a 500)."""
    return translate(exc, LogsError, _TABLE)
