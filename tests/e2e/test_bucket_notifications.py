"""S3 event notifications to Lambda: a bucket's LambdaFunctionConfigurations are checked as S3
checks them, kept, and read back as S3 answers them; each matching object change invokes the
function asynchronously with S3's event message, at least once, across a restart too."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from strato.storage.engine import ObjectStore
from strato.storage.records import Expectation
from tests.conftest import make_client
from tests.e2e.client_errors import error_of
from tests.e2e.lambda_helpers import ECHO, ROLE, RUNTIME, deploy
from tests.e2e.test_awscli import Aws
from tests.servers import ACCESS_KEY, StratoServer

FUNCTION_ARN = "arn:aws:lambda:us-east-1:000000000000:function:{}"


def allow_s3(lam: Any, name: str, bucket: str, qualifier: str | None = None) -> None:
    """The permission the S3 console adds: s3.amazonaws.com may invoke the function for `bucket`."""
    lam.add_permission(FunctionName=name, StatementId=f"s3-{uuid.uuid4().hex[:8]}", Action="lambda:InvokeFunction",
                       Principal="s3.amazonaws.com", SourceArn=f"arn:aws:s3:::{bucket}",
                       **({"Qualifier": qualifier} if qualifier else {}))


@pytest.fixture
def function(lam: Any) -> Iterator[str]:
    name = f"fn-{uuid.uuid4().hex[:12]}"
    lam.create_function(FunctionName=name, Runtime=RUNTIME, Role=ROLE, Handler="handler.handler",
                        Code={"ZipFile": ECHO})
    yield name
    lam.delete_function(FunctionName=name)


def lambda_config(name: str, events: list[str], **rules: str) -> dict[str, Any]:
    config: dict[str, Any] = {"LambdaFunctionArn": FUNCTION_ARN.format(name), "Events": events}
    if rules:
        config["Filter"] = {"Key": {"FilterRules": [{"Name": rule, "Value": value} for rule, value in rules.items()]}}
    return config


def put(s3: Any, bucket: str, *configs: dict[str, Any]) -> None:
    s3.put_bucket_notification_configuration(Bucket=bucket,
                                             NotificationConfiguration={"LambdaFunctionConfigurations": list(configs)})


def refusal(s3: Any, bucket: str, *configs: dict[str, Any]) -> dict[str, Any]:
    with pytest.raises(ClientError) as caught:
        put(s3, bucket, *configs)
    assert error_of(caught)[1] in (400, 501)
    error: dict[str, Any] = caught.value.response["Error"]
    return error


def configuration(s3: Any, bucket: str) -> dict[str, Any]:
    answer = s3.get_bucket_notification_configuration(Bucket=bucket)
    return {name: value for name, value in answer.items() if name != "ResponseMetadata"}


class TestConfiguration:
    def test_a_function_s3_may_invoke_is_kept_and_read_back_with_its_filter(self, s3: Any, lam: Any, bucket: str,
                                                                           function: str) -> None:
        allow_s3(lam, function, bucket)
        config = {**lambda_config(function, ["s3:ObjectCreated:*"], prefix="images/", suffix=".jpg"), "Id": "thumbs"}
        put(s3, bucket, config)
        assert configuration(s3, bucket) == {"LambdaFunctionConfigurations": [{
            "Id": "thumbs", "LambdaFunctionArn": FUNCTION_ARN.format(function), "Events": ["s3:ObjectCreated:*"],
            "Filter": {"Key": {"FilterRules": [{"Name": "Prefix", "Value": "images/"},
                                               {"Name": "Suffix", "Value": ".jpg"}]}}}]}

    def test_a_configuration_without_an_id_is_given_one(self, s3: Any, lam: Any, bucket: str, function: str) -> None:
        allow_s3(lam, function, bucket)
        put(s3, bucket, lambda_config(function, ["s3:ObjectRemoved:Delete", "s3:ObjectCreated:Put"]))
        [kept] = configuration(s3, bucket)["LambdaFunctionConfigurations"]
        assert kept["Id"]
        assert kept["Events"] == ["s3:ObjectRemoved:Delete", "s3:ObjectCreated:Put"]
        assert "Filter" not in kept

    def test_the_empty_configuration_turns_notifications_off(self, s3: Any, lam: Any, bucket: str,
                                                            function: str) -> None:
        allow_s3(lam, function, bucket)
        put(s3, bucket, lambda_config(function, ["s3:ObjectCreated:*"]))
        s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={})
        assert configuration(s3, bucket) == {}

    def test_filters_that_keep_one_event_type_apart_do_not_overlap(self, s3: Any, lam: Any, bucket: str,
                                                                 function: str) -> None:
        allow_s3(lam, function, bucket)
        put(s3, bucket, lambda_config(function, ["s3:ObjectCreated:*"], prefix="a/"),
            lambda_config(function, ["s3:ObjectCreated:Put"], prefix="b/"),
            lambda_config(function, ["s3:ObjectCreated:Put"], prefix="c/", suffix=".png"),
            lambda_config(function, ["s3:ObjectCreated:Put"], prefix="c/", suffix=".jpg"),
            lambda_config(function, ["s3:ObjectRemoved:*"]))
        assert len(configuration(s3, bucket)["LambdaFunctionConfigurations"]) == 5

    def test_the_aws_cli_sets_and_reads_a_configuration(self, server: StratoServer, lam: Any, bucket: str,
                                                        function: str, tmp_path: Path) -> None:
        aws = Aws(server, tmp_path / "home")
        aws("lambda", "add-permission", "--function-name", function, "--statement-id", "s3",
            "--action", "lambda:InvokeFunction", "--principal", "s3.amazonaws.com",
            "--source-arn", f"arn:aws:s3:::{bucket}")
        document = tmp_path / "notification.json"
        document.write_text(json.dumps({"LambdaFunctionConfigurations": [
            {**lambda_config(function, ["s3:ObjectCreated:Put"], suffix=".csv"), "Id": "csv"}]}))
        aws("s3api", "put-bucket-notification-configuration", "--bucket", bucket,
            "--notification-configuration", f"file://{document}")
        answer = aws.json("s3api", "get-bucket-notification-configuration", "--bucket", bucket)
        assert answer["LambdaFunctionConfigurations"][0]["Filter"] == {
            "Key": {"FilterRules": [{"Name": "Suffix", "Value": ".csv"}]}}


class TestValidation:
    def test_a_function_without_a_permission_for_s3_is_refused_in_s3s_words(self, s3: Any, bucket: str,
                                                                          function: str) -> None:
        arn = FUNCTION_ARN.format(function)
        assert refusal(s3, bucket, lambda_config(function, ["s3:ObjectCreated:*"])) == {
            "Code": "InvalidArgument", "Message": "Unable to validate the following destination configurations",
            "ArgumentName1": f"{arn}, null", "ArgumentValue1": f"Not authorized to invoke function [{arn}]"}
        assert configuration(s3, bucket) == {}

    def test_a_permission_for_another_bucket_does_not_count(self, s3: Any, lam: Any, bucket: str,
                                                           function: str) -> None:
        allow_s3(lam, function, f"{bucket}-other")
        assert refusal(s3, bucket, lambda_config(function, ["s3:ObjectCreated:*"]))["Code"] == "InvalidArgument"

    def test_a_function_that_does_not_exist_is_refused(self, s3: Any, bucket: str) -> None:
        missing = f"missing-{uuid.uuid4().hex[:8]}"
        error = refusal(s3, bucket, lambda_config(missing, ["s3:ObjectCreated:*"]))
        assert error["ArgumentValue1"] == f"Not authorized to invoke function [{FUNCTION_ARN.format(missing)}]"

    def test_destination_validation_can_be_skipped_as_on_s3(self, s3: Any, bucket: str) -> None:
        missing = f"missing-{uuid.uuid4().hex[:8]}"
        configurations = {"LambdaFunctionConfigurations": [lambda_config(missing, ["s3:ObjectCreated:*"])]}
        s3.put_bucket_notification_configuration(Bucket=bucket, SkipDestinationValidation=True,
                                                 NotificationConfiguration=configurations)
        assert len(configuration(s3, bucket)["LambdaFunctionConfigurations"]) == 1

    @pytest.mark.parametrize("skip", [False, True])
    def test_a_function_named_other_than_by_its_arn_cannot_be_parsed(self, s3: Any, lam: Any, bucket: str,
                                                                    function: str, skip: bool) -> None:
        """S3 wants the function's ARN, even when the destination is not validated; a name alone
        (which strato's Lambda would resolve) is refused."""
        allow_s3(lam, function, bucket)
        named = {"LambdaFunctionConfigurations": [{"LambdaFunctionArn": function, "Events": ["s3:ObjectCreated:*"]}]}
        with pytest.raises(ClientError) as caught:
            s3.put_bucket_notification_configuration(Bucket=bucket, SkipDestinationValidation=skip,
                                                     NotificationConfiguration=named)
        assert caught.value.response["Error"] == {"Code": "InvalidArgument", "Message": "The ARN could not be parsed",
                                                  "ArgumentName": "LambdaFunctionArn", "ArgumentValue": function}
        assert configuration(s3, bucket) == {}

    def test_a_filter_rule_of_another_name_is_refused_naming_it_as_given(self, s3: Any, lam: Any, bucket: str,
                                                                        function: str) -> None:
        allow_s3(lam, function, bucket)
        assert refusal(s3, bucket, lambda_config(function, ["s3:ObjectCreated:*"], Infix="logs")) == {
            "Code": "InvalidArgument", "Message": "filter rule name must be either prefix or suffix",
            "ArgumentName": "FilterRule.Name", "ArgumentValue": "Infix"}

    def test_a_filter_rule_without_its_value_is_malformed(self, s3: Any, lam: Any, bucket: str, function: str) -> None:
        allow_s3(lam, function, bucket)
        config = {**lambda_config(function, ["s3:ObjectCreated:*"]),
                  "Filter": {"Key": {"FilterRules": [{"Name": "prefix"}]}}}
        assert refusal(s3, bucket, config)["Code"] == "MalformedXML"
        assert configuration(s3, bucket) == {}

    def test_an_unknown_event_is_not_supported(self, s3: Any, lam: Any, bucket: str, function: str) -> None:
        allow_s3(lam, function, bucket)
        error = refusal(s3, bucket, lambda_config(function, ["s3:ObjectCreated:Teleport"]))
        assert (error["Code"], error["Message"]) == ("InvalidArgument", "The event is not supported for notifications")

    @pytest.mark.parametrize("second", [
        (["s3:ObjectCreated:Put"], {}),
        (["s3:ObjectCreated:*"], {"prefix": "logs/2024/"}),
        (["s3:ObjectCreated:Copy"], {"suffix": ".gz"}),
    ])
    def test_configurations_that_can_match_one_change_overlap(self, s3: Any, lam: Any, bucket: str, function: str,
                                                             second: tuple[list[str], dict[str, str]]) -> None:
        allow_s3(lam, function, bucket)
        events, rules = second
        error = refusal(s3, bucket, lambda_config(function, ["s3:ObjectCreated:*"], prefix="logs/"),
                        lambda_config(function, events, **rules))
        assert (error["Code"], error["Message"]) == (
            "InvalidArgument", "Configurations overlap. Configurations on the same bucket cannot share a common "
                               "event type.")

    def test_queues_and_topics_are_not_implemented_naming_them(self, s3: Any, bucket: str) -> None:
        with pytest.raises(ClientError) as caught:
            s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={"QueueConfigurations": [
                {"QueueArn": "arn:aws:sqs:us-east-1:000000000000:q", "Events": ["s3:ObjectCreated:*"]}]})
        assert error_of(caught) == ("NotImplemented", 501)
        assert "QueueConfiguration" in caught.value.response["Error"]["Message"]


# Writes each event it gets into the proof bucket, under the changed key and its event name.
PROVER = """
import json, os
import boto3

def handler(event, context):
    record = event["Records"][0]
    key = record["s3"]["object"]["key"] + "|" + record["eventName"]
    boto3.client("s3").put_object(Bucket=os.environ["PROOF"], Key=key, Body=json.dumps(event).encode())
"""


def proofs(s3: Any, proof: str, count: int, timeout: float = 60) -> dict[str, dict[str, Any]]:
    """The events the prover has written, by "key|eventName", once there are `count` of them."""
    deadline = time.monotonic() + timeout
    keys: list[str] = []
    while time.monotonic() < deadline:
        keys = [item["Key"] for item in s3.list_objects_v2(Bucket=proof).get("Contents", [])]
        if len(keys) >= count:
            break
        time.sleep(0.2)
    return {key: json.loads(s3.get_object(Bucket=proof, Key=key)["Body"].read()) for key in keys}


def watched(s3: Any, lam: Any, **rules: str) -> tuple[str, str, str]:
    """A bucket whose created and removed objects (within `rules`) invoke the prover: (bucket, proof, function)."""
    bucket, proof = f"watched-{uuid.uuid4().hex[:12]}", f"proof-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=bucket)
    s3.create_bucket(Bucket=proof)
    name = deploy(lam, PROVER, Timeout=30, Environment={"Variables": {"PROOF": proof}})
    allow_s3(lam, name, bucket)
    put(s3, bucket, {**lambda_config(name, ["s3:ObjectCreated:*", "s3:ObjectRemoved:*"], **rules), "Id": "prove"})
    return bucket, proof, name


class TestDelivery:
    def test_a_put_within_the_filter_invokes_the_function_with_s3s_event(self, s3: Any, lam: Any) -> None:
        bucket, proof, _ = watched(s3, lam, prefix="uploads/", suffix=".jpg")
        answer = s3.put_object(Bucket=bucket, Key="uploads/summer photo.jpg", Body=b"jpeg bytes")
        s3.put_object(Bucket=bucket, Key="uploads/notes.txt", Body=b"not a jpg")
        s3.put_object(Bucket=bucket, Key="elsewhere/a.jpg", Body=b"not uploaded")
        found = proofs(s3, proof, 1)
        time.sleep(1.0)  # an event for the keys outside the filter would come meanwhile
        assert list(proofs(s3, proof, 1)) == ["uploads/summer+photo.jpg|ObjectCreated:Put"]
        [record] = found["uploads/summer+photo.jpg|ObjectCreated:Put"]["Records"]
        request_id = answer["ResponseMetadata"]["RequestId"]
        assert record["eventTime"].endswith("Z")
        assert len(record["s3"]["object"].pop("sequencer")) == 16
        assert {**record, "eventTime": "t"} == {
            "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1", "eventTime": "t",
            "eventName": "ObjectCreated:Put",
            "userIdentity": {"principalId": f"AWS:{ACCESS_KEY}"},
            "requestParameters": {"sourceIPAddress": "127.0.0.1"},
            "responseElements": {"x-amz-request-id": request_id, "x-amz-id-2": request_id},
            "s3": {"s3SchemaVersion": "1.0", "configurationId": "prove",
                   "bucket": {"name": bucket, "ownerIdentity": {"principalId": "000000000000"},
                              "arn": f"arn:aws:s3:::{bucket}"},
                   "object": {"key": "uploads/summer+photo.jpg", "size": 10, "eTag": answer["ETag"].strip('"')}}}

    def test_copies_multipart_uploads_and_deletes_are_told_by_their_own_event_names(self, s3: Any,
                                                                                   lam: Any) -> None:
        bucket, proof, _ = watched(s3, lam)
        s3.put_object(Bucket=bucket, Key="original", Body=b"x")
        s3.copy_object(Bucket=bucket, Key="copied", CopySource={"Bucket": bucket, "Key": "original"})
        upload = s3.create_multipart_upload(Bucket=bucket, Key="assembled")["UploadId"]
        part = s3.upload_part(Bucket=bucket, Key="assembled", UploadId=upload, PartNumber=1, Body=b"part")
        s3.complete_multipart_upload(Bucket=bucket, Key="assembled", UploadId=upload,
                                     MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]})
        s3.delete_object(Bucket=bucket, Key="original")
        s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "copied"}, {"Key": "never-there"}]})
        found = proofs(s3, proof, 5)
        assert sorted(found) == ["assembled|ObjectCreated:CompleteMultipartUpload", "copied|ObjectCreated:Copy",
                                 "copied|ObjectRemoved:Delete", "original|ObjectCreated:Put",
                                 "original|ObjectRemoved:Delete"]
        removed = found["original|ObjectRemoved:Delete"]["Records"][0]["s3"]["object"]
        assert set(removed) == {"key", "sequencer"}
        created = found["original|ObjectCreated:Put"]["Records"][0]["s3"]["object"]
        assert created["sequencer"] < removed["sequencer"]

    def test_a_function_whose_permission_for_s3_is_removed_is_told_nothing_more(self, s3: Any, lam: Any) -> None:
        """S3 invokes with the function's policy as it is when the change happens, as on AWS: a
        removed permission stops the events, one added again lets the next ones through."""
        bucket, proof, name = watched(s3, lam)
        [statement] = json.loads(lam.get_policy(FunctionName=name)["Policy"])["Statement"]
        lam.remove_permission(FunctionName=name, StatementId=statement["Sid"])
        s3.put_object(Bucket=bucket, Key="unheard", Body=b"x")
        time.sleep(0.5)  # the relay looks at its changes every 50 ms
        allow_s3(lam, name, bucket)
        s3.put_object(Bucket=bucket, Key="heard", Body=b"x")
        proofs(s3, proof, 1)
        time.sleep(1.0)
        assert list(proofs(s3, proof, 1)) == ["heard|ObjectCreated:Put"]

    def test_a_bucket_with_notifications_turned_off_tells_no_one(self, s3: Any, lam: Any) -> None:
        bucket, proof, _ = watched(s3, lam)
        s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={})
        s3.put_object(Bucket=bucket, Key="unheard", Body=b"x")
        s3.put_object(Bucket=proof, Key="marker", Body=b"x")
        time.sleep(1.5)
        assert [item["Key"] for item in s3.list_objects_v2(Bucket=proof)["Contents"]] == ["marker"]


async def _body() -> AsyncIterator[bytes]:
    yield b"written while no server ran"


def test_a_change_recorded_before_a_crash_is_delivered_after_the_restart(tmp_path: Path) -> None:
    """The change is committed with the object (here by the engine itself, while the server is
    down, so that nothing could have relayed it yet): the restarted server delivers it."""
    server = StratoServer(tmp_path / "data").start()
    try:
        s3, lam = make_client(server.url), make_client(server.url, "lambda")
        bucket, proof, _ = watched(s3, lam)
    finally:
        server.kill()
    store = ObjectStore(tmp_path / "data")
    try:
        asyncio.run(store.put_object(bucket, "offline", _body(), Expectation(), system={}, user={}))
    finally:
        store.close()
    server.start()
    try:
        assert list(proofs(make_client(server.url), proof, 1)) == ["offline|ObjectCreated:Put"]
    finally:
        server.stop()
