"""One strato process per directory. A second `strato serve` on a data dir (or `strato edge` on a
cache dir) would run its start-up recovery and clean-up under the first one's feet, deleting
files the first is writing, and take over its sockets. The first holds an exclusive lock on
DIR/strato.lock for its whole life (the processes it forks share it, so a supervisor killed
outright holds it until its workers have gone too); a second one waits a while for it (a
restart right after a crash), then stops and says which process holds the directory."""

from __future__ import annotations

import fcntl
import logging
import os
import time
from pathlib import Path

log = logging.getLogger("strato")

LOCK_NAME = "strato.lock"
WAIT = 30.0  # seconds a start waits for the directory's previous holder to be gone
POLL = 0.05


def hold(directory: Path, role: str, wait: float = WAIT) -> int:
    """Lock `directory` for this process (and its forks) until it exits; its descriptor. Raises
    SystemExit naming the holder when another process keeps it past `wait` seconds."""
    fd = os.open(directory / LOCK_NAME, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    deadline = time.monotonic() + wait
    told = False
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "unknown"
            if time.monotonic() >= deadline:
                os.close(fd)
                raise SystemExit(f"strato: {directory} is in use by another {role} (pid {holder}); "
                                 f"run one per directory") from None
            if not told:
                log.warning("%s is in use by another %s (pid %s): waiting up to %.0f s", directory, role, holder, wait)
                told = True
            time.sleep(POLL)
    os.ftruncate(fd, 0)
    os.pwrite(fd, str(os.getpid()).encode(), 0)
    return fd
