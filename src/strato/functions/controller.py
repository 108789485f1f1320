"""The functions controller: the one process that owns the environment pool.

API workers send it invocations over a Unix socket (ipc.py); it runs them through the pool and
drains the Event queue; it keeps the environments of provisioned concurrency configurations
(provisioning.py), all of them again at start-up. Its socket lives in the data dir's functions
folder (mode 0700), which function code can never see.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from pathlib import Path
from typing import Any, cast

from .errors import NotFound
from .events import Dispatcher
from .ipc import FrameReader, ResolveNow, StreamRelay, encode_frame, invocation_from, result_head
from .lending import LeaseDesk
from .pool import Pool
from .private_socket import listen_private
from .provisioning import Provisioner
from .records import LATEST, TooManyRequests

log = logging.getLogger("strato.functions")


class Controller:
    """`resolve` (Registry.resolve) is called on the loop: a cached route is a read of shared
    memory, a miss (after a registry write: a new revision's cold start) one indexed SQLite
    read, which costs less than a hop to a thread and back (~0.3-0.6 ms on 2 busy CPUs)."""

    def __init__(self, socket_path: Path, resolve: ResolveNow, pool: Pool, dispatcher: Dispatcher,
                 desk: LeaseDesk | None = None, provisioner: Provisioner | None = None) -> None:
        self.socket_path = socket_path
        self.resolve = resolve
        self.pool = pool
        self.dispatcher = dispatcher
        self.desk = desk
        self.provisioner = provisioner

    async def serve(self) -> None:
        loop = asyncio.get_running_loop()
        server = await loop.create_unix_server(lambda: WorkerConnection(self),
                                               sock=listen_private(self.socket_path, socket.SOCK_STREAM))
        draining = asyncio.create_task(self.dispatcher.serve())
        if self.desk is not None:
            self.desk.open()
        if self.provisioner is not None:
            self.provisioner.refresh_soon()
        try:
            async with server:
                await server.serve_forever()
        finally:
            draining.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await draining  # its deliveries end before the queue and the store close
            if self.provisioner is not None:
                await self.provisioner.close()
            if self.desk is not None:
                self.desk.close()

    async def invoke(self, head: dict[str, Any], payload: bytes,
                     stream: StreamRelay | None = None) -> tuple[dict[str, Any], bytes]:
        try:
            invocation = invocation_from(head, payload, self.resolve, stream)
            result = await self.pool.invoke(invocation)
        except TooManyRequests as exc:
            return {"throttled": exc.reason, "message": exc.message}, b""
        except Exception as exc:
            log.exception("invocation %s failed in the controller", head.get("request_id"))
            return {"failed": f"{type(exc).__name__}: {exc}"}, b""
        if self.desk is not None and "lessee" in head:
            self.desk.grant(head["lessee"], invocation.function)
        return result_head(result), result.payload

    def limits_changed(self, name: str) -> None:
        """The function's reserved concurrency changed (its route now says how): the pool applies it."""
        try:
            function = self.resolve(name, LATEST)
        except NotFound:
            return  # deleted since: its retirement drops the reservation
        self.pool.limits_changed(function)

    def retire(self, name: str, version: str | None = None) -> None:
        """The function, or one of its versions, is deleted: its environments go (kept ones
        too; another version's stay), and whatever configurations it still has are provisioned
        again."""
        provisioner = self.provisioner
        if provisioner is not None:
            provisioner.forget(name, version)
        self.pool.retire(name, version)
        if provisioner is not None:
            provisioner.refresh_soon(name)


class WorkerConnection(asyncio.Protocol):
    """One worker connection: one call at a time (a frame sent before the previous answer
    closes it). `wake` and `retire` are answered at once; an invocation runs as a task, which
    outlives the connection (the pool counts and logs it to its end, as Lambda does)."""

    def __init__(self, controller: Controller) -> None:
        self._controller = controller
        self._transport: asyncio.Transport | None = None
        self._frames = FrameReader(self._frame)
        self._running: asyncio.Task[None] | None = None
        self._relay: StreamRelay | None = None  # the streamed invocation running, if it streams

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass

    def data_received(self, data: bytes) -> None:
        try:
            self._frames.feed(data)
        except ValueError as exc:
            log.warning("dropped a worker connection: %r", exc)
            self._close()

    def connection_lost(self, exc: Exception | None) -> None:
        self._transport = None
        if self._relay is not None:
            self._relay.gone()

    def pause_writing(self) -> None:
        if self._relay is not None:
            self._relay.backed_up(True)

    def resume_writing(self) -> None:
        if self._relay is not None:
            self._relay.backed_up(False)

    def _frame(self, head: dict[str, Any], payload: bytes) -> None:
        if self._running is not None:
            log.warning("dropped a worker connection: a call sent before the last was answered")
            self._close()
            return
        op = head.get("op")
        if op == "invoke":
            self._running = asyncio.get_running_loop().create_task(self._invoke(head, payload))
            return
        if op == "wake":
            self._controller.dispatcher.wake()
        elif op == "retire" and isinstance(head.get("name"), str):
            version = head.get("version")
            self._controller.retire(head["name"], version if isinstance(version, str) else None)
        elif op == "provision" and isinstance(head.get("name"), str):
            if self._controller.provisioner is not None:
                self._controller.provisioner.refresh_soon(head["name"])
        elif op == "recall" and isinstance(head.get("name"), str):
            self._controller.limits_changed(head["name"])
        else:
            self._send({"failed": f"no such operation: {op!r}"}, b"")
            return
        self._send({}, b"")

    async def _invoke(self, head: dict[str, Any], payload: bytes) -> None:
        self._relay = StreamRelay(self._send) if head.get("stream") else None
        try:
            answer, body = await self._controller.invoke(head, payload, self._relay)
        finally:
            self._running = self._relay = None
        self._send(answer, body)

    def _send(self, head: dict[str, Any], payload: bytes) -> None:
        transport = self._transport
        if transport is not None and not transport.is_closing():
            transport.write(encode_frame(head, payload))

    def _close(self) -> None:
        if self._transport is not None:
            self._transport.close()
