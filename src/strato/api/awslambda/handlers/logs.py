"""GET /_strato/functions/{name}/logs: a function's log (START/END/REPORT lines and its output),
in the log group its LoggingConfig names (its own, or its streams of a shared one).

strato's own operation, signed like any Lambda call (curl --aws-sigv4 "aws:amz:REGION:lambda"),
for what CloudWatch Logs' GetLogEvents would give on AWS.
"""

from __future__ import annotations

import asyncio
import contextlib

from strato.digits import is_digits
from strato.functions.errors import NotFound
from strato.functions.logs import read_logs
from strato.http.responses import Response

from ..call import Call
from ..errors import invalid_parameter

DEFAULT_BYTES = 1024 * 1024
MAX_BYTES = 16 * 1024 * 1024


async def get_function_logs(call: Call) -> Response:
    name, _ = call.target()
    text = call.request.query.get("bytes", str(DEFAULT_BYTES))
    if not is_digits(text) or not 0 < int(text) <= MAX_BYTES:
        raise invalid_parameter(f"bytes must be a number from 1 to {MAX_BYTES}")
    group = None  # a function deleted since: the log of its own group
    with contextlib.suppress(NotFound):
        group = (await call.registry.get(name)).config.logging.log_group
    try:
        body = await asyncio.to_thread(read_logs, call.services.logs_dir, name, int(text), group)  # up to 16 MB
    except ValueError as exc:
        raise invalid_parameter(str(exc)) from None
    return Response(200, [("content-type", "text/plain; charset=utf-8")], body)
