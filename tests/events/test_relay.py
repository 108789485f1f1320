"""The relay turns recorded object changes into Event invocations and forgets a change only once
they are queued. A real object store, a real registry and a real Event queue file."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from strato.events.relay import NotificationRelay
from strato.events.s3_notifications import SERVICE, LambdaTarget, to_document
from strato.functions.events import EventQueue
from strato.functions.registry import Registry
from strato.server import s3_destinations
from strato.storage.engine import ObjectStore
from strato.storage.records import Expectation
from tests.functions.test_registry import create

ARN = "arn:aws:lambda:us-east-1:000000000000:function:fn"


@pytest.fixture
def registry(tmp_path: Path) -> Iterator[Registry]:
    """A function S3 may invoke (the statement AddPermission writes for s3.amazonaws.com)."""
    opened = Registry(tmp_path / "functions", "us-east-1")
    create(opened)
    asyncio.run(opened.add_statement("fn", None, {"Sid": "s3", "Effect": "Allow", "Principal": {"Service": SERVICE},
                                                  "Action": "lambda:InvokeFunction", "Resource": ARN}))
    yield opened
    opened.close()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[ObjectStore]:
    opened = ObjectStore(tmp_path / "data")
    yield opened
    opened.close()


async def _body() -> AsyncIterator[bytes]:
    yield b"data"


async def watched_write(store: ObjectStore, *targets: LambdaTarget) -> None:
    """A bucket with `targets` as its configuration, and one object written into it."""
    await store.create_bucket("photos", "eu-west-1")
    await store.put_bucket_notification("photos", to_document(targets))
    await store.put_object("photos", "images/a.jpg", _body(), Expectation(), system={}, user={})


def relay(store: ObjectStore, registry: Registry, queue: EventQueue, woken: list[bool]) -> NotificationRelay:
    return NotificationRelay(store, registry.resolve_async, s3_destinations(registry), queue.put,
                             lambda: woken.append(True))


def test_each_matching_configuration_gets_an_invocation_then_the_change_is_forgotten(
        store: ObjectStore, registry: Registry, tmp_path: Path) -> None:
    queue = EventQueue(tmp_path / "events.db")
    woken: list[bool] = []

    async def main() -> None:
        await watched_write(store, LambdaTarget("images", ARN, ("s3:ObjectCreated:*",), "images/"),
                            LambdaTarget("docs", ARN, ("s3:ObjectCreated:*",), "docs/"))
        assert await relay(store, registry, queue, woken).relay_pending() == 1

    asyncio.run(main())
    [event] = queue.due(float("inf"), set())
    queue.close()
    [record] = json.loads(event.payload)["Records"]
    assert (record["s3"]["configurationId"], record["awsRegion"]) == ("images", "eu-west-1")
    assert (event.function_name, event.invoked_arn) == ("fn", ARN)
    assert store.changes() == []
    assert woken == [True]


def test_a_change_whose_invocation_cannot_be_queued_stays_recorded_and_the_relay_goes_on(
        store: ObjectStore, registry: Registry, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    queue = EventQueue(tmp_path / "events.db")
    queue.close()  # every put now fails

    async def main() -> None:
        await watched_write(store, LambdaTarget("all", ARN, ("s3:ObjectCreated:*",)))
        serving = asyncio.ensure_future(relay(store, registry, queue, []).serve())
        await asyncio.sleep(0.3)  # the first attempt fails at once; the next comes after RETRY
        assert "could not be queued" in caplog.text
        assert not serving.done()
        serving.cancel()

    asyncio.run(main())
    assert [change.key for change in store.changes()] == ["images/a.jpg"]


def test_a_change_for_a_function_that_is_gone_is_forgotten(store: ObjectStore, registry: Registry,
                                                           tmp_path: Path) -> None:
    queue = EventQueue(tmp_path / "events.db")

    async def main() -> None:
        await watched_write(store, LambdaTarget("gone", ARN + "-deleted", ("s3:ObjectCreated:*",)))
        assert await relay(store, registry, queue, []).relay_pending() == 1

    asyncio.run(main())
    assert queue.pending() == 0
    queue.close()
    assert store.changes() == []
