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


class InvalidParameter(RegistryError):
    """A value the registry cannot accept (InvalidParameterValueException)."""
