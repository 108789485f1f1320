"""An API worker's side of lending (lending.py): runtimes it may invoke directly.

The worker holds a `LeaseBook`: one SOCK_SEQPACKET channel to the controller's lease desk and
the environments lent to it, idle ones per function revision. A `Loan` wraps the lent runtime
connection in a Runtime API connection and channel of the worker's own (the same code the
controller runs), so the runtime cannot tell who answers it. Each invocation is reported to the
controller as it begins and ends; a recalled loan goes back as soon as its runtime waits again.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import socket
import time
from pathlib import Path
from typing import Any

from . import failures
from .datagrams import Datagrams
from .environment import Undelivered
from .ipc import ControllerUnavailable, result_from
from .records import Invocation, InvokeResult, Outcome, RevisionKey
from .report_ring import RingWriter
from .runtime_api import Delivery, RuntimeChannel
from .runtime_api.connection import RuntimeConnection

_RING_REPORTS = frozenset({"begin", "end"})
RESULT_GRACE = 10.0  # beyond the function's timeout, how long a borrower waits for the controller's word
SWEEP = 1.0


class LeaseBook:
    def __init__(self, socket_path: Path) -> None:
        self.socket_path = socket_path
        self.lessee: int | None = None  # the controller's name for this worker, once it said hello
        self._channel: Datagrams | None = None
        self._ring: RingWriter | None = None
        self._loans: dict[int, Loan] = {}
        self._idle: dict[RevisionKey, list[Loan]] = {}
        self._adopting: set[asyncio.Task[None]] = set()
        self._in_flight: set[Loan] = set()
        self._sweep: asyncio.TimerHandle | None = None

    def take(self, invocation: Invocation) -> Loan | None:
        """An idle loan for the invocation's function revision (connecting first if need be)."""
        if self._channel is None or self._channel.closed:
            self._connect()
            return None
        function = invocation.function
        if function.reserved_concurrency == 0:
            return None  # throttled: the controller refuses it (a loan would run it on the slot it holds)
        key = function.revision
        idle = self._idle.get(key)
        while idle:
            loan = idle.pop()
            if not idle:
                del self._idle[key]  # a revision with nothing idle here is not kept
            if loan.usable:
                return loan
            loan.end()
        return None

    def send(self, head: dict[str, Any]) -> None:
        """A report (`begin`, `end`) through the ring when it fits, else on the channel, naming
        the last record the ring holds before it (the desk reads the ring first)."""
        if self._channel is None:
            return
        ring = self._ring
        if ring is not None:
            if head["op"] in _RING_REPORTS and ring.put(head):
                return
            head = {**head, "after": ring.written}
        self._channel.send(head)

    def close(self) -> None:
        if self._sweep is not None:
            self._sweep.cancel()
            self._sweep = None
        if self._channel is not None:
            self._channel.close()

    def watch(self, loan: Loan, running: bool) -> None:
        """Loans in flight are checked every SWEEP seconds for an answer overdue (one timer for
        all, instead of one armed and cancelled per invocation)."""
        if not running:
            self._in_flight.discard(loan)
            return
        self._in_flight.add(loan)
        if self._sweep is None:
            self._sweep = asyncio.get_running_loop().call_later(SWEEP, self._overdue)

    def _overdue(self) -> None:
        self._sweep = None
        now = asyncio.get_running_loop().time()
        for loan in [loan for loan in self._in_flight if loan.deadline <= now]:
            loan.unanswered()
        if self._in_flight:
            self._sweep = asyncio.get_running_loop().call_later(SWEEP, self._overdue)

    def settle(self, loan: Loan) -> None:
        """A loan finished an invocation: idle again, or back to the controller if recalled, once
        what was read with the result is parsed (a GET next pipelined behind it: the runtime
        waits, and the controller must be told so, for it never sees that request)."""
        if loan.recalled or not loan.usable:
            asyncio.get_running_loop().call_soon(loan.end)
        else:
            self._idle.setdefault(loan.key, []).append(loan)

    def forget(self, loan: Loan) -> None:
        self._loans.pop(loan.lease, None)
        idle = self._idle.get(loan.key)
        if idle is not None and loan in idle:
            idle.remove(loan)
            if not idle:
                del self._idle[loan.key]

    def _connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            sock.connect(str(self.socket_path))
        except OSError:
            sock.close()
            return
        self.lessee = None
        self._channel = Datagrams(sock, self._message, self._closed)
        try:
            ring = RingWriter()
        except (OSError, AttributeError):  # AttributeError: no memfd_create on this platform
            return  # no shared memory here: every report goes on the channel
        try:
            self._channel.send({"op": "ring"}, fd=ring.fd)
        finally:
            ring.release_fd()
        self._ring = ring

    def _message(self, head: dict[str, Any], payload: bytes, fd: int | None) -> None:
        op = head.get("op")
        if op == "lend" and fd is not None:
            self._lend(head, socket.socket(fileno=fd))
            return
        if fd is not None:
            with contextlib.suppress(OSError):
                socket.socket(fileno=fd).close()
        lease = head.get("lease")
        loan = self._loans.get(lease) if isinstance(lease, int) else None
        if op == "hello" and isinstance(head.get("id"), int):
            self.lessee = head["id"]
        elif op == "result" and loan is not None:
            loan.controller_result(head, payload)
        elif op == "recall" and loan is not None:
            loan.recall()

    def _lend(self, head: dict[str, Any], sock: socket.socket) -> None:
        """Take a lent connection; the loan is known at once, since a recall may follow it."""
        lease = head.get("lease")
        if not isinstance(lease, int):
            sock.close()
            return
        loan = Loan(self, lease, (str(head.get("name")), str(head.get("version")), str(head.get("revision"))))
        self._loans[lease] = loan
        self._adopting.add(task := asyncio.get_running_loop().create_task(self._adopt(loan, sock)))
        task.add_done_callback(self._adopting.discard)

    async def _adopt(self, loan: Loan, sock: socket.socket) -> None:
        try:
            await loan.connect(sock)
        except OSError:
            sock.close()
            self._loans.pop(loan.lease, None)
            self.send({"op": "return", "lease": loan.lease, "waiting": False})
            return
        self.settle(loan)

    def _closed(self) -> None:
        """The controller went away: every loan is void (its runtimes die with it)."""
        self.lessee = None
        if self._ring is not None:
            self._ring.close()
            self._ring = None
        for loan in list(self._loans.values()):
            loan.void(ControllerUnavailable("the functions controller went away"))
        self._loans.clear()
        self._idle.clear()


class Loan:
    """One lent environment: the runtime's connection, and the invocation in flight on it."""

    def __init__(self, book: LeaseBook, lease: int, key: RevisionKey) -> None:
        self.book = book
        self.lease = lease
        self.key = key
        self.recalled = False
        self._channel = RuntimeChannel(self)
        self._connection = RuntimeConnection(self._channel, set(), None)  # admitted by the lender
        self._transport: asyncio.Transport | None = None
        self._invocation: Invocation | None = None
        self._done: Outcome | None = None  # told once, then cleared
        self.deadline = 0.0  # (event loop time) when the invocation in flight goes unanswered
        self._answer: InvokeResult | None = None  # the runtime's, awaiting the controller's log tail
        self._ended = False  # no more invocations here
        self._returned = False  # the controller was told

    async def connect(self, sock: socket.socket) -> None:
        self._transport, _ = await asyncio.get_running_loop().connect_accepted_socket(lambda: self._connection, sock)
        if self._ended:  # void while it connected: the controller is gone
            self._transport.abort()
            return
        self._connection.adopt()

    @property
    def usable(self) -> bool:
        return not self._ended and self._transport is not None and not self._transport.is_closing()

    def start(self, invocation: Invocation, done: Outcome) -> None:
        """Hand the invocation to the lent runtime; `done` gets its result, Undelivered when the
        environment was gone, or ControllerUnavailable. Nothing here waits: the warm invoke's
        path runs from the request's last byte to the runtime's socket in one go."""
        self._invocation = invocation
        self._done = done
        self._answer = None
        function = invocation.function
        self.deadline = asyncio.get_running_loop().time() + function.timeout + RESULT_GRACE
        self.book.watch(self, True)
        # Told before the runtime has it: whatever the runtime writes for it reaches the
        # controller's pipe after `begin` is in the channel, so the controller, which reads the
        # channel before the pipe, starts its log (START) before its output.
        self.book.send({"op": "begin", "lease": self.lease, "request_id": invocation.request_id,
                        "log_tail": invocation.log_tail, "at": time.perf_counter()})
        self._channel.submit(Delivery(invocation.request_id, invocation.payload, invocation.invoked_arn,
                                      function.timeout * 1000, invocation.client_context))

    async def invoke(self, invocation: Invocation) -> InvokeResult:
        """`start`, awaited. Raises Undelivered when the environment was gone."""
        outcome: asyncio.Future[InvokeResult] = asyncio.get_running_loop().create_future()
        self.start(invocation, functools.partial(_settle_future, outcome))
        return await outcome

    def _conclude(self, outcome: InvokeResult | BaseException, report: dict[str, Any] | None = None) -> None:
        """The invocation in flight has its outcome: tell the caller, then the controller
        (`report`: after the caller, whose answer goes first), then this loan is free: its next
        `begin` cannot overtake this `end`."""
        done = self._done
        if done is None:
            return
        if isinstance(outcome, BaseException):
            self._ended = True
        self.book.watch(self, False)
        self._invocation = self._done = self._answer = None
        try:
            done(outcome)
        finally:
            if report is not None:
                self.book.send(report)
            self.book.settle(self)

    def unanswered(self) -> None:
        self._conclude(ControllerUnavailable("no word from the functions controller"))

    def recall(self) -> None:
        """The controller wants the environment back (or its runtime is gone): now if idle and
        waiting or gone, else when its invocation ends."""
        self.recalled = True
        gone = self._transport is not None and self._transport.is_closing()
        if self._invocation is None and (self._connection.waiting or gone):
            self.end()

    def end(self) -> None:
        """Give the environment back (or report it gone) and drop the connection here."""
        if self._returned:
            return
        waiting = self.usable and self._connection.waiting
        self._ended = self._returned = True
        self.book.forget(self)
        if self._transport is not None:
            self._connection.flush()
            self._transport.pause_reading()
            self._transport.abort()  # closes this process's descriptor; the controller holds its own
        self.book.send({"op": "return", "lease": self.lease, "waiting": waiting})

    def void(self, exc: Exception) -> None:
        """The controller is gone: fail what is in flight, drop the connection."""
        self._ended = self._returned = True
        if self._transport is not None:
            self._transport.abort()
        self._conclude(exc)

    def controller_result(self, head: dict[str, Any], payload: bytes) -> None:
        """The controller's word on the invocation in flight: lost, the log tail, or its end."""
        invocation = self._invocation
        if self._done is None or invocation is None or head.get("request_id") != invocation.request_id:
            return
        if head.get("lost") or self._channel.unclaimed(invocation.request_id):
            # Never handed to the runtime (it ended before its next GET next, e.g. node on a
            # rejection left unhandled after its answer): it runs elsewhere, never twice.
            self._channel.withdraw()
            self._conclude(Undelivered())
            return
        answer = self._answer
        if answer is not None:
            tail = str(head.get("log_tail", "")).encode()
            self._conclude(InvokeResult(answer.payload, answer.executed_version, answer.function_error, tail))
            return
        self._channel.withdraw()  # it ended in the controller: a timeout or an exit
        self._ended = True
        self._conclude(result_from(head, payload))

    # RuntimeEvents: what the lent runtime tells this worker.

    def runtime_ready(self) -> None:
        """Never: the runtime was initialised before it was lent."""

    def runtime_waiting(self) -> None:
        if self.recalled and self._invocation is None:
            asyncio.get_running_loop().call_soon(self.end)

    def invocation_started(self, request_id: str) -> None:
        """The deadline runs in the controller, from `begin`."""

    def invocation_done(self, request_id: str, payload: bytes, error_type: str | None) -> None:
        at = time.perf_counter()
        invocation = self._invocation
        if invocation is None or self._done is None:
            return
        function_error = None
        if error_type is not None:
            payload = failures.error_document(payload, error_type)
            function_error = "Unhandled"
        result = InvokeResult(payload, invocation.function.version, function_error)
        report = {"op": "end", "lease": self.lease, "request_id": request_id, "error_type": error_type, "at": at}
        if invocation.log_tail:
            self._answer = result  # the tail comes from the controller, which holds the log
            self.book.send(report)
        else:
            self._conclude(result, report)

    def init_failed(self, payload: bytes, error_type: str | None) -> None:
        """Never: the channel refuses init errors after initialisation."""


def _settle_future(future: asyncio.Future[InvokeResult], outcome: InvokeResult | BaseException) -> None:
    if future.done():
        return
    if isinstance(outcome, BaseException):
        future.set_exception(outcome)
    else:
        future.set_result(outcome)
