"""Errors as boto3 sees them: an S3 XML body with Code, Message and RequestId, the same
request id in x-amz-request-id, and 501 NotImplemented naming operations strato lacks."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any
from xml.etree import ElementTree

import pytest
from botocore.exceptions import ClientError

from tests.conftest import make_client
from tests.servers import StratoServer


class Capturing:
    """A boto3 client that keeps the raw body and headers of the last response it parsed."""

    def __init__(self, server: StratoServer) -> None:
        self.client = make_client(server.url)
        self.body = b""
        self.headers: dict[str, str] = {}
        self.client.meta.events.register("before-parse.s3", self._capture)

    def _capture(self, response_dict: dict[str, Any], **_: Any) -> None:
        self.body = response_dict["body"]
        self.headers = {k.lower(): v for k, v in response_dict["headers"].items()}

    def fail(self, call: Callable[[Any], Any]) -> ClientError:
        with pytest.raises(ClientError) as caught:
            call(self.client)
        return caught.value


@pytest.fixture
def capturing(server: StratoServer) -> Capturing:
    return Capturing(server)


def missing() -> str:
    return f"missing-{uuid.uuid4().hex[:12]}"


# A failing call given (client, bucket), the error code and the status it must produce.
FAILURES: list[Any] = [
    pytest.param(lambda c, b: c.get_object(Bucket=missing(), Key="k"), "NoSuchBucket", 404,
                 id="no-such-bucket"),
    pytest.param(lambda c, b: c.get_object(Bucket=b, Key="nope"), "NoSuchKey", 404, id="no-such-key"),
    pytest.param(lambda c, b: c.create_bucket(Bucket=b), "BucketAlreadyOwnedByYou", 409, id="already-owned"),
    pytest.param(lambda c, b: c.create_bucket(Bucket="Bad_Name"), "InvalidBucketName", 400, id="bad-name"),
    pytest.param(lambda c, b: c.list_parts(Bucket=b, Key="k", UploadId="nope"), "NoSuchUpload", 404,
                 id="no-such-upload"),
    pytest.param(lambda c, b: c.list_objects_v2(Bucket=b, EncodingType="rot13"), "InvalidArgument", 400,
                 id="invalid-argument"),
    pytest.param(lambda c, b: c.put_object(Bucket=b, Key="k" * 1025, Body=b"x"), "KeyTooLongError", 400,
                 id="key-too-long"),
    pytest.param(lambda c, b: c.get_bucket_policy(Bucket=b), "NoSuchBucketPolicy", 404, id="no-such-policy"),
    pytest.param(lambda c, b: c.get_bucket_tagging(Bucket=b), "NoSuchTagSet", 404, id="no-such-tag-set"),
    pytest.param(lambda c, b: c.get_bucket_inventory_configuration(Bucket=b, Id="i"), "NotImplemented", 501,
                 id="not-implemented"),
]


class TestErrorResponses:
    @pytest.mark.parametrize(("call", "code", "status"), FAILURES)
    def test_an_error_is_s3_xml_with_code_message_and_the_request_id(
        self, capturing: Capturing, bucket: str, call: Callable[[Any, str], Any], code: str, status: int
    ) -> None:
        error = capturing.fail(lambda client: call(client, bucket))
        assert error.response["Error"]["Code"] == code
        assert error.response["Error"]["Message"]
        assert error.response["ResponseMetadata"]["HTTPStatusCode"] == status
        request_id = error.response["ResponseMetadata"]["RequestId"]
        assert request_id
        assert capturing.headers["x-amz-request-id"] == request_id
        assert capturing.headers["content-type"] == "application/xml"
        root = ElementTree.fromstring(capturing.body)
        assert root.tag == "Error"
        assert root.findtext("Code") == code
        assert root.findtext("Message") == error.response["Error"]["Message"]
        assert root.findtext("RequestId") == request_id

    def test_every_response_has_its_own_request_id(self, s3: Any, bucket: str) -> None:
        ids = set()
        for _ in range(5):
            with pytest.raises(ClientError) as caught:
                s3.get_object(Bucket=bucket, Key="nope")
            ids.add(caught.value.response["ResponseMetadata"]["RequestId"])
        assert len(ids) == 5

    def test_a_successful_response_carries_a_request_id_too(self, s3: Any, bucket: str) -> None:
        response = s3.list_objects_v2(Bucket=bucket)
        assert response["ResponseMetadata"]["HTTPHeaders"]["x-amz-request-id"]

    def test_an_error_to_a_head_request_has_a_status_and_request_id_but_no_body(
        self, capturing: Capturing, bucket: str
    ) -> None:
        error = capturing.fail(lambda client: client.head_object(Bucket=bucket, Key="nope"))
        assert error.response["ResponseMetadata"]["HTTPStatusCode"] == 404
        assert capturing.headers["x-amz-request-id"] == error.response["ResponseMetadata"]["RequestId"]
        assert capturing.body == b""

    def test_an_error_naming_a_key_with_xml_characters_is_well_formed(
        self, capturing: Capturing, bucket: str
    ) -> None:
        key = "<tag> & \"quotes\" 'too'"
        error = capturing.fail(lambda client: client.get_object(Bucket=bucket, Key=key))
        assert error.response["Error"]["Code"] == "NoSuchKey"
        assert ElementTree.fromstring(capturing.body).findtext("Code") == "NoSuchKey"

    def test_no_such_bucket_names_the_bucket(self, capturing: Capturing) -> None:
        name = missing()
        error = capturing.fail(lambda client: client.list_objects_v2(Bucket=name))
        assert error.response["Error"]["BucketName"] == name

    def test_a_precondition_failure_names_the_condition(self, s3: Any, bucket: str) -> None:
        s3.put_object(Bucket=bucket, Key="k", Body=b"x")
        with pytest.raises(ClientError) as caught:
            s3.get_object(Bucket=bucket, Key="k", IfMatch='"0"')
        assert caught.value.response["Error"]["Condition"] == "If-Match"

    def test_an_invalid_range_reports_the_object_size(self, s3: Any, bucket: str) -> None:
        s3.put_object(Bucket=bucket, Key="k", Body=b"12345")
        with pytest.raises(ClientError) as caught:
            s3.get_object(Bucket=bucket, Key="k", Range="bytes=10-20")
        assert caught.value.response["Error"]["ActualObjectSize"] == "5"
        assert caught.value.response["Error"]["RangeRequested"] == "bytes=10-20"


UNIMPLEMENTED: list[Any] = [
    pytest.param(lambda c, b: c.put_bucket_website(Bucket=b, WebsiteConfiguration={
        "IndexDocument": {"Suffix": "index.html"}}), "PutBucketWebsite", id="put-bucket-website"),
    pytest.param(lambda c, b: c.put_bucket_versioning(Bucket=b, VersioningConfiguration={"Status": "Enabled"}),
                 "PutBucketVersioning", id="put-versioning"),
    pytest.param(lambda c, b: c.get_bucket_analytics_configuration(Bucket=b, Id="a"),
                 "GetBucketAnalyticsConfiguration", id="get-analytics"),
    pytest.param(lambda c, b: c.get_object_legal_hold(Bucket=b, Key="k"), "GetObjectLegalHold",
                 id="get-object-legal-hold"),
    pytest.param(lambda c, b: c.get_object_retention(Bucket=b, Key="k"), "GetObjectRetention",
                 id="get-object-retention"),
]


class TestUnimplementedOperations:
    @pytest.mark.parametrize(("call", "operation"), UNIMPLEMENTED)
    def test_an_unimplemented_operation_is_501_not_implemented_naming_it(
        self, s3: Any, bucket: str, call: Callable[[Any, str], Any], operation: str
    ) -> None:
        s3.put_object(Bucket=bucket, Key="k", Body=b"x")
        with pytest.raises(ClientError) as caught:
            call(s3, bucket)
        error = caught.value.response
        assert error["Error"]["Code"] == "NotImplemented"
        assert error["ResponseMetadata"]["HTTPStatusCode"] == 501
        assert operation in error["Error"]["Message"]

    def test_an_unimplemented_operation_changes_nothing(self, s3: Any, bucket: str) -> None:
        s3.put_object(Bucket=bucket, Key="k", Body=b"x")
        with pytest.raises(ClientError):
            s3.put_object_legal_hold(Bucket=bucket, Key="k", LegalHold={"Status": "ON"})
        with pytest.raises(ClientError):
            s3.delete_bucket_ownership_controls(Bucket=bucket)
        assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"x"
        assert s3.head_bucket(Bucket=bucket)["ResponseMetadata"]["HTTPStatusCode"] == 200
