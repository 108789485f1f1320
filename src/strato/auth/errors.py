"""Authentication failures, named by the S3 error code clients expect for each."""

from __future__ import annotations


class AuthError(Exception):
    def __init__(self, code: str, message: str, status: int = 403) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


def malformed(message: str) -> AuthError:
    return AuthError("AuthorizationHeaderMalformed", message, 400)


def query_error(message: str) -> AuthError:
    return AuthError("AuthorizationQueryParametersError", message, 400)


def mismatch() -> AuthError:
    return AuthError(
        "SignatureDoesNotMatch",
        "The request signature we calculated does not match the signature you provided. "
        "Check your key and signing method.",
    )
