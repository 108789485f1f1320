"""The Runtime API listener of one environment: 127.0.0.1, a port chosen by the kernel.

Each environment has its own listener and channel. Its port is reachable by every process on
the host, so once the environment's process is known (`owner`, and `owner_uid` where its
processes run as a uid of their own), only connections from that environment are admitted
(peers.py); before that, none are.
"""

from __future__ import annotations

import asyncio
import socket

from . import peers
from .channel import RuntimeChannel
from .connection import RuntimeConnection


class RuntimeApiListener:
    def __init__(self, server: asyncio.Server, channel: RuntimeChannel, connections: set[RuntimeConnection]) -> None:
        self._server = server
        self._channel = channel
        self._connections = connections
        port = server.sockets[0].getsockname()[1]
        self.address = f"127.0.0.1:{port}"  # the value of AWS_LAMBDA_RUNTIME_API
        self.owner: int | None = None  # the pid whose process tree may connect (None: no one yet)
        self.owner_uid: int | None = None  # the uid only that tree runs as (None: it has none of its own)

    @classmethod
    async def open(cls, channel: RuntimeChannel, restricted: bool = True) -> RuntimeApiListener:
        """`restricted=False` admits any local process (for tests of the protocol alone)."""
        connections: set[RuntimeConnection] = set()
        loop = asyncio.get_running_loop()
        listener: RuntimeApiListener | None = None

        def admit(peer: tuple[str, int], local: tuple[str, int]) -> bool:
            if not restricted:
                return True
            if listener is None or listener.owner is None:
                return False
            return peers.from_environment(peer, local, listener.owner, listener.owner_uid)

        server = await loop.create_server(lambda: RuntimeConnection(channel, connections, admit),
                                          "127.0.0.1", 0, family=socket.AF_INET, backlog=8)
        listener = cls(server, channel, connections)
        return listener

    async def adopt(self, sock: socket.socket) -> None:
        """Serve one end of a socket pair whose other end the runtime gets at launch: no one
        else can reach it, and it spares the runtime loopback TCP."""
        await asyncio.get_running_loop().connect_accepted_socket(
            lambda: RuntimeConnection(self._channel, self._connections, None), sock)

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
