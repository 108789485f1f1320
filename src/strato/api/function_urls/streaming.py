"""A RESPONSE_STREAM function URL's answer, from a runtime that streams: sent on to the viewer as
the chunks arrive (chunked), never gathered whole.

With the Content-Type `application/vnd.awslambda.http-integration-response` (what Lambda's
Node.js `awslambda.HttpResponseStream.from` writes), the stream begins with a JSON prelude
(`statusCode`, `headers`, `cookies`), then 8 NUL bytes, then the body: the prelude is the HTTP
status and headers (a 204 or 304 has no body: the rest of the stream is dropped). Any other
stream is a 200 of the runtime's Content-Type. An error once the answer has begun (a mid-stream
error, a timeout) aborts the connection: the viewer sees a body cut short, never a second answer.
Source: the Lambda developer guide, "Response streaming for Lambda functions" and "Invoking
Lambda function URLs".
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from strato import jsontext
from strato.functions.streams import StreamedAnswer
from strato.http.responses import Response

from .results import NO_BODY, InvalidResponse, structured

PRELUDE_TYPE = "application/vnd.awslambda.http-integration-response"
DELIMITER = b"\0" * 8
MAX_PRELUDE = 64 * 1024


class StreamFailed(Exception):
    """The function failed after its answer had begun: the viewer's connection is cut."""


async def streamed_response(answer: StreamedAnswer) -> Response:
    """The URL's response for an answer the runtime began streaming. Raises InvalidResponse for
    a prelude that is not a response's (the URL then answers 502)."""
    chunks = answer.chunks()
    if answer.content_type != PRELUDE_TYPE:
        return Response(200, [("content-type", answer.content_type or "application/octet-stream")],
                        _body(answer, chunks, b""), close=answer.abandon)
    read = bytearray()
    async for chunk in chunks:
        searched = max(0, len(read) - len(DELIMITER) + 1)  # what was read before holds no delimiter
        read += chunk
        end = read.find(DELIMITER, searched)
        if end >= 0:
            head = structured(_prelude(bytes(read[:end])))
            if head.status in NO_BODY:
                return Response(head.status, head.headers, b"", close=answer.abandon)
            return Response(head.status, head.headers, _body(answer, chunks, bytes(read[end + len(DELIMITER):])),
                            close=answer.abandon)
        if len(read) > MAX_PRELUDE:
            break
    raise InvalidResponse("the stream has no prelude ended by 8 NUL bytes")


def _prelude(raw: bytes) -> dict[str, object]:
    try:
        prelude = jsontext.loads(raw or b"{}")
    except (ValueError, UnicodeDecodeError):
        raise InvalidResponse("the prelude is not JSON") from None
    if not isinstance(prelude, dict):
        raise InvalidResponse("the prelude is not a JSON object")
    return {"statusCode": 200, **prelude, "body": None}


async def _body(answer: StreamedAnswer, chunks: AsyncIterator[bytes], first: bytes) -> AsyncIterator[bytes]:
    if first:
        yield first
    async for chunk in chunks:
        yield chunk
    if answer.result().function_error:
        raise StreamFailed("the function failed mid-stream")
