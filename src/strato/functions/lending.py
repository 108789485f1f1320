"""The controller's lease desk: warm environments lent to API workers.

A warm invocation relayed worker -> controller -> runtime and back costs two process hand-offs
and the controller's CPU on the caller's critical path. Instead, after the controller has run
an invocation for a worker that asked (`lessee` in its head), it lends that worker the idle
environment: it passes the runtime's Runtime API connection (a descriptor, over a SOCK_SEQPACKET
socket) and the worker speaks to the runtime directly from then on (borrowing.py).

The controller stays the one owner (DESIGN.md): a lent environment holds its concurrency slot
in the pool, and the worker reports each invocation as it begins and ends, so that timeouts,
exits, memory and the START / END / REPORT log stay here. Messages, by direction:

    controller -> worker   hello {id} | lend {lease, name, version, revision} + descriptor
                           | result {lease, request_id, ...result head} + payload | recall {lease}
    worker -> controller   ring + descriptor (first) | return {lease, waiting, after}
    worker -> ring         begin {lease, request_id, log_tail} | end {lease, request_id, error_type}

The reports go through a ring of memory shared with the worker (report_ring.py: no system
call on the invoke's path), or on the channel with `after` when the ring is full; the desk
reads the ring before each channel message, so it hears everything in the order it was sent.

`result` comes when the invocation ended here (a timeout, an exit; the worker's runtime
connection is gone too), when the worker needs the log tail, or `lost` when the environment was
already dead at `begin` (the worker then runs the invocation through the controller). Only
runtimes that keep one Runtime API connection (strato's own Python runtime client) are lent.

The desk does not wake for each report (that wakeup cost a warm invoke a fifth of its time):
it reads them on a tick (TICK_BUSY while they come, backing off to TICK_LONGEST when they stop,
TICK_SHORTEST after a lend or a recall, whose answers are awaited), and at once before it
judges a lent environment's output, timeout or exit.
`begin` and `end` carry the worker's clock (perf_counter is CLOCK_MONOTONIC, one clock for
every process), so deadlines and durations do not depend on when they are read.
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import logging
import os
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .datagrams import Datagrams
from .environment import Environment
from .ipc import result_head
from .pool import Pool
from .private_socket import listen_private
from .records import FunctionVersion, InvokeResult
from .report_ring import RingReader
from .runtimes import strato_client

log = logging.getLogger("strato.functions")

TICK_SHORTEST = 0.001
TICK_BUSY = 0.01
TICK_LONGEST = 0.05


class LeaseDesk:
    def __init__(self, socket_path: Path, pool: Pool) -> None:
        self.socket_path = socket_path
        self.pool = pool
        self._borrowers: dict[int, _Borrower] = {}
        self._ids = itertools.count(1)
        self._listening: socket.socket | None = None
        self._tick: asyncio.TimerHandle | None = None
        self._interval = TICK_SHORTEST

    def open(self) -> None:
        """Listen (mode 0600, in the controller's private folder)."""
        self._listening = listening = listen_private(self.socket_path, socket.SOCK_SEQPACKET)
        asyncio.get_running_loop().add_reader(listening.fileno(), self._accept)

    def close(self) -> None:
        if self._tick is not None:
            self._tick.cancel()
            self._tick = None
        if self._listening is not None:
            asyncio.get_running_loop().remove_reader(self._listening.fileno())
            self._listening.close()
            self._listening = None
        for borrower in list(self._borrowers.values()):
            borrower.channel.close()

    def grant(self, lessee: object, function: FunctionVersion) -> None:
        """Lend the worker `lessee` an idle environment of this function revision, if there is one."""
        borrower = self._borrowers.get(lessee) if isinstance(lessee, int) else None
        if borrower is not None and strato_client(function.runtime):
            borrower.lend(function)

    def _accept(self) -> None:
        assert self._listening is not None
        while True:
            try:
                sock, _ = self._listening.accept()
            except BlockingIOError:
                return
            except OSError as exc:
                log.warning("lease desk: accept failed: %r", exc)
                return
            # A worker that went away holding nothing is noticed only when read: a new
            # connection (most often its successor's) is the moment to read them all.
            for borrower in list(self._borrowers.values()):
                borrower.hear()
            borrower_id = next(self._ids)
            self._borrowers[borrower_id] = _Borrower(self.pool, borrower_id, sock, self._hurry,
                                                     functools.partial(self._borrowers.pop, borrower_id, None))

    def _hurry(self) -> None:
        """Reports are expected soon (a lease was handed out or recalled): tick at the fastest."""
        self._interval = TICK_SHORTEST
        if self._tick is not None and self._tick.when() <= asyncio.get_running_loop().time() + TICK_SHORTEST:
            return
        if self._tick is not None:
            self._tick.cancel()
        self._tick = asyncio.get_running_loop().call_later(TICK_SHORTEST, self._run_tick)

    def _run_tick(self) -> None:
        self._tick = None
        borrowers = list(self._borrowers.values())
        heard = sum(borrower.hear() for borrower in borrowers)
        if not any(borrower.holds for borrower in borrowers):
            return  # nothing is lent: nothing to hear until something is
        self._interval = TICK_BUSY if heard else min(self._interval * 2, TICK_LONGEST)
        self._tick = asyncio.get_running_loop().call_later(self._interval, self._run_tick)


class _Borrower:
    """One worker: its channel and the environments it holds."""

    def __init__(self, pool: Pool, borrower_id: int, sock: socket.socket, hurry: Callable[[], None],
                 on_gone: Callable[[], object]) -> None:
        self._pool = pool
        self._hurry = hurry
        self._on_gone = on_gone
        self._leases: dict[int, Environment] = {}  # handed to the worker
        self._pending: dict[int, Environment] = {}  # taken from the pool, runtime not yet waiting
        self._ids = itertools.count(1)
        # Invocations the worker reported answered, until their outcome's callback has run: the
        # reports of several invocations are often read at once, before any callback runs.
        self._answered: set[str] = set()
        self._unlogged: set[Environment] = set()  # their `end` was just read, their END not written
        self._ring: RingReader | None = None  # the worker's reports, once it passed its ring
        self.channel = Datagrams(sock, self._from_channel, self._closed, watch=False)
        self.channel.send({"op": "hello", "id": borrower_id})

    @property
    def holds(self) -> bool:
        return bool(self._leases or self._pending)

    def hear(self) -> int:
        """Read the worker's reports now; how many there were. An invocation whose `end` came
        without a `begin` after it gets its END now, while its runtime has no next one."""
        heard = self._read_ring() + self.channel.poll()
        unlogged = self._unlogged
        while unlogged:
            unlogged.pop().log_answered()
        return heard

    def lend(self, function: FunctionVersion) -> None:
        lease = next(self._ids)
        environment = self._pool.lend(function, lambda: self._recall(lease))
        if environment is None:
            return
        self._pending[lease] = environment
        environment.lend(lambda fd: self._hand(lease, function, fd), self.hear)
        self._hurry()

    def _hand(self, lease: int, function: FunctionVersion, fd: int) -> None:
        """The runtime waits: its connection goes to the worker."""
        environment = self._pending.pop(lease)
        if self.channel.closed:
            os.close(fd)
            self._pool.give_back(environment, keep=False)
            return
        try:
            self.channel.send({"op": "lend", "lease": lease, "name": function.name, "version": function.version,
                               "revision": function.revision_id}, fd=fd)
        finally:
            os.close(fd)
        self._leases[lease] = environment

    def _recall(self, lease: int) -> None:
        environment = self._pending.pop(lease, None)
        if environment is not None:  # not handed over yet: it never will be
            environment.cancel_lending()
            self._pool.give_back(environment)
        elif lease in self._leases:
            self.channel.send({"op": "recall", "lease": lease})
            self._hurry()

    def _read_ring(self) -> int:
        return 0 if self._ring is None else self._ring.drain(self._message)

    def _from_channel(self, head: dict[str, Any], payload: bytes, fd: int | None) -> None:
        """What the worker reported before this message, in the ring, is heard first."""
        if head.get("op") == "ring" and fd is not None and self._ring is None:
            try:
                self._ring = RingReader(fd)
            except (OSError, ValueError) as exc:
                log.warning("lease desk: a worker's report ring is unusable: %r", exc)
            self._read_ring()  # what the worker wrote since it sent its ring
            return
        if fd is not None:
            os.close(fd)  # workers pass nothing else
        self._read_ring()
        after = head.pop("after", 0)
        if self._ring is not None and isinstance(after, int) and self._ring.read < after:
            log.warning("lease desk: reports %d-%d of a worker's ring could not be read", self._ring.read + 1, after)
        self._message(head, payload)

    def _message(self, head: dict[str, Any], payload: bytes = b"") -> None:
        op, lease, request_id = head.get("op"), head.get("lease"), head.get("request_id")
        if not isinstance(lease, int):
            return
        environment = self._leases.get(lease)
        at = head.get("at")
        if op == "begin" and isinstance(request_id, str) and isinstance(at, float):
            self._begin(lease, environment, request_id, bool(head.get("log_tail")), at)
        elif op == "end" and environment is not None and isinstance(request_id, str) and isinstance(at, float):
            error_type = head.get("error_type")
            if environment.end_lent(request_id, error_type if isinstance(error_type, str) else None, at):
                self._answered.add(request_id)
            self._unlogged.add(environment)
        elif op == "return" and environment is not None:
            del self._leases[lease]
            environment.take_back(bool(head.get("waiting")))
            self._pool.give_back(environment)

    def _begin(self, lease: int, environment: Environment | None, request_id: str, log_tail: bool,
               at: float) -> None:
        try:
            if environment is None or not environment.lent:
                raise RuntimeError("the environment is gone")
            outcome = environment.begin_lent(request_id, log_tail, at)
        except RuntimeError:
            self.channel.send({"op": "result", "lease": lease, "request_id": request_id, "lost": True})
            return
        self._unlogged.discard(environment)  # its END went in before this START
        outcome.add_done_callback(lambda done: self._ended(lease, request_id, log_tail, done))

    def _ended(self, lease: int, request_id: str, log_tail: bool, outcome: asyncio.Future[InvokeResult]) -> None:
        """Tell the worker what it cannot know itself: the log tail, or how the invocation ended here."""
        answered = request_id in self._answered
        self._answered.discard(request_id)
        if outcome.cancelled() or outcome.exception() is not None:
            return
        if answered and not log_tail:
            return
        result = outcome.result()
        head = {"op": "result", "lease": lease, "request_id": request_id, **result_head(result)}
        self.channel.send(head, b"" if answered else result.payload)

    def _closed(self) -> None:
        """The worker is gone: what it held may be mid-invocation, so those environments go."""
        self._on_gone()
        if self._ring is not None:
            self._ring.close()
            self._ring = None
        for environment in self._pending.values():
            environment.cancel_lending()
        for environment in [*self._pending.values(), *self._leases.values()]:
            self._pool.give_back(environment, keep=False)
        self._pending.clear()
        self._leases.clear()
