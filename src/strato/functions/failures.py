"""How Lambda words an invocation that produced no result: timeouts, runtime exits, memory
exhaustion, and error documents a runtime posted in some other shape. Pure functions."""

from __future__ import annotations

import datetime
import json
import signal

from strato import jsontext

from .runtime_client import INVALID_ENTRYPOINT as INVALID_ENTRYPOINT

TIMED_OUT = "Sandbox.Timedout"
EXIT_ERROR = "Runtime.ExitError"
OUT_OF_MEMORY = "Runtime.OutOfMemory"
UNKNOWN = "Runtime.Unknown"


def _document(error_type: str, message: str) -> bytes:
    return json.dumps({"errorType": error_type, "errorMessage": message}).encode()


def timeout_message(timeout: float) -> str:
    return f"Task timed out after {timeout:.2f} seconds"


def timed_out(request_id: str, timeout: float) -> bytes:
    return _document(TIMED_OUT, f"RequestId: {request_id} Error: {timeout_message(timeout)}")


def timeout_log_line(request_id: str, timeout: float) -> bytes:
    """The line Lambda logs after REPORT when an invocation times out."""
    now = datetime.datetime.now(datetime.UTC)
    return f"{now:%Y-%m-%dT%H:%M:%S}.{now.microsecond // 1000:03d}Z {request_id} {timeout_message(timeout)}\n".encode()


def exit_reason(status: int) -> str:
    """Go's ProcessState wording, which Lambda's messages quote: 'exit status 1', 'signal: killed'."""
    if status >= 0:
        return f"exit status {status}"
    try:
        name = signal.strsignal(-status)
    except ValueError:
        name = None
    return f"signal: {(name or f'signal {-status}').lower()}"


def exit_type(status: int, max_memory_used: int, memory_size: int) -> str:
    """Killed at its memory limit: Runtime.OutOfMemory; any other exit: Runtime.ExitError."""
    if status == -signal.SIGKILL and max_memory_used + 1 >= memory_size:
        return OUT_OF_MEMORY
    return EXIT_ERROR


def exit_message(request_id: str, status: int) -> str:
    """A clean exit (status 0) names no reason, as Lambda's Runtime API words it."""
    if status == 0:
        return f"RequestId: {request_id} Error: Runtime exited without providing a reason"
    return f"RequestId: {request_id} Error: Runtime exited with error: {exit_reason(status)}"


def exited(request_id: str, error_type: str, status: int) -> bytes:
    return _document(error_type, exit_message(request_id, status))


def invalid_entrypoint(request_id: str, document: bytes) -> tuple[bytes, str]:
    """An entrypoint failure posted at init (its reason the errorMessage) as the invocation's
    error, worded as Lambda words its own errors, and the line it logs after START."""
    message = f"RequestId: {request_id} Error: {jsontext.loads(document).get('errorMessage')}"
    return _document(INVALID_ENTRYPOINT, message), message


def error_document(body: bytes, header_type: str) -> bytes:
    """A runtime's error post as the caller receives it: a JSON object passes unchanged (awslambdaric
    puts errorType in it); anything else is wrapped, typed by the error-type header."""
    try:
        if isinstance(jsontext.loads(body), dict):
            return body
    except ValueError:
        pass
    return _document(header_type or UNKNOWN, body.decode("utf-8", "replace"))
