"""LambdaError, the one error type of the Lambda protocol, and the table that maps engine,
auth and HTTP errors to it. Anything not in the table is a 500 ServiceException, logged
with its request id. Source: the Lambda API reference, "Common Errors" and each operation's
"Errors" section; botocore reads the code from x-amzn-ErrorType and the text from `message`
or `Message`, whichever the code's shape in the service model names (Lambda answers with that one)."""

from __future__ import annotations

import json
from collections.abc import Callable

from strato.api.signed import json_auth_error
from strato.auth.errors import AuthError
from strato.errortable import translate
from strato.functions import errors as registry
from strato.functions.ipc import ControllerUnavailable
from strato.functions.packages import MAX_ZIPPED, InvalidPackage, PackageTooLarge
from strato.functions.records import TooManyRequests
from strato.http.bodies import BodyIncomplete, BodyTimeout
from strato.http.request import MalformedRequest

# The codes whose shape in Lambda's service model names the text `Message`; every other code's
# is `message`. AWS answers each with its own member's spelling (botocore surfaces it as is).
_CAPITALISED = frozenset({"ResourceNotFoundException", "ServiceException"})


class LambdaError(Exception):
    def __init__(self, code: str, message: str, status: int = 400, *, headers: dict[str, str] | None = None,
                 **fields: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.headers = headers or {}
        self.fields = fields

    def body(self) -> bytes:
        kind = "User" if self.status < 500 else "Service"
        key = "Message" if self.code in _CAPITALISED else "message"
        return json.dumps({"Type": kind, key: self.message, **self.fields}).encode()


def invalid_parameter(message: str) -> LambdaError:
    return LambdaError("InvalidParameterValueException", message)


def validation_error(value: object, member: str, constraint: str) -> LambdaError:
    """A request field that breaks its shape's constraint, worded as Lambda's request validation
    words it (`value` None: the field is missing)."""
    shown = "null" if value is None else f"'{value}'"
    return invalid_parameter(f"1 validation error detected: Value {shown} at '{member}' failed to satisfy "
                             f"constraint: {constraint}")


def enum_value(value: str | None, member: str, allowed: tuple[str, ...]) -> str | None:
    """A field that is one of `allowed` when given, refused in Lambda's validation wording."""
    if value is not None and value not in allowed:
        raise validation_error(value, member, f"Member must satisfy enum value set: [{', '.join(allowed)}]")
    return value


def invalid_content(message: str) -> LambdaError:
    return LambdaError("InvalidRequestContentException", message)


def not_found(message: str) -> LambdaError:
    return LambdaError("ResourceNotFoundException", message, 404)


PACKAGE_OPERATIONS = frozenset({"CreateFunction", "UpdateFunctionCode", "PublishLayerVersion"})  # they upload a zip


def too_large(limit: int, operation: str) -> LambdaError:
    """A request over its operation's limit: Lambda answers a package upload's with
    RequestEntityTooLargeException, any other's (an Invoke's) with RequestTooLargeException."""
    code = "RequestEntityTooLargeException" if operation in PACKAGE_OPERATIONS else "RequestTooLargeException"
    return LambdaError(code, f"Request must be smaller than {limit} bytes for the {operation} operation", 413)


def package_too_large() -> LambdaError:
    return LambdaError("RequestEntityTooLargeException", f"Zipped size must be smaller than {MAX_ZIPPED} bytes", 413)


def _auth(exc: AuthError) -> LambdaError:
    kind, message = json_auth_error(exc)
    return LambdaError(kind, message, 400 if kind == "IncompleteSignatureException" else 403)


def _throttled(exc: TooManyRequests) -> LambdaError:
    return LambdaError("TooManyRequestsException", exc.message, 429, headers={"retry-after": "1"},
                       Reason=exc.reason)


_Mapper = Callable[[Exception], LambdaError]

_TABLE: dict[type[Exception], _Mapper] = {
    registry.NotFound: lambda e: not_found(str(e)),
    registry.ConfigNotFound: lambda e: LambdaError("ProvisionedConcurrencyConfigNotFoundException", str(e), 404),
    registry.Conflict: lambda e: LambdaError("ResourceConflictException", str(e), 409),
    registry.PreconditionFailed: lambda e: LambdaError("PreconditionFailedException", str(e), 412),
    registry.InvalidParameter: lambda e: invalid_parameter(str(e)),
    registry.PolicyTooLarge: lambda e: LambdaError("PolicyLengthExceededException", str(e)),
    InvalidPackage: lambda e: invalid_parameter(str(e)),
    PackageTooLarge: lambda e: package_too_large(),
    registry.AccessDenied: lambda e: LambdaError("AccessDeniedException", str(e), 403),
    TooManyRequests: lambda e: _throttled(e),  # type: ignore[arg-type]
    AuthError: lambda e: _auth(e),  # type: ignore[arg-type]
    ControllerUnavailable: lambda e: LambdaError("ServiceException", f"Functions cannot run right now: {e}", 500),
    MalformedRequest: lambda e: invalid_content(str(e)),
    BodyIncomplete: lambda e: invalid_content(f"The request body ended early: {e}"),
    BodyTimeout: lambda e: LambdaError("RequestTimeoutException", f"The request body stalled: {e}", 408),
}


def to_lambda_error(exc: Exception) -> LambdaError | None:
    """The protocol error for an exception; None when it is unexpected (a 500)."""
    return translate(exc, LambdaError, _TABLE)
