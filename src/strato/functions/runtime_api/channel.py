"""One environment's side of the Runtime API: which invocation its runtime may fetch, which it
may answer, and what each answer means. No I/O: connections call in, the environment listens.

The runtime, as seen from here (the Runtime Interface Emulator's runtime states, simplified):

    initialising --GET next--> waiting --invocation handed out--> invoking
    invoking --POST response | POST error--> answered --GET next--> waiting
    initialising --POST init/error--> failed

Answers for the invocation in hand are accepted once (202); a second answer for it is 403
InvalidStateTransition; any other request id is 400 InvalidRequestID. An invocation whose caller
takes a stream (Delivery.stream) gets a streamed answer's chunks as they come (`streaming`).

A waiting runtime's connection can be lent to another process (lending.py): the channel then
hands out nothing until it is taken back, and the borrower runs a channel of its own that
adopts the connection.
"""

from __future__ import annotations

import time
from collections import deque
from typing import Protocol

from ..records import ResponseStream
from . import wire
from .wire import Delivery, Reply


class RuntimeEvents(Protocol):
    """What the environment hears from its runtime."""

    def runtime_ready(self) -> None:
        """The runtime asked for its first invocation: initialisation is over."""

    def invocation_started(self, request_id: str) -> None:
        """The invocation was handed to the runtime: its deadline runs from now."""

    def invocation_done(self, request_id: str, payload: bytes, error_type: str | None) -> None:
        """The runtime answered: a result (error_type None) or an error document."""

    def init_failed(self, payload: bytes, error_type: str | None) -> None:
        """The runtime reported that initialisation failed."""

    def runtime_waiting(self) -> None:
        """The runtime waits on GET next with nothing to hand out (it is free for the next)."""


class Waiter(Protocol):
    """A connection parked on GET /next."""

    def deliver(self, data: list[bytes]) -> None: ...

    def lend(self) -> int:
        """Stop reading; a duplicate of the socket's descriptor, for a borrower."""
        ...

    def take_back(self, waiting: bool) -> None:
        """Read again: the borrower is done; `waiting`: parked on a GET next the borrower read
        (else the runtime has yet to send its next one)."""
        ...


class RuntimeChannel:
    __slots__ = ("_answered", "_current", "_events", "_initialised", "_queued", "_stream", "_waiter", "closed",
                 "lent")

    def __init__(self, events: RuntimeEvents) -> None:
        self._events = events
        self._initialised = False
        self._waiter: Waiter | None = None
        self._queued: Delivery | None = None
        self._current: str | None = None  # handed out, not answered
        self._stream: ResponseStream | None = None  # where its streamed answer goes
        self._answered: deque[str] = deque(maxlen=8)
        self.closed = False
        self.lent = False

    # The environment's side.

    def submit(self, delivery: Delivery) -> None:
        """Offer the next invocation: handed out now if the runtime waits, else at its next GET."""
        waiter = self._waiter
        if waiter is None:
            self._queued = delivery
        else:
            self._waiter = None
            self._hand_out(waiter, delivery)

    def withdraw(self) -> None:
        """Forget the invocation in flight (it timed out, or the environment is going away)."""
        if self._current is not None:
            self._answered.append(self._current)
        self._queued = None
        self._current = None
        self._stream = None

    def unclaimed(self, request_id: str) -> bool:
        """Whether that invocation still waits for the runtime's GET next: it never reached the runtime."""
        return self._queued is not None and self._queued.request_id == request_id

    def close(self) -> None:
        self.withdraw()
        self._waiter = None
        self.closed = True

    def lend(self) -> Waiter | None:
        """Give up the waiting runtime's connection (None unless the runtime waits, idle)."""
        waiter = self._waiter
        if waiter is None or self.closed or self._current is not None or self._queued is not None:
            return None
        self._waiter = None
        self.lent = True
        return waiter

    def take_back(self, waiter: Waiter, waiting: bool) -> None:
        """The lent connection is back; `waiting`: its runtime waits on GET next again."""
        self.lent = False
        if waiting and not self.closed:
            self._waiter = waiter

    def adopt(self, waiter: Waiter) -> None:
        """Start as the borrower of a runtime that already waits on GET next."""
        self._initialised = True
        self._waiter = waiter

    # The runtime's side (called by its connections).

    def expects_answer(self, request_id: str) -> bool:
        """Whether a body posted for request_id is worth reading (it is the invocation in hand)."""
        return request_id == self._current

    def streaming(self, request_id: str) -> ResponseStream | None:
        """Where the streamed answer of request_id goes, while it is the invocation in hand and
        its caller takes a stream (None: the answer is taken whole)."""
        return self._stream if request_id == self._current else None

    def next(self, waiter: Waiter) -> Reply | None:
        """GET /runtime/invocation/next: None when the waiter is parked or served."""
        if self.closed or self.lent or self._current is not None or self._waiter is not None:
            return wire.invalid_state("Invoking" if self._current else "Waiting", "Ready")
        if not self._initialised:
            self._initialised = True
            self._events.runtime_ready()
        queued = self._queued
        if queued is None:
            self._waiter = waiter
            self._events.runtime_waiting()
        else:
            self._queued = None
            self._hand_out(waiter, queued)
        return None

    def forget(self, waiter: Waiter) -> None:
        """The waiter's connection is gone."""
        if self._waiter is waiter:
            self._waiter = None

    def answer(self, request_id: str, payload: bytes, error_type: str | None, size: int,
               limit: int = wire.MAX_RESULT) -> Reply:
        """POST /runtime/invocation/{id}/response or /error; `size` counts bytes never kept (or
        streamed on), `limit` how many the answer may have."""
        if request_id != self._current:
            if request_id in self._answered:
                return wire.invalid_state("ResponseSent", "InvocationResponse")
            return wire.INVALID_REQUEST_ID
        self._current = None
        self._stream = None
        self._answered.append(request_id)
        if size > limit:
            self._events.invocation_done(request_id, response_too_large(size, limit), "Function.ResponseSizeTooLarge")
            return wire.TOO_LARGE if limit == wire.MAX_RESULT else wire.too_large(limit)
        self._events.invocation_done(request_id, payload, error_type)
        return wire.ACCEPTED

    def init_error(self, payload: bytes, error_type: str | None) -> Reply:
        """POST /runtime/init/error: only before the first GET next."""
        if self._initialised or self.closed:
            return wire.invalid_state("Ready", "InitError")
        self._initialised = True
        self.closed = True
        self._events.init_failed(payload, error_type)
        return wire.ACCEPTED

    def _hand_out(self, waiter: Waiter, delivery: Delivery) -> None:
        self._current = delivery.request_id
        self._stream = delivery.stream
        waiter.deliver(delivery.render(int(time.time() * 1000)))
        self._events.invocation_started(delivery.request_id)


def response_too_large(size: int, limit: int = wire.MAX_RESULT) -> bytes:
    """The error Lambda returns for an oversized result (interop.ErrorResponseTooLarge)."""
    return wire.error(413, "Function.ResponseSizeTooLarge",
                      f"Response payload size ({size} bytes) exceeded maximum allowed payload size "
                      f"({limit} bytes).").body
