"""The CloudWatch Logs ASGI app (awsJson1_1): POST / with `X-Amz-Target: Logs_20140328.<Op>`
-> the claimed key -> read the bounded body -> verify (SigV4, service `logs`) -> dispatch -> JSON.

Errors become `{"__type": ..., "message": ...}` here and only here; every response carries
`x-amzn-RequestId`. An operation strato does not answer is UnknownOperationException, naming it.
"""

from __future__ import annotations

import json
import logging
import uuid
from pathlib import Path

from strato import jsontext
from strato.api.signed import signed_body
from strato.auth.credentials import CredentialStore
from strato.functions.log_groups import LogGroupTables
from strato.http.request import Request
from strato.http.responses import Response
from strato.http.types import Receive, Scope, Send

from .errors import LogsError, to_logs_error, unknown_operation
from .groups import Context
from .handlers import HANDLERS
from .params import Params

log = logging.getLogger("strato.logs")

TARGET_PREFIX = "Logs_20140328."
CONTENT_TYPE = "application/x-amz-json-1.1"
MAX_BODY = 1024 * 1024  # every operation strato answers takes a small JSON object


class LogsApp:
    def __init__(self, logs_dir: Path, groups: LogGroupTables, credentials: CredentialStore, region: str,
                 request_timeout: float) -> None:
        self.context = Context(logs_dir, region, groups)
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
        target = request.headers.get("x-amz-target", "")
        operation = target.removeprefix(TARGET_PREFIX) if target.startswith(TARGET_PREFIX) else ""
        # functions' logs are the account's to read: a function's own keys are refused
        body = await signed_body(request, self.credentials, f"logs:{operation or target}", MAX_BODY,
                                 self.request_timeout)
        handler = HANDLERS.get(operation)
        if request.method != "POST" or request.path != "/" or handler is None:
            raise unknown_operation(operation or target)
        try:
            document = jsontext.loads(body or b"{}")
        except ValueError:
            raise LogsError("SerializationException", "The request body is not valid JSON.") from None
        if not isinstance(document, dict):
            raise LogsError("SerializationException", "The request body is not a JSON object.")
        answer = await handler(Params(document), self.context)
        return Response(200, [("content-type", CONTENT_TYPE)], json.dumps(answer).encode())
