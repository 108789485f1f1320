"""Destinations of Event invocations: the invocation record Lambda documents, and the
dispatcher sending it where the invoked qualifier's configuration says once an event is done.
A real queue file and a real registry; the runner and the S3 writer are the test's, recording
what they are given."""

from __future__ import annotations

import asyncio
import datetime
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from strato.functions.destinations import (
    EVENT_AGE_EXCEEDED,
    RETRIES_EXHAUSTED,
    SUCCESS,
    Destinations,
    Ending,
    Finished,
    encode_record,
    invocation_record,
    record_key,
)
from strato.functions.events import MAX_DESTINATION_HOPS
from strato.functions.invoke_configs import EventInvokeConfig
from strato.functions.records import Invocation, InvokeResult
from strato.functions.registry import Registry
from tests.functions.test_events import run_queue
from tests.functions.test_registry import create

ARN = "arn:aws:lambda:us-east-1:000000000000:function:fn"
MOMENT = datetime.datetime(2026, 11, 27, 9, 5, 7, 123456, tzinfo=datetime.UTC)
FAILED = InvokeResult(b'{"errorMessage": "no", "errorType": "RuntimeError"}', "1", "Unhandled")


class TestTheInvocationRecord:
    def test_a_success_carries_the_request_the_response_and_its_context(self) -> None:
        record = invocation_record(Finished(ARN, "req-1", b'{"n": 2}'),
                                   Ending(SUCCESS, 1, InvokeResult(b'{"doubled": 4}', "$LATEST")), MOMENT)
        assert record == {
            "version": "1.0", "timestamp": "2026-11-27T09:05:07.123Z",
            "requestContext": {"requestId": "req-1", "functionArn": f"{ARN}:$LATEST", "condition": "Success",
                               "approximateInvokeCount": 1},
            "requestPayload": {"n": 2},
            "responseContext": {"statusCode": 200, "executedVersion": "$LATEST"},
            "responsePayload": {"doubled": 4}}

    def test_a_failure_names_the_function_error_and_keeps_the_qualifier_invoked(self) -> None:
        record = invocation_record(Finished(f"{ARN}:live", "req-1", b"{}"), Ending(RETRIES_EXHAUSTED, 3, FAILED),
                                   MOMENT)
        assert record["requestContext"]["functionArn"] == f"{ARN}:live"
        assert record["requestContext"]["condition"] == "RetriesExhausted"
        assert record["responseContext"] == {"statusCode": 200, "executedVersion": "1", "functionError": "Unhandled"}
        assert record["responsePayload"] == {"errorMessage": "no", "errorType": "RuntimeError"}

    def test_an_event_too_old_to_run_has_no_response(self) -> None:
        record = invocation_record(Finished(ARN, "req-1", b"{}"), Ending(EVENT_AGE_EXCEEDED, 0, None), MOMENT)
        assert "responseContext" not in record
        assert "responsePayload" not in record
        assert record["requestContext"]["approximateInvokeCount"] == 0

    def test_a_response_that_is_not_json_is_carried_as_text(self) -> None:
        record = invocation_record(Finished(ARN, "r", b"{}"), Ending(SUCCESS, 1, InvokeResult(b"plain", "1")), MOMENT)
        assert record["responsePayload"] == "plain"

    def test_a_response_nested_too_deeply_to_parse_is_carried_as_text(self) -> None:
        deep = b"[" * 100_000 + b"]" * 100_000
        record = invocation_record(Finished(ARN, "r", b"{}"), Ending(SUCCESS, 1, InvokeResult(deep, "1")), MOMENT)
        assert record["responsePayload"] == deep.decode()

    def test_a_record_over_the_limit_loses_the_response_then_the_request(self) -> None:
        big = json.dumps({"x": "y" * 1000}).encode()
        record = invocation_record(Finished(ARN, "r", big), Ending(SUCCESS, 1, InvokeResult(big, "1")), MOMENT)
        assert json.loads(encode_record(record, 1500)).keys() == record.keys() - {"responsePayload"}
        assert json.loads(encode_record(record, 500)).keys() == record.keys() - {"responsePayload", "requestPayload"}
        assert json.loads(encode_record(record, 5000)) == record

    def test_an_s3_record_is_keyed_by_function_date_time_and_a_unique_id(self) -> None:
        assert record_key("fn", MOMENT, "u-1") == "aws/lambda/async/fn/2026/11/27/2026-11-27T09.05.07-u-1"


@pytest.fixture
def registry(tmp_path: Path) -> Iterator[Registry]:
    opened = Registry(tmp_path / "functions", "us-east-1")
    create(opened, publish=True)
    create(opened, name="dest", publish=True)
    asyncio.run(opened.create_alias("dest", "live", "1"))
    yield opened
    opened.close()


class Run:
    """The dispatcher's runner and S3 writer: `fn` fails when its event says so, every other
    function succeeds; `buckets` names the buckets that exist."""

    def __init__(self, buckets: tuple[str, ...] = ()) -> None:
        self.invocations: list[Invocation] = []
        self.objects: dict[tuple[str, str], bytes] = {}
        self.buckets = buckets

    async def run(self, invocation: Invocation) -> InvokeResult:
        self.invocations.append(invocation)
        if invocation.function.name == "fn" and json.loads(invocation.payload).get("fail"):
            return InvokeResult(FAILED.payload, invocation.function.version, "Unhandled")
        return InvokeResult(b'"done"', invocation.function.version)

    async def put_record(self, bucket: str, key: str, record: bytes) -> None:
        if bucket not in self.buckets:
            raise LookupError(bucket)
        self.objects[bucket, key] = record

    def records(self, name: str) -> list[dict[str, Any]]:
        """The payloads of the invocations of function `name`."""
        return [json.loads(i.payload) for i in self.invocations if i.function.name == name]


def drain(registry: Registry, tmp_path: Path, runner: Run, payload: dict[str, Any], age: float = 0.0) -> None:
    """Run one Event invocation of `fn` made `age` seconds ago, with destinations."""
    destinations = Destinations(registry.get_event_config, registry.resolve_async, runner.put_record, "us-east-1")
    run_queue(registry, tmp_path, ARN, json.dumps(payload).encode(), runner.run, age, destinations)


def configure(registry: Registry, **fields: Any) -> None:
    asyncio.run(registry.put_event_config(EventInvokeConfig("fn", None, maximum_retry_attempts=0, **fields)))


class TestTheDispatcher:
    def test_a_success_invokes_the_on_success_function_with_the_record(self, registry: Registry,
                                                                       tmp_path: Path) -> None:
        configure(registry, on_success=registry.arn("dest"), on_failure=registry.arn("dest", "live"))
        runner = Run()
        drain(registry, tmp_path, runner, {"n": 1})
        [record] = runner.records("dest")
        assert record["requestContext"]["condition"] == SUCCESS
        assert record["requestPayload"] == {"n": 1}
        assert record["responsePayload"] == "done"
        [follow_up] = [i for i in runner.invocations if i.function.name == "dest"]
        assert (follow_up.function.version, follow_up.invoked_arn) == ("$LATEST", registry.arn("dest"))
        assert follow_up.request_id != "req-1"

    def test_a_last_failure_invokes_the_on_failure_function_through_its_qualifier(self, registry: Registry,
                                                                                   tmp_path: Path) -> None:
        configure(registry, on_success=registry.arn("dest"), on_failure=registry.arn("dest", "live"))
        runner = Run()
        drain(registry, tmp_path, runner, {"fail": True})
        [record] = runner.records("dest")
        assert record["requestContext"]["condition"] == RETRIES_EXHAUSTED
        assert record["responseContext"]["functionError"] == "Unhandled"
        [follow_up] = [i for i in runner.invocations if i.function.name == "dest"]
        assert (follow_up.function.version, follow_up.invoked_arn) == ("1", registry.arn("dest", "live"))

    def test_an_event_too_old_goes_to_on_failure_unrun(self, registry: Registry, tmp_path: Path) -> None:
        configure(registry, maximum_event_age=60, on_failure=registry.arn("dest"))
        runner = Run()
        drain(registry, tmp_path, runner, {}, age=120)
        assert [i.function.name for i in runner.invocations] == ["dest"]
        assert runner.records("dest")[0]["requestContext"]["condition"] == EVENT_AGE_EXCEEDED

    def test_a_failure_record_is_written_into_an_s3_bucket(self, registry: Registry, tmp_path: Path) -> None:
        configure(registry, on_failure="arn:aws:s3:::records")
        runner = Run(buckets=("records",))
        drain(registry, tmp_path, runner, {"fail": True})
        [(bucket, key)] = runner.objects
        assert bucket == "records"
        assert key.startswith("aws/lambda/async/fn/")
        assert json.loads(runner.objects[bucket, key])["requestContext"]["condition"] == RETRIES_EXHAUSTED

    def test_a_loop_of_destinations_stops_after_sixteen_hops(self, registry: Registry, tmp_path: Path,
                                                             caplog: pytest.LogCaptureFixture) -> None:
        """fn's records go to dest and dest's back to fn: as Lambda's loop detection, the chain
        stops (the 17th destination invocation is not queued, and a warning says why)."""
        caplog.set_level(logging.WARNING, "strato.functions.events")
        configure(registry, on_success=registry.arn("dest"))
        asyncio.run(registry.put_event_config(EventInvokeConfig("dest", None, on_success=registry.arn("fn"))))
        runner = Run()
        drain(registry, tmp_path, runner, {"n": 1})
        assert len(runner.invocations) == 1 + MAX_DESTINATION_HOPS
        assert [i.function.name for i in runner.invocations[:3]] == ["fn", "dest", "fn"]
        assert "17 destinations in a chain (a loop?)" in caplog.text

    def test_a_destination_that_is_gone_or_not_strato_s_drops_the_record(
            self, registry: Registry, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
        caplog.set_level(logging.WARNING, "strato.functions.destinations")
        asyncio.run(registry.delete("dest"))
        for destination in (registry.arn("dest"), "arn:aws:lambda:eu-west-1:000000000000:function:dest",
                            "arn:aws:s3:::missing", "arn:aws:sqs:us-east-1:000000000000:q"):
            configure(registry, on_failure=destination)
            runner = Run()
            drain(registry, tmp_path, runner, {"fail": True})
            assert [i.function.name for i in runner.invocations] == ["fn"]
            assert runner.objects == {}
        warnings = [r.getMessage() for r in caplog.records if r.name == "strato.functions.destinations"]
        assert len(warnings) == 4
        assert "strato has no sqs" in warnings[-1]
