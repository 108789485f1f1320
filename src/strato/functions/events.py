"""Event (asynchronous) invocations: a durable queue and the dispatcher that drains it.

An Event invoke is answered 202 once its row is committed, so it survives a restart. The
controller runs each queued event through the pool; a function error is retried, after
`retry_delay` and twice that, as Lambda does: twice, or as often as the event invoke
configuration of the qualifier the caller named says (MaximumRetryAttempts); a throttled event
waits and tries again, one second after its first throttle, twice as long after each further one,
five minutes at most, as Lambda does. An event older than its MaximumEventAgeInSeconds (six hours unless
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

    def due(self, now: float, exclude: set[int], limit: int = 64) -> list[QueuedEvent]:
        """Up to `limit` due events, earliest first, but none of `exclude` (those running): their
        ids are read from the index alone, so running events' payloads are never loaded again."""
        ids = [row[0] for row in self._conn.execute(
            "SELECT id FROM events WHERE next_at <= ? ORDER BY next_at LIMIT ?", (now, limit + len(exclude)))
            if row[0] not in exclude][:limit]
        if not ids:
            return []
        rows = self._conn.execute(
            "SELECT id, function_name, version, invoked_arn, request_id, client_context, payload, attempts, created,"
            f" hops FROM events WHERE id IN ({', '.join('?' * len(ids))}) ORDER BY next_at", ids).fetchall()
        return [QueuedEvent(*row) for row in rows]

    def next_due(self, exclude: set[int]) -> float | None:
        """When the earliest event not in `exclude` (those running) falls due; None: there is none."""
        rows = self._conn.execute("SELECT id, next_at FROM events ORDER BY next_at LIMIT ?", (len(exclude) + 1,))
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

    def wake(self) -> None:
        self._wake.set()

    async def serve(self) -> None:
        try:
            while True:
                self._wake.clear()
                for event in self.queue.due(time.time(), set(self._running)):
                    self._running[event.id] = asyncio.create_task(self._deliver(event))
                upcoming = self.queue.next_due(set(self._running))
                timeout = 5.0 if upcoming is None else min(5.0, max(0.05, upcoming - time.time()))
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

    async def _deliver(self, event: QueuedEvent) -> None:
        try:
            await self._attempt(event)
        except Exception:
            log.exception("event %s could not be delivered; retrying", event.request_id)
            await self._put_off(event)
        finally:
            self._running.pop(event.id, None)
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
