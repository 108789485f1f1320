"""Authentication failures, named by the S3 error code clients expect for each."""

from __future__ import annotations

import time
from collections.abc import Mapping


class AuthError(Exception):
    """`fields`: what the error names beside its message (S3 puts them in its <Error>)."""

    def __init__(self, code: str, message: str, status: int = 403, fields: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.fields: Mapping[str, str] = fields or {}


def malformed(message: str) -> AuthError:
    return AuthError("AuthorizationHeaderMalformed", message, 400)


def query_error(message: str) -> AuthError:
    return AuthError("AuthorizationQueryParametersError", message, 400)


def mismatch(access_key: str = "", string_to_sign: str | None = None, provided: str = "",
             canonical_request: str | None = None) -> AuthError:
    """SignatureDoesNotMatch with what the server signed, as S3 shows it so that a client's author
    can compare (nothing secret: the key's id, the texts signed, the signature the client sent)."""
    fields: dict[str, str] = {}
    if string_to_sign is not None:
        fields.update(AWSAccessKeyId=access_key, StringToSign=string_to_sign, SignatureProvided=provided,
                      StringToSignBytes=_hex_bytes(string_to_sign))
    if canonical_request is not None:
        fields.update(CanonicalRequest=canonical_request, CanonicalRequestBytes=_hex_bytes(canonical_request))
    return AuthError(
        "SignatureDoesNotMatch",
        "The request signature we calculated does not match the signature you provided. "
        "Check your key and signing method.",
        fields=fields,
    )


def expired(expires_at: float, now: float, lifetime: int | None = None) -> AuthError:
    """A presigned request past its time, with S3's X-Amz-Expires (SigV4), Expires and ServerTime."""
    fields = {} if lifetime is None else {"X-Amz-Expires": str(lifetime)}
    fields.update(Expires=_iso(expires_at), ServerTime=_iso(now))
    return AuthError("AccessDenied", "Request has expired", fields=fields)


def _iso(epoch: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def _hex_bytes(text: str) -> str:
    return text.encode("utf-8", "surrogateescape").hex(" ")
