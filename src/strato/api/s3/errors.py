"""S3Error, the one error type of the S3 protocol, and the table that maps engine and auth
errors to it. Anything not in the table is a 500 InternalError, logged with its request id."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from strato.auth.errors import AuthError
from strato.auth.policy import MalformedPolicy
from strato.errortable import translate
from strato.http.bodies import BodyIncomplete, BodyTimeout, BodyTooLarge
from strato.http.request import MalformedRequest
from strato.storage import errors as storage

from . import xml


class S3Error(Exception):
    """What the error names beside its message (its <Error> fields) is given when it is built,
    as keywords (`BucketName=...`) or, for names that are no Python identifier or come from
    elsewhere, as the `fields` mapping (first); an error is complete when created."""

    def __init__(
        self, code: str, message: str, status: int = 400, *, headers: dict[str, str] | None = None,
        fields: Mapping[str, str] | None = None, **named: str,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.headers = headers or {}
        self.fields: Mapping[str, str] = {**(fields or {}), **named}

    def body(self, request_id: str) -> bytes:
        """The <Error> document: Code, Message, the error's own fields, RequestId and HostId; S3
        names no Resource (absent from every error LocalStack recorded from AWS)."""
        parts = [
            '<?xml version="1.0" encoding="UTF-8"?>\n<Error>',
            f"<Code>{xml.escape(self.code)}</Code><Message>{xml.escape(self.message)}</Message>",
        ]
        parts.extend(f"<{name}>{xml.escape(value)}</{name}>" for name, value in self.fields.items())
        parts.append(f"<RequestId>{request_id}</RequestId>")
        parts.append(f"<HostId>{request_id}</HostId></Error>")
        return "".join(parts).encode()


def not_implemented(operation: str) -> S3Error:
    return S3Error("NotImplemented", f"{operation} is not implemented by strato yet.", 501)


def invalid_argument(message: str, name: str = "", value: str = "") -> S3Error:
    named = {"ArgumentName": name, "ArgumentValue": value} if name else None
    return S3Error("InvalidArgument", message, 400, fields=named)


_Mapper = Callable[[Exception], S3Error]

_STORAGE: dict[type[Exception], _Mapper] = {
    storage.NoSuchBucket: lambda e: S3Error(
        "NoSuchBucket", "The specified bucket does not exist", 404, BucketName=str(e)
    ),
    storage.NoSuchKey: lambda e: S3Error("NoSuchKey", "The specified key does not exist.", 404, Key=str(e)),
    storage.BucketNotEmpty: lambda e: S3Error(
        "BucketNotEmpty", "The bucket you tried to delete is not empty", 409, BucketName=str(e)
    ),
    storage.BucketAlreadyExists: lambda e: S3Error(
        "BucketAlreadyOwnedByYou", "Your previous request to create the named bucket succeeded and you already own it.",
        409, BucketName=str(e),
    ),
    storage.NoSuchUpload: lambda e: S3Error(
        "NoSuchUpload", "The specified upload does not exist. The upload ID may be invalid, "
        "or the upload may have been aborted or completed.", 404, UploadId=str(e),
    ),
    storage.InvalidPart: lambda e: _invalid_part(e),  # type: ignore[arg-type]
    storage.InvalidPartOrder: lambda e: S3Error(
        "InvalidPartOrder", "The list of parts was not in ascending order. Parts must be ordered by part number.",
        UploadId=str(e),
    ),
    storage.EntityTooSmall: lambda e: _entity_too_small(e),  # type: ignore[arg-type]
    storage.EntityTooLarge: lambda e: S3Error(
        "EntityTooLarge", "Your proposed upload exceeds the maximum allowed object size.", MaxSizeAllowed=str(e),
    ),
    storage.IncompleteBody: lambda e: S3Error(
        "IncompleteBody", "You did not provide the number of bytes specified by the Content-Length HTTP header.",
    ),
    storage.BadDigest: lambda e: S3Error(
        "BadDigest", "The Content-MD5 you specified did not match what we received."
        if getattr(e, "algorithm", "") == "MD5"
        else f"The {getattr(e, 'algorithm', '')} you specified did not match the calculated checksum.",
    ),
    storage.PreconditionFailed: lambda e: S3Error(
        "PreconditionFailed", "At least one of the pre-conditions you specified did not hold", 412, Condition=str(e),
    ),
    storage.ConditionalRequestConflict: lambda e: S3Error(
        "ConditionalRequestConflict", "A conflicting operation occurred. Please retry.", 409,
    ),
    storage.InvalidPartNumber: lambda e: S3Error(
        "InvalidPartNumber", "The requested partnumber is not satisfiable", 416,
    ),
    storage.InvalidRequest: lambda e: S3Error("InvalidRequest", str(e)),
    BodyTimeout: lambda e: S3Error(
        "RequestTimeout",
        "Your socket connection to the server was not read from or written to within the timeout period.",
    ),
    BodyTooLarge: lambda e: S3Error("IncompleteBody", "The request body is longer than its Content-Length."),
    BodyIncomplete: lambda e: S3Error(
        "IncompleteBody", "You did not provide the number of bytes specified by the Content-Length HTTP header.",
    ),
    MalformedRequest: lambda e: S3Error("InvalidURI", "Couldn't parse the specified URI."),
    xml.MalformedXML: lambda e: S3Error(
        "MalformedXML", "The XML you provided was not well-formed or did not validate against our published schema",
    ),
    MalformedPolicy: lambda e: S3Error("MalformedPolicy", str(e)),
    AuthError: lambda e: _auth(e),  # type: ignore[arg-type]
}


def _invalid_part(exc: storage.InvalidPart) -> S3Error:
    """S3's wording, two spaces included, with the upload, part number and ETag refused."""
    return S3Error(
        "InvalidPart", "One or more of the specified parts could not be found.  The part may not have been "
        "uploaded, or the specified entity tag may not match the part's entity tag.",
        UploadId=exc.upload_id, PartNumber=str(exc.number), ETag=exc.etag,
    )


def _entity_too_small(exc: storage.EntityTooSmall) -> S3Error:
    return S3Error(
        "EntityTooSmall", "Your proposed upload is smaller than the minimum allowed size",
        ProposedSize=str(exc.size), MinSizeAllowed=str(exc.minimum), PartNumber=str(exc.number), ETag=exc.etag,
    )


def _auth(exc: AuthError) -> S3Error:
    return S3Error(exc.code, exc.message, exc.status, fields=exc.fields)


def to_s3_error(exc: Exception) -> S3Error | None:
    """The S3 error for a known failure, or None for a bug (which becomes a 500)."""
    return translate(exc, S3Error, _STORAGE)
