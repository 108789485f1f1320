"""The CloudFront ASGI app: route -> the claimed key -> read the bounded body -> verify (SigV4, service
`cloudfront`) -> dispatch -> render. Errors become CloudFront's <ErrorResponse> here only."""

from __future__ import annotations

import logging
import uuid

from strato.api.signed import signed_body
from strato.auth.credentials import CredentialStore
from strato.cdn.registry import DistributionRegistry
from strato.http.request import Request
from strato.http.responses import Response
from strato.http.types import Receive, Scope, Send

from .errors import CloudFrontError, not_implemented, to_cloudfront_error
from .function_handlers import FUNCTION_HANDLERS
from .handlers import HANDLERS, Call
from .router import route

log = logging.getLogger("strato.cloudfront")

MAX_BODY = 1024 * 1024  # a DistributionConfig is far smaller


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
        # a header signature, or a presigned query (edges elsewhere follow invalidations with one)
        body = await signed_body(request, self.credentials, f"cloudfront:{endpoint.operation}", MAX_BODY,
                                 self.idle_timeout)
        handler = HANDLERS.get(endpoint.operation) or FUNCTION_HANDLERS.get(endpoint.operation)
        if handler is None:
            raise not_implemented(f"{request.method} {request.path}")
        return await handler(Call(request, endpoint, body, self.registry))
