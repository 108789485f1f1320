"""The Runtime API's bytes: the /next response carrying an invocation, and the JSON error
bodies the Lambda runtime API documents (`{"errorMessage": ..., "errorType": ...}`).

Source: https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html and the Runtime
Interface Emulator's rapi/rendering package (same statuses, types and messages).
"""

from __future__ import annotations

import json
import random
import time
from dataclasses import dataclass

from ..records import MAX_PAYLOAD, ResponseStream

# The runtime may answer with this many bytes: 6 MB plus the 100 bytes Lambda allows on top
# (its errors name this number: "maximum allowed payload size (6291556 bytes)").
MAX_RESULT = MAX_PAYLOAD + 100

ERROR_TYPE_HEADER = b"lambda-runtime-function-error-type"
# Response streaming: the mode header of a streamed POST .../response, and the trailer that
# carries a mid-stream error's document (base64) beside the error-type trailer.
# https://docs.aws.amazon.com/lambda/latest/dg/runtimes-custom.html#runtimes-custom-response-streaming
RESPONSE_MODE_HEADER = b"lambda-runtime-function-response-mode"
STREAMING = b"streaming"
ERROR_BODY_TRAILER = b"lambda-runtime-function-error-body"
_REASONS = {200: "OK", 202: "Accepted", 400: "Bad Request", 403: "Forbidden", 404: "Not Found",
            405: "Method Not Allowed", 413: "Request Entity Too Large", 431: "Request Header Fields Too Large"}
_INLINE_PAYLOAD = 64 * 1024  # smaller payloads go out in the same write as their head


@dataclass(frozen=True, slots=True)
class Reply:
    """A complete answer to one Runtime API request."""

    status: int
    body: bytes

    def render(self, keep_alive: bool) -> bytes:
        connection = b"" if keep_alive else b"Connection: close\r\n"
        return (b"HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n%s\r\n"
                % (self.status, _REASONS[self.status].encode(), len(self.body), connection) + self.body)


def error(status: int, error_type: str, message: str) -> Reply:
    return Reply(status, json.dumps({"errorMessage": message, "errorType": error_type}).encode())


CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"
ACCEPTED = Reply(202, b'{"status":"OK"}')
INVALID_REQUEST_ID = error(400, "InvalidRequestID", "Invalid request ID")


def too_large(limit: int) -> Reply:
    return error(413, "RequestEntityTooLarge", f"Exceeded maximum allowed payload size ({limit} bytes).")


TOO_LARGE = too_large(MAX_RESULT)
NOT_FOUND = error(404, "NotFound", "The Runtime API has no such path")
METHOD_NOT_ALLOWED = error(405, "MethodNotAllowed", "The Runtime API path does not take this method")
BAD_REQUEST = error(400, "InvalidRequestFormat", "The request could not be parsed")
HEAD_TOO_LARGE = error(431, "InvalidRequestFormat", "The request head is too large")


def invalid_state(state: str, transition: str) -> Reply:
    """403 for a request the runtime's state does not allow (RIE StateTransitionFailedForRuntime)."""
    return error(403, "InvalidStateTransition",
                 f"State transition from {state} to {transition} failed for runtime. "
                 "Error: State transition is not allowed")


def _field(value: str) -> bytes:
    """A header value; CR and LF (JSON whitespace at most) cannot split the head."""
    if "\r" in value or "\n" in value:
        value = value.replace("\r", " ").replace("\n", " ")
    return value.encode()


def trace_id() -> str:
    """An X-Ray trace header value of the documented shape (Root=1-{epoch hex}-{96 bits}): an
    identifier, not a secret, so the bits come from `random` (a system call fewer per invocation)."""
    return f"Root=1-{int(time.time()):08x}-{random.getrandbits(96):024x};Sampled=0"


@dataclass(frozen=True, slots=True)
class Delivery:
    """One invocation as the runtime receives it from GET /runtime/invocation/next."""

    request_id: str
    payload: bytes
    invoked_arn: str
    timeout_ms: int
    client_context: str | None = None
    cognito_identity: str | None = None
    stream: ResponseStream | None = None  # where a streamed answer goes (None: it is taken whole)
    deadline_ms: int | None = None  # fixed before the hand-out (epoch ms): an init retried within the invocation

    def render(self, now_ms: int) -> list[bytes]:
        """The response head and body; the deadline counts from now (the start of the invoke
        phase) unless it was fixed before."""
        optional = b""
        if self.client_context is not None:
            optional += b"Lambda-Runtime-Client-Context: " + _field(self.client_context) + b"\r\n"
        if self.cognito_identity is not None:
            optional += b"Lambda-Runtime-Cognito-Identity: " + _field(self.cognito_identity) + b"\r\n"
        head = (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                b"Lambda-Runtime-Aws-Request-Id: %s\r\nLambda-Runtime-Deadline-Ms: %d\r\n"
                b"Lambda-Runtime-Invoked-Function-Arn: %s\r\nLambda-Runtime-Trace-Id: %s\r\n%s"
                b"Content-Length: %d\r\n\r\n"
                % (_field(self.request_id), now_ms + self.timeout_ms if self.deadline_ms is None else self.deadline_ms,
                   _field(self.invoked_arn),
                   trace_id().encode(), optional, len(self.payload)))
        if len(self.payload) <= _INLINE_PAYLOAD:
            return [head + self.payload]
        return [head, self.payload]
