"""The records the functions engine and the Lambda protocol layer exchange."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

LATEST = "$LATEST"
# Lambda's defaults and bounds (CreateFunction API reference).
DEFAULT_TIMEOUT = 3
DEFAULT_MEMORY = 128
DEFAULT_EPHEMERAL = 512
MAX_PAYLOAD = 6 * 1024 * 1024
MAX_EVENT_PAYLOAD = 1024 * 1024
MAX_STREAMED = 200 * 1024 * 1024  # a streamed answer's limit (Lambda's default since July 2025; 20 MB before)
LOG_TAIL_BYTES = 4096


RevisionKey = tuple[str, str, str]  # (name, version, revision_id)
OWN_LOG_GROUP = "/aws/lambda/"  # a function's own log group is this and its name
LOG_FORMATS = ("JSON", "Text")
APPLICATION_LOG_LEVELS = ("TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL")  # most detailed first
SYSTEM_LOG_LEVELS = ("DEBUG", "INFO", "WARN")


@dataclass(frozen=True, slots=True)
class LoggingConfig:
    """A function version's LoggingConfig: Text, or JSON with the levels its application's and
    Lambda's own records are filtered at (None with Text). `log_group`: where its log goes
    (None: its own /aws/lambda/NAME).
    https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs-advanced.html"""

    log_format: str = "Text"
    application_log_level: str | None = None
    system_log_level: str | None = None
    log_group: str | None = None

    @property
    def json(self) -> bool:
        return self.log_format == "JSON"

    def group_of(self, function_name: str) -> str:
        """The log group the function's log goes to."""
        return self.log_group or OWN_LOG_GROUP + function_name


@dataclass(frozen=True, slots=True)
class FunctionVersion:
    """One runnable version of a function: `$LATEST` or a published number.

    Environments are reused only for the same (name, version, revision_id): any change of
    code or configuration makes a new revision and retires the old environments (a change of
    the API's RevisionId alone does not: FunctionRecord.environment_revision).
    """

    name: str
    version: str
    arn: str  # the unqualified function ARN: arn:aws:lambda:REGION:ACCOUNT:function:NAME
    runtime: str
    handler: str
    memory_size: int
    timeout: int
    environment: dict[str, str]
    code_dir: Path  # the unpacked, read-only code tree
    code_sha256: str  # base64 SHA-256 of the zip, as Lambda reports it
    revision_id: str
    ephemeral_storage: int = DEFAULT_EPHEMERAL  # MB of /tmp
    reserved_concurrency: int | None = None
    opt_dir: Path | None = None  # the tree seen as /opt: its layers', laid over each other in order
    layer_dirs: tuple[Path, ...] = ()  # each layer's own tree, in order (what opt_dir is made of)
    logging: LoggingConfig = LoggingConfig()

    @property
    def revision(self) -> RevisionKey:
        """What environments are shared by: the same name, version and revision."""
        return self.name, self.version, self.revision_id


Pause = Callable[[bool], None]  # True: stop reading the streamed answer for now; False: read on


class ResponseStream(Protocol):
    """Where the chunks of a streamed answer go as the runtime writes them (InvokeWithResponseStream,
    a RESPONSE_STREAM function URL). The invocation's result follows them: b"" and no error when
    the stream ended well, the error otherwise (a whole answer when the runtime did not stream)."""

    def open(self, content_type: str, pause: Pause) -> None:
        """The runtime began a streamed answer of this Content-Type; `pause` is its flow control."""

    def write(self, chunk: bytes) -> None:
        """The next chunk, as it arrived."""


@dataclass(frozen=True, slots=True)
class Invocation:
    function: FunctionVersion
    invoked_arn: str  # the ARN the caller named (with its qualifier), as the runtime reports it
    payload: bytes
    request_id: str
    client_context: str | None = None  # the decoded JSON of X-Amz-Client-Context
    log_tail: bool = False
    stream: ResponseStream | None = None  # the caller takes a streamed answer as it comes


@dataclass(frozen=True, slots=True)
class InvokeResult:
    payload: bytes
    executed_version: str
    function_error: str | None = None  # "Unhandled" when the function failed
    log_tail: bytes = b""  # the last LOG_TAIL_BYTES of the invocation's log, when asked


Outcome = Callable[[InvokeResult | BaseException], None]  # an invocation's result, or why it has none


class TooManyRequests(Exception):
    """A concurrency limit refused the invocation (Lambda's TooManyRequestsException)."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason  # e.g. ReservedFunctionConcurrentInvocationLimitExceeded
        self.message = message
