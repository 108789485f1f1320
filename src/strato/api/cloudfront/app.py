"""The CloudFront ASGI app: route -> read the bounded body -> authenticate (SigV4, service
`cloudfront`) -> dispatch -> render. Errors become CloudFront's <ErrorResponse> here only."""

from __future__ import annotations

import hashlib
import logging
import time
import uuid

from strato.auth import sigv4
from strato.auth.credentials import CredentialStore, refuse_function
from strato.auth.errors import AuthError
from strato.auth.verify import verify_v4
from strato.cdn.registry import DistributionRegistry
from strato.http import bodies
from strato.http.request import Request
from strato.http.responses import Response
from strato.http.types import Receive, Scope, Send

from .errors import CloudFrontError, not_implemented, to_cloudfront_error
from .handlers import HANDLERS, Call
from .router import route

log = logging.getLogger("strato.cloudfront")

MAX_BODY = 1024 * 1024  # a DistributionConfig is far smaller


def authenticate(request: Request, body: bytes, credentials: CredentialStore, operation: str) -> None:
    """SigV4 over the normalized path and the body's SHA-256, as botocore signs CloudFront; or a
    presigned query (edges elsewhere follow invalidations with one). A function's own keys may not."""
    header = request.headers.get("authorization", "")
    auth = sigv4.parse_header(header) if header.strip() else None
    if auth is None and "X-Amz-Signature" in request.query:
        auth = sigv4.parse_query(request.query)
    if auth is None:
        raise AuthError("MissingAuthenticationToken", "Missing Authentication Token")
    identity, _ = verify_v4(credentials, auth, method=request.method, raw_path=request.raw_path,
                            raw_query=request.raw_query, headers=request.header_list, header_map=request.headers,
                            query=request.query, now=time.time(), body_sha256=hashlib.sha256(body).hexdigest())
    refuse_function(identity, f"cloudfront:{operation}", "*")


class CloudFrontApp:
    def __init__(self, registry: DistributionRegistry, credentials: CredentialStore, idle_timeout: float) -> None:
        self.registry = registry
        self.credentials = credentials
        self.idle_timeout = idle_timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request_id = str(uuid.uuid4())
        try:
            response = await self.handle(Request.from_scope(scope, receive))
        except Exception as exc:
            error = to_cloudfront_error(exc)
            if error is None:
                log.exception("request %s failed", request_id)
                error = CloudFrontError("InternalError", "We encountered an internal error. Please try again.", 500)
            response = Response(error.status, [("content-type", "text/xml")], error.body(request_id))
        response.headers.append(("x-amz-request-id", request_id))
        await response.send(send)

    async def handle(self, request: Request) -> Response:
        endpoint = route(request.method, request.path, request.query)
        body = await bodies.collect(bodies.stream(request.receive, request.content_length(), self.idle_timeout),
                                    MAX_BODY)
        authenticate(request, body, self.credentials, endpoint.operation)
        handler = HANDLERS.get(endpoint.operation)
        if handler is None:
            raise not_implemented(f"{request.method} {request.path}")
        return await handler(Call(request, endpoint, body, self.registry))
