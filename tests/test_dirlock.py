"""One strato process per directory (dirlock.py): a second one waits for the first to be gone,
then stops, naming the holder; the forks of the first keep the directory held."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from strato.dirlock import hold


def held_by_a_child(directory: Path) -> tuple[int, int]:
    """A child process that holds `directory` until it is told to go: its pid and the pipe end
    that tells it."""
    ready, go = os.pipe(), os.pipe()
    pid = os.fork()
    if pid == 0:
        hold(directory, "test")
        os.write(ready[1], b"x")
        os.read(go[0], 1)
        os._exit(0)
    os.read(ready[0], 1)
    return pid, go[1]


def test_a_second_holder_is_refused_with_the_first_ones_pid(tmp_path: Path) -> None:
    pid, go = held_by_a_child(tmp_path)
    try:
        with pytest.raises(SystemExit, match=f"in use by another test \\(pid {pid}\\)"):
            hold(tmp_path, "test", wait=0.2)
    finally:
        os.write(go, b"x")
        os.waitpid(pid, 0)
    os.close(hold(tmp_path, "test", wait=0.2))  # free once the first is gone


def test_a_forked_process_keeps_the_directory_held_after_its_parent_is_killed(tmp_path: Path) -> None:
    """As a supervisor killed outright leaves its workers holding the data dir until they go."""
    parent = os.fork()
    if parent == 0:
        hold(tmp_path, "test")
        child = os.fork()
        if child == 0:
            signal.pause()
        with open(tmp_path / "child", "w") as out:
            out.write(str(child))
        signal.pause()
    while not (tmp_path / "child").exists() or not (tmp_path / "child").read_text():
        os.sched_yield()
    child = int((tmp_path / "child").read_text())
    os.kill(parent, signal.SIGKILL)
    os.waitpid(parent, 0)
    try:
        with pytest.raises(SystemExit):
            hold(tmp_path, "test", wait=0.2)
    finally:
        os.kill(child, signal.SIGKILL)
    os.close(hold(tmp_path, "test", wait=5))
