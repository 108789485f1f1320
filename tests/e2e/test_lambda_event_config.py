"""Asynchronous invocation configuration through boto3 against a real strato: Put, Update,
Get, Delete and ListFunctionEventInvokeConfigs as Terraform's
aws_lambda_function_event_invoke_config and SAM's EventInvokeConfig call them, and the Event
queue honouring MaximumRetryAttempts."""

from __future__ import annotations

import datetime
import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import make_client
from tests.e2e.client_errors import refused
from tests.e2e.lambda_helpers import ECHO, ROLE, RUNTIME, deploy, published_with_alias
from tests.e2e.test_lambda_events import WRITER, keys, wait_for_keys
from tests.servers import StratoServer

QUEUE = "arn:aws:sqs:us-east-1:000000000000:failures"
TOPIC = "arn:aws:sns:us-east-1:000000000000:done"


@pytest.fixture
def name(lam: Any) -> Iterator[str]:
    with published_with_alias(lam, "eic") as created:
        yield created


def arn(name: str, qualifier: str) -> str:
    return f"arn:aws:lambda:us-east-1:000000000000:function:{name}:{qualifier}"


class TestPutAndGet:
    def test_put_answers_the_configuration_and_get_reads_it_back(self, lam: Any, name: str) -> None:
        put = lam.put_function_event_invoke_config(
            FunctionName=name, MaximumRetryAttempts=1, MaximumEventAgeInSeconds=3600,
            DestinationConfig={"OnFailure": {"Destination": QUEUE}, "OnSuccess": {"Destination": TOPIC}})
        assert put["FunctionArn"] == arn(name, "$LATEST")
        assert (put["MaximumRetryAttempts"], put["MaximumEventAgeInSeconds"]) == (1, 3600)
        assert put["DestinationConfig"] == {"OnFailure": {"Destination": QUEUE}, "OnSuccess": {"Destination": TOPIC}}
        assert isinstance(put["LastModified"], datetime.datetime)
        got = lam.get_function_event_invoke_config(FunctionName=name)
        assert {k: got[k] for k in put if k != "ResponseMetadata"} == {
            k: put[k] for k in put if k != "ResponseMetadata"}

    def test_put_replaces_the_whole_configuration_and_update_changes_only_what_it_names(
            self, lam: Any, name: str) -> None:
        lam.put_function_event_invoke_config(FunctionName=name, MaximumRetryAttempts=0,
                                             DestinationConfig={"OnFailure": {"Destination": QUEUE}})
        updated = lam.update_function_event_invoke_config(FunctionName=name, MaximumEventAgeInSeconds=60)
        assert (updated["MaximumRetryAttempts"], updated["MaximumEventAgeInSeconds"]) == (0, 60)
        assert updated["DestinationConfig"]["OnFailure"] == {"Destination": QUEUE}
        replaced = lam.put_function_event_invoke_config(FunctionName=name, MaximumEventAgeInSeconds=120)
        assert "MaximumRetryAttempts" not in replaced
        assert replaced["DestinationConfig"] == {"OnSuccess": {}, "OnFailure": {}}

    def test_each_version_and_alias_has_its_own_and_list_pages_through_them(self, lam: Any, name: str) -> None:
        for qualifier in ("live", "1", "$LATEST"):
            lam.put_function_event_invoke_config(FunctionName=name, Qualifier=qualifier, MaximumRetryAttempts=2)
        assert lam.get_function_event_invoke_config(FunctionName=f"{name}:live")["FunctionArn"] == arn(name, "live")
        first = lam.list_function_event_invoke_configs(FunctionName=name, MaxItems=2)
        rest = lam.list_function_event_invoke_configs(FunctionName=name, Marker=first["NextMarker"])
        listed = [c["FunctionArn"] for c in first["FunctionEventInvokeConfigs"] + rest["FunctionEventInvokeConfigs"]]
        assert sorted(listed) == sorted(arn(name, q) for q in ("live", "1", "$LATEST"))
        assert "NextMarker" not in rest

    def test_delete_removes_it_and_the_function_takes_the_rest_with_it(self, lam: Any, name: str) -> None:
        lam.put_function_event_invoke_config(FunctionName=name, MaximumRetryAttempts=1)
        lam.put_function_event_invoke_config(FunctionName=name, Qualifier="live", MaximumRetryAttempts=1)
        deleted = lam.delete_function_event_invoke_config(FunctionName=name)
        assert deleted["ResponseMetadata"]["HTTPStatusCode"] == 204
        assert refused(lam.get_function_event_invoke_config, FunctionName=name) == (
            "ResourceNotFoundException", 404, f"The function {arn(name, '$LATEST')} doesn't have an EventInvokeConfig")
        lam.delete_function(FunctionName=name)
        lam.create_function(FunctionName=name, Runtime=RUNTIME, Role=ROLE, Handler="handler.handler",
                            Code={"ZipFile": ECHO}, Publish=True)
        lam.create_alias(FunctionName=name, Name="live", FunctionVersion="1")
        assert lam.list_function_event_invoke_configs(FunctionName=name)["FunctionEventInvokeConfigs"] == []


class TestErrors:
    def test_an_empty_configuration_is_refused(self, lam: Any, name: str) -> None:
        assert refused(lam.put_function_event_invoke_config, FunctionName=name) == (
            "InvalidParameterValueException", 400,
            "You must specify at least one of error handling or destination setting.")

    @pytest.mark.parametrize("fields", [{"MaximumRetryAttempts": 3}, {"MaximumEventAgeInSeconds": 59},
                                        {"MaximumEventAgeInSeconds": 21601}])
    def test_limits_outside_lambdas_ranges_are_refused(self, server: StratoServer, name: str,
                                                       fields: dict[str, int]) -> None:
        unchecked = make_client(server.url, "lambda", parameter_validation=False)  # boto3 checks minimums itself
        assert refused(unchecked.put_function_event_invoke_config, FunctionName=name, **fields)[:2] == (
            "InvalidParameterValueException", 400)

    def test_a_destination_must_be_a_queue_topic_bus_bucket_or_another_function(self, lam: Any, name: str) -> None:
        for destination in ("arn:aws:dynamodb:us-east-1:000000000000:table/t", "not-an-arn"):
            assert refused(lam.put_function_event_invoke_config, FunctionName=name,
                           DestinationConfig={"OnFailure": {"Destination": destination}})[:2] == (
                "InvalidParameterValueException", 400)
        itself = f"arn:aws:lambda:us-east-1:000000000000:function:{name}"
        assert refused(lam.put_function_event_invoke_config, FunctionName=name,
                       DestinationConfig={"OnSuccess": {"Destination": itself}})[2] == (
            "You can't specify the function as a destination for itself.")

    def test_an_unknown_function_or_qualifier_does_not_exist(self, lam: Any, name: str) -> None:
        for target in ({"FunctionName": f"{name}-gone"}, {"FunctionName": name, "Qualifier": "9"}):
            assert refused(lam.put_function_event_invoke_config, MaximumRetryAttempts=1, **target) == (
                "ResourceNotFoundException", 404, "The function doesn't exist.")
        assert refused(lam.list_function_event_invoke_configs, FunctionName=f"{name}-gone")[:2] == (
            "ResourceNotFoundException", 404)

    def test_update_and_delete_need_an_existing_configuration(self, lam: Any, name: str) -> None:
        assert refused(lam.update_function_event_invoke_config, FunctionName=name, MaximumRetryAttempts=1)[:2] == (
            "ResourceNotFoundException", 404)
        assert refused(lam.delete_function_event_invoke_config, FunctionName=name)[:2] == (
            "ResourceNotFoundException", 404)


class TestTheEventQueue:
    def test_zero_retries_run_once(self, tmp_path: Path) -> None:
        """MaximumRetryAttempts 0: a failing Event invocation runs once. (A short test name: the
        data dir's path, and the controller socket's in it, stay within Unix's 107 bytes.)"""
        server = StratoServer(tmp_path / "d", env={"STRATO_EVENT_RETRY_DELAY": "0.2"}).start()
        try:
            lam = make_client(server.url, "lambda")
            s3 = make_client(server.url)
            bucket = f"eic-{uuid.uuid4().hex[:12]}"
            s3.create_bucket(Bucket=bucket)
            name = deploy(lam, WRITER, Timeout=30)
            lam.put_function_event_invoke_config(FunctionName=name, MaximumRetryAttempts=0)
            payload = {"bucket": bucket, "prefix": "attempt-", "fail": True}
            queued = lam.invoke(FunctionName=name, InvocationType="Event", Payload=json.dumps(payload))
            assert queued["StatusCode"] == 202
            assert len(wait_for_keys(s3, bucket, "attempt-", 1)) == 1
            time.sleep(1.0)  # a retry would come within 0.2 s
            assert len(keys(s3, bucket, "attempt-")) == 1
        finally:
            server.stop()
