"""The CloudWatch Logs ASGI app (awsJson1_1): POST / with `X-Amz-Target: Logs_20140328.<Op>`
-> read the bounded body -> authenticate (SigV4, service `logs`) -> dispatch -> JSON.

Errors become `{"__type": ..., "message": ...}` here and only here; every response carries
`x-amzn-RequestId`. An operation strato does not answer is UnknownOperationException, naming it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
import uuid
from pathlib import Path

from strato.auth import sigv4
from strato.auth.credentials import CredentialStore, refuse_function
from strato.auth.errors import AuthError
from strato.auth.verify import unknown_key, verify_v4
from strato.http import bodies
from strato.http.request import Request
from strato.http.responses import Response
from strato.http.types import Receive, Scope, Send

from .errors import LogsError, to_logs_error, unknown_operation
from .handlers import HANDLERS, Context
from .params import Params

log = logging.getLogger("strato.logs")

TARGET_PREFIX = "Logs_20140328."
CONTENT_TYPE = "application/x-amz-json-1.1"
MAX_BODY = 1024 * 1024  # every operation strato answers takes a small JSON object


class LogsApp:
    def __init__(self, logs_dir: Path, credentials: CredentialStore, region: str, request_timeout: float) -> None:
        self.context = Context(logs_dir, region)
        self.credentials = credentials
        self.request_timeout = request_timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request_id = str(uuid.uuid4())
        try:
            response = await self.handle(Request.from_scope(scope, receive))
        except Exception as exc:
            error = to_logs_error(exc)
            if error is None:
                log.exception("request %s failed", request_id)
                error = LogsError("ServiceUnavailableException", "The service encountered an internal error.", 500)
            response = Response(error.status, [("content-type", CONTENT_TYPE)], error.body())
        response.headers.append(("x-amzn-requestid", request_id))
        await response.send(send)

    async def handle(self, request: Request) -> Response:
        auth = self.authorization(request)
        body = await bodies.collect(bodies.stream(request.receive, request.content_length(), self.request_timeout),
                                    MAX_BODY)
        identity, _ = verify_v4(self.credentials, auth, method=request.method, raw_path=request.raw_path,
                                raw_query=request.raw_query, headers=request.header_list,
                                header_map=request.headers, query=request.query, now=time.time(),
                                body_sha256=hashlib.sha256(body).hexdigest())
        target = request.headers.get("x-amz-target", "")
        operation = target.removeprefix(TARGET_PREFIX) if target.startswith(TARGET_PREFIX) else ""
        refuse_function(identity, f"logs:{operation or target}", "*")  # functions' logs are the account's to read
        handler = HANDLERS.get(operation)
        if request.method != "POST" or request.path != "/" or handler is None:
            raise unknown_operation(operation or target)
        try:
            document = json.loads(body or b"{}")
        except ValueError:
            raise LogsError("SerializationException", "The request body is not valid JSON.") from None
        if not isinstance(document, dict):
            raise LogsError("SerializationException", "The request body is not a JSON object.")
        answer = await handler(Params(document), self.context)
        return Response(200, [("content-type", CONTENT_TYPE)], json.dumps(answer).encode())

    def authorization(self, request: Request) -> sigv4.Authorization:
        """Every call is signed (header or presigned query); the signature is checked once the
        body it covers is read."""
        header = request.headers.get("authorization", "").strip()
        auth = sigv4.parse_header(header) if header else None
        if auth is None and "X-Amz-Signature" in request.query:
            auth = sigv4.parse_query(request.query)
        if auth is None:
            raise AuthError("MissingAuthenticationToken", "Missing Authentication Token")
        if self.credentials.lookup(auth.scope.access_key) is None:
            raise unknown_key()
        return auth
