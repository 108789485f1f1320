"""A listening Unix socket only strato's own uid may connect to (the controller's and the lease
desk's): bound under a temporary name, made 0600, and only then renamed into place, so there
is no moment when it exists under its real name with the umask's looser mode. The temporary
name is no longer than the real one: a socket's path is limited to 107 bytes."""

from __future__ import annotations

import contextlib
import os
import socket
from pathlib import Path


def listen_private(path: Path, kind: socket.SocketKind, backlog: int = 16) -> socket.socket:
    """A non-blocking listening socket of `kind` at `path` (an old one there is replaced)."""
    temporary = path.with_name("~" + path.name[1:])
    with contextlib.suppress(FileNotFoundError):
        temporary.unlink()
    listening = socket.socket(socket.AF_UNIX, kind)
    try:
        listening.bind(str(temporary))
        os.chmod(temporary, 0o600)
        os.replace(temporary, path)
        listening.listen(backlog)
    except BaseException:
        listening.close()
        with contextlib.suppress(FileNotFoundError):
            temporary.unlink()
        raise
    listening.setblocking(False)
    return listening
