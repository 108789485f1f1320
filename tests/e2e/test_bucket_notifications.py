"""S3 event notifications to Lambda: a bucket's LambdaFunctionConfigurations are checked as S3
checks them, kept, and read back as S3 answers them."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.e2e.client_errors import error_of
from tests.e2e.lambda_helpers import ECHO, ROLE, RUNTIME

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
