"""The controller's sockets: only strato's own uid may connect, from the moment they have a name."""

from __future__ import annotations

import os
import socket
import stat
from pathlib import Path

from strato.functions.private_socket import listen_private


def test_a_private_socket_is_0600_under_its_name_and_leaves_nothing_else(tmp_path: Path) -> None:
    umask = os.umask(0o000)  # the loosest umask: the mode must not come from it
    try:
        path = tmp_path / "controller.sock"
        listening = listen_private(path, socket.SOCK_STREAM)
    finally:
        os.umask(umask)
    with listening, socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert [entry.name for entry in tmp_path.iterdir()] == ["controller.sock"]
        client.connect(str(path))


def test_a_path_as_long_as_a_socket_may_have_still_listens(tmp_path: Path) -> None:
    """The temporary name must not be longer than the real one (sockaddr_un holds 107 bytes)."""
    path = tmp_path / ("s" * (107 - len(str(tmp_path)) - 1))
    with listen_private(path, socket.SOCK_STREAM), socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
        client.connect(str(path))


def test_a_socket_left_by_an_earlier_run_is_replaced(tmp_path: Path) -> None:
    path = tmp_path / "leases.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET) as stale:
        stale.bind(str(path))
    with listen_private(path, socket.SOCK_SEQPACKET) as listening, \
            socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET) as client:
        client.connect(str(path))
        listening.setblocking(True)
        accepted, _ = listening.accept()
        accepted.close()
