"""The Runtime API listener of one environment: 127.0.0.1, a port chosen by the kernel.

Each environment has its own listener and channel, so a request arriving on environment A's
listener can only fetch or answer A's invocations.
"""

from __future__ import annotations

import asyncio
import socket

from .channel import RuntimeChannel
from .connection import RuntimeConnection


class RuntimeApiListener:
    def __init__(self, server: asyncio.Server, connections: set[RuntimeConnection]) -> None:
        self._server = server
        self._connections = connections
        port = server.sockets[0].getsockname()[1]
        self.address = f"127.0.0.1:{port}"  # the value of AWS_LAMBDA_RUNTIME_API

    @classmethod
    async def open(cls, channel: RuntimeChannel) -> RuntimeApiListener:
        connections: set[RuntimeConnection] = set()
        loop = asyncio.get_running_loop()
        server = await loop.create_server(lambda: RuntimeConnection(channel, connections),
                                          "127.0.0.1", 0, family=socket.AF_INET, backlog=8)
        return cls(server, connections)

    @property
    def connections(self) -> int:
        """Connections open from the runtime now."""
        return len(self._connections)

    def close(self) -> None:
        """Stop listening and drop every connection (the environment is gone)."""
        self._server.close()
        for connection in list(self._connections):
            connection.close()
        self._connections.clear()
