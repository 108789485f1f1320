"""Objects through boto3: writing, reading (whole, ranges, parts), metadata, deleting,
awkward keys, and CopyObject."""

from __future__ import annotations

import datetime
import hashlib
import uuid
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.e2e.client_errors import error_of

MiB = 1024 * 1024


def md5_etag(data: bytes) -> str:
    return f'"{hashlib.md5(data).hexdigest()}"'


def put_multipart(s3: Any, bucket: str, key: str, parts: list[bytes], **create: Any) -> dict[str, Any]:
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key=key, **create)["UploadId"]
    done = []
    for number, data in enumerate(parts, start=1):
        part = s3.upload_part(Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=data)
        done.append({"PartNumber": number, "ETag": part["ETag"]})
    result: dict[str, Any] = s3.complete_multipart_upload(
        Bucket=bucket, Key=key, UploadId=upload_id, MultipartUpload={"Parts": done})
    return result


class TestPutAndGet:
    def test_a_put_object_returns_the_md5_etag_and_reads_back_identically(self, s3: Any, bucket: str) -> None:
        data = bytes(range(256)) * 1000
        put = s3.put_object(Bucket=bucket, Key="bytes.bin", Body=data)
        assert put["ETag"] == md5_etag(data)
        got = s3.get_object(Bucket=bucket, Key="bytes.bin")
        assert got["Body"].read() == data
        assert got["ContentLength"] == len(data)
        assert got["ETag"] == put["ETag"]

    def test_an_empty_object_reads_back_empty(self, s3: Any, bucket: str) -> None:
        s3.put_object(Bucket=bucket, Key="empty", Body=b"")
        got = s3.get_object(Bucket=bucket, Key="empty")
        assert got["Body"].read() == b""
        assert got["ContentLength"] == 0
        assert got["ETag"] == md5_etag(b"")

    def test_a_body_larger_than_the_inline_limit_reads_back_identically(self, s3: Any, bucket: str) -> None:
        data = uuid.uuid4().bytes * (3 * MiB // 16)
        s3.put_object(Bucket=bucket, Key="large", Body=data)
        assert s3.get_object(Bucket=bucket, Key="large")["Body"].read() == data

    def test_an_overwrite_replaces_body_and_metadata(self, s3: Any, bucket: str) -> None:
        s3.put_object(Bucket=bucket, Key="k", Body=b"first", Metadata={"v": "1"}, ContentType="text/plain")
        s3.put_object(Bucket=bucket, Key="k", Body=b"second")
        got = s3.get_object(Bucket=bucket, Key="k")
        assert got["Body"].read() == b"second"
        assert got["Metadata"] == {}
        assert got["ContentType"] == "binary/octet-stream"

    def test_head_reports_size_etag_and_last_modified_without_a_body(self, s3: Any, bucket: str) -> None:
        before = datetime.datetime.now(datetime.UTC).replace(microsecond=0) - datetime.timedelta(seconds=1)
        s3.put_object(Bucket=bucket, Key="k", Body=b"12345")
        head = s3.head_object(Bucket=bucket, Key="k")
        assert head["ContentLength"] == 5
        assert head["ETag"] == md5_etag(b"12345")
        assert head["LastModified"] >= before
        assert head["AcceptRanges"] == "bytes"

    def test_a_missing_key_is_no_such_key_on_get_and_404_on_head(self, s3: Any, bucket: str) -> None:
        with pytest.raises(ClientError) as caught:
            s3.get_object(Bucket=bucket, Key="nope")
        assert error_of(caught) == ("NoSuchKey", 404)
        with pytest.raises(ClientError) as caught:
            s3.head_object(Bucket=bucket, Key="nope")
        assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404

    def test_reading_from_a_missing_bucket_is_no_such_bucket(self, s3: Any) -> None:
        with pytest.raises(ClientError) as caught:
            s3.get_object(Bucket=f"missing-{uuid.uuid4().hex[:12]}", Key="k")
        assert error_of(caught) == ("NoSuchBucket", 404)

    def test_writing_to_a_missing_bucket_is_no_such_bucket(self, s3: Any) -> None:
        with pytest.raises(ClientError) as caught:
            s3.put_object(Bucket=f"missing-{uuid.uuid4().hex[:12]}", Key="k", Body=b"x")
        assert error_of(caught) == ("NoSuchBucket", 404)


class TestMetadata:
    def test_system_and_user_metadata_come_back_exactly(self, s3: Any, bucket: str) -> None:
        expires = datetime.datetime(2030, 1, 2, 3, 4, 5, tzinfo=datetime.UTC)
        s3.put_object(
            Bucket=bucket, Key="doc", Body=b"<p>hi</p>", ContentType="text/html; charset=utf-8",
            ContentEncoding="identity", ContentDisposition='attachment; filename="doc.html"',
            ContentLanguage="en-GB", CacheControl="max-age=60, public", Expires=expires,
            Metadata={"colour": "blue", "Owner-Name": "Ada Lovelace"},
        )
        for response in (s3.head_object(Bucket=bucket, Key="doc"), s3.get_object(Bucket=bucket, Key="doc")):
            assert response["ContentType"] == "text/html; charset=utf-8"
            assert response["ContentEncoding"] == "identity"
            assert response["ContentDisposition"] == 'attachment; filename="doc.html"'
            assert response["ContentLanguage"] == "en-GB"
            assert response["CacheControl"] == "max-age=60, public"
            assert response["ExpiresString"] == "Wed, 02 Jan 2030 03:04:05 GMT"
            assert response["Metadata"] == {"colour": "blue", "owner-name": "Ada Lovelace"}

    def test_an_object_without_a_content_type_is_binary_octet_stream(self, s3: Any, bucket: str) -> None:
        s3.put_object(Bucket=bucket, Key="k", Body=b"x")
        assert s3.head_object(Bucket=bucket, Key="k")["ContentType"] == "binary/octet-stream"

    def test_user_metadata_just_under_2_kb_is_accepted(self, s3: Any, bucket: str) -> None:
        metadata = {"a": "x" * 2047}
        s3.put_object(Bucket=bucket, Key="k", Body=b"x", Metadata=metadata)
        assert s3.head_object(Bucket=bucket, Key="k")["Metadata"] == metadata

    def test_user_metadata_over_2_kb_is_metadata_too_large(self, s3: Any, bucket: str) -> None:
        with pytest.raises(ClientError) as caught:
            s3.put_object(Bucket=bucket, Key="k", Body=b"x", Metadata={"big": "x" * 2100})
        assert error_of(caught) == ("MetadataTooLarge", 400)

    def test_response_overrides_replace_the_stored_headers_of_one_get(self, s3: Any, bucket: str) -> None:
        s3.put_object(Bucket=bucket, Key="k", Body=b"data", ContentType="text/plain", CacheControl="no-cache")
        got = s3.get_object(
            Bucket=bucket, Key="k", ResponseContentType="application/json", ResponseContentLanguage="fr",
            ResponseCacheControl="max-age=5", ResponseContentDisposition="inline",
            ResponseContentEncoding="gzip",
            ResponseExpires=datetime.datetime(2031, 1, 1, tzinfo=datetime.UTC),
        )
        assert got["ContentType"] == "application/json"
        assert got["ContentLanguage"] == "fr"
        assert got["CacheControl"] == "max-age=5"
        assert got["ContentDisposition"] == "inline"
        assert got["ContentEncoding"] == "gzip"
        assert got["ExpiresString"] == "Wed, 01 Jan 2031 00:00:00 GMT"
        assert s3.head_object(Bucket=bucket, Key="k")["ContentType"] == "text/plain"


class TestRanges:
    DATA = bytes(range(100))

    @pytest.fixture
    def key(self, s3: Any, bucket: str) -> str:
        s3.put_object(Bucket=bucket, Key="hundred", Body=self.DATA)
        return "hundred"

    @pytest.mark.parametrize(("header", "start", "end"), [
        pytest.param("bytes=0-9", 0, 9, id="first-bytes"),
        pytest.param("bytes=-10", 90, 99, id="suffix"),
        pytest.param("bytes=95-", 95, 99, id="open-ended"),
        pytest.param("bytes=90-500", 90, 99, id="past-end-clipped"),
        pytest.param("bytes=-500", 0, 99, id="suffix-longer-than-object"),
        pytest.param("bytes=42-42", 42, 42, id="one-byte"),
    ])
    def test_a_range_returns_exactly_those_bytes_as_206(
        self, s3: Any, bucket: str, key: str, header: str, start: int, end: int
    ) -> None:
        got = s3.get_object(Bucket=bucket, Key=key, Range=header)
        assert got["ResponseMetadata"]["HTTPStatusCode"] == 206
        assert got["Body"].read() == self.DATA[start : end + 1]
        assert got["ContentRange"] == f"bytes {start}-{end}/100"
        assert got["ContentLength"] == end - start + 1

    def test_a_range_starting_past_the_end_is_invalid_range_416(self, s3: Any, bucket: str, key: str) -> None:
        with pytest.raises(ClientError) as caught:
            s3.get_object(Bucket=bucket, Key=key, Range="bytes=100-200")
        assert error_of(caught) == ("InvalidRange", 416)

    def test_any_range_of_an_empty_object_is_invalid_range_416(self, s3: Any, bucket: str) -> None:
        s3.put_object(Bucket=bucket, Key="empty", Body=b"")
        with pytest.raises(ClientError) as caught:
            s3.get_object(Bucket=bucket, Key="empty", Range="bytes=0-0")
        assert error_of(caught) == ("InvalidRange", 416)

    def test_a_range_inside_a_large_object_streams_the_right_bytes(self, s3: Any, bucket: str) -> None:
        data = hashlib.sha256(b"seed").digest() * (2 * MiB // 32)
        s3.put_object(Bucket=bucket, Key="big", Body=data)
        got = s3.get_object(Bucket=bucket, Key="big", Range=f"bytes={MiB - 3}-{MiB + 2}")
        assert got["Body"].read() == data[MiB - 3 : MiB + 3]

    def test_a_head_with_a_range_reports_the_range(self, s3: Any, bucket: str, key: str) -> None:
        head = s3.head_object(Bucket=bucket, Key=key, Range="bytes=10-19")
        assert head["ResponseMetadata"]["HTTPStatusCode"] == 206
        assert head["ContentLength"] == 10
        assert head["ContentRange"] == "bytes 10-19/100"


class TestPartNumberReads:
    def test_part_1_of_a_simple_object_is_the_whole_object_as_a_range(self, s3: Any, bucket: str) -> None:
        s3.put_object(Bucket=bucket, Key="k", Body=b"whole thing")
        got = s3.get_object(Bucket=bucket, Key="k", PartNumber=1)
        assert got["ResponseMetadata"]["HTTPStatusCode"] == 206
        assert got["ContentRange"] == "bytes 0-10/11"
        assert got["Body"].read() == b"whole thing"
        assert "PartsCount" not in got
        head = s3.head_object(Bucket=bucket, Key="k", PartNumber=1)
        assert (head["ResponseMetadata"]["HTTPStatusCode"], head["ContentLength"]) == (206, 11)

    def test_part_2_of_a_simple_object_is_invalid_part_number(self, s3: Any, bucket: str) -> None:
        s3.put_object(Bucket=bucket, Key="k", Body=b"whole thing")
        with pytest.raises(ClientError) as caught:
            s3.get_object(Bucket=bucket, Key="k", PartNumber=2)
        assert error_of(caught) == ("InvalidPartNumber", 416)

    def test_a_part_of_a_multipart_object_is_exactly_that_parts_bytes(self, s3: Any, bucket: str) -> None:
        parts = [b"a" * (5 * MiB), b"b" * (5 * MiB), b"tail"]
        put_multipart(s3, bucket, "mp", parts)
        got = s3.get_object(Bucket=bucket, Key="mp", PartNumber=2)
        assert got["ResponseMetadata"]["HTTPStatusCode"] == 206
        assert got["Body"].read() == parts[1]
        assert got["PartsCount"] == 3
        assert got["ContentRange"] == f"bytes {5 * MiB}-{10 * MiB - 1}/{10 * MiB + 4}"
        head = s3.head_object(Bucket=bucket, Key="mp", PartNumber=3)
        assert head["ContentLength"] == 4
        assert head["PartsCount"] == 3
        assert "PartsCount" not in s3.head_object(Bucket=bucket, Key="mp")

    def test_a_part_number_beyond_the_parts_is_invalid_part_number(self, s3: Any, bucket: str) -> None:
        put_multipart(s3, bucket, "mp", [b"a" * (5 * MiB), b"b"])
        with pytest.raises(ClientError) as caught:
            s3.get_object(Bucket=bucket, Key="mp", PartNumber=3)
        assert error_of(caught) == ("InvalidPartNumber", 416)


class TestDeleting:
    def test_a_deleted_object_is_gone(self, s3: Any, bucket: str) -> None:
        s3.put_object(Bucket=bucket, Key="k", Body=b"x")
        assert s3.delete_object(Bucket=bucket, Key="k")["ResponseMetadata"]["HTTPStatusCode"] == 204
        with pytest.raises(ClientError) as caught:
            s3.get_object(Bucket=bucket, Key="k")
        assert error_of(caught) == ("NoSuchKey", 404)

    def test_deleting_a_missing_key_still_answers_204(self, s3: Any, bucket: str) -> None:
        assert s3.delete_object(Bucket=bucket, Key="never-was")["ResponseMetadata"]["HTTPStatusCode"] == 204

    def test_deleting_in_a_missing_bucket_is_no_such_bucket(self, s3: Any) -> None:
        with pytest.raises(ClientError) as caught:
            s3.delete_object(Bucket=f"missing-{uuid.uuid4().hex[:12]}", Key="k")
        assert error_of(caught) == ("NoSuchBucket", 404)

    def test_delete_objects_reports_every_key_it_deleted(self, s3: Any, bucket: str) -> None:
        for key in ("a", "b"):
            s3.put_object(Bucket=bucket, Key=key, Body=b"x")
        result = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in "abc"]})
        assert sorted(d["Key"] for d in result["Deleted"]) == ["a", "b", "c"]
        assert "Errors" not in result
        assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 0

    def test_a_quiet_delete_objects_reports_nothing_but_deletes(self, s3: Any, bucket: str) -> None:
        s3.put_object(Bucket=bucket, Key="a", Body=b"x")
        result = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "a"}], "Quiet": True})
        assert "Deleted" not in result
        assert "Errors" not in result
        assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 0

    def test_delete_objects_removes_1000_keys_in_one_request(self, s3: Any, bucket: str) -> None:
        keys = [f"k{i:04d}" for i in range(1000)]
        for key in keys[:50]:
            s3.put_object(Bucket=bucket, Key=key, Body=b"")
        result = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in keys]})
        assert len(result["Deleted"]) == 1000
        assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 0

    def test_delete_objects_refuses_more_than_1000_keys(self, s3: Any, bucket: str) -> None:
        with pytest.raises(ClientError) as caught:
            s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": f"k{i}"} for i in range(1001)]})
        assert error_of(caught) == ("MalformedXML", 400)

    def test_a_key_delete_objects_cannot_delete_is_reported_per_key(self, s3: Any, bucket: str) -> None:
        s3.put_object(Bucket=bucket, Key="fine", Body=b"x")
        too_long = "k" * 1025
        result = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "fine"}, {"Key": too_long}]})
        assert [d["Key"] for d in result["Deleted"]] == ["fine"]
        assert [(e["Key"], e["Code"]) for e in result["Errors"]] == [(too_long, "KeyTooLongError")]

    def test_a_quiet_delete_objects_still_reports_errors(self, s3: Any, bucket: str) -> None:
        too_long = "k" * 1025
        result = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": too_long}], "Quiet": True})
        assert [e["Code"] for e in result["Errors"]] == ["KeyTooLongError"]


AWKWARD_KEYS = [
    pytest.param("with space.txt", id="space"),
    pytest.param("plus+sign", id="plus"),
    pytest.param("100%25 literally %", id="percent"),
    pytest.param("what?really", id="question-mark"),
    pytest.param("hash#tag", id="hash"),
    pytest.param("line\nbreak", id="newline"),
    pytest.param("emoji-\U0001F600-\u00e9\u4e2d", id="emoji-and-unicode"),
    pytest.param("../escape/attempt", id="dot-dot-slash"),
    pytest.param("/leading/slash", id="leading-slash"),
    pytest.param("double//slash", id="double-slash"),
    pytest.param("ampersand&equals=", id="ampersand-equals"),
    pytest.param("tilde~star*quote'", id="tilde-star-quote"),
    pytest.param("angle<brackets>&amp;", id="xml-special"),
    pytest.param("trailing-slash/", id="trailing-slash"),
    pytest.param(".", id="dot"),
]


class TestKeys:
    @pytest.mark.parametrize("key", AWKWARD_KEYS)
    def test_an_awkward_key_round_trips_through_put_get_list_and_delete(
        self, s3: Any, bucket: str, key: str
    ) -> None:
        s3.put_object(Bucket=bucket, Key=key, Body=key.encode())
        assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == key.encode()
        assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]] == [key]
        s3.delete_object(Bucket=bucket, Key=key)
        assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 0

    def test_keys_differing_only_in_dot_segments_are_different_objects(self, s3: Any, bucket: str) -> None:
        s3.put_object(Bucket=bucket, Key="a/../b", Body=b"1")
        s3.put_object(Bucket=bucket, Key="b", Body=b"2")
        s3.put_object(Bucket=bucket, Key="a/./b", Body=b"3")
        assert s3.get_object(Bucket=bucket, Key="a/../b")["Body"].read() == b"1"
        assert s3.get_object(Bucket=bucket, Key="b")["Body"].read() == b"2"
        assert s3.get_object(Bucket=bucket, Key="a/./b")["Body"].read() == b"3"

    def test_composed_and_decomposed_unicode_keys_are_different_objects(self, s3: Any, bucket: str) -> None:
        composed, decomposed = "caf\u00e9", "cafe\u0301"
        s3.put_object(Bucket=bucket, Key=composed, Body=b"nfc")
        s3.put_object(Bucket=bucket, Key=decomposed, Body=b"nfd")
        assert s3.get_object(Bucket=bucket, Key=composed)["Body"].read() == b"nfc"
        assert s3.get_object(Bucket=bucket, Key=decomposed)["Body"].read() == b"nfd"
        assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 2

    def test_a_1024_byte_key_is_accepted(self, s3: Any, bucket: str) -> None:
        key = "\u00e9" * 512
        s3.put_object(Bucket=bucket, Key=key, Body=b"x")
        assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == b"x"

    def test_a_1025_byte_key_is_key_too_long(self, s3: Any, bucket: str) -> None:
        with pytest.raises(ClientError) as caught:
            s3.put_object(Bucket=bucket, Key="k" * 1025, Body=b"x")
        assert error_of(caught) == ("KeyTooLongError", 400)


class TestCopyObject:
    def test_a_copy_has_the_sources_bytes_and_metadata_by_default(self, s3: Any, bucket: str) -> None:
        s3.put_object(Bucket=bucket, Key="src", Body=b"payload", ContentType="text/plain",
                      Metadata={"a": "1"})
        result = s3.copy_object(Bucket=bucket, Key="dst", CopySource={"Bucket": bucket, "Key": "src"})
        assert result["CopyObjectResult"]["ETag"] == md5_etag(b"payload")
        got = s3.get_object(Bucket=bucket, Key="dst")
        assert got["Body"].read() == b"payload"
        assert got["ContentType"] == "text/plain"
        assert got["Metadata"] == {"a": "1"}

    def test_copy_with_the_copy_directive_ignores_new_metadata(self, s3: Any, bucket: str) -> None:
        s3.put_object(Bucket=bucket, Key="src", Body=b"x", Metadata={"a": "1"})
        s3.copy_object(Bucket=bucket, Key="dst", CopySource=f"{bucket}/src", MetadataDirective="COPY",
                       Metadata={"b": "2"})
        assert s3.head_object(Bucket=bucket, Key="dst")["Metadata"] == {"a": "1"}

    def test_copy_with_the_replace_directive_takes_only_the_new_metadata(self, s3: Any, bucket: str) -> None:
        s3.put_object(Bucket=bucket, Key="src", Body=b"x", ContentType="text/plain", Metadata={"a": "1"})
        s3.copy_object(Bucket=bucket, Key="dst", CopySource=f"{bucket}/src", MetadataDirective="REPLACE",
                       Metadata={"b": "2"}, ContentType="application/json")
        head = s3.head_object(Bucket=bucket, Key="dst")
        assert head["Metadata"] == {"b": "2"}
        assert head["ContentType"] == "application/json"
        assert s3.head_object(Bucket=bucket, Key="src")["Metadata"] == {"a": "1"}

    def test_copying_an_object_onto_itself_with_replace_changes_its_metadata(
        self, s3: Any, bucket: str
    ) -> None:
        s3.put_object(Bucket=bucket, Key="k", Body=b"same bytes", Metadata={"state": "old"})
        s3.copy_object(Bucket=bucket, Key="k", CopySource=f"{bucket}/k", MetadataDirective="REPLACE",
                       Metadata={"state": "new"})
        got = s3.get_object(Bucket=bucket, Key="k")
        assert got["Body"].read() == b"same bytes"
        assert got["Metadata"] == {"state": "new"}

    def test_copying_an_object_onto_itself_without_changes_is_an_invalid_request(
        self, s3: Any, bucket: str
    ) -> None:
        s3.put_object(Bucket=bucket, Key="k", Body=b"x")
        with pytest.raises(ClientError) as caught:
            s3.copy_object(Bucket=bucket, Key="k", CopySource=f"{bucket}/k")
        assert error_of(caught) == ("InvalidRequest", 400)

    def test_a_copy_across_buckets_lands_in_the_target_bucket(self, s3: Any, bucket: str) -> None:
        other = f"copy-target-{uuid.uuid4().hex[:12]}"
        s3.create_bucket(Bucket=other)
        s3.put_object(Bucket=bucket, Key="src", Body=b"travelling")
        s3.copy_object(Bucket=other, Key="arrived", CopySource={"Bucket": bucket, "Key": "src"})
        assert s3.get_object(Bucket=other, Key="arrived")["Body"].read() == b"travelling"

    def test_a_copy_of_a_multipart_object_has_all_its_bytes(self, s3: Any, bucket: str) -> None:
        parts = [b"1" * (5 * MiB), b"2" * 1000]
        put_multipart(s3, bucket, "mp", parts)
        s3.copy_object(Bucket=bucket, Key="copy", CopySource={"Bucket": bucket, "Key": "mp"})
        got = s3.get_object(Bucket=bucket, Key="copy")
        assert got["Body"].read() == b"".join(parts)

    @pytest.mark.parametrize("key", ["space/and+plus", "per%2Fcent?q=1#frag", "\u00fcnic\u00f6de/\U0001F600"])
    def test_a_source_key_needing_url_encoding_is_found(self, s3: Any, bucket: str, key: str) -> None:
        s3.put_object(Bucket=bucket, Key=key, Body=b"encoded")
        s3.copy_object(Bucket=bucket, Key="dst", CopySource={"Bucket": bucket, "Key": key})
        assert s3.get_object(Bucket=bucket, Key="dst")["Body"].read() == b"encoded"

    def test_copying_a_missing_source_is_no_such_key(self, s3: Any, bucket: str) -> None:
        with pytest.raises(ClientError) as caught:
            s3.copy_object(Bucket=bucket, Key="dst", CopySource={"Bucket": bucket, "Key": "missing"})
        assert error_of(caught) == ("NoSuchKey", 404)

    def test_the_copy_has_a_new_last_modified_and_the_sources_etag(self, s3: Any, bucket: str) -> None:
        s3.put_object(Bucket=bucket, Key="src", Body=b"abc")
        result = s3.copy_object(Bucket=bucket, Key="dst", CopySource=f"{bucket}/src")["CopyObjectResult"]
        head = s3.head_object(Bucket=bucket, Key="dst")
        assert head["LastModified"] == result["LastModified"].replace(microsecond=0)
        assert head["ETag"] == result["ETag"] == md5_etag(b"abc")


class TestStorageClass:
    def test_the_storage_class_of_a_put_is_kept_and_reported(self, s3: Any, bucket: str) -> None:
        s3.put_object(Bucket=bucket, Key="cold", Body=b"x", StorageClass="STANDARD_IA")
        assert s3.head_object(Bucket=bucket, Key="cold")["StorageClass"] == "STANDARD_IA"
        listed = s3.list_objects_v2(Bucket=bucket)["Contents"]
        assert [o["StorageClass"] for o in listed] == ["STANDARD_IA"]

    def test_a_multipart_upload_keeps_its_storage_class(self, s3: Any, bucket: str) -> None:
        upload = s3.create_multipart_upload(Bucket=bucket, Key="big", StorageClass="GLACIER_IR")
        part = s3.upload_part(Bucket=bucket, Key="big", UploadId=upload["UploadId"], PartNumber=1, Body=b"data")
        s3.complete_multipart_upload(Bucket=bucket, Key="big", UploadId=upload["UploadId"],
                                     MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]})
        assert s3.head_object(Bucket=bucket, Key="big")["StorageClass"] == "GLACIER_IR"

    def test_an_unknown_storage_class_is_refused(self, s3: Any, bucket: str) -> None:
        with pytest.raises(ClientError) as caught:
            s3.put_object(Bucket=bucket, Key="k", Body=b"x", StorageClass="ICEBERG")
        assert caught.value.response["Error"]["Code"] == "InvalidStorageClass"


def test_an_if_match_write_to_a_missing_key_names_the_key(s3: Any, bucket: str) -> None:
    with pytest.raises(ClientError) as caught:
        s3.put_object(Bucket=bucket, Key="absent", Body=b"x", IfMatch='"abc"')
    assert caught.value.response["Error"]["Code"] == "NoSuchKey"
    assert caught.value.response["Error"]["Key"] == "absent"
