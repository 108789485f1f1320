"""A local message channel that can carry file descriptors: a Unix SOCK_SEQPACKET socket.

The lease desk (lending.py) hands a runtime's Runtime API connection to a worker by passing
its descriptor, which a stream transport cannot do. A message is one frame of ipc.py's form
(JSON head, bytes payload), sent whole: messages are small by contract (no invocation payload
travels here, only heads and error documents), so the kernel delivers each in one piece.
"""

from __future__ import annotations

import array
import asyncio
import contextlib
import os
import socket
from collections import deque
from collections.abc import Callable
from typing import Any

from .ipc import FrameReader, encode_frame

MAX_MESSAGE = 256 * 1024
_FD_SPACE = socket.CMSG_SPACE(array.array("i").itemsize)

OnMessage = Callable[[dict[str, Any], bytes, int | None], None]  # (head, payload, passed fd or None)


class Datagrams:
    """One end of a connected SOCK_SEQPACKET socket, written through the event loop.

    `on_message` gets each message; a passed descriptor belongs to it from then on. `on_close`
    runs once when the peer goes away or sends something malformed. A watched end reads as
    soon as a message arrives; an unwatched one only when `poll` is called, so that a sender
    does not wake this process for each message (the lease desk hears workers that way)."""

    def __init__(self, sock: socket.socket, on_message: OnMessage, on_close: Callable[[], None],
                 watch: bool = True) -> None:
        sock.setblocking(False)
        # The kernel refuses a message longer than the send buffer (EMSGSIZE), and the default
        # buffer is smaller than MAX_MESSAGE; it doubles what is asked, up to its own limit.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, MAX_MESSAGE)
        self._sock = sock
        self._on_message = on_message
        self._on_close = on_close
        self._outgoing: deque[tuple[bytes, int | None]] = deque()
        self._loop = asyncio.get_running_loop()
        self._watched = watch
        if watch:
            self._loop.add_reader(sock.fileno(), self.poll)
        self.closed = False

    def send(self, head: dict[str, Any], payload: bytes = b"", fd: int | None = None) -> None:
        """Queue one message (with a descriptor to pass, which stays the caller's to close)."""
        if self.closed:
            return
        message = encode_frame(head, payload)
        if len(message) > MAX_MESSAGE:
            raise ValueError(f"a message of {len(message)} bytes")
        if self._outgoing:
            self._outgoing.append((message, None if fd is None else os.dup(fd)))
            return
        if not self._write(message, fd):
            self._outgoing.append((message, None if fd is None else os.dup(fd)))
            self._loop.add_writer(self._sock.fileno(), self._writable)

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        if self._watched:
            self._loop.remove_reader(self._sock.fileno())
        self._loop.remove_writer(self._sock.fileno())
        for _, fd in self._outgoing:
            if fd is not None:
                _close(fd)
        self._outgoing.clear()
        self._sock.close()
        self._on_close()

    def _write(self, message: bytes, fd: int | None) -> bool:
        """Send now; False when the socket is full (the message waits for writability)."""
        try:
            if fd is None:
                self._sock.send(message)
            else:
                self._sock.sendmsg([message], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", [fd]))])
        except BlockingIOError:
            return False
        except OSError:
            self._loop.call_soon(self.close)
            return True
        return True

    def _writable(self) -> None:
        while self._outgoing:
            message, fd = self._outgoing[0]
            if not self._write(message, fd):
                return
            self._outgoing.popleft()
            if fd is not None:
                _close(fd)
        self._loop.remove_writer(self._sock.fileno())

    def poll(self) -> int:
        """Read every message waiting now; returns how many there were."""
        count = 0
        while not self.closed:
            try:
                message, ancillary, flags, _ = self._sock.recvmsg(MAX_MESSAGE, _FD_SPACE)
            except BlockingIOError:
                break
            except OSError:
                self.close()
                break
            count += 1
            fds = _fds(ancillary)
            frame = None
            if message and not flags & (socket.MSG_TRUNC | socket.MSG_CTRUNC) and len(fds) <= 1:
                frame = _one_frame(message)
            if frame is None:
                for fd in fds:
                    _close(fd)
                self.close()
                break
            self._on_message(frame[0], frame[1], fds[0] if fds else None)
        return count


def _one_frame(message: bytes) -> tuple[dict[str, Any], bytes] | None:
    frames: list[tuple[dict[str, Any], bytes]] = []
    try:
        FrameReader(lambda head, payload: frames.append((head, payload))).feed(message)
    except ValueError:
        return None
    return frames[0] if len(frames) == 1 else None


def _fds(ancillary: list[tuple[int, int, bytes]]) -> list[int]:
    fds = array.array("i")
    for level, kind, data in ancillary:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds.frombytes(data[: len(data) - len(data) % fds.itemsize])
    return list(fds)


def _close(fd: int) -> None:
    with contextlib.suppress(OSError):
        os.close(fd)
