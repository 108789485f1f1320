"""Objects as conformance suites probe them: writes and reads with metadata, conditional
reads and writes, ranges, copies, deletes (single, batched, conditional, by "null" version)
and GetObjectAttributes."""

from __future__ import annotations

import datetime
import email.header
import hashlib
import uuid
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conftest import make_client
from tests.e2e.client_errors import error_of
from tests.servers import StratoServer

MiB = 1024 * 1024


def with_headers(server: StratoServer, operation: str, headers: dict[str, str]) -> Any:
    """A fresh client that adds `headers` to every `operation` request before it is signed."""
    client = make_client(server.url)

    def add(params: dict[str, Any], **_: Any) -> None:
        params["headers"].update(headers)

    client.meta.events.register(f"before-call.s3.{operation}", add)
    return client


def body_of(response: dict[str, Any]) -> bytes:
    data: bytes = response["Body"].read()
    return data


class TestWritesAndReads:
    def test_a_put_answers_the_md5_etag(self, s3: Any, bucket: str) -> None:
        response = s3.put_object(Bucket=bucket, Key="foo", Body=b"bar")
        assert response["ETag"] == '"37b51d194a7513e45b56f6524f2d51f2"'

    def test_an_overwrite_is_read_back(self, s3: Any, bucket: str) -> None:
        s3.put_object(Bucket=bucket, Key="foo", Body=b"bar")
        s3.put_object(Bucket=bucket, Key="foo", Body=b"soup")
        assert body_of(s3.get_object(Bucket=bucket, Key="foo")) == b"soup"

    def test_a_zero_byte_object_heads_as_zero_length(self, s3: Any, bucket: str) -> None:
        s3.put_object(Bucket=bucket, Key="foo", Body=b"")
        assert s3.head_object(Bucket=bucket, Key="foo")["ContentLength"] == 0

    def test_cache_control_and_expires_are_kept(self, s3: Any, bucket: str) -> None:
        expires = datetime.datetime.now(datetime.UTC).replace(microsecond=0) + datetime.timedelta(seconds=6000)
        s3.put_object(Bucket=bucket, Key="foo", Body=b"bar", CacheControl="public, max-age=14400", Expires=expires)
        head = s3.head_object(Bucket=bucket, Key="foo")
        assert head["ResponseMetadata"]["HTTPHeaders"]["cache-control"] == "public, max-age=14400"
        assert head["Expires"] == expires

    @pytest.mark.parametrize("value", ["mymeta", ""])
    def test_user_metadata_reads_back_even_when_empty(self, s3: Any, bucket: str, value: str) -> None:
        s3.put_object(Bucket=bucket, Key="foo", Body=b"bar", Metadata={"meta1": value})
        assert s3.get_object(Bucket=bucket, Key="foo")["Metadata"] == {"meta1": value}

    def test_an_overwrite_without_metadata_drops_the_old_metadata(self, s3: Any, bucket: str) -> None:
        s3.put_object(Bucket=bucket, Key="foo", Body=b"bar", Metadata={"meta1": "bar"})
        s3.put_object(Bucket=bucket, Key="foo", Body=b"bar")
        assert s3.get_object(Bucket=bucket, Key="foo")["Metadata"] == {}

    @pytest.mark.parametrize("signature_version", ["s3v4", "s3"])
    def test_a_non_ascii_metadata_value_is_signed_as_utf8_and_returned_rfc2047_encoded(
        self, server: StratoServer, bucket: str, signature_version: str
    ) -> None:
        client = make_client(server.url, signature_version=signature_version)
        latin = {"x-amz-meta-meta1": "Hello World\xe9"}
        client.meta.events.register("before-call.s3.PutObject", lambda params, **_: params["headers"].update(latin))
        client.put_object(Bucket=bucket, Key="foo", Body=b"bar")
        stored = make_client(server.url).get_object(Bucket=bucket, Key="foo")["Metadata"]["meta1"]
        assert str(email.header.make_header(email.header.decode_header(stored))) == "Hello World\xe9"
        assert stored == "=?UTF-8?B?SGVsbG8gV29ybGTDqQ==?="

    @pytest.mark.parametrize(("given", "stored"), [
        ("gzip", "gzip"), ("deflate, gzip", "deflate, gzip"), ("gzip, aws-chunked", "gzip"),
        ("aws-chunked, gzip", "gzip"), ("aws-chunked", None), ("aws-chunked, aws-chunked", None),
    ])
    def test_aws_chunked_is_dropped_from_the_stored_content_encoding(
        self, s3: Any, bucket: str, given: str, stored: str | None
    ) -> None:
        s3.put_object(Bucket=bucket, Key="encoding", Body=b"", ContentEncoding=given)
        assert s3.head_object(Bucket=bucket, Key="encoding").get("ContentEncoding") == stored

    def test_response_header_overrides_replace_the_stored_headers(self, s3: Any, bucket: str) -> None:
        s3.put_object(Bucket=bucket, Key="foo", Body=b"bar")
        response = s3.get_object(
            Bucket=bucket, Key="foo", ResponseCacheControl="no-cache", ResponseContentDisposition="bla",
            ResponseContentEncoding="aaa", ResponseContentLanguage="esperanto", ResponseContentType="foo/bar",
            ResponseExpires=datetime.datetime(2030, 1, 1, tzinfo=datetime.UTC),
        )
        headers = response["ResponseMetadata"]["HTTPHeaders"]
        assert (headers["content-type"], headers["content-disposition"], headers["content-language"],
                headers["content-encoding"], headers["cache-control"]) == (
            "foo/bar", "bla", "esperanto", "aaa", "no-cache")

    def test_a_canned_private_acl_on_a_write_is_accepted(self, s3: Any) -> None:
        name = f"acl-{uuid.uuid4().hex[:16]}"
        s3.create_bucket(Bucket=name, ACL="private")
        s3.put_object(Bucket=name, Key="foo", Body=b"bar", ACL="private")
        assert body_of(s3.get_object(Bucket=name, Key="foo")) == b"bar"

    def test_a_write_with_transfer_encoding_chunked_is_stored(self, server: StratoServer, bucket: str) -> None:
        client = make_client(server.url)

        def chunked(request: Any, **_: Any) -> None:
            request.headers.add_header("Transfer-Encoding", "chunked")

        client.meta.events.register_first("before-sign.s3.PutObject", chunked)
        assert client.put_object(Bucket=bucket, Key="foo", Body=b"bar")["ResponseMetadata"]["HTTPStatusCode"] == 200
        assert body_of(client.get_object(Bucket=bucket, Key="foo")) == b"bar"

    def test_writing_to_a_missing_bucket_is_no_such_bucket(self, s3: Any) -> None:
        with pytest.raises(ClientError) as caught:
            s3.put_object(Bucket=f"missing-{uuid.uuid4().hex[:12]}", Key="foo", Body=b"foo")
        assert error_of(caught) == ("NoSuchBucket", 404)

    def test_reading_a_missing_key_is_no_such_key(self, s3: Any, bucket: str) -> None:
        with pytest.raises(ClientError) as caught:
            s3.get_object(Bucket=bucket, Key="bar")
        assert error_of(caught) == ("NoSuchKey", 404)

    def test_the_request_id_in_an_error_body_is_the_request_id_header(self, s3: Any, bucket: str) -> None:
        with pytest.raises(ClientError) as caught:
            s3.get_object(Bucket=bucket, Key="bar")
        response = caught.value.response
        assert response["ResponseMetadata"]["RequestId"]
        assert response["Error"].get("RequestId", response["ResponseMetadata"]["RequestId"]) == (
            response["ResponseMetadata"]["HTTPHeaders"]["x-amz-request-id"])


class TestConditionalReads:
    def test_if_match_reads_only_the_current_etag(self, s3: Any, bucket: str) -> None:
        etag = s3.put_object(Bucket=bucket, Key="foo", Body=b"bar")["ETag"]
        assert body_of(s3.get_object(Bucket=bucket, Key="foo", IfMatch=etag)) == b"bar"
        with pytest.raises(ClientError) as caught:
            s3.get_object(Bucket=bucket, Key="foo", IfMatch='"ABCORZ"')
        assert error_of(caught) == ("PreconditionFailed", 412)

    def test_if_none_match_with_the_etag_is_not_modified_with_the_etag(self, s3: Any, bucket: str) -> None:
        etag = s3.put_object(Bucket=bucket, Key="foo", Body=b"bar")["ETag"]
        with pytest.raises(ClientError) as caught:
            s3.get_object(Bucket=bucket, Key="foo", IfNoneMatch=etag)
        response = caught.value.response
        assert response["ResponseMetadata"]["HTTPStatusCode"] == 304
        assert response["Error"]["Message"] == "Not Modified"
        assert response["ResponseMetadata"]["HTTPHeaders"]["etag"] == etag
        assert body_of(s3.get_object(Bucket=bucket, Key="foo", IfNoneMatch="ABCORZ")) == b"bar"

    def test_if_modified_since_a_later_time_is_not_modified(self, s3: Any, bucket: str) -> None:
        s3.put_object(Bucket=bucket, Key="foo", Body=b"bar")
        got = s3.get_object(Bucket=bucket, Key="foo", IfModifiedSince="Sat, 29 Oct 1994 19:43:31 GMT")
        assert body_of(got) == b"bar"
        later = (got["LastModified"] + datetime.timedelta(seconds=1)).strftime("%a, %d %b %Y %H:%M:%S GMT")
        with pytest.raises(ClientError) as caught:
            s3.get_object(Bucket=bucket, Key="foo", IfModifiedSince=later)
        assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 304
        assert caught.value.response["ResponseMetadata"]["HTTPHeaders"]["etag"] == got["ETag"]

    def test_if_unmodified_since_an_earlier_time_is_precondition_failed(self, s3: Any, bucket: str) -> None:
        s3.put_object(Bucket=bucket, Key="foo", Body=b"bar")
        with pytest.raises(ClientError) as caught:
            s3.get_object(Bucket=bucket, Key="foo", IfUnmodifiedSince="Sat, 29 Oct 1994 19:43:31 GMT")
        assert error_of(caught) == ("PreconditionFailed", 412)
        got = s3.get_object(Bucket=bucket, Key="foo", IfUnmodifiedSince="Sat, 29 Oct 2100 19:43:31 GMT")
        assert body_of(got) == b"bar"


class TestConditionalWrites:
    def test_if_none_match_star_creates_once(self, s3: Any, bucket: str) -> None:
        s3.put_object(Bucket=bucket, Key="obj", IfNoneMatch="*")
        with pytest.raises(ClientError) as caught:
            s3.put_object(Bucket=bucket, Key="obj", IfNoneMatch="*")
        assert error_of(caught) == ("PreconditionFailed", 412)

    def test_if_match_overwrites_only_the_current_etag(self, s3: Any, bucket: str) -> None:
        etag = s3.put_object(Bucket=bucket, Key="obj", Body=b"bar")["ETag"]
        with pytest.raises(ClientError) as caught:
            s3.put_object(Bucket=bucket, Key="obj", Body=b"zar", IfMatch='"ABCORZ"')
        assert error_of(caught) == ("PreconditionFailed", 412)
        assert body_of(s3.get_object(Bucket=bucket, Key="obj")) == b"bar"
        s3.put_object(Bucket=bucket, Key="obj", Body=b"zar", IfMatch=etag)
        assert body_of(s3.get_object(Bucket=bucket, Key="obj")) == b"zar"

    @pytest.mark.parametrize("value", ["*", "badetag"])
    def test_if_match_on_a_missing_key_is_no_such_key(self, s3: Any, bucket: str, value: str) -> None:
        with pytest.raises(ClientError) as caught:
            s3.put_object(Bucket=bucket, Key="obj", IfMatch=value)
        assert error_of(caught) == ("NoSuchKey", 404)
        with pytest.raises(ClientError) as caught:
            s3.get_object(Bucket=bucket, Key="obj")
        assert error_of(caught) == ("NoSuchKey", 404)

    def test_if_match_star_overwrites_an_existing_key(self, s3: Any, bucket: str) -> None:
        s3.put_object(Bucket=bucket, Key="obj", Body=b"bar")
        s3.put_object(Bucket=bucket, Key="obj", Body=b"zar", IfMatch="*")
        assert body_of(s3.get_object(Bucket=bucket, Key="obj")) == b"zar"

    def test_if_none_match_with_an_etag_is_not_implemented_as_on_s3(self, s3: Any, bucket: str) -> None:
        etag = s3.put_object(Bucket=bucket, Key="obj", Body=b"bar")["ETag"]
        with pytest.raises(ClientError) as caught:
            s3.put_object(Bucket=bucket, Key="obj", Body=b"zar", IfNoneMatch=etag)
        assert error_of(caught) == ("NotImplemented", 501)


class TestRanges:
    CONTENT = b"testcontent"

    @pytest.mark.parametrize(("spec", "start", "end"), [
        ("bytes=4-7", 4, 7), ("bytes=4-", 4, 10), ("bytes=-7", 4, 10),
    ])
    def test_a_range_is_206_with_its_content_range(
        self, s3: Any, bucket: str, spec: str, start: int, end: int
    ) -> None:
        s3.put_object(Bucket=bucket, Key="testobj", Body=self.CONTENT)
        response = s3.get_object(Bucket=bucket, Key="testobj", Range=spec)
        assert body_of(response) == self.CONTENT[start:end + 1]
        assert response["ResponseMetadata"]["HTTPStatusCode"] == 206
        assert response["ResponseMetadata"]["HTTPHeaders"]["content-range"] == f"bytes {start}-{end}/11"

    def test_a_range_inside_a_large_object(self, s3: Any, bucket: str) -> None:
        data = hashlib.sha256(b"seed").digest() * (8 * MiB // 32)
        s3.put_object(Bucket=bucket, Key="testobj", Body=data)
        response = s3.get_object(Bucket=bucket, Key="testobj", Range="bytes=3145728-5242880")
        assert body_of(response) == data[3145728:5242881]
        assert response["ResponseMetadata"]["HTTPHeaders"]["content-range"] == "bytes 3145728-5242880/8388608"

    @pytest.mark.parametrize("content", [b"testcontent", b""])
    def test_a_range_past_the_end_is_invalid_range(self, s3: Any, bucket: str, content: bytes) -> None:
        s3.put_object(Bucket=bucket, Key="testobj", Body=content)
        with pytest.raises(ClientError) as caught:
            s3.get_object(Bucket=bucket, Key="testobj", Range="bytes=40-50")
        assert error_of(caught) == ("InvalidRange", 416)


class TestCopies:
    def test_a_copy_keeps_content_type_and_metadata(self, s3: Any, bucket: str) -> None:
        for size in (3, MiB):
            s3.put_object(Bucket=bucket, Key="src", Body=bytes(size), ContentType="audio/ogg",
                          Metadata={"key1": "value1", "key2": "value2"})
            s3.copy_object(Bucket=bucket, Key="dst", CopySource={"Bucket": bucket, "Key": "src"})
            got = s3.get_object(Bucket=bucket, Key="dst")
            assert (got["ContentType"], got["Metadata"], got["ContentLength"]) == (
                "audio/ogg", {"key1": "value1", "key2": "value2"}, size)

    def test_a_replace_copy_takes_the_new_content_type_and_metadata(self, s3: Any, bucket: str) -> None:
        s3.put_object(Bucket=bucket, Key="src", Body=b"abc", ContentType="audio/ogg", Metadata={"key1": "v"})
        s3.copy_object(Bucket=bucket, Key="dst", CopySource={"Bucket": bucket, "Key": "src"},
                       Metadata={"key3": "value3"}, MetadataDirective="REPLACE", ContentType="audio/mpeg")
        got = s3.get_object(Bucket=bucket, Key="dst")
        assert (got["ContentType"], got["Metadata"]) == ("audio/mpeg", {"key3": "value3"})

    def test_copying_onto_itself_unchanged_is_invalid_request(self, s3: Any, bucket: str) -> None:
        s3.put_object(Bucket=bucket, Key="foo123bar", Body=b"foo")
        with pytest.raises(ClientError) as caught:
            s3.copy_object(Bucket=bucket, Key="foo123bar", CopySource={"Bucket": bucket, "Key": "foo123bar"})
        assert error_of(caught) == ("InvalidRequest", 400)
        s3.copy_object(Bucket=bucket, Key="foo123bar", CopySource={"Bucket": bucket, "Key": "foo123bar"},
                       Metadata={"foo": "bar"}, MetadataDirective="REPLACE")
        assert s3.get_object(Bucket=bucket, Key="foo123bar")["Metadata"] == {"foo": "bar"}

    def test_copies_of_zero_bytes_and_across_buckets(self, s3: Any, bucket: str) -> None:
        other = f"other-{uuid.uuid4().hex[:16]}"
        s3.create_bucket(Bucket=other)
        s3.put_object(Bucket=bucket, Key="empty", Body=b"")
        s3.copy({"Bucket": bucket, "Key": "empty"}, other, "copied")
        assert s3.get_object(Bucket=other, Key="copied")["ContentLength"] == 0

    @pytest.mark.parametrize("missing", ["bucket", "key"])
    def test_a_missing_source_is_404(self, s3: Any, bucket: str, missing: str) -> None:
        source = {"Bucket": bucket + "-fake" if missing == "bucket" else bucket, "Key": "foo123bar"}
        with pytest.raises(ClientError) as caught:
            s3.copy_object(Bucket=bucket, Key="bar321foo", CopySource=source)
        assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404

    def test_source_conditions_guard_the_copy(self, s3: Any, bucket: str) -> None:
        etag = s3.put_object(Bucket=bucket, Key="foo", Body=b"bar")["ETag"]
        s3.copy_object(Bucket=bucket, Key="bar", CopySource=f"{bucket}/foo", CopySourceIfMatch=etag)
        s3.copy_object(Bucket=bucket, Key="bar", CopySource=f"{bucket}/foo", CopySourceIfNoneMatch="ABCORZ")
        for condition in ({"CopySourceIfMatch": "ABCORZ"}, {"CopySourceIfNoneMatch": etag}):
            with pytest.raises(ClientError) as caught:
                s3.copy_object(Bucket=bucket, Key="baz", CopySource=f"{bucket}/foo", **condition)
            assert error_of(caught) == ("PreconditionFailed", 412)

    def test_a_null_source_version_copies_and_another_is_invalid(self, s3: Any, bucket: str) -> None:
        s3.put_object(Bucket=bucket, Key="foo?bar", Body=b"x")
        s3.copy_object(Bucket=bucket, Key="bar&foo", CopySource={"Bucket": bucket, "Key": "foo?bar",
                                                                 "VersionId": "null"})
        assert body_of(s3.get_object(Bucket=bucket, Key="bar&foo")) == b"x"
        with pytest.raises(ClientError) as caught:
            s3.copy_object(Bucket=bucket, Key="bar&foo", CopySource={"Bucket": bucket, "Key": "foo?bar",
                                                                     "VersionId": "3HL4kqtJlcpXroDTDmJ"})
        assert error_of(caught) == ("InvalidArgument", 400)


class TestDeletes:
    def test_delete_objects_reports_keys_whether_or_not_they_existed(self, s3: Any, bucket: str) -> None:
        keys = ["key0", "key1", "key2"]
        for key in keys:
            s3.put_object(Bucket=bucket, Key=key, Body=b"x")
        objects = {"Objects": [{"Key": k} for k in keys]}
        for _ in range(2):
            response = s3.delete_objects(Bucket=bucket, Delete=objects)
            assert len(response["Deleted"]) == 3
            assert "Errors" not in response
            assert "Contents" not in s3.list_objects(Bucket=bucket)

    def test_more_than_1000_keys_is_refused(self, s3: Any, bucket: str) -> None:
        with pytest.raises(ClientError) as caught:
            s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": f"key-{i}"} for i in range(1001)]})
        assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400

    def test_deleting_in_a_missing_bucket_is_no_such_bucket(self, s3: Any) -> None:
        with pytest.raises(ClientError) as caught:
            s3.delete_object(Bucket=f"missing-{uuid.uuid4().hex[:12]}", Key="foo")
        assert error_of(caught) == ("NoSuchBucket", 404)

    def test_the_null_version_is_the_object(self, s3: Any, bucket: str) -> None:
        s3.put_object(Bucket=bucket, Key="foo", Body=b"bar")
        assert body_of(s3.get_object(Bucket=bucket, Key="foo", VersionId="null")) == b"bar"
        assert s3.head_object(Bucket=bucket, Key="foo", VersionId="null")["ContentLength"] == 3
        s3.delete_object(Bucket=bucket, Key="foo", VersionId="null")
        with pytest.raises(ClientError) as caught:
            s3.head_object(Bucket=bucket, Key="foo")
        assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404

    @pytest.mark.parametrize("operation", ["get_object", "delete_object"])
    def test_any_other_version_id_is_an_invalid_argument(self, s3: Any, bucket: str, operation: str) -> None:
        s3.put_object(Bucket=bucket, Key="foo", Body=b"bar")
        with pytest.raises(ClientError) as caught:
            getattr(s3, operation)(Bucket=bucket, Key="foo", VersionId="3HL4kqtJlcpXroDTDmJ")
        assert error_of(caught) == ("InvalidArgument", 400)
        assert body_of(s3.get_object(Bucket=bucket, Key="foo")) == b"bar"


class TestConditionalDeletes:
    def test_if_match_deletes_only_the_current_etag(self, s3: Any, bucket: str) -> None:
        etag = s3.put_object(Bucket=bucket, Key="obj", Body=b"x")["ETag"]
        with pytest.raises(ClientError) as caught:
            s3.delete_object(Bucket=bucket, Key="obj", IfMatch='"badetag"')
        assert error_of(caught) == ("PreconditionFailed", 412)
        assert body_of(s3.get_object(Bucket=bucket, Key="obj")) == b"x"
        assert s3.delete_object(Bucket=bucket, Key="obj", IfMatch=etag)["ResponseMetadata"]["HTTPStatusCode"] == 204
        assert "Contents" not in s3.list_objects_v2(Bucket=bucket)

    def test_if_match_star_deletes_whatever_exists(self, s3: Any, bucket: str) -> None:
        s3.put_object(Bucket=bucket, Key="obj", Body=b"x")
        s3.delete_object(Bucket=bucket, Key="obj", IfMatch="*")
        assert "Contents" not in s3.list_objects_v2(Bucket=bucket)

    @pytest.mark.parametrize("value", ["*", '"badetag"'])
    def test_if_match_with_nothing_to_match_is_no_such_key(self, s3: Any, bucket: str, value: str) -> None:
        with pytest.raises(ClientError) as caught:
            s3.delete_object(Bucket=bucket, Key="obj", IfMatch=value)
        assert error_of(caught) == ("NoSuchKey", 404)

    def test_delete_objects_checks_each_etag_on_its_own(self, s3: Any, bucket: str) -> None:
        etag = s3.put_object(Bucket=bucket, Key="a", Body=b"x")["ETag"]
        s3.put_object(Bucket=bucket, Key="b", Body=b"y")
        response = s3.delete_objects(Bucket=bucket, Delete={"Objects": [
            {"Key": "a", "ETag": etag}, {"Key": "b", "ETag": '"badetag"'}, {"Key": "c", "ETag": etag}]})
        assert [d["Key"] for d in response["Deleted"]] == ["a"]
        assert sorted((e["Key"], e["Code"]) for e in response["Errors"]) == [
            ("b", "PreconditionFailed"), ("c", "NoSuchKey")]
        assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]] == ["b"]


class TestGetObjectAttributes:
    ALL = ("ETag", "Checksum", "ObjectParts", "StorageClass", "ObjectSize")

    def test_a_simple_object_has_no_parts_and_no_version(self, s3: Any, bucket: str) -> None:
        etag = s3.put_object(Bucket=bucket, Key="obj", Body=b"foo")["ETag"].strip('"')
        response = s3.get_object_attributes(Bucket=bucket, Key="obj", ObjectAttributes=list(self.ALL))
        assert (response["ObjectSize"], response["ETag"], response["StorageClass"]) == (3, etag, "STANDARD")
        assert "ObjectParts" not in response
        assert "VersionId" not in response
        assert "DeleteMarker" not in response

    def test_a_sha256_checksum_given_at_the_put_is_reported(self, s3: Any, bucket: str) -> None:
        checksum = "arcu6553sHVAiX4MjW0j7I7vD4w6R+Gz9Ok0Q9lTa+0="
        put = s3.put_object(Bucket=bucket, Key="obj", Body=b"A" * 1024, ChecksumAlgorithm="SHA256",
                            ChecksumSHA256=checksum)
        assert put["ChecksumSHA256"] == checksum
        response = s3.get_object_attributes(Bucket=bucket, Key="obj", ObjectAttributes=list(self.ALL))
        assert response["Checksum"]["ChecksumSHA256"] == checksum
        assert "ObjectParts" not in response

    def test_a_multipart_object_lists_its_parts(self, s3: Any, bucket: str) -> None:
        upload = s3.create_multipart_upload(Bucket=bucket, Key="mp")["UploadId"]
        part = s3.upload_part(Bucket=bucket, Key="mp", UploadId=upload, PartNumber=1, Body=b"x" * 1000)
        done = s3.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=upload, MultipartUpload={
            "Parts": [{"ETag": part["ETag"], "PartNumber": 1}]})
        response = s3.get_object_attributes(Bucket=bucket, Key="mp", ObjectAttributes=list(self.ALL))
        assert response["ETag"] == done["ETag"].strip('"')
        assert response["ObjectParts"]["TotalPartsCount"] == 1
        assert [(p["PartNumber"], p["Size"]) for p in response["ObjectParts"]["Parts"]] == [(1, 1000)]


SSE_C = {
    "x-amz-server-side-encryption-customer-algorithm": "AES256",
    "x-amz-server-side-encryption-customer-key": "pO3upElrwuEXSoFwCfnZPdSsmt/xWeFa0N9KgDijwVs=",
    "x-amz-server-side-encryption-customer-key-md5": "DWygnHRtgiJ77HCm+1rvHw==",
}


class TestFeaturesNotImplementedYet:
    @pytest.mark.parametrize("headers", [
        pytest.param(SSE_C, id="sse-c"),
        pytest.param({"x-amz-server-side-encryption": "aws:kms"}, id="sse-kms"),
        pytest.param({"x-amz-object-lock-mode": "GOVERNANCE",
                      "x-amz-object-lock-retain-until-date": "2030-01-01T00:00:00Z"}, id="object-lock"),
        pytest.param({"x-amz-object-lock-legal-hold": "ON"}, id="legal-hold"),
    ])
    @pytest.mark.parametrize("operation", ["PutObject", "CreateMultipartUpload"])
    def test_a_write_asking_for_them_is_not_implemented_and_stores_nothing(
        self, server: StratoServer, bucket: str, headers: dict[str, str], operation: str
    ) -> None:
        client = with_headers(server, operation, headers)
        if operation == "PutObject":
            with pytest.raises(ClientError) as caught:
                client.put_object(Bucket=bucket, Key="foo", Body=b"bar")
        else:
            with pytest.raises(ClientError) as caught:
                client.create_multipart_upload(Bucket=bucket, Key="foo")
        assert error_of(caught) == ("NotImplemented", 501)
        assert "Contents" not in client.list_objects_v2(Bucket=bucket)
        assert "Uploads" not in client.list_multipart_uploads(Bucket=bucket)

    @pytest.mark.parametrize("headers", [
        pytest.param({"x-amz-server-side-encryption": "AES256", **SSE_C}, id="sse-s3-and-sse-c"),
        pytest.param({"x-amz-server-side-encryption": "aws:kms", "x-amz-server-side-encryption-aws-kms-key-id": "k",
                      **SSE_C}, id="kms-and-sse-c"),
        pytest.param({"x-amz-server-side-encryption": "AES256", "x-amz-server-side-encryption-aws-kms-key-id": "k"},
                     id="sse-s3-with-a-kms-key"),
        pytest.param({"x-amz-server-side-encryption": "aes:kms"}, id="unknown-method"),
    ])
    def test_contradictory_or_unknown_encryption_is_an_invalid_argument(
        self, server: StratoServer, bucket: str, headers: dict[str, str]
    ) -> None:
        with pytest.raises(ClientError) as caught:
            with_headers(server, "PutObject", headers).put_object(Bucket=bucket, Key="testobj")
        assert error_of(caught) == ("InvalidArgument", 400)

    def test_sse_s3_is_accepted(self, s3: Any, bucket: str) -> None:
        s3.put_object(Bucket=bucket, Key="foo", Body=b"bar", ServerSideEncryption="AES256")
        assert body_of(s3.get_object(Bucket=bucket, Key="foo")) == b"bar"

    def test_a_bucket_with_object_lock_is_not_implemented(self, s3: Any) -> None:
        name = f"locked-{uuid.uuid4().hex[:12]}"
        with pytest.raises(ClientError) as caught:
            s3.create_bucket(Bucket=name, ObjectLockEnabledForBucket=True)
        assert error_of(caught) == ("NotImplemented", 501)
        with pytest.raises(ClientError):
            s3.head_bucket(Bucket=name)
