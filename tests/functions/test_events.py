"""The Event queue's dispatcher applies each invocation's retry and age limits: the event
invoke configuration of the qualifier the caller named, else Lambda's (two retries, six hours).
A real queue file and a real registry; the runner is the test's, counting its calls."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from strato.functions.destinations import Destinations
from strato.functions.events import Dispatcher, EventQueue, Run
from strato.functions.invoke_configs import EventInvokeConfig
from strato.functions.records import Invocation, InvokeResult, TooManyRequests
from strato.functions.registry import Registry
from tests.functions.test_registry import create


@pytest.fixture
def registry(tmp_path: Path) -> Iterator[Registry]:
    opened = Registry(tmp_path / "functions", "us-east-1")
    create(opened, publish=True)
    asyncio.run(opened.create_alias("fn", "live", "1"))
    yield opened
    opened.close()


def wait_until_empty(path: Path) -> None:
    deadline = time.monotonic() + 30
    with contextlib.closing(sqlite3.connect(path)) as conn:
        while conn.execute("SELECT COUNT(*) FROM events").fetchone()[0] and time.monotonic() < deadline:
            time.sleep(0.01)


async def serve_until_empty(dispatcher: Dispatcher) -> None:
    """Serve until the dispatcher's queue is empty, then stop it."""
    serving = asyncio.ensure_future(dispatcher.serve())
    await asyncio.to_thread(wait_until_empty, dispatcher.queue.path)
    serving.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await serving


def run_queue(registry: Registry, tmp_path: Path, invoked_arn: str, payload: bytes, run: Run, age: float = 0.0,
              destinations: Destinations | None = None) -> None:
    """Queue one Event invocation of `invoked_arn` made `age` seconds ago and run the
    dispatcher (with `run` as the invoker) until the queue is empty."""

    async def main() -> None:
        queue = EventQueue(tmp_path / "events.db")
        await queue.put(Invocation(await registry.resolve_async(invoked_arn), invoked_arn, payload, "req-1"))
        with contextlib.closing(sqlite3.connect(queue.path)) as conn, conn:
            conn.execute("UPDATE events SET created = created - ?", (age,))
        dispatcher = Dispatcher(queue, registry.resolve_async, run, retry_delay=0.0, limits=registry.event_limits,
                                destinations=destinations)
        await serve_until_empty(dispatcher)
        assert queue.pending() == 0
        queue.close()

    asyncio.run(main())


def drain(registry: Registry, tmp_path: Path, invoked_arn: str, age: float = 0.0) -> list[str]:
    """Run one Event invocation of a function that always fails; the attempts it made."""
    attempts: list[str] = []

    async def fail(invocation: Invocation) -> InvokeResult:
        attempts.append(invocation.request_id)
        return InvokeResult(b'{"errorType": "RuntimeError"}', invocation.function.version, "Unhandled")

    run_queue(registry, tmp_path, invoked_arn, b"{}", fail, age)
    return attempts


def test_a_failing_event_runs_three_times_by_default(registry: Registry, tmp_path: Path) -> None:
    assert len(drain(registry, tmp_path, registry.arn("fn"))) == 3


def test_maximum_retry_attempts_of_the_invoked_qualifier_is_applied(registry: Registry, tmp_path: Path) -> None:
    asyncio.run(registry.put_event_config(EventInvokeConfig("fn", "live", maximum_retry_attempts=0)))
    asyncio.run(registry.put_event_config(EventInvokeConfig("fn", None, maximum_retry_attempts=1)))
    assert len(drain(registry, tmp_path, registry.arn("fn", "live"))) == 1
    assert len(drain(registry, tmp_path, registry.arn("fn"))) == 2
    assert len(drain(registry, tmp_path, registry.arn("fn", "1"))) == 3


def test_an_event_older_than_its_maximum_age_is_dropped_unrun(registry: Registry, tmp_path: Path) -> None:
    asyncio.run(registry.put_event_config(EventInvokeConfig("fn", None, maximum_event_age=60)))
    assert drain(registry, tmp_path, registry.arn("fn"), age=120) == []
    assert drain(registry, tmp_path, registry.arn("fn", "live"), age=120) != []
    assert drain(registry, tmp_path, registry.arn("fn", "live"), age=7 * 3600) == []


def test_stopping_the_dispatcher_waits_for_its_deliveries_to_end(registry: Registry, tmp_path: Path) -> None:
    """A delivery cancelled at shutdown has ended when the dispatcher returns: none writes to the
    queue or the store after they close."""
    started = asyncio.Event()
    ended: list[str] = []

    async def hang(invocation: Invocation) -> InvokeResult:
        started.set()
        try:
            await asyncio.Event().wait()
        finally:
            await asyncio.sleep(0.05)  # its cleanup takes a while (a write finishing)
            ended.append(invocation.request_id)
        raise AssertionError("never answered")

    async def main() -> None:
        queue = EventQueue(tmp_path / "events.db")
        await queue.put(Invocation(await registry.resolve_async("fn"), "fn", b"{}", "req-1"))
        serving = asyncio.ensure_future(Dispatcher(queue, registry.resolve_async, hang).serve())
        await started.wait()
        serving.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await serving
        assert ended == ["req-1"]
        queue.close()

    asyncio.run(main())


@pytest.mark.parametrize("turns", range(6))
def test_the_dispatcher_stops_when_cancelled_however_its_wake_up_and_the_cancellation_meet(
        registry: Registry, tmp_path: Path, turns: int) -> None:
    """Cancelled `turns` loop iterations after it was woken (before: one of them swallowed the
    cancellation, and the dispatcher ran on, as the controller's stop found out now and then)."""

    async def run(invocation: Invocation) -> InvokeResult:
        return InvokeResult(b"{}", invocation.function.version)

    async def main() -> bool:
        queue = EventQueue(tmp_path / "events.db")
        dispatcher = Dispatcher(queue, registry.resolve_async, run, retry_delay=0.0)
        serving = asyncio.ensure_future(dispatcher.serve())
        await asyncio.sleep(0.05)  # waiting for work
        dispatcher.wake()
        for _ in range(turns):
            await asyncio.sleep(0)
        serving.cancel()
        done, _ = await asyncio.wait({serving}, timeout=5)
        queue.close()
        return serving in done and serving.cancelled()

    assert asyncio.run(main())


def test_events_already_running_are_neither_due_again_nor_what_the_dispatcher_waits_for(
        registry: Registry, tmp_path: Path) -> None:
    """While an event runs, its row is still queued (a crash must find it). The dispatcher asks
    only about the others: before, the running event's past due time woke it every 50 ms for as
    long as the event ran, and each wake-up read every running event's payload back."""

    async def main() -> None:
        queue = EventQueue(tmp_path / "events.db")
        function = await registry.resolve_async("fn")
        for request_id in ("running", "waiting"):
            await queue.put(Invocation(function, "fn", request_id.encode(), request_id))
        running, waiting = queue.due(time.time(), set())
        queue.later(waiting.id, 0, time.time() + 60)
        assert queue.due(time.time(), {running.id}) == []
        assert queue.next_due({running.id}) == pytest.approx(time.time() + 60, abs=5)
        queue.done(waiting.id)
        assert queue.next_due({running.id}) is None
        assert queue.next_due(set()) is not None
        queue.close()

    asyncio.run(main())


def test_a_throttled_event_waits_twice_as_long_after_each_throttle_in_a_row(registry: Registry,
                                                                             tmp_path: Path) -> None:
    """Lambda's retry interval for throttled events grows exponentially (from one second, up to
    five minutes); a constant one would have a backlog churn through the queue every second."""
    waits: list[float] = []
    throttled_at = 0.0

    async def throttle_three_times(invocation: Invocation) -> InvokeResult:
        nonlocal throttled_at
        if throttled_at:
            with contextlib.closing(sqlite3.connect(tmp_path / "events.db")) as conn:
                waits.append(conn.execute("SELECT next_at FROM events").fetchone()[0] - throttled_at)
        if len(waits) < 3:
            throttled_at = time.time()
            raise TooManyRequests("ReservedFunctionConcurrentInvocationLimitExceeded", "Rate Exceeded.")
        return InvokeResult(b"{}", invocation.function.version)

    async def main() -> None:
        queue = EventQueue(tmp_path / "events.db")
        await queue.put(Invocation(await registry.resolve_async("fn"), "fn", b"{}", "req-1"))
        await serve_until_empty(Dispatcher(queue, registry.resolve_async, throttle_three_times, throttle_delay=0.1))
        queue.close()

    asyncio.run(main())
    first, second, third = waits  # each a little over its due wait: the time from throttle to write
    assert 0.1 <= first < 0.2 <= second < 0.4 <= third < 0.8


class FullQueue(EventQueue):
    """The queue on a full disk: nothing can be written to it (SQLite's SQLITE_FULL)."""

    def done(self, event_id: int, follow_up: Invocation | None = None, hops: int = 0) -> None:
        raise sqlite3.OperationalError("database or disk is full")

    def later(self, event_id: int, attempts: int, next_at: float) -> None:
        raise sqlite3.OperationalError("database or disk is full")


def test_an_event_whose_queue_entry_cannot_be_written_waits_a_retry_delay_before_running_again(
        registry: Registry, tmp_path: Path) -> None:
    """Run, but neither removable nor movable (the disk is full): before, its entry stayed due and
    the dispatcher ran it again at once, tens of thousands of times a minute, each logged."""
    runs: list[float] = []
    ran = asyncio.Event()

    async def run(invocation: Invocation) -> InvokeResult:
        runs.append(time.monotonic())
        ran.set()
        return InvokeResult(b"{}", invocation.function.version)

    async def main() -> None:
        queue = FullQueue(tmp_path / "events.db")
        await queue.put(Invocation(await registry.resolve_async("fn"), "fn", b"{}", "req-1"))
        serving = asyncio.ensure_future(Dispatcher(queue, registry.resolve_async, run, retry_delay=30.0).serve())
        await ran.wait()
        await asyncio.sleep(0.5)  # a dispatcher that did not hold the event would have run it again by now
        serving.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await serving
        queue.close()

    asyncio.run(main())
    assert len(runs) == 1


def test_a_throttled_backlog_is_not_tried_over_and_over_nor_holds_up_another_function(
        registry: Registry, tmp_path: Path) -> None:
    """A function that takes two events at a time, with two hundred queued, then one event of
    another function: the dispatcher runs the backlog about as fast as the function takes it,
    without throwing each waiting event at the limit (before, every throttle of one event
    backed off that event alone, and the next ones were all tried and throttled in turn), and
    the other function's event does not wait for the backlog."""
    create(registry, name="other")
    running = 0
    throttles = 0
    backlog_run_before_other: list[int] = []
    backlog_run = 0

    async def two_at_a_time(invocation: Invocation) -> InvokeResult:
        nonlocal running, throttles, backlog_run
        if invocation.function.name == "other":
            backlog_run_before_other.append(backlog_run)
        elif running == 2:
            throttles += 1
            raise TooManyRequests("ReservedFunctionConcurrentInvocationLimitExceeded", "Rate Exceeded.")
        else:
            running += 1
            await asyncio.sleep(0.005)
            running -= 1
            backlog_run += 1
        return InvokeResult(b"{}", invocation.function.version)

    async def main() -> None:
        queue = EventQueue(tmp_path / "events.db")
        backlog = await registry.resolve_async("fn")
        for number in range(200):
            await queue.put(Invocation(backlog, "fn", b"{}", f"backlog-{number}"))
        await queue.put(Invocation(await registry.resolve_async("other"), "other", b"{}", "other-1"))
        await serve_until_empty(Dispatcher(queue, registry.resolve_async, two_at_a_time, throttle_delay=0.05))
        assert queue.pending() == 0
        queue.close()

    asyncio.run(main())
    assert backlog_run == 200
    assert throttles < 200  # fewer than the events waiting: most never meet the limit
    assert backlog_run_before_other
    assert backlog_run_before_other[0] < 100
