"""Worker processes: one listening socket, N forked workers, restarts, one shutdown path."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
import sys
import time
from collections.abc import Callable, Collection, Coroutine, Sequence
from typing import Any

log = logging.getLogger("strato")

# Runs one worker to completion; given the worker's index (0..N-1).
Worker = Callable[[int], Coroutine[Any, Any, None]]
# One supervised process's main coroutine.
Role = Callable[[], Coroutine[Any, Any, None]]
# A process that dies sooner than this after its start is crash-looping: its next start waits,
# twice as long each time (up to MAX_RESTART_DELAY), so that a broken start does not burn the CPUs.
SHORT_LIFE = 1.0
FIRST_RESTART_DELAY = 0.1
MAX_RESTART_DELAY = 5.0
REAP_POLL = 0.05  # how often children are looked at while a restart is due (else waited for)


class _Stopped(Exception):
    """Raised by the stop signal's handler into a restart's wait, which it ends."""


def bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Accepted sockets inherit this: without it, a response written as headers then body
    # waits on the client's delayed ACK (~40 ms per keep-alive request).
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def run_loop(main: Coroutine[Any, Any, None]) -> None:
    """Run on uvloop where it is installed: uvicorn's `loop` setting does not apply when
    we drive `Server.serve` ourselves."""
    try:
        import uvloop
    except ImportError:
        asyncio.run(main)
    else:
        uvloop.run(main)


_stop_requested = False


def stop_requested() -> bool:
    """Whether a stop signal reached this process through `exit_cleanly` (servers poll it)."""
    return _stop_requested


def exit_cleanly(signum: int, _frame: object) -> None:
    """SIGINT/SIGTERM seen outside uvicorn's own handling end the process with status 0.

    uvicorn shuts down gracefully on these signals and then raises them again under the
    handler that was installed before it ran: with the defaults, SIGTERM would kill the
    process (status -15) and SIGINT raise KeyboardInterrupt. This handler makes that second
    delivery, and a signal arriving before uvicorn starts, a clean exit. The SystemExit can
    be lost when it is raised inside an event-loop callback that reports errors instead of
    raising them, so the request is also remembered (`stop_requested`).
    """
    global _stop_requested
    _stop_requested = True
    raise SystemExit(0)


def _prctl(option: int, arg: int | bytes) -> None:
    """prctl(2) on Linux, a no-op elsewhere; raises OSError or AttributeError if unreachable."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    ctypes.CDLL(None, use_errno=True).prctl(option, arg, 0, 0, 0)


def _die_with_parent() -> None:
    """Ask Linux to SIGTERM this worker when its supervisor dies, even by SIGKILL, so that no
    orphan keeps serving the old socket and data dir."""
    pr_set_pdeathsig = 1
    try:
        _prctl(pr_set_pdeathsig, signal.SIGTERM)
    except (OSError, AttributeError):
        log.warning("could not tie worker %d to its supervisor's lifetime", os.getpid())


def _name_process(name: str) -> None:
    """Show the role in ps and top (/proc/PID/comm, at most 15 bytes): `strato:worker-0`."""
    pr_set_name = 15
    with contextlib.suppress(OSError, AttributeError):
        _prctl(pr_set_name, f"strato:{name}".encode()[:15])


def run_single(worker: Worker) -> None:
    signal.signal(signal.SIGINT, exit_cleanly)
    signal.signal(signal.SIGTERM, exit_cleanly)
    run_loop(worker(0))


def supervise(roles: Sequence[tuple[str, Role]], stopped_last: Collection[str] = ()) -> None:
    """Fork one process per (name, main) role (API workers, the functions controller), restart
    any that dies (a crash-looping one after its delay, which holds back no other's restart),
    and stop them all on SIGINT/SIGTERM: the roles named in `stopped_last` (a backend the others'
    in-flight requests still need) once every other one has finished and exited."""
    children: dict[int, int] = {}
    last_told = False  # the roles stopped last were sent their SIGTERM
    started = [0.0] * len(roles)
    delays = [0.0] * len(roles)
    due: dict[int, float] = {}  # the roles to start again: when
    stopping = False
    waiting = False  # in a wait, which a stop signal ends
    supervisor = os.getpid()

    def spawn(index: int) -> None:
        started[index] = time.monotonic()
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                signal.signal(signal.SIGINT, exit_cleanly)
                signal.signal(signal.SIGTERM, exit_cleanly)
                _die_with_parent()
                _name_process(roles[index][0])
                if os.getppid() != supervisor:  # it died before the line above took effect
                    raise SystemExit(0)
                run_loop(roles[index][1]())
                code = 0
            except SystemExit as e:  # as the interpreter ends: a code neither None nor an int is said, status 1
                if e.code is None or isinstance(e.code, int):
                    code = e.code or 0
                else:
                    print(e.code, file=sys.stderr)
            except BaseException:
                log.exception("%s failed", roles[index][0])
            finally:
                logging.shutdown()
                os._exit(code)
        children[pid] = index
        if stopping and (last_told or not last(index)):  # a stop signal arrived while this process was being forked
            os.kill(pid, signal.SIGTERM)

    def last(index: int) -> bool:
        return roles[index][0] in stopped_last

    def stop_the_last() -> None:
        """Once only the roles stopped last are left, stop them."""
        nonlocal last_told
        if not last_told and all(last(index) for index in children.values()):
            last_told = True
            for pid in children:
                os.kill(pid, signal.SIGTERM)

    def stop(signum: int, frame: object) -> None:
        if os.getpid() != supervisor:  # a child forked a moment ago, before its own handlers
            exit_cleanly(signum, frame)
        nonlocal stopping, waiting
        stopping = True
        for pid, index in children.items():
            if not last(index):
                os.kill(pid, signal.SIGTERM)
        stop_the_last()
        if waiting:
            waiting = False
            raise _Stopped

    def wait(seconds: float) -> None:
        """Sleep, unless a stop signal comes first (or came already)."""
        nonlocal waiting
        try:
            waiting = True
            if not stopping:
                time.sleep(seconds)
            waiting = False
        except _Stopped:
            pass

    def reap() -> tuple[int, int] | None:
        """A child that exited (pid, wait status): waited for, or looked for until the next
        restart is due (None: none exited by then, or there is no child)."""
        if stopping or not due:
            return os.wait()
        until = min(due.values())
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                pid = status = 0
            if pid:
                return pid, status
            left = until - time.monotonic()
            if left <= 0 or stopping:
                return None
            wait(min(left, REAP_POLL))

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    for index in range(len(roles)):
        spawn(index)
    while children or (due and not stopping):
        now = time.monotonic()
        for index in [index for index, at in due.items() if at <= now and not stopping]:
            del due[index]
            spawn(index)
        try:
            reaped = reap()
        except ChildProcessError:
            break
        if reaped is None:
            continue
        pid, status = reaped
        index = children.pop(pid)
        if stopping:
            stop_the_last()
        else:
            short = time.monotonic() - started[index] < SHORT_LIFE
            delays[index] = min(max(delays[index] * 2, FIRST_RESTART_DELAY), MAX_RESTART_DELAY) if short else 0.0
            log.error("%s (pid %d) exited (status %d); restarting%s", roles[index][0], pid,
                      os.waitstatus_to_exitcode(status), f" in {delays[index]:.1f} s" if delays[index] else "")
            due[index] = time.monotonic() + delays[index]
    sys.exit(0)
