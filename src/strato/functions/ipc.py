"""Worker <-> functions controller: invocations over a local Unix socket.

The controller process is the one owner of the environment pool and its concurrency counts
(DESIGN.md); API workers reach it through `ControllerClient`, which keeps the `Invoker` shape.
A frame is two 4-byte big-endian lengths (head, payload), a JSON head, then the payload:
payloads are at most 6 MB by Lambda's contract, so a frame is handed on whole. A connection
carries one call at a time. Both ends are asyncio Protocols: a frame that arrives in one read
(the usual case) is parsed straight from it, with no stream buffer and no task wakeup per read.

A streamed invocation (`stream` in its head) is answered by frames `{"stream": "open",
"content_type"}` and `{"stream": "chunk"}` + chunk as the runtime writes, then its result frame.
Flow control runs end to end: a worker that cannot pass chunks on stops reading the socket, the
controller's writes back up, and it pauses reading the runtime (StreamRelay).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import struct
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from .environment import Undelivered
from .flow import ReadPause
from .records import (
    MAX_PAYLOAD,
    FunctionVersion,
    Invocation,
    InvokeResult,
    Outcome,
    Pause,
    ResponseStream,
    TooManyRequests,
)

if TYPE_CHECKING:
    from .borrowing import LeaseBook

log = logging.getLogger("strato.functions")

_LENGTHS = struct.Struct(">II")
Resolve = Callable[[str, str], Awaitable[FunctionVersion]]
ResolveNow = Callable[[str, str], FunctionVersion]  # Registry.resolve: answers without awaiting
MAX_HEAD = 1024 * 1024
MAX_FRAME_PAYLOAD = 2 * MAX_PAYLOAD
Frame = tuple[dict[str, Any], bytes]


class ControllerUnavailable(Exception):
    """The controller process cannot be reached (it is starting or restarting)."""


_HEAD_ENCODER = json.JSONEncoder(separators=(",", ":"))  # json.dumps would build one per call


def encode_frame(head: dict[str, Any], payload: bytes = b"") -> bytes:
    encoded = _HEAD_ENCODER.encode(head).encode()
    return _LENGTHS.pack(len(encoded), len(payload)) + encoded + payload


class FrameReader:
    """Cuts a byte stream into frames, within MAX_HEAD and MAX_FRAME_PAYLOAD (ValueError beyond)."""

    __slots__ = ("_buffer", "_need", "_on_frame")

    def __init__(self, on_frame: Callable[[dict[str, Any], bytes], None]) -> None:
        self._on_frame = on_frame
        self._buffer = bytearray()
        self._need = _LENGTHS.size  # bytes the buffered frame needs before it can be cut

    def feed(self, data: bytes) -> None:
        buffer = self._buffer
        if buffer:
            buffer += data
            if len(buffer) < self._need:
                return
            data = bytes(buffer)
            buffer.clear()
        start = 0
        total = len(data)
        while True:
            if total - start < _LENGTHS.size:
                self._need = _LENGTHS.size
                break
            head_size, size = _LENGTHS.unpack_from(data, start)
            if head_size > MAX_HEAD or size > MAX_FRAME_PAYLOAD:
                raise ValueError(f"frame of {head_size} + {size} bytes")
            body = start + _LENGTHS.size + head_size
            end = body + size
            if total < end:
                self._need = end - start
                break
            head = json.loads(data[start + _LENGTHS.size:body])
            if not isinstance(head, dict):
                raise ValueError("frame head is not an object")
            self._on_frame(head, data[body:end])
            start = end
        if start < total:
            buffer += memoryview(data)[start:]


def invocation_head(invocation: Invocation) -> dict[str, Any]:
    """The invocation by reference: the controller resolves the version from the registry
    itself (a cache hit), so a frame never carries a function's whole configuration."""
    return {"op": "invoke", "name": invocation.function.name, "version": invocation.function.version,
            "invoked_arn": invocation.invoked_arn, "request_id": invocation.request_id,
            "client_context": invocation.client_context, "log_tail": invocation.log_tail}


def invocation_from(head: dict[str, Any], payload: bytes, resolve: ResolveNow,
                    stream: ResponseStream | None = None) -> Invocation:
    return Invocation(resolve(head["name"], head["version"]), head["invoked_arn"], payload, head["request_id"],
                      head.get("client_context"), bool(head.get("log_tail")), stream)


class StreamRelay:
    """The controller's end of a streamed invocation: the runtime's chunks go to the worker as
    frames; while the worker's socket is backed up, the runtime is not read."""

    def __init__(self, send: Callable[[dict[str, Any], bytes], None]) -> None:
        self._send = send
        self._pause: Pause | None = None
        self._backed_up = False
        self._gone = False

    def open(self, content_type: str, pause: Pause) -> None:
        self._pause = pause
        if self._backed_up:
            pause(True)
        self._send({"stream": "open", "content_type": content_type}, b"")

    def write(self, chunk: bytes) -> None:
        if not self._gone:
            self._send({"stream": "chunk"}, chunk)

    def backed_up(self, full: bool) -> None:
        """The worker's socket is full (True) or drained (False)."""
        self._backed_up = full and not self._gone
        if self._pause is not None:
            self._pause(self._backed_up)

    def gone(self) -> None:
        """The worker went away: the runtime is read on to its end, its chunks dropped."""
        self._gone = True
        self.backed_up(False)


def result_head(result: InvokeResult) -> dict[str, Any]:
    head: dict[str, Any] = {"executed_version": result.executed_version}
    if result.function_error is not None:
        head["function_error"] = result.function_error
    if result.log_tail:
        head["log_tail"] = result.log_tail.decode("utf-8", "replace")
    return head


def result_from(head: dict[str, Any], payload: bytes) -> InvokeResult:
    if "throttled" in head:
        raise TooManyRequests(head["throttled"], head["message"])
    if "failed" in head:
        raise ControllerUnavailable(head["failed"])
    return InvokeResult(payload, head["executed_version"], head.get("function_error"),
                        head.get("log_tail", "").encode())


class _Connection(asyncio.Protocol):
    """The worker's end of one controller connection: at most one call waits on it."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.waiter: asyncio.Future[Frame] | None = None
        self.stream: ResponseStream | None = None  # where a streamed call's chunks go
        self._flow: ReadPause | None = None  # its caller's flow control over this link
        self.closed = False
        self._frames = FrameReader(self._frame)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass

    def data_received(self, data: bytes) -> None:
        try:
            self._frames.feed(data)
        except ValueError as exc:
            self._fail(exc)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self._fail(exc or EOFError("the controller closed the connection"))

    def _frame(self, head: dict[str, Any], payload: bytes) -> None:
        part = head.get("stream")
        if part is not None and self.stream is not None:
            if part == "open":
                if self._flow is None:  # once: a runtime may post its stream on two connections
                    self._flow = ReadPause(self.transport)
                    self.stream.open(str(head.get("content_type")), self._flow)
            else:
                self.stream.write(payload)
            return
        waiter = self.waiter
        if waiter is None:
            self._fail(ValueError("a frame nobody asked for"))
            return
        self.waiter = None
        if not waiter.done():
            waiter.set_result((head, payload))

    def call_ended(self) -> None:
        """The call is answered: the link is read again for the next one, whatever a streamed
        call's caller still holds."""
        self.stream = None
        if self._flow is not None:
            self._flow.end()
            self._flow = None

    def _fail(self, exc: BaseException) -> None:
        waiter = self.waiter
        self.waiter = None
        if waiter is not None and not waiter.done():
            waiter.set_exception(exc)
        self.close()

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()


class ControllerClient:
    """An `Invoker` for API workers: each call borrows an idle connection to the controller.

    With a lease book, an invocation runs directly on an environment the controller lent this
    worker when there is one; otherwise through the controller, asking it to lend one."""

    def __init__(self, socket_path: Path, enqueue: Callable[[Invocation], Awaitable[None]],
                 leases: LeaseBook | None = None) -> None:
        self.socket_path = socket_path
        self._enqueue = enqueue
        self._leases = leases
        self._idle: list[_Connection] = []
        self._relaying: set[asyncio.Task[InvokeResult]] = set()

    async def _connection(self) -> _Connection:
        while self._idle:
            connection = self._idle.pop()
            if not connection.closed:
                return connection
        try:
            _, connection = await asyncio.get_running_loop().create_unix_connection(_Connection,
                                                                                    str(self.socket_path))
        except OSError as exc:
            raise ControllerUnavailable(f"the functions controller is not reachable: {exc}") from exc
        return connection

    async def call(self, head: dict[str, Any], payload: bytes = b"", stream: ResponseStream | None = None) -> Frame:
        connection = await self._connection()
        transport = connection.transport
        assert transport is not None
        waiter: asyncio.Future[Frame] = asyncio.get_running_loop().create_future()
        connection.waiter = waiter
        connection.stream = stream
        try:
            transport.write(encode_frame(head, payload))
            answer = await waiter
        except (OSError, EOFError, ValueError) as exc:
            connection.close()
            raise ControllerUnavailable(f"the functions controller went away: {exc}") from exc
        except BaseException:
            connection.close()  # cancelled mid-call: the connection's state is unknown
            raise
        connection.call_ended()
        self._idle.append(connection)
        return answer

    async def invoke(self, invocation: Invocation) -> InvokeResult:
        book = self._leases
        if book is not None and invocation.stream is None:  # a streamed answer goes through the controller
            loan = book.take(invocation)
            if loan is not None:
                with contextlib.suppress(Undelivered):
                    return await loan.invoke(invocation)
        return await self._relay(invocation)

    def start(self, invocation: Invocation, done: Outcome) -> bool:
        """`invoke` without awaiting, when an environment lent to this worker is idle: `done`
        gets the result or the exception `invoke` would raise. False when none is (nothing
        was started: the caller awaits `invoke`)."""
        loan = None if self._leases is None else self._leases.take(invocation)
        if loan is None:
            return False

        def finished(outcome: InvokeResult | BaseException) -> None:
            if not isinstance(outcome, Undelivered):
                done(outcome)
                return
            relay = asyncio.get_running_loop().create_task(self._relay(invocation))  # the environment was gone
            self._relaying.add(relay)
            relay.add_done_callback(lambda task: self._relayed(task, done))

        loan.start(invocation, finished)
        return True

    def _relayed(self, task: asyncio.Task[InvokeResult], done: Outcome) -> None:
        self._relaying.discard(task)
        if not task.cancelled():
            done(task.exception() or task.result())

    async def _relay(self, invocation: Invocation) -> InvokeResult:
        """Through the controller, asking it to lend the environment it runs this on."""
        head = invocation_head(invocation)
        if invocation.stream is not None:
            head["stream"] = True
        elif self._leases is not None and self._leases.lessee is not None:
            head["lessee"] = self._leases.lessee
        answer, payload = await self.call(head, invocation.payload, invocation.stream)
        return result_from(answer, payload)

    async def enqueue(self, invocation: Invocation) -> None:
        await self._enqueue(invocation)
        try:
            await self.call({"op": "wake"})
        except ControllerUnavailable:
            log.warning("event %s is queued; the controller will find it when it is back", invocation.request_id)

    async def recall(self, function_name: str) -> None:
        try:
            await self.call({"op": "recall", "name": function_name})
        except ControllerUnavailable:
            log.warning("the controller is away; %s's new reserved concurrency counts from its next invocation, "
                        "and its lent environments keep their slots until the controller is back", function_name)

    async def provision(self, function_name: str) -> None:
        try:
            await self.call({"op": "provision", "name": function_name})
        except ControllerUnavailable:
            log.warning("the controller is away; it provisions %s's environments when it is back", function_name)

    async def retire(self, function_name: str, version: str | None = None) -> None:
        try:
            await self.call({"op": "retire", "name": function_name, "version": version})
        except ControllerUnavailable:
            log.warning("the controller is away; %s's idle environments stop when it reaps them", function_name)

    def close(self) -> None:
        for connection in self._idle:
            connection.close()
        self._idle.clear()
        if self._leases is not None:
            self._leases.close()
