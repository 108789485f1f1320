"""Authenticating S3 requests (SigV4 header/query, SigV2 header/query) and wrapping the
request body so that what the signature promised about it is verified as it streams."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

from strato.auth import chunked, payload, sigv2, sigv4
from strato.auth.credentials import CredentialStore, Identity
from strato.auth.errors import AuthError
from strato.auth.verify import unknown_key, verify_v4
from strato.http import bodies
from strato.http.conditionals import parse_http_date
from strato.http.request import Request
from strato.storage.records import Expectation

from .errors import S3Error
from .headers import CHECKSUM_HEADERS
from .router import Endpoint


def authenticate(
    request: Request, endpoint: Endpoint, credentials: CredentialStore, now: float | None = None
) -> tuple[Identity | None, sigv4.Verified | None]:
    """The caller's identity (None when anonymous) and, for SigV4, what body checks need."""
    now = time.time() if now is None else now
    header = request.headers.get("authorization")
    query = request.query
    if header is not None and header.strip():  # an empty Authorization is no authorization
        v4 = sigv4.parse_header(header)
        if v4 is not None:
            return _verify_v4(request, v4, credentials, now)
        v2 = sigv2.parse_header(header)
        if v2 is None:
            raise AuthError("InvalidArgument", "Unsupported Authorization Type", 400)
        return _verify_v2(request, endpoint, v2, credentials, now), None
    if "X-Amz-Algorithm" in query or "X-Amz-Signature" in query:
        _hoist_query_headers(request)
        return _verify_v4(request, sigv4.parse_query(query), credentials, now)
    if "AWSAccessKeyId" in query or "Signature" in query:
        _hoist_query_headers(request)
        return _verify_v2(request, endpoint, sigv2.parse_query(query), credentials, now), None
    return None, None


_QUERY_AUTH = frozenset({
    "x-amz-algorithm", "x-amz-credential", "x-amz-date", "x-amz-expires", "x-amz-signedheaders",
    "x-amz-signature", "x-amz-security-token",
})


def _hoist_query_headers(request: Request) -> None:
    """Presigners move x-amz-* headers (x-amz-meta-*, x-amz-acl...) into the query string, so
    that whoever uses the URL need not send them; S3 reads them there as headers, and SigV2
    signs them as headers. A header actually sent wins."""
    for name, value in request.query_list:
        lowered = name.lower()
        if lowered.startswith("x-amz-") and lowered not in _QUERY_AUTH and lowered not in request.headers:
            request.headers[lowered] = value


def _verify_v4(
    request: Request, auth: sigv4.Authorization, credentials: CredentialStore, now: float
) -> tuple[Identity, sigv4.Verified]:
    return verify_v4(
        credentials, auth, method=request.method, raw_path=request.raw_path, raw_query=request.raw_query,
        headers=request.header_list, header_map=request.headers, query=request.query, now=now,
    )


def _verify_v2(
    request: Request, endpoint: Endpoint, auth: sigv2.V2Authorization, credentials: CredentialStore,
    now: float,
) -> Identity:
    identity = credentials.lookup(auth.access_key)
    if identity is None:
        raise unknown_key()
    path = request.raw_path.decode("latin-1")
    if endpoint.virtual_host and endpoint.bucket:
        path = f"/{endpoint.bucket}{path}"
    paths = [path]
    if endpoint.bucket and not endpoint.key and not endpoint.virtual_host and not path.endswith("/"):
        # botocore (and boto before it) sign a path-style bucket request `/bucket` as `/bucket/`,
        # the form virtual-hosted requests to the bucket root take; S3 accepts both.
        paths.append(path + "/")
    # x-amz-date, when sent, is the request's date even if empty or unparsable (S3 refuses it);
    # a date before the epoch is no valid date either.
    date_text = request.headers["x-amz-date"] if "x-amz-date" in request.headers else request.headers.get("date")
    date = parse_http_date(date_text) if date_text else None
    if date is not None and date < 0:
        date = None
    for index, candidate in enumerate(paths):
        resource = sigv2.canonical_resource(candidate, request.query_list)
        try:
            sigv2.verify(auth, identity.secret_key, method=request.method, headers=request.headers,
                         resource=resource, now=now, date=date)
        except AuthError as exc:
            if exc.code != "SignatureDoesNotMatch" or index == len(paths) - 1:
                raise
            continue
        break
    return identity


def request_body(
    request: Request, verified: sigv4.Verified | None, expect: Expectation, idle_timeout: float
) -> AsyncIterator[bytes]:
    """The body as the handler should read it: de-chunked, with signatures and the payload
    hash checked before the stream ends, and trailer checksums filled into `expect`."""
    length = request.content_length()
    raw = bodies.stream(request.receive, length, idle_timeout)
    mode = verified.payload_hash if verified else ""
    if mode in sigv4.STREAMING_MODES:
        decoded = _decoded_length(request)
        expect.size = decoded
        assert verified is not None
        signer = None
        if mode != sigv4.STREAMING_UNSIGNED_TRAILER:
            signer = chunked.ChunkSigner(
                verified.key, verified.amz_date, verified.scope, verified.signature,
                signed_trailer=mode == sigv4.STREAMING_SIGNED_TRAILER,
            )
        decoder = chunked.ChunkedDecoder(signer, decoded)
        return _with_trailers(raw, decoder, request.headers.get("x-amz-trailer"), expect)
    if verified is not None and mode not in (sigv4.UNSIGNED_PAYLOAD, ""):
        # The signed hash covers the bytes as sent, whatever unsigned headers say about them.
        raw = payload.verify_sha256(raw, mode)
    aws_chunked = "aws-chunked" in request.headers.get("content-encoding", "")
    if aws_chunked and "x-amz-decoded-content-length" in request.headers:
        decoded = _decoded_length(request)
        expect.size = decoded
        decoder = chunked.ChunkedDecoder(None, decoded)
        return _with_trailers(raw, decoder, request.headers.get("x-amz-trailer"), expect)
    return raw


def _decoded_length(request: Request) -> int:
    text = request.headers.get("x-amz-decoded-content-length")
    if text is None:
        raise S3Error("MissingContentLength", "You must provide the Content-Length HTTP header.", 411)
    if not (text.isascii() and text.isdigit()):
        raise S3Error("InvalidArgument", "x-amz-decoded-content-length must be a non-negative integer.",
                      ArgumentName="x-amz-decoded-content-length", ArgumentValue=text)
    return int(text)


async def _with_trailers(
    raw: AsyncIterator[bytes], decoder: chunked.ChunkedDecoder, trailer: str | None, expect: Expectation
) -> AsyncIterator[bytes]:
    async for piece in chunked.decode(raw, decoder):
        yield piece
    if trailer is not None:
        name = trailer.strip().lower()
        value = decoder.trailers.get(name)
        algorithm = CHECKSUM_HEADERS.get(name)
        if value is None or algorithm is None:
            raise S3Error("InvalidRequest", f"The trailer {trailer} was declared but not sent.")
        expect.checksums[algorithm] = value
