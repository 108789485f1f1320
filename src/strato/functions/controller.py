"""The functions controller: the one process that owns the environment pool.

API workers send it invocations over a Unix socket (ipc.py); it runs them through the pool and
drains the Event queue. Its socket lives in the data dir's functions folder (mode 0700), which
function code can never see.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from pathlib import Path
from typing import Any

from .events import Dispatcher
from .ipc import Resolve, invocation_from, read_frame, result_head, write_frame
from .pool import Pool
from .records import TooManyRequests

log = logging.getLogger("strato.functions")

class Controller:
    def __init__(self, socket_path: Path, resolve: Resolve, pool: Pool, dispatcher: Dispatcher) -> None:
        self.socket_path = socket_path
        self.resolve = resolve
        self.pool = pool
        self.dispatcher = dispatcher

    async def serve(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.socket_path.unlink()
        server = await asyncio.start_unix_server(self._connection, str(self.socket_path))
        os.chmod(self.socket_path, 0o600)
        draining = asyncio.create_task(self.dispatcher.serve())
        try:
            async with server:
                await server.serve_forever()
        finally:
            draining.cancel()

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                try:
                    head, payload = await read_frame(reader)
                except asyncio.IncompleteReadError:
                    return
                answer, body = await self._answer(head, payload)
                await write_frame(writer, answer, body)
        except (OSError, ValueError) as exc:
            log.warning("dropped a worker connection: %r", exc)
        finally:
            writer.close()

    async def _answer(self, head: dict[str, Any], payload: bytes) -> tuple[dict[str, Any], bytes]:
        if head.get("op") == "wake":
            self.dispatcher.wake()
            return {}, b""
        if head.get("op") == "retire":
            self.pool.retire(str(head["name"]))
            return {}, b""
        try:
            invocation = invocation_from(head, payload, self.resolve)
            result = await self.pool.invoke(invocation)
        except TooManyRequests as exc:
            return {"throttled": exc.reason, "message": exc.message}, b""
        except Exception as exc:
            log.exception("invocation %s failed in the controller", head.get("request_id"))
            return {"failed": f"{type(exc).__name__}: {exc}"}, b""
        return result_head(result), result.payload
