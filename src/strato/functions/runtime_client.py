"""The Python runtime inside an environment: a Lambda Runtime API client that behaves, for user
code, like AWS's awslambdaric (same context object, error bodies, init error types, log lines).

It loads the handler once, then loops: GET next -> handler(event, context) -> POST the result.
AWS_LAMBDA_RUNTIME_API is read when run() is called, not at import, so a zygote can import this
module before any environment exists. Only the standard library: it runs on the function's
interpreter. https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html
"""

from __future__ import annotations

import contextlib
import decimal
import functools
import importlib
import json
import logging
import math
import os
import re
import select
import socket
import sys
import time
import traceback
from collections.abc import Callable
from typing import Any, TextIO

API = "/2018-06-01/runtime"
ERROR_TYPE_HEADER = "Lambda-Runtime-Function-Error-Type"
INVALID_ENTRYPOINT = "Runtime.InvalidEntrypoint"  # a custom runtime's bootstrap cannot be started (envprocs)
INLINE_BODY = 64 * 1024  # smaller bodies go out in one write with their head
RECEIVE_SIZE = 256 * 1024
UNHANDLED_WARNING = (  # awslambdaric's lambda_unhandled_exception_warning_message
    "LAMBDA_WARNING: Unhandled exception. The most likely cause is an issue in the function code. However, in "
    "rare cases, a Lambda runtime update can cause unexpected function behavior. For functions using managed "
    "runtimes, runtime updates can be triggered by a function change, or can be applied automatically. To "
    "determine if the runtime has been updated, check the runtime version in the INIT_START log entry. If this "
    "error correlates with a change in the runtime version, you may be able to mitigate this error by "
    "temporarily rolling back to the previous runtime version. For more information, see "
    "https://docs.aws.amazon.com/lambda/latest/dg/runtimes-update.html\r"
)
# Where Lambda's Python runtimes look for a layer's packages (after /var/task).
LAYER_PATHS = (f"/opt/python/lib/python{sys.version_info[0]}.{sys.version_info[1]}/site-packages", "/opt/python")
ASCII_ONLY = sys.version_info < (3, 12)  # awslambdaric escapes non-ASCII before python3.12
# After an invocation's output and before its answer, a line that tells the log where that
# output ends (logs.EndMarks): NUL, "strato-end", the environment's secret, the request id.
END_MARK = b"\x00strato-end "
MARK_MAX = 256  # no mark is longer (a secret and a request id are short)
# A runtime started afresh (node, or Python through a wrapper script) finds the Runtime API
# connection it was handed and its end marks' secret in these, and takes them out at start.
API_FD_VARIABLE = "_STRATO_RUNTIME_API_FD"
LOG_SECRET_VARIABLE = "_STRATO_LOG_SECRET"
Handler = Callable[[Any, "LambdaContext"], Any]
# awslambdaric's text format for the logging module's records (its _setup_logging).
LOG_LINE = "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s\n"


class FaultError(Exception):
    """A runtime-detected failure with a Lambda error type (awslambdaric's FaultException)."""

    def __init__(self, error_type: str, message: str, trace: list[str] | None = None) -> None:
        super().__init__(message)
        self.error_type = error_type
        self.message = message
        self.trace = trace or []


class Described:
    """Printed as awslambdaric prints its context objects: `Class([name=value,...])`, the
    attributes named by SHOWN in its order."""

    __slots__ = ()
    SHOWN: tuple[str, ...] = ()

    def __repr__(self) -> str:
        return f"{type(self).__name__}([" + ",".join(f"{name}={getattr(self, name)}" for name in self.SHOWN) + "])"


class CognitoIdentity(Described):
    __slots__ = ("cognito_identity_id", "cognito_identity_pool_id")
    SHOWN = ("cognito_identity_id", "cognito_identity_pool_id")

    def __init__(self, data: dict[str, Any]) -> None:
        self.cognito_identity_id = data.get("cognitoIdentityId")
        self.cognito_identity_pool_id = data.get("cognitoIdentityPoolId")


class Client(Described):
    __slots__ = ("app_package_name", "app_title", "app_version_code", "app_version_name", "installation_id")
    SHOWN = ("installation_id", "app_title", "app_version_name", "app_version_code", "app_package_name")

    def __init__(self, data: dict[str, Any]) -> None:
        for name in self.__slots__:
            setattr(self, name, data.get(name))


class ClientContext(Described):
    __slots__ = ("client", "custom", "env")
    SHOWN = ("custom", "env", "client")

    def __init__(self, data: dict[str, Any]) -> None:
        self.custom = data.get("custom")
        self.env = data.get("env")
        client = data.get("client")
        self.client = Client(client) if isinstance(client, dict) else None


@functools.cache
def function_names() -> tuple[str | None, ...]:
    """What each context says of the function: its environment's, read once (os.environ
    encodes every key it is asked for)."""
    return tuple(os.environ.get(name) for name in ("AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME",
                                                  "AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
                                                  "AWS_LAMBDA_FUNCTION_VERSION"))


class LambdaContext(Described):
    """The handler's second argument, with awslambdaric's attribute names (tenant_id is None:
    strato has no tenant isolation)."""

    SHOWN = ("aws_request_id", "log_group_name", "log_stream_name", "function_name", "memory_limit_in_mb",
             "function_version", "invoked_function_arn", "client_context", "identity", "tenant_id")

    def __init__(
        self,
        request_id: str,
        deadline_ms: int,
        invoked_function_arn: str | None,
        client_context: dict[str, Any] | None,
        identity: dict[str, Any] | None,
    ) -> None:
        self.aws_request_id = request_id
        (self.log_group_name, self.log_stream_name, self.function_name, self.memory_limit_in_mb,
         self.function_version) = function_names()
        self.invoked_function_arn = invoked_function_arn
        self.client_context = ClientContext(client_context) if client_context is not None else None
        self.identity = CognitoIdentity(identity or {})
        self.tenant_id = None
        self._deadline_ms = deadline_ms

    def get_remaining_time_in_millis(self) -> int:
        return max(self._deadline_ms - int(time.time() * 1000), 0)

    def log(self, msg: object) -> None:
        sys.stdout.write(str(msg))


class Unbuffered:
    """Every write reaches the log at once, as awslambdaric's wrapper does (a timeout kills the
    process: nothing may wait in a buffer). `written` says whether anything was since it was
    cleared. An invocation that printed nothing writes its end mark only before what is
    printed next (`owed`): a mark after every invocation would wake the log's reader for
    nothing, and none at all would leave the next invocation's output where the log still
    takes it for the silent one's."""

    written = False
    owed = b""  # the end mark of the last invocation, which printed nothing

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def __getattr__(self, name: str) -> Any:
        return getattr(self.stream, name)

    def flush(self) -> None:
        """Here, not through __getattr__: flushed twice per invocation."""
        self.stream.flush()

    def write(self, text: str) -> int:
        _printing()
        written = self.stream.write(text)
        self.stream.flush()
        return written

    def writelines(self, lines: list[str]) -> None:
        _printing()
        self.stream.writelines(lines)
        self.stream.flush()


class JsonFormatter(logging.Formatter):
    """awslambdaric's JsonFormatter (AWS_LAMBDA_LOG_FORMAT=JSON): one JSON object per record,
    its level rounded down to a standard one, an exception's type, message and trace in it,
    and the record's extra attributes; absent fields left out."""

    RESERVED = frozenset({  # awslambdaric's _RESERVED_FIELDS: LogRecord's own attributes
        "name", "msg", "args", "levelname", "levelno", "pathname", "filename", "module", "exc_info", "exc_text",
        "stack_info", "lineno", "funcName", "created", "msecs", "relativeCreated", "thread", "threadName",
        "processName", "process", "aws_request_id", "tenant_id", "_frame_type",
    })

    def __init__(self) -> None:
        super().__init__(datefmt="%Y-%m-%dT%H:%M:%SZ")

    def format(self, record: logging.LogRecord) -> str:
        record.levelno = min(50, max(0, record.levelno)) // 10 * 10
        record.levelname = logging.getLevelName(record.levelno)
        exc = record.exc_info
        given: dict[str, Any] = {
            "timestamp": self.formatTime(record, self.datefmt),
            "level": record.levelname,
            "message": record.msg if isinstance(record.msg, dict) and not record.args else record.getMessage(),
            "logger": record.name,
            "stackTrace": traceback.format_tb(exc[2]) if exc else None,
            "errorType": exc[0].__name__ if exc and exc[0] else None,
            "errorMessage": str(exc[1]) if exc else None,
            "requestId": getattr(record, "aws_request_id", None),
            "location": f"{record.pathname}:{record.funcName}:{record.lineno}" if exc else None,
        }
        given.update((key, value) for key, value in record.__dict__.items()
                      if key not in self.RESERVED and key not in given)
        return _LOG_ENCODER.encode({key: value for key, value in given.items() if value is not None}) + "\n"


class LambdaLoggerHandler(logging.Handler):
    """The root logger's handler, as awslambdaric installs it: each record is one write to
    stdout, stamped with the request id of the invocation in hand (empty during init). A
    record is one log event, as Lambda's runtimes keep it: in text, the lines of a multi-line
    record (a traceback) are joined by carriage returns; in JSON they are within its strings."""

    request_id = ""
    json = False  # the function's LoggingConfig is JSON: records, and errors, are JSON objects

    def __init__(self) -> None:
        super().__init__()
        self.setFormatter(JsonFormatter() if self.json else logging.Formatter(LOG_LINE, "%Y-%m-%dT%H:%M:%S"))

    def emit(self, record: logging.LogRecord) -> None:
        record.aws_request_id = LambdaLoggerHandler.request_id
        sys.stdout.write(self.format(record).rstrip("\n").replace("\n", "\r") + "\n")


def _setup_logging() -> None:
    """Records of the logging module reach the log in Lambda's format (AWS_LAMBDA_LOG_FORMAT),
    times in UTC, filtered at AWS_LAMBDA_LOG_LEVEL (TRACE is the logging module's DEBUG), as
    awslambdaric's _setup_logging does."""
    logging.Formatter.converter = time.gmtime
    LambdaLoggerHandler.json = os.environ.get("AWS_LAMBDA_LOG_FORMAT", "").upper() == "JSON"
    root = logging.getLogger()
    level = os.environ.get("AWS_LAMBDA_LOG_LEVEL", "").upper()
    with contextlib.suppress(ValueError):  # unset, or not a level of the logging module's
        root.setLevel({"TRACE": "DEBUG"}.get(level, level))
    root.addHandler(LambdaLoggerHandler())


class Decimals:
    """A Decimal goes into the JSON as its own digits, as awslambdaric writes it (simplejson's
    RawJSON of str(value)): 5 stays 5 and a long number keeps every digit. The encoder writes
    it as a string behind MARK, which `to_json` then unquotes; `seen` spares that pass to
    results without one."""

    MARK = f"\x00decimal-{os.urandom(8).hex()}:"
    QUOTED = re.compile(re.escape(json.dumps(MARK)[:-1]) + r'([^"]*)"')
    seen = False


def _default(value: object) -> object:
    if isinstance(value, decimal.Decimal):
        if value.is_nan():
            return math.nan
        Decimals.seen = True
        return Decimals.MARK + str(value)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


_ENCODER = json.JSONEncoder(default=_default, ensure_ascii=ASCII_ONLY)  # json.dumps would build one per call
_LOG_ENCODER = json.JSONEncoder(default=str, ensure_ascii=False)  # awslambdaric's for JSON records


def to_json(value: object) -> bytes:
    Decimals.seen = False
    text = _ENCODER.encode(value)
    if Decimals.seen:
        text = Decimals.QUOTED.sub(r"\1", text)
    return text.encode()


def make_error(message: str, error_type: str, trace: list[str], request_id: str = "") -> dict[str, Any]:
    return {"errorMessage": message, "errorType": error_type, "requestId": request_id, "stackTrace": trace}


def _user_trace(tb: Any) -> list[str]:
    """Frames outside this module, as plain tuples (awslambdaric's shape: no column carets)."""
    frames = traceback.extract_tb(tb)
    kept = [(f.filename, f.lineno, f.name, f.line) for f in frames if not f.filename.endswith("runtime_client.py")]
    return traceback.format_list(kept)  # type: ignore[arg-type]


def log_error(error: dict[str, Any]) -> None:
    """The [ERROR] line awslambdaric writes (lines joined by carriage returns: one log event);
    an empty type or message is left out, with the colon between them. With JSON, the error's
    object, timed and levelled, as one line."""
    if LambdaLoggerHandler.json:
        stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        sys.stdout.write(to_json({"timestamp": stamp, "level": "ERROR", **error}).decode() + "\n")
        return
    described = ": ".join(part for part in (error["errorType"], error["errorMessage"]) if part)
    lines = [f"[ERROR] {described}" if described else "[ERROR]", "Traceback (most recent call last):"]
    for element in error["stackTrace"]:
        lines.extend(line.replace(" ", "\u00a0", len(line) - len(line.lstrip(" "))) for line in element.splitlines())
    sys.stdout.write("\r".join(lines) + "\n")


def load_handler(handler: str) -> Handler:
    """Import `module.function` from the task root (awslambdaric's _get_handler)."""
    try:
        module_name, function_name = handler.rsplit(".", 1)
    except ValueError as e:
        raise FaultError("Runtime.MalformedHandlerName", f"Bad handler '{handler}': {e}") from None
    if module_name.split(".")[0] in sys.builtin_module_names:
        raise FaultError(
            "Runtime.BuiltInModuleConflict", f"Cannot use built-in module {module_name} as a handler module"
        )
    try:
        module = importlib.import_module(module_name.replace("/", "."))
    except ImportError as e:
        raise FaultError("Runtime.ImportModuleError", f"Unable to import module '{module_name}': {e}") from None
    except SyntaxError as e:
        trace = [f'  File "{e.filename}" Line {e.lineno}\n    {e.text}']
        message = f"Syntax error in module '{module_name}': {e}"
        raise FaultError("Runtime.UserCodeSyntaxError", message, trace) from None
    try:
        function: Handler = getattr(module, function_name)
    except AttributeError:
        raise FaultError(
            "Runtime.HandlerNotFound", f"Handler '{function_name}' missing on module '{module_name}'"
        ) from None
    return function


class RuntimeClient:
    """One keep-alive HTTP/1.1 connection to the Runtime API, spoken directly on the socket:
    the Runtime API answers with Content-Length bodies, and parsing heads with http.client's
    email machinery costs more than the rest of an echo invocation."""

    def __init__(self, address: str, sock: socket.socket | None = None) -> None:
        host, _, port = address.rpartition(":")
        self.address = (host, int(port))
        self.host = address
        self.sock = sock  # a connection handed over at launch, else dialled on first use
        self.buffer = bytearray()
        self.next_asked = False  # a GET next is pipelined behind the last answer
        self._readable = select.poll()
        self._polled = -1  # the descriptor `_readable` watches

    def _send(self, head: str, body: bytes = b"", then: bytes = b"") -> socket.socket:
        """Write a request (and `then`, a bodiless request pipelined behind it); small ones in one write."""
        if self.sock is None:
            self.sock = socket.create_connection(self.address)
            self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.buffer.clear()
        data = head.encode("latin-1")
        if len(body) <= INLINE_BODY:
            self.sock.sendall(data + body + then)
        else:
            self.sock.sendall(data)
            self.sock.sendall(body + then)
        return self.sock

    def _response(self, sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
        buffer = self.buffer
        while (end := buffer.find(b"\r\n\r\n")) < 0:
            buffer += self._receive(sock)
        lines = buffer[:end].decode("utf-8", "replace").split("\r\n")  # a client context's JSON is UTF-8
        status = int(lines[0].split(" ", 2)[1])
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        start = end + 4
        stop = start + int(headers.get("content-length", "0"))
        while len(buffer) < stop:
            buffer += self._receive(sock)
        body = bytes(buffer[start:stop])
        del buffer[:stop]
        if headers.get("connection", "").lower() == "close":
            sock.close()
            self.sock = None
        return status, headers, body

    def _receive(self, sock: socket.socket) -> bytes:
        """Wait in poll(2), then read: a reader asleep in recv(2) on a unix stream socket is woken
        whenever the peer reads what it sent (the kernel's unix_write_space wakes every sleeper on
        the socket), so each answer read by the Runtime API also woke this runtime for nothing
        (5% of the API worker's CPU under sequential invokes); poll's wait is woken by input only."""
        if self._polled != sock.fileno():
            self._readable = select.poll()
            self._readable.register(sock, select.POLLIN)
            self._polled = sock.fileno()
        self._readable.poll()
        chunk = sock.recv(RECEIVE_SIZE)
        if not chunk:
            raise ConnectionError("the Runtime API closed the connection")
        return chunk

    def _post(self, path: str, body: bytes, headers: str, then: bytes = b"") -> None:
        head = f"POST {path} HTTP/1.1\r\nHost: {self.host}\r\n{headers}Content-Length: {len(body)}\r\n\r\n"
        self._response(self._send(head, body, then))
        self.next_asked = bool(then) and self.sock is not None  # a closing answer loses what followed it

    def _next_request(self) -> bytes:
        return f"GET {API}/invocation/next HTTP/1.1\r\nHost: {self.host}\r\n\r\n".encode("latin-1")

    def next(self) -> tuple[bytes, dict[str, str]]:
        sock = self.sock if self.next_asked else self._send("", then=self._next_request())
        self.next_asked = False
        assert sock is not None
        status, headers, body = self._response(sock)
        if status != 200:
            raise RuntimeError(f"GET next answered {status}")
        return body, headers

    def respond(self, request_id: str, body: bytes, content_type: str) -> None:
        """POST the result with GET next pipelined behind it: the Runtime API answers the
        post and hands out the next invocation in one write (read it with `next`)."""
        self._post(f"{API}/invocation/{request_id}/response", body, f"Content-Type: {content_type}\r\n",
                   self._next_request())

    def fail(self, request_id: str, error: dict[str, Any]) -> None:
        """POST the error, GET next pipelined behind it (as `respond`)."""
        headers = f"Content-Type: application/json\r\n{ERROR_TYPE_HEADER}: {error['errorType']}\r\n"
        self._post(f"{API}/invocation/{request_id}/error", to_json(error), headers, self._next_request())

    def fail_init(self, error: dict[str, Any]) -> None:
        headers = f"Content-Type: application/json\r\n{ERROR_TYPE_HEADER}: {error['errorType']}\r\n"
        self._post(f"{API}/init/error", to_json(error), headers)


def _flush() -> None:
    sys.stdout.flush()
    sys.stderr.flush()


def _header_json(headers: dict[str, str], name: str, label: str) -> Any:
    raw = headers.get(name)
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError as e:
        raise FaultError("Runtime.LambdaContextUnmarshalError", f"Unable to parse {label} JSON: {e}") from None


def _printing() -> None:
    """Output follows: the silent invocation's mark first, so that none of it is taken for that one's."""
    Unbuffered.written = True
    owed = Unbuffered.owed
    if owed:
        Unbuffered.owed = b""
        os.write(1, owed)


def end_mark(secret: str, request_id: str) -> bytes:
    return END_MARK + f"{secret} {request_id}\n".encode("latin-1")[: MARK_MAX - len(END_MARK)]


def handle(client: RuntimeClient, handler: Handler, body: bytes, headers: dict[str, str],
           secret: str | None = None) -> None:
    """Run one invocation and post its result or error (after its end mark, given a secret, for
    output through sys.stdout or sys.stderr; other output is the log's best guess)."""
    Unbuffered.written = False
    request_id = LambdaLoggerHandler.request_id = headers.get("lambda-runtime-aws-request-id", "")
    trace_id = headers.get("lambda-runtime-trace-id")
    if trace_id is not None:
        os.environ["_X_AMZN_TRACE_ID"] = trace_id
    else:
        os.environ.pop("_X_AMZN_TRACE_ID", None)
    try:
        context = LambdaContext(
            request_id,
            int(headers.get("lambda-runtime-deadline-ms") or 0),
            headers.get("lambda-runtime-invoked-function-arn"),
            _header_json(headers, "lambda-runtime-client-context", "Client Context"),
            _header_json(headers, "lambda-runtime-cognito-identity", "Cognito Identity"),
        )
        try:
            event = json.loads(body)
        except ValueError as e:
            raise FaultError("Runtime.UnmarshalError", f"Unable to unmarshal input: {e}") from None
        result = handler(event, context)
        if isinstance(result, bytes):
            payload, content_type = result, "application/unknown"
        else:
            try:
                payload, content_type = to_json(result), "application/json"
            except (TypeError, ValueError) as e:
                raise FaultError("Runtime.MarshalError", f"Unable to marshal response: {e}") from None
    except FaultError as e:
        error = make_error(e.message, e.error_type, e.trace, request_id)
    except Exception as e:
        error = make_error(str(e), type(e).__name__, _user_trace(e.__traceback__), request_id)
    else:
        _flush()
        _mark_end(secret, request_id)
        client.respond(request_id, payload, content_type)
        return
    log_error(error)
    _flush()
    _mark_end(secret, request_id)
    client.fail(request_id, error)


def _mark_end(secret: str | None, request_id: str) -> None:
    """The invocation's output ends here: its mark now if it printed, else when the runtime next prints."""
    if secret is None:
        return
    if Unbuffered.written:
        os.write(1, end_mark(secret, request_id))
    else:
        Unbuffered.owed = end_mark(secret, request_id)


def _import_path(task_root: str) -> None:
    """The function's code first on sys.path, then its layers' Python dirs, in the order of
    Lambda's Python runtimes. Packages the zygote preloaded for speed (boto3 and what it
    imports) are forgotten when the function or a layer brings its own copy of one of them, so
    that the function imports its own, as it would in Lambda."""
    own = [task_root, *LAYER_PATHS]
    sys.path[:] = own + [path for path in sys.path if path not in own]
    preloaded = {name.partition(".")[0] for name in sys.modules} - set(sys.stdlib_module_names)
    preloaded -= {__name__.partition(".")[0], "__main__"}
    brought: set[str] = set()
    for path in own:
        with contextlib.suppress(OSError):
            brought.update(entry.partition(".")[0] for entry in os.listdir(path))
    if preloaded & brought:
        for name in [name for name in sys.modules if name.partition(".")[0] in preloaded]:
            del sys.modules[name]


def run(api: socket.socket | None = None, secret: str | None = None) -> int:
    """The runtime's main loop; returns only when initialisation failed (exit status 1).
    `api`: a connection to the Runtime API handed over at launch (else it is dialled);
    `secret`: the environment's, for the end marks in its output (none without it)."""
    sys.stdout = Unbuffered(sys.stdout)
    sys.stderr = Unbuffered(sys.stderr)
    _setup_logging()
    _import_path(os.environ.get("LAMBDA_TASK_ROOT", "/var/task"))
    client = RuntimeClient(os.environ["AWS_LAMBDA_RUNTIME_API"], api)
    try:
        handler = load_handler(os.environ.get("_HANDLER", ""))
    except FaultError as e:
        error = make_error(e.message, e.error_type, e.trace)
    except Exception as e:
        error = make_error(str(e), type(e).__name__, _user_trace(e.__traceback__))
    else:
        while True:
            body, headers = client.next()
            handle(client, handler, body, headers, secret)
    logging.warning(UNHANDLED_WARNING)
    log_error(error)
    _flush()
    client.fail_init(error)
    return 1


def main() -> int:
    """The runtime started afresh rather than forked (through AWS_LAMBDA_EXEC_WRAPPER)."""
    fd = os.environ.pop(API_FD_VARIABLE, None)
    secret = os.environ.pop(LOG_SECRET_VARIABLE, None)
    return run(None if fd is None else socket.socket(fileno=int(fd)), secret or None)
