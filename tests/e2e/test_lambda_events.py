"""Event invocations: queued durably, retried on function errors, kept across a crash."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import make_client
from tests.e2e.lambda_helpers import deploy
from tests.servers import StratoServer

WRITER = """
import time, uuid
import boto3

def handler(event, context):
    time.sleep(event.get("sleep", 0))
    boto3.client("s3").put_object(Bucket=event["bucket"], Key=event["prefix"] + uuid.uuid4().hex, Body=b"x")
    if event.get("fail"):
        raise RuntimeError("failing on purpose")
    return "ok"
"""


@pytest.fixture
def events_server(tmp_path: Path) -> Iterator[StratoServer]:
    running = StratoServer(tmp_path / "data", env={"STRATO_EVENT_RETRY_DELAY": "0.2"}).start()
    yield running
    if running.alive():
        running.stop()


def keys(s3: Any, bucket: str, prefix: str) -> list[str]:
    return [item["Key"] for item in s3.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", [])]


def wait_for_keys(s3: Any, bucket: str, prefix: str, count: int, timeout: float = 60) -> list[str]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = keys(s3, bucket, prefix)
        if len(found) >= count:
            return found
        time.sleep(0.2)
    return keys(s3, bucket, prefix)


def test_a_failing_event_is_tried_three_times_in_all(events_server: StratoServer) -> None:
    lam = make_client(events_server.url, "lambda")
    s3 = make_client(events_server.url)
    bucket = f"events-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=bucket)
    name = deploy(lam, WRITER, Timeout=30)
    payload = {"bucket": bucket, "prefix": "attempt-", "fail": True}
    assert lam.invoke(FunctionName=name, InvocationType="Event", Payload=json.dumps(payload))["StatusCode"] == 202
    assert len(wait_for_keys(s3, bucket, "attempt-", 3)) == 3
    time.sleep(2.0)  # a fourth attempt would come within 3 retry delays
    assert len(keys(s3, bucket, "attempt-")) == 3


def test_a_queued_event_survives_a_crash_of_the_server(events_server: StratoServer) -> None:
    lam = make_client(events_server.url, "lambda")
    s3 = make_client(events_server.url)
    bucket = f"events-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=bucket)
    name = deploy(lam, WRITER, Timeout=30)
    payload = {"bucket": bucket, "prefix": "durable-", "sleep": 5}
    assert lam.invoke(FunctionName=name, InvocationType="Event", Payload=json.dumps(payload))["StatusCode"] == 202
    events_server.kill()
    assert keys_after_restart(events_server, bucket)


def keys_after_restart(server: StratoServer, bucket: str) -> list[str]:
    server.start()
    return wait_for_keys(make_client(server.url), bucket, "durable-", 1)
