"""AWS Signature Version 2 for S3 (header and presigned query), pure.

Source: Amazon S3 Developer Guide, "Signing and authenticating REST requests" (legacy).
boto3, `aws s3 presign` and `s3cmd signurl` still presign with it for custom endpoints.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable
from dataclasses import dataclass

from strato.auth.errors import AuthError, expired, mismatch
from strato.auth.sigv4 import header_text

SUBRESOURCES = frozenset(
    {
        "accelerate", "acl", "analytics", "cors", "delete", "encryption", "inventory", "lifecycle",
        "location", "logging", "metrics", "notification", "object-lock", "partNumber", "policy",
        "publicAccessBlock", "replication", "requestPayment", "restore", "retention", "legal-hold",
        "tagging", "torrent", "uploadId", "uploads", "versionId", "versioning", "versions", "website",
        "ownershipControls", "intelligent-tiering", "attributes",
        "response-cache-control", "response-content-disposition", "response-content-encoding",
        "response-content-language", "response-content-type", "response-expires",
    }
)


@dataclass(frozen=True, slots=True)
class V2Authorization:
    access_key: str
    signature: str
    presigned: bool = False
    expires: int = 0


def parse_header(value: str) -> V2Authorization | None:
    scheme, _, rest = value.strip().partition(" ")
    if scheme != "AWS":
        return None
    access, sep, signature = rest.rpartition(":")
    if not sep or not access:
        raise AuthError(
            "InvalidArgument", "Authorization header is invalid -- one and only one ' ' (space) required", 400
        )
    return V2Authorization(access, signature)


def parse_query(query: dict[str, str]) -> V2Authorization:
    try:
        access, signature, expires = query["AWSAccessKeyId"], query["Signature"], query["Expires"]
    except KeyError:
        raise AuthError(
            "AccessDenied", "Query-string authentication requires the Signature, Expires and AWSAccessKeyId parameters"
        ) from None
    if not (expires.isascii() and expires.isdigit()):
        raise AuthError("AccessDenied", "Expires must be a number of seconds since the epoch")
    return V2Authorization(access, signature, True, int(expires))


def canonical_resource(path: str, query: Iterable[tuple[str, str]]) -> str:
    """`path` is the request path as sent (still percent-encoded), with the bucket first."""
    picked = sorted((name, value) for name, value in query if name in SUBRESOURCES)
    if not picked:
        return path
    return path + "?" + "&".join(f"{name}={value}" if value else name for name, value in picked)


def string_to_sign(method: str, headers: dict[str, str], date_line: str, resource: str) -> str:
    amz = sorted(
        (name, " ".join(header_text(value).split())) for name, value in headers.items() if name.startswith("x-amz-")
    )
    lines = [method, headers.get("content-md5", ""), header_text(headers.get("content-type", "")), date_line]
    lines.extend(f"{name}:{value}" for name, value in amz)
    lines.append(resource)
    return "\n".join(lines)


def sign(secret: str, text: str) -> str:
    digest = hmac.digest(secret.encode(), text.encode("utf-8", "surrogateescape"), hashlib.sha1)
    return base64.b64encode(digest).decode()


def verify(
    auth: V2Authorization, secret: str, *, method: str, headers: dict[str, str], resource: str, now: float,
    date: float | None,
) -> None:
    """Check a V2 signature and its time window; `date` is the request's Date/x-amz-date."""
    if auth.presigned:
        if now > auth.expires:
            raise expired(auth.expires, now)
    else:
        if date is None:
            raise AuthError("AccessDenied", "AWS authentication requires a valid Date or x-amz-date header")
        if abs(now - date) > 15 * 60:
            raise AuthError(
                "RequestTimeTooSkewed", "The difference between the request time and the current time is too large."
            )
    texts = [string_to_sign(method, headers, str(auth.expires), resource)] if auth.presigned else (
        _header_texts(method, headers, resource)
    )
    # Every candidate signs the same date the time window was checked against; any may match.
    if not any(hmac.compare_digest(sign(secret, text), auth.signature) for text in texts):
        raise mismatch(auth.access_key, texts[0], auth.signature)


def _header_texts(method: str, headers: dict[str, str], resource: str) -> list[str]:
    """The strings to sign a header-signed request may have used.

    With x-amz-date, the S3 guide says the Date line is empty (s3cmd, boto2); botocore and
    MinIO keep the Date header there; the guide's own DELETE example puts the x-amz-date value
    there instead of in the x-amz headers. All three sign the x-amz-date value.
    """
    amz_date = headers.get("x-amz-date")
    if amz_date is None:
        return [string_to_sign(method, headers, headers.get("date", ""), resource)]
    texts = [string_to_sign(method, headers, "", resource)]
    if "date" in headers:
        texts.append(string_to_sign(method, headers, headers["date"], resource))
    others = {name: value for name, value in headers.items() if name != "x-amz-date"}
    texts.append(string_to_sign(method, others, amz_date, resource))
    return texts
