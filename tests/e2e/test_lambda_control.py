"""The Lambda control plane through boto3 and the aws CLI against a real strato: functions,
versions, aliases, concurrency, their errors, and Invoke's request validation."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import re
import socket
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conftest import make_client
from tests.e2e.client_errors import error_of
from tests.e2e.lambda_helpers import ROLE, RUNTIME, package
from tests.e2e.test_awscli import Aws
from tests.servers import StratoServer

HANDLER = "def handler(event, context):\n    return event\n"


def code(text: str = HANDLER) -> bytes:
    return package({"handler.py": text})


@pytest.fixture
def function(lam: Any) -> Iterator[str]:
    name = f"ctl-{uuid.uuid4().hex[:12]}"
    lam.create_function(FunctionName=name, Runtime=RUNTIME, Role=ROLE, Handler="handler.handler",
                        Code={"ZipFile": code()})
    yield name
    with contextlib.suppress(lam.exceptions.ResourceNotFoundException):
        lam.delete_function(FunctionName=name)


def b64sha256(data: bytes) -> str:
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


class TestCreateAndRead:
    def test_create_function_answers_lambdas_configuration(self, lam: Any) -> None:
        name = f"ctl-{uuid.uuid4().hex[:12]}"
        zipped = code()
        created = lam.create_function(
            FunctionName=name, Runtime=RUNTIME, Role=ROLE, Handler="handler.handler", Code={"ZipFile": zipped},
            Description="echo", Timeout=10, MemorySize=256, Environment={"Variables": {"STAGE": "test"}},
            EphemeralStorage={"Size": 1024},
        )
        try:
            assert created["ResponseMetadata"]["HTTPStatusCode"] == 201
            assert created["FunctionArn"] == f"arn:aws:lambda:us-east-1:000000000000:function:{name}"
            assert (created["CodeSha256"], created["CodeSize"]) == (b64sha256(zipped), len(zipped))
            assert (created["State"], created["LastUpdateStatus"], created["Version"]) == (
                "Active", "Successful", "$LATEST")
            assert (created["Runtime"], created["Role"], created["Handler"]) == (RUNTIME, ROLE, "handler.handler")
            assert (created["Timeout"], created["MemorySize"], created["Description"]) == (10, 256, "echo")
            assert created["Environment"] == {"Variables": {"STAGE": "test"}}
            assert created["EphemeralStorage"] == {"Size": 1024}
            assert (created["PackageType"], created["Architectures"]) == ("Zip", ["x86_64"])
            assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000", created["LastModified"])
            assert created["RevisionId"]
            assert lam.get_function_configuration(FunctionName=name)["RevisionId"] == created["RevisionId"]
        finally:
            lam.delete_function(FunctionName=name)

    def test_the_active_waiter_succeeds_at_once(self, lam: Any, function: str) -> None:
        lam.get_waiter("function_active_v2").wait(FunctionName=function, WaiterConfig={"Delay": 1, "MaxAttempts": 2})

    def test_get_functions_code_location_downloads_the_same_zip(self, lam: Any, function: str) -> None:
        got = lam.get_function(FunctionName=function)
        assert got["Configuration"]["FunctionName"] == function
        assert got["Code"]["RepositoryType"] == "S3"
        with urllib.request.urlopen(got["Code"]["Location"]) as response:
            assert response.read() == code()

    def test_a_tampered_code_location_is_refused(self, lam: Any, function: str) -> None:
        location = lam.get_function(FunctionName=function)["Code"]["Location"]
        forged = location.replace(function, function + "x")
        with pytest.raises(urllib.error.HTTPError) as caught:
            urllib.request.urlopen(forged)
        with caught.value as refused:
            assert refused.code == 403
            assert refused.headers["x-amzn-ErrorType"] == "InvalidSignatureException"

    def test_a_function_has_no_code_signing_configuration(self, lam: Any, function: str) -> None:
        """What Terraform's and CDK's readers of a function ask for next to GetFunction."""
        answer = lam.get_function_code_signing_config(FunctionName=function)
        assert (answer["FunctionName"], answer["CodeSigningConfigArn"]) == (function, "")
        with pytest.raises(ClientError) as missing:
            lam.get_function_code_signing_config(FunctionName=f"{function}-missing")
        assert missing.value.response["Error"]["Code"] == "ResourceNotFoundException"

    def test_a_function_is_found_by_its_arn(self, lam: Any, function: str) -> None:
        arn = lam.get_function_configuration(FunctionName=function)["FunctionArn"]
        assert lam.get_function(FunctionName=arn)["Configuration"]["FunctionName"] == function

    def test_a_package_from_strato_s3_is_deployed(self, lam: Any, s3: Any, bucket: str) -> None:
        zipped = code()
        s3.put_object(Bucket=bucket, Key="fn.zip", Body=zipped)
        name = f"ctl-{uuid.uuid4().hex[:12]}"
        created = lam.create_function(FunctionName=name, Runtime=RUNTIME, Role=ROLE, Handler="handler.handler",
                                      Code={"S3Bucket": bucket, "S3Key": "fn.zip"})
        lam.delete_function(FunctionName=name)
        assert created["CodeSha256"] == b64sha256(zipped)

    def test_a_package_version_other_than_the_only_one_strato_keeps_is_refused(
        self, lam: Any, s3: Any, bucket: str
    ) -> None:
        """strato's S3 keeps no versions (an object's one version is "null"): another is not
        deployed in its place."""
        s3.put_object(Bucket=bucket, Key="fn.zip", Body=code())
        name = f"ctl-{uuid.uuid4().hex[:12]}"
        with pytest.raises(ClientError) as caught:
            lam.create_function(FunctionName=name, Runtime=RUNTIME, Role=ROLE, Handler="handler.handler",
                                Code={"S3Bucket": bucket, "S3Key": "fn.zip", "S3ObjectVersion": "3HL4kqtJlcpXroDTDmJ"})
        assert error_of(caught) == ("InvalidParameterValueException", 400)
        assert "NoSuchVersion" in caught.value.response["Error"]["Message"]
        created = lam.create_function(FunctionName=name, Runtime=RUNTIME, Role=ROLE, Handler="handler.handler",
                                      Code={"S3Bucket": bucket, "S3Key": "fn.zip", "S3ObjectVersion": "null"})
        lam.delete_function(FunctionName=name)
        assert created["CodeSize"] > 0

    def test_functions_list_in_pages(self, lam: Any) -> None:
        names = [f"ctl-page-{uuid.uuid4().hex[:8]}" for _ in range(3)]
        for name in names:
            lam.create_function(FunctionName=name, Runtime=RUNTIME, Role=ROLE, Handler="handler.handler",
                                Code={"ZipFile": code()}, Publish=True)
        try:
            first = lam.list_functions(MaxItems=1)
            assert len(first["Functions"]) == 1
            assert first["NextMarker"]
            pages = lam.get_paginator("list_functions").paginate(PaginationConfig={"PageSize": 2})
            listed = [f["FunctionName"] for page in pages for f in page["Functions"]]
            assert listed == sorted(listed)
            assert set(names) <= set(listed)
            every = lam.get_paginator("list_functions").paginate(FunctionVersion="ALL")
            versions = {(f["FunctionName"], f["Version"]) for page in every for f in page["Functions"]}
            assert {(name, v) for name in names for v in ("$LATEST", "1")} <= versions
        finally:
            for name in names:
                lam.delete_function(FunctionName=name)


class TestCreateErrors:
    def test_a_second_function_of_the_same_name_conflicts(self, lam: Any, function: str) -> None:
        with pytest.raises(ClientError) as caught:
            lam.create_function(FunctionName=function, Runtime=RUNTIME, Role=ROLE, Handler="handler.handler",
                                Code={"ZipFile": code()})
        assert error_of(caught) == ("ResourceConflictException", 409)

    @pytest.mark.parametrize(("change", "words"), [
        ({"Runtime": "cobol85"}, "runtime"),
        ({"Code": {"ZipFile": b"not a zip"}}, "unzip"),
        ({"Code": {"ZipFile": package({"../escape.py": "x"})}}, "outside"),
        ({"Code": {"S3Bucket": "no-such-bucket-strato", "S3Key": "fn.zip"}}, "NoSuchKey"),
        ({"Role": "not-a-role"}, "role"),
        ({"Timeout": 901}, "timeout"),
        ({"MemorySize": 10241}, "memorySize"),
        ({"Environment": {"Variables": {"AWS_REGION": "x"}}}, "Reserved keys"),
        ({"Environment": {"Variables": {"1ST": "x"}}}, "is invalid"),
        ({"Architectures": ["arm64"]}, "Architectures"),
    ])
    def test_invalid_parameters_are_refused(self, lam: Any, change: dict[str, Any], words: str) -> None:
        request = {"FunctionName": f"ctl-{uuid.uuid4().hex[:12]}", "Runtime": RUNTIME, "Role": ROLE,
                   "Handler": "handler.handler", "Code": {"ZipFile": code()}, **change}
        with pytest.raises(ClientError) as caught:
            lam.create_function(**request)
        assert error_of(caught) == ("InvalidParameterValueException", 400)
        assert words in caught.value.response["Error"]["Message"]

    def test_a_missing_function_is_not_found_with_lambdas_error_headers(self, lam: Any) -> None:
        with pytest.raises(ClientError) as caught:
            lam.get_function(FunctionName="ctl-never-created")
        assert error_of(caught) == ("ResourceNotFoundException", 404)
        headers = caught.value.response["ResponseMetadata"]["HTTPHeaders"]
        assert headers["x-amzn-errortype"] == "ResourceNotFoundException"
        assert re.fullmatch(r"[0-9a-f-]{36}", headers["x-amzn-requestid"])

    def test_a_wrong_secret_is_refused(self, server: StratoServer) -> None:
        client = make_client(server.url, "lambda")
        client._request_signer._credentials.secret_key = "wrong"  # same key id, another secret
        with pytest.raises(ClientError) as caught:
            client.list_functions()
        assert error_of(caught) == ("InvalidSignatureException", 403)


class TestUpdates:
    def test_configuration_updates_change_the_revision_and_the_updated_waiter_succeeds(
        self, lam: Any, function: str
    ) -> None:
        before = lam.get_function_configuration(FunctionName=function)
        updated = lam.update_function_configuration(
            FunctionName=function, Timeout=30, MemorySize=512, Handler="handler.other", Description="new",
            Environment={"Variables": {"A": "1"}}, EphemeralStorage={"Size": 2048}, Runtime=RUNTIME,
        )
        lam.get_waiter("function_updated_v2").wait(FunctionName=function, WaiterConfig={"Delay": 1, "MaxAttempts": 2})
        assert (updated["Timeout"], updated["MemorySize"], updated["Handler"], updated["Description"]) == (
            30, 512, "handler.other", "new")
        assert updated["Environment"] == {"Variables": {"A": "1"}}
        assert updated["EphemeralStorage"] == {"Size": 2048}
        assert updated["RevisionId"] != before["RevisionId"]
        assert updated["CodeSha256"] == before["CodeSha256"]

    def test_tracing_kms_key_and_dead_letter_target_are_kept_and_answered(self, lam: Any, function: str) -> None:
        """Kept, not acted on (no X-Ray, KMS, SQS or SNS here): read back as set, so that a
        Terraform plan does not show them changing for ever."""
        key = "arn:aws:kms:us-east-1:000000000000:key/1234abcd-12ab-34cd-56ef-1234567890ab"
        queue = "arn:aws:sqs:us-east-1:000000000000:dead-letters"
        updated = lam.update_function_configuration(FunctionName=function, TracingConfig={"Mode": "Active"},
                                                    KMSKeyArn=key, DeadLetterConfig={"TargetArn": queue})
        read = lam.get_function_configuration(FunctionName=function)
        for answer in (updated, read):
            assert answer["TracingConfig"] == {"Mode": "Active"}
            assert answer["KMSKeyArn"] == key
            assert answer["DeadLetterConfig"] == {"TargetArn": queue}
        cleared = lam.update_function_configuration(FunctionName=function, KMSKeyArn="",
                                                    DeadLetterConfig={"TargetArn": ""})
        assert "KMSKeyArn" not in cleared
        assert "DeadLetterConfig" not in cleared
        assert cleared["TracingConfig"] == {"Mode": "Active"}

    @pytest.mark.parametrize(("field", "value", "words"), [
        ("SnapStart", {"ApplyOn": "PublishedVersions"}, "SnapStart is not supported"),
        ("TracingConfig", {"Mode": "Sometimes"}, "at 'tracingConfig.mode'"),
        ("KMSKeyArn", "not-an-arn", "at 'kMSKeyArn'"),
    ])
    def test_settings_strato_cannot_honour_are_refused(self, lam: Any, function: str, field: str, value: Any,
                                                         words: str) -> None:
        with pytest.raises(ClientError) as caught:
            lam.update_function_configuration(FunctionName=function, **{field: value})
        assert error_of(caught) == ("InvalidParameterValueException", 400)
        assert words in caught.value.response["Error"]["Message"]

    def test_the_default_logging_configuration_is_accepted(self, lam: Any, function: str) -> None:
        updated = lam.update_function_configuration(
            FunctionName=function, LoggingConfig={"LogFormat": "Text", "LogGroup": f"/aws/lambda/{function}"},
            SnapStart={"ApplyOn": "None"})
        assert updated["LoggingConfig"] == {"LogFormat": "Text", "LogGroup": f"/aws/lambda/{function}"}

    def test_an_update_naming_an_old_revision_fails_its_precondition(self, lam: Any, function: str) -> None:
        old = lam.get_function_configuration(FunctionName=function)["RevisionId"]
        lam.update_function_configuration(FunctionName=function, Timeout=5, RevisionId=old)
        with pytest.raises(ClientError) as caught:
            lam.update_function_configuration(FunctionName=function, Timeout=6, RevisionId=old)
        assert error_of(caught) == ("PreconditionFailedException", 412)

    def test_new_code_changes_the_sha256_and_publish_makes_a_version(self, lam: Any, function: str) -> None:
        zipped = code("def handler(event, context):\n    return 2\n")
        updated = lam.update_function_code(FunctionName=function, ZipFile=zipped, Publish=True)
        assert (updated["Version"], updated["CodeSha256"], updated["CodeSize"]) == ("1", b64sha256(zipped),
                                                                                     len(zipped))
        latest = lam.get_function_configuration(FunctionName=function, Qualifier="$LATEST")
        assert latest["CodeSha256"] == b64sha256(zipped)
        lam.get_waiter("function_updated_v2").wait(FunctionName=function, WaiterConfig={"Delay": 1, "MaxAttempts": 2})


class TestVersions:
    def test_published_versions_keep_their_configuration(self, lam: Any, function: str) -> None:
        first = lam.publish_version(FunctionName=function, Description="first")
        assert first["ResponseMetadata"]["HTTPStatusCode"] == 201
        assert first["FunctionArn"].endswith(f":{function}:1")
        lam.update_function_configuration(FunctionName=function, Timeout=42)
        second = lam.publish_version(FunctionName=function)
        assert (second["Version"], second["Timeout"]) == ("2", 42)
        assert lam.get_function_configuration(FunctionName=function, Qualifier="1")["Timeout"] == 3
        versions = lam.list_versions_by_function(FunctionName=function)["Versions"]
        assert [v["Version"] for v in versions] == ["$LATEST", "1", "2"]
        assert [v["FunctionArn"].rsplit(":", 1)[1] for v in versions] == ["$LATEST", "1", "2"]

    def test_publishing_against_another_code_sha256_or_revision_is_refused(self, lam: Any, function: str) -> None:
        with pytest.raises(ClientError) as caught:
            lam.publish_version(FunctionName=function, CodeSha256=b64sha256(b"other"))
        assert error_of(caught) == ("InvalidParameterValueException", 400)
        with pytest.raises(ClientError) as caught:
            lam.publish_version(FunctionName=function, RevisionId=str(uuid.uuid4()))
        assert error_of(caught) == ("PreconditionFailedException", 412)

    def test_deleting_with_a_qualifier_deletes_only_that_version(self, lam: Any, function: str) -> None:
        lam.publish_version(FunctionName=function)
        lam.delete_function(FunctionName=function, Qualifier="1")
        with pytest.raises(ClientError) as caught:
            lam.get_function(FunctionName=function, Qualifier="1")
        assert error_of(caught) == ("ResourceNotFoundException", 404)
        assert lam.get_function(FunctionName=function)["Configuration"]["Version"] == "$LATEST"

    def test_zero_and_leading_zeros_name_no_version(self, lam: Any, function: str) -> None:
        """$LATEST is not version 0, and 01 is not version 1: deleting "0" leaves $LATEST be."""
        lam.publish_version(FunctionName=function)
        with contextlib.suppress(ClientError):
            lam.delete_function(FunctionName=function, Qualifier="0")
        assert lam.get_function(FunctionName=function)["Configuration"]["Version"] == "$LATEST"
        for qualifier in ("0", "00", "01"):
            with pytest.raises(ClientError) as caught:
                lam.invoke(FunctionName=function, Qualifier=qualifier)
            assert error_of(caught) == ("ResourceNotFoundException", 404)

    def test_deleting_the_function_makes_it_not_found(self, lam: Any, function: str) -> None:
        lam.delete_function(FunctionName=function)
        with pytest.raises(ClientError) as caught:
            lam.get_function_configuration(FunctionName=function)
        assert error_of(caught) == ("ResourceNotFoundException", 404)


class TestAliases:
    def test_an_alias_with_weights_is_created_read_updated_listed_and_deleted(self, lam: Any, function: str) -> None:
        lam.publish_version(FunctionName=function)
        lam.update_function_configuration(FunctionName=function, Timeout=7)
        lam.publish_version(FunctionName=function)
        created = lam.create_alias(FunctionName=function, Name="live", FunctionVersion="1", Description="prod",
                                   RoutingConfig={"AdditionalVersionWeights": {"2": 0.3}})
        assert created["ResponseMetadata"]["HTTPStatusCode"] == 201
        assert created["AliasArn"].endswith(f":{function}:live")
        assert created["RoutingConfig"] == {"AdditionalVersionWeights": {"2": 0.3}}
        got = lam.get_alias(FunctionName=function, Name="live")
        assert (got["FunctionVersion"], got["Description"], got["RevisionId"]) == ("1", "prod", created["RevisionId"])
        through_alias = lam.get_function(FunctionName=function, Qualifier="live")["Configuration"]
        assert (through_alias["Version"], through_alias["FunctionArn"]) == ("1", created["AliasArn"])
        updated = lam.update_alias(FunctionName=function, Name="live", FunctionVersion="2",
                                   RoutingConfig={"AdditionalVersionWeights": {}})
        assert (updated["FunctionVersion"], updated.get("RoutingConfig")) == ("2", None)
        lam.create_alias(FunctionName=function, Name="edge", FunctionVersion="$LATEST")
        listed = lam.list_aliases(FunctionName=function)["Aliases"]
        assert [a["Name"] for a in listed] == ["edge", "live"]
        assert [a["Name"] for a in lam.list_aliases(FunctionName=function, FunctionVersion="2")["Aliases"]] == ["live"]
        with pytest.raises(ClientError) as caught:
            lam.delete_function(FunctionName=function, Qualifier="2")
        assert error_of(caught) == ("ResourceConflictException", 409)
        lam.delete_alias(FunctionName=function, Name="live")
        with pytest.raises(ClientError) as caught:
            lam.get_alias(FunctionName=function, Name="live")
        assert error_of(caught) == ("ResourceNotFoundException", 404)

    def test_an_alias_to_a_missing_version_or_with_bad_weights_is_refused(self, lam: Any, function: str) -> None:
        with pytest.raises(ClientError) as caught:
            lam.create_alias(FunctionName=function, Name="live", FunctionVersion="9")
        assert error_of(caught) == ("ResourceNotFoundException", 404)
        lam.publish_version(FunctionName=function)
        with pytest.raises(ClientError) as caught:
            lam.create_alias(FunctionName=function, Name="live", FunctionVersion="1",
                             RoutingConfig={"AdditionalVersionWeights": {"1": 0.5}})
        assert error_of(caught) == ("InvalidParameterValueException", 400)
        lam.create_alias(FunctionName=function, Name="live", FunctionVersion="1")
        with pytest.raises(ClientError) as caught:
            lam.create_alias(FunctionName=function, Name="live", FunctionVersion="1")
        assert error_of(caught) == ("ResourceConflictException", 409)


class TestConcurrency:
    def test_reserved_concurrency_is_put_read_and_deleted(self, lam: Any, function: str) -> None:
        put = lam.put_function_concurrency(FunctionName=function, ReservedConcurrentExecutions=5)
        assert put["ReservedConcurrentExecutions"] == 5
        assert lam.get_function_concurrency(FunctionName=function)["ReservedConcurrentExecutions"] == 5
        assert lam.get_function(FunctionName=function)["Concurrency"] == {"ReservedConcurrentExecutions": 5}
        lam.delete_function_concurrency(FunctionName=function)
        assert "ReservedConcurrentExecutions" not in lam.get_function_concurrency(FunctionName=function)

    def test_reservations_may_not_leave_less_than_100_unreserved(self, lam: Any, function: str) -> None:
        other = f"ctl-{uuid.uuid4().hex[:12]}"
        lam.create_function(FunctionName=other, Runtime=RUNTIME, Role=ROLE, Handler="handler.handler",
                            Code={"ZipFile": code()})
        try:
            before = lam.get_account_settings()["AccountLimit"]
            room = before["UnreservedConcurrentExecutions"] - 100
            lam.put_function_concurrency(FunctionName=function, ReservedConcurrentExecutions=room)
            assert lam.get_account_settings()["AccountLimit"]["UnreservedConcurrentExecutions"] == 100
            with pytest.raises(ClientError) as caught:
                lam.put_function_concurrency(FunctionName=other, ReservedConcurrentExecutions=1)
            assert error_of(caught) == ("InvalidParameterValueException", 400)
            assert "UnreservedConcurrentExecution below its minimum value of [100]" in str(caught.value)
        finally:
            lam.delete_function_concurrency(FunctionName=function)
            lam.delete_function(FunctionName=other)

    def test_account_settings_report_limits_and_usage(self, lam: Any, function: str) -> None:
        settings = lam.get_account_settings()
        assert settings["AccountLimit"]["ConcurrentExecutions"] == 1000
        assert settings["AccountLimit"]["CodeSizeZipped"] == 50 * 1024 * 1024
        assert settings["AccountUsage"]["FunctionCount"] >= 1


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A Lambda client of a server of its own whose account limit is 10."""
    running = StratoServer(tmp_path_factory.mktemp("data"), env={"STRATO_FUNCTION_CONCURRENCY": "10"}).start()
    yield make_client(running.url, "lambda")
    running.stop()


class TestSmallAccount:
    """An account limit below 100 (as a new AWS account's): all of it stays unreserved, and
    Lambda's refusals name it as the minimum; a reservation of 0 (the off switch) still holds."""

    def test_a_function_is_switched_off_with_a_reservation_of_0(self, small: Any) -> None:
        name = f"ctl-{uuid.uuid4().hex[:12]}"
        small.create_function(FunctionName=name, Runtime=RUNTIME, Role=ROLE, Handler="handler.handler",
                              Code={"ZipFile": code()}, Publish=True)
        assert small.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=0)[
            "ReservedConcurrentExecutions"] == 0
        with pytest.raises(small.exceptions.TooManyRequestsException):
            small.invoke(FunctionName=name)

    @pytest.mark.parametrize(("operation", "extra"), [
        ("put_function_concurrency", {"ReservedConcurrentExecutions": 1}),
        ("put_provisioned_concurrency_config", {"Qualifier": "1", "ProvisionedConcurrentExecutions": 1}),
    ])
    def test_any_reservation_is_refused_naming_the_whole_limit(self, small: Any, operation: str,
                                                               extra: dict[str, Any]) -> None:
        name = f"ctl-{uuid.uuid4().hex[:12]}"
        small.create_function(FunctionName=name, Runtime=RUNTIME, Role=ROLE, Handler="handler.handler",
                              Code={"ZipFile": code()}, Publish=True)
        with pytest.raises(ClientError) as caught:
            getattr(small, operation)(FunctionName=name, **extra)
        assert error_of(caught) == ("InvalidParameterValueException", 400)
        assert "UnreservedConcurrentExecution below its minimum value of [10]." in str(caught.value)


class TestInvokeValidation:
    def test_a_dry_run_resolves_the_function_and_answers_204(self, lam: Any, function: str) -> None:
        assert lam.invoke(FunctionName=function, InvocationType="DryRun", Payload=b"{}")["StatusCode"] == 204

    @pytest.mark.parametrize(("kwargs", "expected"), [
        ({"Payload": b"{not json"}, ("InvalidRequestContentException", 400)),
        ({"Payload": b"[" * 10 + b"1"}, ("InvalidRequestContentException", 400)),
        ({"Payload": b'"' + b"x" * (6 * 1024 * 1024) + b'"'}, ("RequestTooLargeException", 413)),
        ({"Payload": b'"' + b"x" * (1024 * 1024) + b'"', "InvocationType": "Event"},
         ("RequestTooLargeException", 413)),
        ({"InvocationType": "Sometimes"}, ("InvalidParameterValueException", 400)),
        ({"LogType": "Everything"}, ("InvalidParameterValueException", 400)),
        ({"ClientContext": "not base64 json!"}, ("InvalidRequestContentException", 400)),
        ({"ClientContext": base64.b64encode(b"[" * 1300 + b"]" * 1300).decode()},  # within 3,583 bytes
         ("InvalidRequestContentException", 400)),
        *(({"ClientContext": base64.b64encode(json_text).decode()}, ("InvalidRequestContentException", 400))
          for json_text in (b"[1]", b"5", b'"text"', b"true")),  # JSON, but no object: the runtime needs one
        ({"Qualifier": "77"}, ("ResourceNotFoundException", 404)),
        ({"Qualifier": "no-such-alias"}, ("ResourceNotFoundException", 404)),
    ])
    def test_invalid_invocations_are_refused(self, lam: Any, function: str, kwargs: dict[str, Any],
                                             expected: tuple[str, int]) -> None:
        with pytest.raises(ClientError) as caught:
            lam.invoke(FunctionName=function, **kwargs)
        assert error_of(caught) == expected

    def test_invoking_a_missing_function_is_not_found(self, lam: Any) -> None:
        with pytest.raises(ClientError) as caught:
            lam.invoke(FunctionName="ctl-never-created", Payload=b"{}")
        assert error_of(caught) == ("ResourceNotFoundException", 404)


class TestAwsCli:
    def test_the_cli_creates_waits_reads_lists_dry_runs_and_deletes(
        self, server: StratoServer, tmp_path: Path
    ) -> None:
        aws = Aws(server, tmp_path / "home")
        zip_path = tmp_path / "fn.zip"
        zip_path.write_bytes(code())
        name = f"ctl-cli-{uuid.uuid4().hex[:8]}"
        created = aws.json("lambda", "create-function", "--function-name", name, "--runtime", RUNTIME,
                           "--role", ROLE, "--handler", "handler.handler", "--zip-file", f"fileb://{zip_path}")
        assert created["CodeSha256"] == b64sha256(code())
        aws("lambda", "wait", "function-active-v2", "--function-name", name)
        got = aws.json("lambda", "get-function", "--function-name", name)
        assert got["Configuration"]["State"] == "Active"
        listed = aws.json("lambda", "list-functions")
        assert name in [f["FunctionName"] for f in listed["Functions"]]
        out = tmp_path / "out.json"
        dry = aws.json("lambda", "invoke", "--function-name", name, "--invocation-type", "DryRun",
                       "--payload", json.dumps({"a": 1}), str(out))
        assert dry["StatusCode"] == 204
        aws("lambda", "delete-function", "--function-name", name)
        missing = aws("lambda", "get-function", "--function-name", name, check=False)
        assert missing.returncode != 0
        assert "ResourceNotFoundException" in missing.stderr


@pytest.mark.parametrize("authorization", [
    None,
    "AWS4-HMAC-SHA256 Credential=NOSUCHKEY00000000000/20260101/us-east-1/lambda/aws4_request, "
    "SignedHeaders=host, Signature=" + "0" * 64,
], ids=["unsigned", "unknown key"])
def test_a_stranger_is_refused_before_sending_a_package(server: StratoServer, authorization: str | None) -> None:
    """An upload slot (and 50 MB of reading) is never given to a request no known key signed:
    the refusal comes while the announced body has not even started."""
    netloc = server.url.removeprefix("http://")
    host, port = netloc.rsplit(":", 1)
    head = (f"POST /2015-03-31/functions HTTP/1.1\r\nHost: {netloc}\r\nContent-Length: 60000000\r\n"
            + (f"Authorization: {authorization}\r\n" if authorization else "") + "\r\n")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(head.encode())
        answer = sock.recv(65536)
    assert answer.startswith(b"HTTP/1.1 403 "), answer[:200]
