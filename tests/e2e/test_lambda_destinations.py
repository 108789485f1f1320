"""Destinations of Event invocations through boto3 against a real strato: once an event is done,
its invocation record reaches the OnSuccess or OnFailure function (which stores what it gets in
S3 here, with its own keys) or the OnFailure bucket; destinations of services strato does not
have leave the event running."""

from __future__ import annotations

import contextlib
import datetime
import json
import re
import sqlite3
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import make_client
from tests.e2e.lambda_helpers import deploy
from tests.e2e.test_lambda_events import WRITER, wait_for_keys
from tests.servers import StratoServer

SOURCE = """
def handler(event, context):
    if event.get("fail"):
        raise RuntimeError("failing on purpose")
    return {"doubled": event["n"] * 2}
"""

RECORDER = """
import json, os, time
import boto3

def handler(event, context):
    time.sleep(event["requestPayload"].get("sleep", 0))
    key = "records/" + event["requestContext"]["requestId"]
    boto3.client("s3").put_object(Bucket=os.environ["BUCKET"], Key=key, Body=json.dumps(event).encode())
"""

ARN = "arn:aws:lambda:us-east-1:000000000000:function:"
TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")


@pytest.fixture(scope="module")
def events_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StratoServer]:
    running = StratoServer(tmp_path_factory.mktemp("dst"), env={"STRATO_EVENT_RETRY_DELAY": "0.2"}).start()
    yield running
    running.stop()


@pytest.fixture(scope="module")
def lam(events_server: StratoServer) -> Any:
    return make_client(events_server.url, "lambda")


@pytest.fixture(scope="module")
def s3(events_server: StratoServer) -> Any:
    return make_client(events_server.url)


@pytest.fixture(scope="module")
def bucket(s3: Any) -> str:
    name = f"dst-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name)
    return name


@pytest.fixture(scope="module")
def recorder(lam: Any, bucket: str) -> str:
    """A function that stores each record it is sent under records/REQUEST_ID in `bucket`."""
    return deploy(lam, RECORDER, Timeout=30, Environment={"Variables": {"BUCKET": bucket}})


def invoke_event(lam: Any, name: str, payload: dict[str, Any]) -> str:
    """An Event invocation of `name`; its request id."""
    queued = lam.invoke(FunctionName=name, InvocationType="Event", Payload=json.dumps(payload))
    assert queued["StatusCode"] == 202
    return str(queued["ResponseMetadata"]["RequestId"])


def received(s3: Any, bucket: str, request_id: str) -> dict[str, Any]:
    """The record of `request_id` the recorder stored."""
    assert wait_for_keys(s3, bucket, f"records/{request_id}", 1) == [f"records/{request_id}"]
    return dict(json.loads(s3.get_object(Bucket=bucket, Key=f"records/{request_id}")["Body"].read()))


def test_a_success_sends_the_record_to_the_on_success_function(lam: Any, s3: Any, bucket: str,
                                                               recorder: str) -> None:
    name = deploy(lam, SOURCE)
    lam.put_function_event_invoke_config(FunctionName=name,
                                         DestinationConfig={"OnSuccess": {"Destination": ARN + recorder}})
    request_id = invoke_event(lam, name, {"n": 21})
    record = received(s3, bucket, request_id)
    assert record["version"] == "1.0"
    assert TIMESTAMP.fullmatch(record["timestamp"])
    assert record["requestContext"] == {"requestId": request_id, "functionArn": f"{ARN}{name}:$LATEST",
                                        "condition": "Success", "approximateInvokeCount": 1}
    assert record["requestPayload"] == {"n": 21}
    assert record["responseContext"] == {"statusCode": 200, "executedVersion": "$LATEST"}
    assert record["responsePayload"] == {"doubled": 42}


def test_a_last_failure_sends_the_error_to_the_on_failure_function(lam: Any, s3: Any, bucket: str,
                                                                   recorder: str) -> None:
    name = deploy(lam, SOURCE)
    lam.put_function_event_invoke_config(FunctionName=name, MaximumRetryAttempts=0,
                                         DestinationConfig={"OnFailure": {"Destination": ARN + recorder}})
    request_id = invoke_event(lam, name, {"fail": True})
    record = received(s3, bucket, request_id)
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert record["requestContext"]["approximateInvokeCount"] == 1
    assert record["requestPayload"] == {"fail": True}
    assert record["responseContext"] == {"statusCode": 200, "executedVersion": "$LATEST",
                                         "functionError": "Unhandled"}
    assert record["responsePayload"]["errorType"] == "RuntimeError"
    assert record["responsePayload"]["errorMessage"] == "failing on purpose"


def test_a_last_failure_is_written_into_the_on_failure_bucket(lam: Any, s3: Any) -> None:
    failures = f"dst-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=failures)
    name = deploy(lam, SOURCE)
    lam.put_function_event_invoke_config(FunctionName=name, MaximumRetryAttempts=0,
                                         DestinationConfig={"OnFailure": {"Destination": f"arn:aws:s3:::{failures}"}})
    before = datetime.datetime.now(datetime.UTC)
    request_id = invoke_event(lam, name, {"fail": True})
    [key] = wait_for_keys(s3, failures, f"aws/lambda/async/{name}/", 1)
    laid_out = re.fullmatch(
        rf"aws/lambda/async/{name}/(\d{{4}}/\d\d/\d\d)/(\d{{4}}-\d\d-\d\dT\d\d\.\d\d\.\d\d)-([0-9a-f-]{{36}})", key)
    assert laid_out, key
    day, stamp, unique = laid_out.groups()
    written = datetime.datetime.strptime(stamp, "%Y-%m-%dT%H.%M.%S").replace(tzinfo=datetime.UTC)
    assert day == f"{written:%Y/%m/%d}"
    assert before.replace(microsecond=0) <= written <= datetime.datetime.now(datetime.UTC)
    assert str(uuid.UUID(unique)) == unique
    got = s3.get_object(Bucket=failures, Key=key)
    assert got["ContentType"] == "application/json"
    record = json.loads(got["Body"].read())
    assert record["requestContext"]["requestId"] == request_id
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert record["responsePayload"]["errorMessage"] == "failing on purpose"


def test_an_sqs_destination_is_not_delivered_and_the_event_still_runs(events_server: StratoServer, lam: Any,
                                                                      s3: Any, bucket: str) -> None:
    queue = "arn:aws:sqs:us-east-1:000000000000:records"
    name = deploy(lam, WRITER, Timeout=30)
    lam.put_function_event_invoke_config(FunctionName=name, DestinationConfig={"OnSuccess": {"Destination": queue}})
    invoke_event(lam, name, {"bucket": bucket, "prefix": f"{name}-ran-"})
    assert len(wait_for_keys(s3, bucket, f"{name}-ran-", 1)) == 1
    deadline = time.monotonic() + 30
    while f"the record for {queue} is not delivered" not in events_server.text and time.monotonic() < deadline:
        time.sleep(0.1)
    assert f"the record for {queue} is not delivered (strato has no sqs)" in events_server.text
    assert lam.invoke(FunctionName=name, Payload=json.dumps({"bucket": bucket, "prefix": "again-"}))[
        "StatusCode"] == 200


def test_a_record_queued_for_a_destination_function_survives_a_crash(tmp_path_factory: pytest.TempPathFactory) -> None:
    server = StratoServer(tmp_path_factory.mktemp("dsr")).start()
    try:
        lam, s3 = make_client(server.url, "lambda"), make_client(server.url)
        records = f"dst-{uuid.uuid4().hex[:12]}"
        s3.create_bucket(Bucket=records)
        recorder = deploy(lam, RECORDER, Timeout=30, Environment={"Variables": {"BUCKET": records}})
        name = deploy(lam, SOURCE)
        lam.put_function_event_invoke_config(FunctionName=name,
                                             DestinationConfig={"OnSuccess": {"Destination": ARN + recorder}})
        request_id = invoke_event(lam, name, {"n": 1, "sleep": 2})
        wait_for_queued(server, recorder)
        server.kill()
        server.start()
        assert received(make_client(server.url), records, request_id)["responsePayload"] == {"doubled": 2}
    finally:
        server.stop()


def wait_for_queued(server: StratoServer, function_name: str) -> None:
    """Until the Event queue holds an invocation of `function_name`."""
    deadline = time.monotonic() + 30
    with contextlib.closing(sqlite3.connect(server.data_dir / "functions" / "events.db")) as conn:
        while time.monotonic() < deadline:
            if conn.execute("SELECT COUNT(*) FROM events WHERE function_name = ?", (function_name,)).fetchone()[0]:
                return
            time.sleep(0.05)
    raise AssertionError(f"no event of {function_name} was queued")
