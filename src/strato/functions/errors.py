"""What the function registry refuses, named for the condition; the Lambda protocol layer
maps each to its error code in one table."""

from __future__ import annotations


class RegistryError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(RegistryError):
    """No such function, version or alias (ResourceNotFoundException)."""


class Conflict(RegistryError):
    """It exists already, or something still uses it (ResourceConflictException)."""


class PreconditionFailed(RegistryError):
    """A RevisionId or CodeSha256 the caller named is not the current one (PreconditionFailedException)."""


class AccessDenied(RegistryError):
    """An ARN of another account: not this caller's to name (AccessDeniedException)."""


class ConfigNotFound(RegistryError):
    """The version or alias exists but has no such configuration
    (ProvisionedConcurrencyConfigNotFoundException)."""


class PolicyTooLarge(RegistryError):
    """A statement would take a resource-based policy past its size limit (PolicyLengthExceededException)."""


class InvalidParameter(RegistryError):
    """A value the registry cannot accept (InvalidParameterValueException)."""


def missing(arn: str, *, alias: bool = False) -> str:
    """What Lambda's ResourceNotFoundException says of the function, version or alias an ARN
    names. An alias looked up as an alias (GetAlias, UpdateAlias, a qualifier that must name an
    existing alias) is "Cannot find alias arn"; anything else, a missing alias that GetFunction
    or Invoke was asked for included, is "Function not found". Source: LocalStack's AWS-recorded
    tests/aws/services/lambda_/test_lambda_api.snapshot.json, test_notfound_and_invalid_routingconfigs
    'alias_does_not_exist_esc', test_alias_lifecycle 'get_function_alias_notfound_exc',
    test_provisioned_concurrency_exceptions, test_tag_exceptions 'tag_lambda_doesnotexist'."""
    return f"{'Cannot find alias arn' if alias else 'Function not found'}: {arn}"
