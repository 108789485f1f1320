"""Conditional requests through boto3: reads (RFC 9110 section 13.2.2 precedence), copies
from a conditional source, and conditional writes (If-None-Match: * and If-Match)."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from botocore.exceptions import ClientError

MiB = 1024 * 1024
HOUR = datetime.timedelta(hours=1)
WRONG_ETAG = '"00000000000000000000000000000000"'


def status_of(caught: pytest.ExceptionInfo[ClientError]) -> int:
    status: int = caught.value.response["ResponseMetadata"]["HTTPStatusCode"]
    return status


def error_of(caught: pytest.ExceptionInfo[ClientError]) -> tuple[str, int]:
    return caught.value.response["Error"]["Code"], status_of(caught)


@pytest.fixture
def stored(s3: Any, bucket: str) -> dict[str, Any]:
    """An object in `bucket` under 'k', and its ETag and Last-Modified as HEAD reports them."""
    s3.put_object(Bucket=bucket, Key="k", Body=b"conditional body")
    head: dict[str, Any] = s3.head_object(Bucket=bucket, Key="k")
    return head


class TestConditionalReads:
    @pytest.mark.parametrize("operation", ["get_object", "head_object"])
    def test_if_match_with_the_current_etag_reads_the_object(
        self, s3: Any, bucket: str, stored: dict[str, Any], operation: str
    ) -> None:
        response = getattr(s3, operation)(Bucket=bucket, Key="k", IfMatch=stored["ETag"])
        assert response["ResponseMetadata"]["HTTPStatusCode"] == 200

    def test_if_match_with_another_etag_is_precondition_failed(
        self, s3: Any, bucket: str, stored: dict[str, Any]
    ) -> None:
        with pytest.raises(ClientError) as caught:
            s3.get_object(Bucket=bucket, Key="k", IfMatch=WRONG_ETAG)
        assert error_of(caught) == ("PreconditionFailed", 412)
        with pytest.raises(ClientError) as caught:
            s3.head_object(Bucket=bucket, Key="k", IfMatch=WRONG_ETAG)
        assert status_of(caught) == 412

    def test_if_match_accepts_a_list_containing_the_etag_and_a_star(
        self, s3: Any, bucket: str, stored: dict[str, Any]
    ) -> None:
        listed = s3.get_object(Bucket=bucket, Key="k", IfMatch=f'{WRONG_ETAG}, {stored["ETag"]}')
        assert listed["Body"].read() == b"conditional body"
        assert s3.get_object(Bucket=bucket, Key="k", IfMatch="*")["Body"].read() == b"conditional body"

    @pytest.mark.parametrize("operation", ["get_object", "head_object"])
    def test_if_none_match_with_the_current_etag_is_not_modified(
        self, s3: Any, bucket: str, stored: dict[str, Any], operation: str
    ) -> None:
        with pytest.raises(ClientError) as caught:
            getattr(s3, operation)(Bucket=bucket, Key="k", IfNoneMatch=stored["ETag"])
        assert status_of(caught) == 304
        assert caught.value.response["ResponseMetadata"]["HTTPHeaders"]["etag"] == stored["ETag"]

    def test_if_none_match_with_a_weak_form_of_the_etag_is_not_modified(
        self, s3: Any, bucket: str, stored: dict[str, Any]
    ) -> None:
        with pytest.raises(ClientError) as caught:
            s3.get_object(Bucket=bucket, Key="k", IfNoneMatch=f'W/{stored["ETag"]}')
        assert status_of(caught) == 304

    def test_if_none_match_with_another_etag_reads_the_object(
        self, s3: Any, bucket: str, stored: dict[str, Any]
    ) -> None:
        got = s3.get_object(Bucket=bucket, Key="k", IfNoneMatch=WRONG_ETAG)
        assert got["Body"].read() == b"conditional body"

    @pytest.mark.parametrize("operation", ["get_object", "head_object"])
    def test_if_modified_since_the_last_modified_time_is_not_modified(
        self, s3: Any, bucket: str, stored: dict[str, Any], operation: str
    ) -> None:
        with pytest.raises(ClientError) as caught:
            getattr(s3, operation)(Bucket=bucket, Key="k", IfModifiedSince=stored["LastModified"])
        assert status_of(caught) == 304

    def test_if_modified_since_an_earlier_time_reads_the_object(
        self, s3: Any, bucket: str, stored: dict[str, Any]
    ) -> None:
        got = s3.get_object(Bucket=bucket, Key="k", IfModifiedSince=stored["LastModified"] - HOUR)
        assert got["Body"].read() == b"conditional body"

    def test_if_unmodified_since_an_earlier_time_is_precondition_failed(
        self, s3: Any, bucket: str, stored: dict[str, Any]
    ) -> None:
        with pytest.raises(ClientError) as caught:
            s3.get_object(Bucket=bucket, Key="k", IfUnmodifiedSince=stored["LastModified"] - HOUR)
        assert error_of(caught) == ("PreconditionFailed", 412)

    def test_if_unmodified_since_the_last_modified_time_reads_the_object(
        self, s3: Any, bucket: str, stored: dict[str, Any]
    ) -> None:
        got = s3.get_object(Bucket=bucket, Key="k", IfUnmodifiedSince=stored["LastModified"])
        assert got["Body"].read() == b"conditional body"

    def test_a_true_if_match_overrides_a_false_if_unmodified_since(
        self, s3: Any, bucket: str, stored: dict[str, Any]
    ) -> None:
        got = s3.get_object(Bucket=bucket, Key="k", IfMatch=stored["ETag"],
                            IfUnmodifiedSince=stored["LastModified"] - HOUR)
        assert got["Body"].read() == b"conditional body"

    def test_a_false_if_none_match_is_not_modified_whatever_if_modified_since_says(
        self, s3: Any, bucket: str, stored: dict[str, Any]
    ) -> None:
        with pytest.raises(ClientError) as caught:
            s3.get_object(Bucket=bucket, Key="k", IfNoneMatch=stored["ETag"],
                          IfModifiedSince=stored["LastModified"] - HOUR)
        assert status_of(caught) == 304

    def test_a_true_if_none_match_overrides_a_false_if_modified_since(
        self, s3: Any, bucket: str, stored: dict[str, Any]
    ) -> None:
        got = s3.get_object(Bucket=bucket, Key="k", IfNoneMatch=WRONG_ETAG,
                            IfModifiedSince=stored["LastModified"])
        assert got["Body"].read() == b"conditional body"

    def test_a_failed_if_match_wins_over_a_matching_if_none_match(
        self, s3: Any, bucket: str, stored: dict[str, Any]
    ) -> None:
        with pytest.raises(ClientError) as caught:
            s3.get_object(Bucket=bucket, Key="k", IfMatch=WRONG_ETAG, IfNoneMatch=stored["ETag"])
        assert status_of(caught) == 412

    def test_a_condition_is_checked_before_a_range(
        self, s3: Any, bucket: str, stored: dict[str, Any]
    ) -> None:
        with pytest.raises(ClientError) as caught:
            s3.get_object(Bucket=bucket, Key="k", IfNoneMatch=stored["ETag"], Range="bytes=500-600")
        assert status_of(caught) == 304
        ranged = s3.get_object(Bucket=bucket, Key="k", IfMatch=stored["ETag"], Range="bytes=0-10")
        assert ranged["Body"].read() == b"conditional"

    def test_a_conditional_read_of_a_missing_key_is_no_such_key(self, s3: Any, bucket: str) -> None:
        with pytest.raises(ClientError) as caught:
            s3.get_object(Bucket=bucket, Key="missing", IfMatch=WRONG_ETAG)
        assert error_of(caught) == ("NoSuchKey", 404)


class TestConditionalCopySource:
    @pytest.mark.parametrize("condition", [
        pytest.param({"CopySourceIfMatch": WRONG_ETAG}, id="if-match-another-etag"),
        pytest.param({"CopySourceIfNoneMatch": "{etag}"}, id="if-none-match-the-etag"),
        pytest.param({"CopySourceIfModifiedSince": "{now}"}, id="if-modified-since-last-modified"),
        pytest.param({"CopySourceIfUnmodifiedSince": "{before}"}, id="if-unmodified-since-earlier"),
    ])
    def test_a_false_source_condition_is_precondition_failed_and_copies_nothing(
        self, s3: Any, bucket: str, stored: dict[str, Any], condition: dict[str, str]
    ) -> None:
        values = {"{etag}": stored["ETag"], "{now}": stored["LastModified"],
                  "{before}": stored["LastModified"] - HOUR}
        arguments = {name: values.get(value, value) for name, value in condition.items()}
        with pytest.raises(ClientError) as caught:
            s3.copy_object(Bucket=bucket, Key="copy", CopySource=f"{bucket}/k", **arguments)
        assert error_of(caught) == ("PreconditionFailed", 412)
        assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]] == ["k"]

    @pytest.mark.parametrize("condition", [
        pytest.param({"CopySourceIfMatch": "{etag}"}, id="if-match-the-etag"),
        pytest.param({"CopySourceIfNoneMatch": WRONG_ETAG}, id="if-none-match-another-etag"),
        pytest.param({"CopySourceIfModifiedSince": "{before}"}, id="if-modified-since-earlier"),
        pytest.param({"CopySourceIfUnmodifiedSince": "{now}"}, id="if-unmodified-since-last-modified"),
    ])
    def test_a_true_source_condition_copies(
        self, s3: Any, bucket: str, stored: dict[str, Any], condition: dict[str, str]
    ) -> None:
        values = {"{etag}": stored["ETag"], "{now}": stored["LastModified"],
                  "{before}": stored["LastModified"] - HOUR}
        arguments = {name: values.get(value, value) for name, value in condition.items()}
        s3.copy_object(Bucket=bucket, Key="copy", CopySource=f"{bucket}/k", **arguments)
        assert s3.get_object(Bucket=bucket, Key="copy")["Body"].read() == b"conditional body"

    def test_a_true_if_match_overrides_a_false_if_unmodified_since_on_the_source(
        self, s3: Any, bucket: str, stored: dict[str, Any]
    ) -> None:
        s3.copy_object(Bucket=bucket, Key="copy", CopySource=f"{bucket}/k", CopySourceIfMatch=stored["ETag"],
                       CopySourceIfUnmodifiedSince=stored["LastModified"] - HOUR)
        assert s3.get_object(Bucket=bucket, Key="copy")["Body"].read() == b"conditional body"

    def test_a_source_condition_applies_to_a_part_copy(
        self, s3: Any, bucket: str, stored: dict[str, Any]
    ) -> None:
        upload_id = s3.create_multipart_upload(Bucket=bucket, Key="assembled")["UploadId"]
        with pytest.raises(ClientError) as caught:
            s3.upload_part_copy(Bucket=bucket, Key="assembled", UploadId=upload_id, PartNumber=1,
                                CopySource=f"{bucket}/k", CopySourceIfMatch=WRONG_ETAG)
        assert error_of(caught) == ("PreconditionFailed", 412)

    def test_a_copy_with_if_none_match_star_onto_an_existing_key_is_precondition_failed(
        self, s3: Any, bucket: str, stored: dict[str, Any]
    ) -> None:
        s3.put_object(Bucket=bucket, Key="taken", Body=b"already here")
        with pytest.raises(ClientError) as caught:
            s3.copy_object(Bucket=bucket, Key="taken", CopySource=f"{bucket}/k", IfNoneMatch="*")
        assert error_of(caught) == ("PreconditionFailed", 412)
        assert s3.get_object(Bucket=bucket, Key="taken")["Body"].read() == b"already here"
        s3.copy_object(Bucket=bucket, Key="free", CopySource=f"{bucket}/k", IfNoneMatch="*")
        assert s3.get_object(Bucket=bucket, Key="free")["Body"].read() == b"conditional body"


class TestConditionalWrites:
    def test_if_none_match_star_creates_a_new_key(self, s3: Any, bucket: str) -> None:
        s3.put_object(Bucket=bucket, Key="new", Body=b"first", IfNoneMatch="*")
        assert s3.get_object(Bucket=bucket, Key="new")["Body"].read() == b"first"

    def test_if_none_match_star_on_an_existing_key_is_precondition_failed_and_keeps_it(
        self, s3: Any, bucket: str
    ) -> None:
        s3.put_object(Bucket=bucket, Key="k", Body=b"first")
        with pytest.raises(ClientError) as caught:
            s3.put_object(Bucket=bucket, Key="k", Body=b"second", IfNoneMatch="*")
        assert error_of(caught) == ("PreconditionFailed", 412)
        assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"first"

    def test_of_two_creators_using_if_none_match_star_only_the_first_wins(self, s3: Any, bucket: str) -> None:
        outcomes: list[str] = []
        for body in (b"one", b"two"):
            try:
                s3.put_object(Bucket=bucket, Key="k", Body=body, IfNoneMatch="*")
                outcomes.append("created")
            except ClientError as exc:
                outcomes.append(exc.response["Error"]["Code"])
        assert outcomes == ["created", "PreconditionFailed"]
        assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"one"

    def test_if_match_with_the_current_etag_overwrites(self, s3: Any, bucket: str) -> None:
        etag = s3.put_object(Bucket=bucket, Key="k", Body=b"v1")["ETag"]
        s3.put_object(Bucket=bucket, Key="k", Body=b"v2", IfMatch=etag)
        assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"v2"

    def test_if_match_with_a_stale_etag_is_precondition_failed_and_keeps_the_object(
        self, s3: Any, bucket: str
    ) -> None:
        stale = s3.put_object(Bucket=bucket, Key="k", Body=b"v1")["ETag"]
        s3.put_object(Bucket=bucket, Key="k", Body=b"v2")
        with pytest.raises(ClientError) as caught:
            s3.put_object(Bucket=bucket, Key="k", Body=b"v3", IfMatch=stale)
        assert error_of(caught) == ("PreconditionFailed", 412)
        assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"v2"

    def test_if_match_on_a_missing_key_is_no_such_key(self, s3: Any, bucket: str) -> None:
        with pytest.raises(ClientError) as caught:
            s3.put_object(Bucket=bucket, Key="missing", Body=b"x", IfMatch=WRONG_ETAG)
        assert error_of(caught) == ("NoSuchKey", 404)
        assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 0

    def test_completing_an_upload_with_if_none_match_star_over_an_existing_key_fails_and_keeps_the_upload(
        self, s3: Any, bucket: str
    ) -> None:
        s3.put_object(Bucket=bucket, Key="k", Body=b"incumbent")
        upload_id = s3.create_multipart_upload(Bucket=bucket, Key="k")["UploadId"]
        part = s3.upload_part(Bucket=bucket, Key="k", UploadId=upload_id, PartNumber=1, Body=b"challenger")
        parts = {"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]}
        with pytest.raises(ClientError) as caught:
            s3.complete_multipart_upload(Bucket=bucket, Key="k", UploadId=upload_id, MultipartUpload=parts,
                                         IfNoneMatch="*")
        assert error_of(caught) == ("PreconditionFailed", 412)
        assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"incumbent"
        assert [u["UploadId"] for u in s3.list_multipart_uploads(Bucket=bucket)["Uploads"]] == [upload_id]
        s3.complete_multipart_upload(Bucket=bucket, Key="k", UploadId=upload_id, MultipartUpload=parts)
        assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"challenger"

    def test_completing_an_upload_with_if_none_match_star_onto_a_free_key_creates_it(
        self, s3: Any, bucket: str
    ) -> None:
        upload_id = s3.create_multipart_upload(Bucket=bucket, Key="k")["UploadId"]
        part = s3.upload_part(Bucket=bucket, Key="k", UploadId=upload_id, PartNumber=1, Body=b"fresh")
        s3.complete_multipart_upload(Bucket=bucket, Key="k", UploadId=upload_id, IfNoneMatch="*",
                                     MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]})
        assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"fresh"

    def test_completing_an_upload_with_if_match_checks_the_object_it_replaces(
        self, s3: Any, bucket: str
    ) -> None:
        current = s3.put_object(Bucket=bucket, Key="k", Body=b"v1")["ETag"]
        upload_id = s3.create_multipart_upload(Bucket=bucket, Key="k")["UploadId"]
        part = s3.upload_part(Bucket=bucket, Key="k", UploadId=upload_id, PartNumber=1, Body=b"v2")
        parts = {"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]}
        with pytest.raises(ClientError) as caught:
            s3.complete_multipart_upload(Bucket=bucket, Key="k", UploadId=upload_id, MultipartUpload=parts,
                                         IfMatch=WRONG_ETAG)
        assert error_of(caught) == ("PreconditionFailed", 412)
        s3.complete_multipart_upload(Bucket=bucket, Key="k", UploadId=upload_id, MultipartUpload=parts,
                                     IfMatch=current)
        assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"v2"
