"""Worker <-> functions controller: invocations over a local Unix socket.

The controller process is the one owner of the environment pool and its concurrency counts
(DESIGN.md); API workers reach it through `ControllerClient`, which keeps the `Invoker` shape.
A frame is a 4-byte big-endian length, a JSON head, then the head's `size` bytes of payload:
payloads are at most 6 MB by Lambda's contract, so a frame is read whole.
"""

from __future__ import annotations

import asyncio
import json
import logging
import struct
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from .records import MAX_PAYLOAD, FunctionVersion, Invocation, InvokeResult, TooManyRequests

log = logging.getLogger("strato.functions")

_LENGTH = struct.Struct(">I")
Resolve = Callable[[str, str], FunctionVersion]
MAX_HEAD = 1024 * 1024


class ControllerUnavailable(Exception):
    """The controller process cannot be reached (it is starting or restarting)."""


async def write_frame(writer: asyncio.StreamWriter, head: dict[str, Any], payload: bytes = b"") -> None:
    encoded = json.dumps({**head, "size": len(payload)}).encode()
    writer.write(_LENGTH.pack(len(encoded)) + encoded + payload)
    await writer.drain()


async def read_frame(reader: asyncio.StreamReader) -> tuple[dict[str, Any], bytes]:
    (length,) = _LENGTH.unpack(await reader.readexactly(_LENGTH.size))
    if length > MAX_HEAD:
        raise ValueError(f"frame head of {length} bytes")
    head: dict[str, Any] = json.loads(await reader.readexactly(length))
    size = int(head.pop("size"))
    if not 0 <= size <= 2 * MAX_PAYLOAD:
        raise ValueError(f"frame payload of {size} bytes")
    return head, await reader.readexactly(size)


def invocation_head(invocation: Invocation) -> dict[str, Any]:
    """The invocation by reference: the controller resolves the version from the registry
    itself (a cache hit), so a frame never carries a function's whole configuration."""
    return {"name": invocation.function.name, "version": invocation.function.version,
            "invoked_arn": invocation.invoked_arn, "request_id": invocation.request_id,
            "client_context": invocation.client_context, "log_tail": invocation.log_tail}


def invocation_from(head: dict[str, Any], payload: bytes, resolve: Resolve) -> Invocation:
    return Invocation(resolve(head["name"], head["version"]), head["invoked_arn"], payload, head["request_id"],
                      head.get("client_context"), bool(head.get("log_tail")))


def result_head(result: InvokeResult) -> dict[str, Any]:
    return {"executed_version": result.executed_version, "function_error": result.function_error,
            "log_tail": result.log_tail.decode("utf-8", "replace")}


def result_from(head: dict[str, Any], payload: bytes) -> InvokeResult:
    if "throttled" in head:
        raise TooManyRequests(head["throttled"], head["message"])
    if "failed" in head:
        raise ControllerUnavailable(head["failed"])
    return InvokeResult(payload, head["executed_version"], head.get("function_error"),
                        head.get("log_tail", "").encode())


class ControllerClient:
    """An `Invoker` for API workers: each call borrows an idle connection to the controller."""

    def __init__(self, socket_path: Path, enqueue: Callable[[Invocation], Awaitable[None]]) -> None:
        self.socket_path = socket_path
        self._enqueue = enqueue
        self._idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []

    async def _connection(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        if self._idle:
            return self._idle.pop()
        try:
            return await asyncio.open_unix_connection(str(self.socket_path))
        except OSError as exc:
            raise ControllerUnavailable(f"the functions controller is not reachable: {exc}") from exc

    async def call(self, head: dict[str, Any], payload: bytes = b"") -> tuple[dict[str, Any], bytes]:
        reader, writer = await self._connection()
        try:
            await write_frame(writer, head, payload)
            answer = await read_frame(reader)
        except (OSError, EOFError, asyncio.IncompleteReadError, ValueError) as exc:
            writer.close()
            raise ControllerUnavailable(f"the functions controller went away: {exc}") from exc
        except BaseException:
            writer.close()  # cancelled mid-call: the connection's state is unknown
            raise
        self._idle.append((reader, writer))
        return answer

    async def invoke(self, invocation: Invocation) -> InvokeResult:
        head, payload = await self.call({"op": "invoke", **invocation_head(invocation)}, invocation.payload)
        return result_from(head, payload)

    async def enqueue(self, invocation: Invocation) -> None:
        await self._enqueue(invocation)
        try:
            await self.call({"op": "wake"})
        except ControllerUnavailable:
            log.warning("event %s is queued; the controller will find it when it is back", invocation.request_id)

    async def retire(self, function_name: str) -> None:
        try:
            await self.call({"op": "retire", "name": function_name})
        except ControllerUnavailable:
            log.warning("the controller is away; %s's idle environments stop when it reaps them", function_name)

    def close(self) -> None:
        for _, writer in self._idle:
            writer.close()
        self._idle.clear()
