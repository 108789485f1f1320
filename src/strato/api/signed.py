"""SigV4 for the services that sign their body's SHA-256 (Lambda, CloudWatch Logs, CloudFront).

A request's claim (its key, and whether that key may call the service at all) is checked from
its head, so that strangers are turned away before any body is read; the signature is checked
once the body it covers is. S3 signs differently (api/s3/authn.py).
"""

from __future__ import annotations

import hashlib
import re
import time

from strato.auth import sigv4
from strato.auth.credentials import CredentialStore, Identity, refuse_function
from strato.auth.errors import AuthError
from strato.auth.verify import unknown_key, verify_v4
from strato.http import bodies
from strato.http.request import Request


def claim(request: Request, credentials: CredentialStore) -> tuple[sigv4.Authorization, Identity]:
    """The signature the request claims (its Authorization header, else a presigned query) and
    the known key it names; raises AuthError when it claims none, another scheme's, or an
    unknown key."""
    header = request.headers.get("authorization", "").strip()
    if header:
        auth = sigv4.parse_header(header)
        if auth is None:
            raise AuthError("IncompleteSignature", "Only AWS4-HMAC-SHA256 signatures are accepted.", 400)
    elif "X-Amz-Signature" in request.query:
        auth = sigv4.parse_query(request.query)
    else:
        raise AuthError("MissingAuthenticationToken", "Missing Authentication Token")
    identity = credentials.lookup(auth.scope.access_key)
    if identity is None:
        raise unknown_key()
    return auth, identity


def names_known_key(headers: list[tuple[bytes, bytes]], credentials: CredentialStore) -> bool:
    """Whether the Authorization header names a key the store knows: asked before a body is
    read ahead of the app (the lane's Invoke), so that a stranger's body is not."""
    for name, value in headers:
        if name == b"authorization":
            found = _CREDENTIAL.search(value)
            return found is not None and credentials.lookup(found[1].decode("latin-1")) is not None
    return False


def verify_body(credentials: CredentialStore, auth: sigv4.Authorization, request: Request, body: bytes) -> None:
    """The claimed signature covers this request and its body; raises AuthError."""
    verify_v4(credentials, auth, method=request.method, raw_path=request.raw_path, raw_query=request.raw_query,
              headers=request.header_list, header_map=request.headers, query=request.query, now=time.time(),
              body_sha256=hashlib.sha256(body).hexdigest())


async def signed_body(request: Request, credentials: CredentialStore, action: str, limit: int,
                      idle_timeout: float) -> bytes:
    """The body of a request signed by a key that may perform `action` (on any resource), read
    (up to `limit` bytes) only once its head has named such a key, then checked against the
    signature: CloudFront's and CloudWatch Logs' whole check, as a function's own keys may call
    neither."""
    auth, identity = claim(request, credentials)
    refuse_function(identity, action, "*")
    body = await bodies.collect(bodies.stream(request.receive, request.content_length(), idle_timeout), limit)
    verify_body(credentials, auth, request, body)
    return body


def json_auth_error(exc: AuthError) -> tuple[str, str]:
    """The error type and message AWS's JSON services (Lambda, CloudWatch Logs) answer a
    refused signature with."""
    return _JSON_TYPES.get(exc.code, "IncompleteSignatureException"), _message(exc)


def xml_auth_error(exc: AuthError) -> tuple[str, str, int]:
    """The error code, message and status AWS's XML services (CloudFront) answer a refused
    signature with: the common errors of their API references."""
    code, status = _XML_CODES.get(exc.code, ("IncompleteSignature", 400))
    return code, _message(exc), status


def _message(exc: AuthError) -> str:
    """As AWS's services but S3 word a refusal: a mismatch names what the server signed."""
    if exc.code == "InvalidAccessKeyId":
        return "The security token included in the request is invalid."
    if exc.code != "SignatureDoesNotMatch":
        return exc.message
    message = ("The request signature we calculated does not match the signature you provided. Check your AWS "
               "Secret Access Key and signing method. Consult the service documentation for details.")
    if "CanonicalRequest" in exc.fields:
        message += (f"\n\nThe Canonical String for this request should have been\n'{exc.fields['CanonicalRequest']}'"
                    f"\n\nThe String-to-Sign should have been\n'{exc.fields['StringToSign']}'\n")
    return message


_CREDENTIAL = re.compile(rb"Credential=([^/,\s]+)/")
_JSON_TYPES = {
    "InvalidAccessKeyId": "UnrecognizedClientException",
    "SignatureDoesNotMatch": "InvalidSignatureException",
    "RequestTimeTooSkewed": "InvalidSignatureException",
    "InvalidSignatureException": "InvalidSignatureException",
    "MissingAuthenticationToken": "MissingAuthenticationTokenException",
    "AccessDenied": "AccessDeniedException",
}

_XML_CODES = {
    "InvalidAccessKeyId": ("InvalidClientTokenId", 403),
    "SignatureDoesNotMatch": ("SignatureDoesNotMatch", 403),
    "RequestTimeTooSkewed": ("RequestExpired", 400),
    "InvalidSignatureException": ("SignatureDoesNotMatch", 403),
    "MissingAuthenticationToken": ("MissingAuthenticationToken", 403),
    "AccessDenied": ("AccessDenied", 403),
}
