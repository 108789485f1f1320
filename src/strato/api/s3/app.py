"""The S3 ASGI app: route -> authenticate -> authorize -> dispatch -> render.

Errors become S3 XML here and only here. Once a response has started, an error can only
abort the stream; it never becomes a second response.
"""

from __future__ import annotations

import dataclasses
import logging
import secrets
import time

from strato.auth import viewer
from strato.auth.credentials import CredentialStore
from strato.http.request import Request
from strato.http.responses import Response, Tracked
from strato.http.types import Receive, Scope, Send
from strato.storage.engine import ObjectStore
from strato.storage.errors import NoSuchBucket, NoSuchKey

from . import cors
from . import headers as h
from .access import authorize
from .authn import authenticate, request_body
from .call import Call, Destinations, S3Settings, no_destinations
from .errors import S3Error, not_implemented, to_s3_error
from .handlers import HANDLERS
from .router import Endpoint, route

log = logging.getLogger("strato.s3")
# An answer a bucket policy's conditions gave this request, and may refuse the next: CDNs in front
# (strato's edge among them) must ask again for each viewer rather than store it.
PER_REQUEST = (b"cdn-cache-control", b"private")


def preflight(request: Request, endpoint: Endpoint, store: ObjectStore) -> Response:
    """A CORS preflight (OPTIONS) is never signed: it is answered from the bucket's CORS
    configuration alone. Without Origin it is a bad request. With Origin, a missing bucket or a
    bucket without CORS is refused on the bucket, naming the requested method or, when none is
    requested, OPTIONS (test_s3_cors.py test_cors_http_options_no_config and
    test_cors_http_options_non_existent_bucket); a CORS bucket needs Access-Control-Request-Method."""
    origin = request.headers.get("origin")
    method = request.headers.get("access-control-request-method")
    if origin is None:
        raise cors.insufficient()
    try:
        document = store.bucket_cors(endpoint.bucket) if endpoint.bucket is not None else None
    except NoSuchBucket:
        raise cors.forbidden(method or "OPTIONS", "BUCKET", cors.NO_BUCKET) from None
    if document is None:
        raise cors.forbidden(method or "OPTIONS", "BUCKET", cors.NOT_ENABLED)
    if method is None:
        raise cors.insufficient()
    resource_type = "OBJECT" if endpoint.key is not None else "BUCKET"
    requested = cors.requested_headers(request.headers.get("access-control-request-headers"))
    rule = cors.match(cors.from_document(document), origin, method, requested)
    if rule is None:
        raise cors.forbidden(method, resource_type)
    return Response(200, cors.preflight_headers(rule, origin, requested))


def cors_headers(request: Request, endpoint: Endpoint, store: ObjectStore) -> list[tuple[bytes, bytes]]:
    """The CORS headers an actual request's response (an error too) carries, as S3 sends them."""
    if "origin" not in request.headers or endpoint.bucket is None:
        return []
    try:
        document = store.bucket_cors(endpoint.bucket)
    except NoSuchBucket:
        return []
    return [(name.encode(), value.encode("latin-1", "replace"))
            for name, value in cors.headers_for(document, request.headers, request.method)]


class S3App:
    def __init__(self, store: ObjectStore, credentials: CredentialStore, settings: S3Settings,
                 destinations: Destinations = no_destinations) -> None:
        self.store = store
        self.credentials = credentials
        self.settings = settings
        self.destinations = destinations

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request_id = secrets.token_hex(8).upper()
        tracked = Tracked(send, [(b"x-amz-request-id", request_id.encode()), (b"x-amz-id-2", request_id.encode())])

        method = scope.get("method", "GET")
        try:
            request = Request.from_scope(scope, receive)
            response = await self.handle(request, request_id, tracked.extra)
            await response.send(tracked, head=method == "HEAD")
        except Exception as exc:
            if tracked.started:
                log.warning("request %s aborted mid-response: %r", request_id, exc)
                raise
            error = to_s3_error(exc)
            if error is None:
                log.exception("request %s failed", request_id)
                error = S3Error("InternalError", "We encountered an internal error. Please try again.", 500)
            await self.render_error(error, request_id, tracked, head=method == "HEAD")

    async def handle(self, request: Request, request_id: str, extra: list[tuple[bytes, bytes]]) -> Response:
        """`extra`: headers every response to this request carries, error or not (CORS)."""
        if viewer.FIELD in request.headers:
            request = self.for_viewer(request)
        endpoint = route(request.method, request.headers.get("host", ""), request.path, request.query,
                         request.headers, self.settings.domains)
        call = Call(request, endpoint, self.store, self.settings, request_id, destinations=self.destinations)
        if endpoint.operation == "PreflightRequest":
            return preflight(request, endpoint, self.store)
        extra.extend(cors_headers(request, endpoint, self.store))
        identity, verified = authenticate(request, endpoint, self.credentials)
        call.identity = identity
        call.access = authorize(request, endpoint, self.store, identity)
        if call.access.per_request:  # RFC 9213: no CDN may store it and give it to another viewer
            extra.append(PER_REQUEST)
        handler = HANDLERS.get(endpoint.operation)
        if handler is None:
            raise not_implemented(endpoint.operation if endpoint.operation != "Unknown" else request.method)
        call.expect = h.expectation(request.headers, request.content_length(),
                                    composite=endpoint.operation == "CompleteMultipartUpload")
        call.body = request_body(request, verified, call.expect, self.settings.request_timeout)
        try:
            return await handler(call)
        except NoSuchKey:
            call.access.conceal_missing(endpoint.operation)
            raise

    def for_viewer(self, request: Request) -> Request:
        """The request as made by the viewer strato's edge vouches for (strato.auth.viewer): its
        address and protocol are what a bucket policy's aws:SourceIp and aws:SecureTransport see."""
        vouched = viewer.vouched(request.headers[viewer.FIELD], self.credentials.lookup, time.time())
        if vouched is None:
            return request
        address, scheme = vouched
        return dataclasses.replace(request, client=address, scheme=scheme)

    @staticmethod
    async def render_error(error: S3Error, request_id: str, send: Send, head: bool) -> None:
        headers = [("content-type", "application/xml"), *error.headers.items()]
        await Response(error.status, headers, error.body(request_id)).send(send, head=head)
