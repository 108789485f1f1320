"""Lambda errors: one type, rendered as the JSON botocore parses, and the mapping table."""

from __future__ import annotations

import json

from strato.api.awslambda.errors import LambdaError, to_lambda_error
from strato.auth.errors import AuthError, mismatch
from strato.functions.errors import AccessDenied, Conflict, InvalidParameter, NotFound, PreconditionFailed
from strato.functions.packages import InvalidPackage, PackageTooLarge
from strato.functions.records import TooManyRequests


def test_the_body_carries_the_fault_side_and_message_and_extra_fields() -> None:
    error = LambdaError("TooManyRequestsException", "Rate exceeded", 429, Reason="ConcurrentInvocationLimitExceeded")
    assert json.loads(error.body()) == {"Type": "User", "message": "Rate exceeded",
                                        "Reason": "ConcurrentInvocationLimitExceeded"}
    assert json.loads(LambdaError("ServiceException", "boom", 500).body())["Type"] == "Service"


def test_engine_errors_map_to_their_lambda_codes_and_statuses() -> None:
    cases = [
        (NotFound("x"), "ResourceNotFoundException", 404),
        (Conflict("x"), "ResourceConflictException", 409),
        (PreconditionFailed("x"), "PreconditionFailedException", 412),
        (InvalidParameter("x"), "InvalidParameterValueException", 400),
        (InvalidPackage("x"), "InvalidParameterValueException", 400),
        (PackageTooLarge("x"), "RequestEntityTooLargeException", 413),
        (AccessDenied("x"), "AccessDeniedException", 403),
        (mismatch(), "InvalidSignatureException", 403),
        (AuthError("InvalidAccessKeyId", "x"), "UnrecognizedClientException", 403),
    ]
    for exc, code, status in cases:
        error = to_lambda_error(exc)
        assert error is not None
        assert (error.code, error.status) == (code, status)


def test_a_throttle_carries_its_reason_and_a_retry_after() -> None:
    error = to_lambda_error(TooManyRequests("ReservedFunctionConcurrentInvocationLimitExceeded", "Rate exceeded"))
    assert error is not None
    assert (error.code, error.status, error.fields["Reason"]) == (
        "TooManyRequestsException", 429, "ReservedFunctionConcurrentInvocationLimitExceeded")
    assert "retry-after" in error.headers


def test_an_unexpected_exception_is_unmapped_so_that_it_becomes_a_logged_500() -> None:
    assert to_lambda_error(KeyError("surprise")) is None


def test_the_text_is_spelled_as_the_codes_shape_in_the_service_model_spells_it() -> None:
    not_found = LambdaError("ResourceNotFoundException", "gone", 404)
    assert json.loads(not_found.body()) == {"Type": "User", "Message": "gone"}
    assert json.loads(LambdaError("ServiceException", "boom", 500).body()) == {"Type": "Service", "Message": "boom"}
    assert "message" in json.loads(LambdaError("InvalidParameterValueException", "bad").body())
