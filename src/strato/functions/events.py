"""Event (asynchronous) invocations: a durable queue and the dispatcher that drains it.

An Event invoke is answered 202 once its row is committed, so it survives a restart. The
controller runs each queued event through the pool; a function error is retried, after
`retry_delay` and twice that, as Lambda does: twice, or as often as the event invoke
configuration of the qualifier the caller named says (MaximumRetryAttempts); a throttled event
waits and tries again, one second after its first throttle, twice as long after each further one,
five minutes at most, as Lambda does; meanwhile the dispatcher runs no more of that function's
events at once than it was found to take, so its backlog is not thrown at its limit event by event
and never holds up another function's events. An event older than its MaximumEventAgeInSeconds (six hours unless
configured) is dropped instead of run. Delivery is at least once: an event running when the
server dies runs again. Once an event is done (run, failed for the last time, or too old), its
invocation record goes to the destination its configuration names (destinations.py): a
destination function's Event invocation replaces the event in the queue in one transaction.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from strato import migrations

from .destinations import EVENT_AGE_EXCEEDED, RETRIES_EXHAUSTED, SUCCESS, Destinations, Ending, Finished
from .errors import NotFound
from .invoke_configs import EventLimits
from .ipc import Resolve
from .records import Invocation, InvokeResult, TooManyRequests

log = logging.getLogger("strato.functions.events")

THROTTLE_DELAY = 1.0  # a throttled event's first wait; each throttle in a row doubles it
MAX_THROTTLE_DELAY = 300.0
BATCH = 64  # due events read at a time
# Destination functions' invocations queued one from another, at most: a loop of destinations
# (A's record to B, B's to A) stops here, as Lambda's recursive loop detection stops loops after
# about 16 invocations.
MAX_DESTINATION_HOPS = 16
MIGRATIONS = "strato.functions.event_migrations"


@dataclass(frozen=True, slots=True)
class QueuedEvent:
    id: int
    function_name: str
    version: str
    invoked_arn: str
    request_id: str
    client_context: str | None
    payload: bytes
    attempts: int
    created: float
    hops: int  # how far down a chain of destinations (0: invoked)


_INSERT = ("INSERT INTO events (function_name, version, invoked_arn, request_id, client_context, payload, created,"
           " next_at, hops) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")


def _not_in(functions: frozenset[str]) -> str:
    return f" AND function_name NOT IN ({', '.join('?' * len(functions))})" if functions else ""


def _row(invocation: Invocation, hops: int = 0) -> tuple[str, str, str, str, str | None, bytes, float, float, int]:
    now = time.time()
    return (invocation.function.name, invocation.function.version, invocation.invoked_arn, invocation.request_id,
            invocation.client_context, invocation.payload, now, now, hops)


class EventQueue:
    """The queue in its own SQLite file (`events.db`): API workers write, the controller reads.
    Apart from the registry's file, so that queueing an event never invalidates the registry's
    route caches (they watch their file's data_version)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        migrations.migrate(path, MIGRATIONS)
        self._conn = migrations.connect(path)
        self._lock = asyncio.Lock()

    async def put(self, invocation: Invocation) -> None:
        async with self._lock:
            await asyncio.to_thread(self._conn.execute, _INSERT, _row(invocation))

    def due(self, now: float, exclude: set[int], limit: int = BATCH,
            skip: frozenset[str] = frozenset()) -> list[QueuedEvent]:
        """Up to `limit` due events, earliest first, but none of `exclude` (those running) nor of
        the functions in `skip`: their ids are read first, so running events' payloads are never
        loaded again."""
        ids = [row[0] for row in self._conn.execute(
            f"SELECT id FROM events WHERE next_at <= ?{_not_in(skip)} ORDER BY next_at LIMIT ?",
            (now, *skip, limit + len(exclude))) if row[0] not in exclude][:limit]
        if not ids:
            return []
        rows = self._conn.execute(
            "SELECT id, function_name, version, invoked_arn, request_id, client_context, payload, attempts, created,"
            f" hops FROM events WHERE id IN ({', '.join('?' * len(ids))}) ORDER BY next_at", ids).fetchall()
        return [QueuedEvent(*row) for row in rows]

    def next_due(self, exclude: set[int], skip: frozenset[str] = frozenset()) -> float | None:
        """When the earliest event not in `exclude` (those running) nor of a function in `skip`
        falls due; None: there is none."""
        rows = self._conn.execute(f"SELECT id, next_at FROM events WHERE 1{_not_in(skip)} ORDER BY next_at LIMIT ?",
                                  (*skip, len(exclude) + 1))
        return next((float(next_at) for event_id, next_at in rows if event_id not in exclude), None)

    def done(self, event_id: int, follow_up: Invocation | None = None, hops: int = 0) -> None:
        """Remove a finished event; with `follow_up` (its destination's invocation, `hops` down
        the chain), queue that in the same transaction, so a crash leaves one or the other."""
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            if follow_up is not None:
                self._conn.execute(_INSERT, _row(follow_up, hops))
            self._conn.execute("DELETE FROM events WHERE id = ?", (event_id,))
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise
        self._conn.execute("COMMIT")

    def later(self, event_id: int, attempts: int, next_at: float) -> None:
        self._conn.execute("UPDATE events SET attempts = ?, next_at = ? WHERE id = ?", (attempts, next_at, event_id))

    def pending(self) -> int:
        return int(self._conn.execute("SELECT COUNT(*) FROM events").fetchone()[0])

    def close(self) -> None:
        self._conn.close()


@dataclass(slots=True)
class _Gate:
    """How many of a throttled function's events the dispatcher runs at once, until when."""

    cap: int
    until: float


Run = Callable[[Invocation], Awaitable[InvokeResult]]
Limits = Callable[[str], Awaitable[EventLimits]]  # the invoked ARN's retry and age limits


async def lambda_defaults(invoked_arn: str) -> EventLimits:
    return EventLimits()


class Dispatcher:
    """Drains the queue in the controller: one task per due event, woken by new events."""

    def __init__(self, queue: EventQueue, resolve: Resolve, run: Run, retry_delay: float = 60.0,
                 limits: Limits = lambda_defaults, destinations: Destinations | None = None,
                 throttle_delay: float = THROTTLE_DELAY) -> None:
        self.queue = queue
        self.resolve = resolve
        self.run = run
        self.retry_delay = retry_delay
        self.limits = limits
        self.destinations = destinations
        self.throttle_delay = throttle_delay
        self._throttles: dict[int, int] = {}  # queued event -> throttles in a row (back to 1 s after a restart)
        self._wake = asyncio.Event()
        self._running: dict[int, asyncio.Task[None]] = {}
        self._per_function: dict[str, int] = {}  # function name -> its events running
        self._gates: dict[str, _Gate] = {}  # throttled function name -> how many of its events may run

    def wake(self) -> None:
        self._wake.set()

    async def serve(self) -> None:
        try:
            while True:
                self._wake.clear()
                now = time.time()
                full = self._full(now)
                for event in self.queue.due(now, set(self._running), skip=full):
                    gate = self._gates.get(event.function_name)
                    if gate is None or self._per_function.get(event.function_name, 0) < gate.cap:
                        self._per_function[event.function_name] = self._per_function.get(event.function_name, 0) + 1
                        self._running[event.id] = asyncio.create_task(self._deliver(event))
                upcoming = [self.queue.next_due(set(self._running), full), *(g.until for g in self._gates.values())]
                soonest = min((moment for moment in upcoming if moment is not None), default=None)
                timeout = 5.0 if soonest is None else min(5.0, max(0.05, soonest - time.time()))
                # asyncio.timeout, not wait_for: on Python 3.11 a cancellation that comes as the
                # wake-up lands is swallowed by wait_for, and the dispatcher would never stop.
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(timeout):
                        await self._wake.wait()
        finally:
            running = list(self._running.values())
            for task in running:
                task.cancel()
            # None outlives the dispatcher: the queue and the store its deliveries write to close next.
            await asyncio.gather(*running, return_exceptions=True)

    def _full(self, now: float) -> frozenset[str]:
        """The throttled functions running as many events as they were last found to take. A
        gate whose time is up lets twice as many through (the function's concurrency may have
        grown), and goes once that is more than a batch."""
        for name, gate in list(self._gates.items()):
            if gate.until <= now:
                gate.cap, gate.until = max(1, 2 * gate.cap), now + self.throttle_delay
                if gate.cap > BATCH:
                    del self._gates[name]
        return frozenset(name for name, gate in self._gates.items() if self._per_function.get(name, 0) >= gate.cap)

    async def _deliver(self, event: QueuedEvent) -> None:
        try:
            await self._attempt(event)
        except Exception:
            log.exception("event %s could not be delivered; retrying", event.request_id)
            await self._put_off(event)
        finally:
            self._running.pop(event.id, None)
            left = self._per_function.pop(event.function_name) - 1
            if left:
                self._per_function[event.function_name] = left
            self._wake.set()

    async def _put_off(self, event: QueuedEvent) -> None:
        """Move the event's next attempt `retry_delay` away; when that write fails too (a full
        disk), hold it here as long instead: running, it is not due again, so the dispatcher
        does not run it (or fail to) over and over meanwhile."""
        try:
            self.queue.later(event.id, event.attempts, time.time() + self.retry_delay)
        except Exception as exc:
            log.error("event %s is held for %g s: its queue entry cannot be written (%s)", event.request_id,
                      self.retry_delay, exc)
            await asyncio.sleep(self.retry_delay)

    async def _attempt(self, event: QueuedEvent) -> None:
        throttles = self._throttles.pop(event.id, 0)
        try:
            function = await self.resolve(event.function_name, event.version)
        except NotFound:
            log.warning("event %s dropped: function %s:%s no longer exists",
                        event.request_id, event.function_name, event.version)
            self.queue.done(event.id)
            return
        limits = await self.limits(event.invoked_arn)
        if time.time() - event.created > limits.event_age:
            log.warning("event %s dropped: older than %d s", event.request_id, limits.event_age)
            await self._finish(event, Ending(EVENT_AGE_EXCEEDED, event.attempts, None))
            return
        invocation = Invocation(function, event.invoked_arn, event.payload, event.request_id, event.client_context)
        try:
            result = await self.run(invocation)
        except TooManyRequests:
            # Its other events would be throttled too: run no more of them than are running now.
            self._gates[event.function_name] = _Gate(self._per_function[event.function_name] - 1,
                                                     time.time() + self.throttle_delay)
            self._throttles[event.id] = throttles + 1
            delay = min(MAX_THROTTLE_DELAY, self.throttle_delay * 2 ** min(throttles, 16))
            self.queue.later(event.id, event.attempts, time.time() + delay)
            return
        attempts = event.attempts + 1
        if result.function_error is None:
            await self._finish(event, Ending(SUCCESS, attempts, result))
        elif attempts > limits.retry_attempts:
            log.warning("event %s failed %d times, the last allowed: %s", event.request_id, attempts,
                        result.payload[:500].decode("utf-8", "replace"))
            await self._finish(event, Ending(RETRIES_EXHAUSTED, attempts, result))
        else:
            self.queue.later(event.id, attempts, time.time() + self.retry_delay * attempts)

    async def _finish(self, event: QueuedEvent, ending: Ending) -> None:
        """Remove the event, queueing its destination function's invocation in its place."""
        follow_up = None
        if self.destinations is not None:
            finished = Finished(event.invoked_arn, event.request_id, event.payload)
            follow_up = await self.destinations.follow_up(finished, ending)
        if follow_up is not None and event.hops >= MAX_DESTINATION_HOPS:
            log.warning("event %s: the record for %s is not delivered: %d destinations in a chain (a loop?)",
                        event.request_id, follow_up.invoked_arn, event.hops + 1)
            follow_up = None
        self.queue.done(event.id, follow_up, event.hops + 1)
