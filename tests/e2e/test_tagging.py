"""Object and bucket tagging through real clients (boto3, the aws CLI, minio-py) against a
running strato: tags set by a write, by the tagging operations and by copies; S3's limits and
errors; a tag change leaves the object's ETag and Last-Modified alone."""

from __future__ import annotations

import io
import json
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.e2e.test_awscli import Aws
from tests.servers import StratoServer

MiB = 1024 * 1024


def tag_set(**tags: str) -> dict[str, Any]:
    return {"TagSet": [{"Key": key, "Value": value} for key, value in tags.items()]}


def tags_of(s3: Any, bucket: str, key: str) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in s3.get_object_tagging(Bucket=bucket, Key=key)["TagSet"]}


def error_of(raised: pytest.ExceptionInfo[ClientError]) -> tuple[int, str, str]:
    error = raised.value.response
    return error["ResponseMetadata"]["HTTPStatusCode"], error["Error"]["Code"], error["Error"]["Message"]


class TestObjectTagging:
    def test_tags_are_put_read_in_order_and_deleted(self, s3: Any, bucket: str) -> None:
        s3.put_object(Bucket=bucket, Key="k", Body=b"data")
        assert s3.get_object_tagging(Bucket=bucket, Key="k")["TagSet"] == []
        s3.put_object_tagging(Bucket=bucket, Key="k", Tagging=tag_set(zeta="1", alpha="", space="a b+c=d"))
        got = s3.get_object_tagging(Bucket=bucket, Key="k")["TagSet"]
        assert [(t["Key"], t["Value"]) for t in got] == [("zeta", "1"), ("alpha", ""), ("space", "a b+c=d")]
        deleted = s3.delete_object_tagging(Bucket=bucket, Key="k")
        assert deleted["ResponseMetadata"]["HTTPStatusCode"] == 204
        assert tags_of(s3, bucket, "k") == {}

    def test_a_tag_change_keeps_the_etag_last_modified_and_body(self, s3: Any, bucket: str) -> None:
        s3.put_object(Bucket=bucket, Key="k", Body=b"x" * 100_000)
        before = s3.head_object(Bucket=bucket, Key="k")
        s3.put_object_tagging(Bucket=bucket, Key="k", Tagging=tag_set(a="1"))
        after = s3.get_object(Bucket=bucket, Key="k")
        assert (after["ETag"], after["LastModified"]) == (before["ETag"], before["LastModified"])
        assert after["Body"].read() == b"x" * 100_000

    def test_a_put_sets_tags_from_its_header_and_reads_count_them(self, s3: Any, bucket: str) -> None:
        s3.put_object(Bucket=bucket, Key="k", Body=b"data", Tagging="team=blue%20sky&empty=&caf%C3%A9=%C3%A9t%C3%A9")
        assert tags_of(s3, bucket, "k") == {"team": "blue sky", "empty": "", "café": "été"}
        assert s3.get_object(Bucket=bucket, Key="k")["TagCount"] == 3
        head = s3.head_object(Bucket=bucket, Key="k")
        assert head["ResponseMetadata"]["HTTPHeaders"]["x-amz-tagging-count"] == "3"
        s3.put_object(Bucket=bucket, Key="k", Body=b"again")
        assert tags_of(s3, bucket, "k") == {}
        assert "TagCount" not in s3.get_object(Bucket=bucket, Key="k")

    def test_a_multipart_upload_applies_its_tags_at_completion(self, s3: Any, bucket: str) -> None:
        upload = s3.create_multipart_upload(Bucket=bucket, Key="mp", Tagging="stage=raw")["UploadId"]
        parts = [{"PartNumber": n, "ETag": s3.upload_part(Bucket=bucket, Key="mp", UploadId=upload, PartNumber=n,
                                                          Body=body)["ETag"]}
                 for n, body in ((1, b"a" * 5 * MiB), (2, b"b"))]
        with pytest.raises(ClientError):
            s3.get_object_tagging(Bucket=bucket, Key="mp")
        s3.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=upload, MultipartUpload={"Parts": parts})
        assert tags_of(s3, bucket, "mp") == {"stage": "raw"}

    def test_a_copy_keeps_the_source_tags_or_replaces_them(self, s3: Any, bucket: str) -> None:
        s3.put_object(Bucket=bucket, Key="src", Body=b"data", Tagging="from=source")
        source = {"Bucket": bucket, "Key": "src"}
        s3.copy_object(Bucket=bucket, Key="copied", CopySource=source)
        assert tags_of(s3, bucket, "copied") == {"from": "source"}
        s3.copy_object(Bucket=bucket, Key="replaced", CopySource=source, TaggingDirective="REPLACE",
                       Tagging="from=request")
        assert tags_of(s3, bucket, "replaced") == {"from": "request"}
        s3.copy_object(Bucket=bucket, Key="cleared", CopySource=source, TaggingDirective="REPLACE")
        assert tags_of(s3, bucket, "cleared") == {}

    def test_a_version_id_can_only_name_the_null_version(self, s3: Any, bucket: str) -> None:
        s3.put_object(Bucket=bucket, Key="k", Body=b"data")
        s3.put_object_tagging(Bucket=bucket, Key="k", VersionId="null", Tagging=tag_set(a="1"))
        assert s3.get_object_tagging(Bucket=bucket, Key="k", VersionId="null")["TagSet"] == [{"Key": "a",
                                                                                               "Value": "1"}]
        with pytest.raises(ClientError) as raised:
            s3.get_object_tagging(Bucket=bucket, Key="k", VersionId="3HL4kqtJlcpXroDTDmjVBH40Nrjfkd")
        assert error_of(raised)[:2] == (400, "InvalidArgument")

    def test_a_missing_key_is_no_such_key(self, s3: Any, bucket: str) -> None:
        calls: list[Callable[[], Any]] = [
            lambda: s3.get_object_tagging(Bucket=bucket, Key="missing"),
            lambda: s3.put_object_tagging(Bucket=bucket, Key="missing", Tagging=tag_set(a="1")),
            lambda: s3.delete_object_tagging(Bucket=bucket, Key="missing"),
        ]
        for call in calls:
            with pytest.raises(ClientError) as raised:
                call()
            assert error_of(raised)[:2] == (404, "NoSuchKey")


class TestTagLimits:
    @pytest.mark.parametrize(("tags", "code", "message"), [
        pytest.param({f"k{n}": "v" for n in range(11)}, "BadRequest", "Object tags cannot be greater than 10",
                     id="eleven-tags"),
        pytest.param({"k" * 129: "v"}, "InvalidTag", "The TagKey you have provided is too long, max 128",
                     id="long-key"),
        pytest.param({"k": "v" * 257}, "InvalidTag", "The TagValue you have provided is too long, max 256",
                     id="long-value"),
        pytest.param({"k": "a<b"}, "InvalidTag", "The TagValue you have provided is invalid", id="bad-char"),
        pytest.param({"aws:owner": "v"}, "InvalidTag", "Your TagKey cannot be prefixed with aws:", id="aws-prefix"),
    ])
    def test_put_object_tagging_refuses_what_s3_refuses(
        self, s3: Any, bucket: str, tags: dict[str, str], code: str, message: str
    ) -> None:
        s3.put_object(Bucket=bucket, Key="k", Body=b"data", Tagging="kept=yes")
        with pytest.raises(ClientError) as raised:
            s3.put_object_tagging(Bucket=bucket, Key="k", Tagging=tag_set(**tags))
        assert error_of(raised) == (400, code, message)
        assert tags_of(s3, bucket, "k") == {"kept": "yes"}

    def test_the_limits_themselves_are_accepted(self, s3: Any, bucket: str) -> None:
        s3.put_object(Bucket=bucket, Key="k", Body=b"data")
        wide = {f"{n}" + "é" * 127: "ü" * 256 for n in range(10)}
        s3.put_object_tagging(Bucket=bucket, Key="k", Tagging=tag_set(**wide))
        assert tags_of(s3, bucket, "k") == wide

    def test_duplicate_keys_are_invalid_tag(self, s3: Any, bucket: str) -> None:
        s3.put_object(Bucket=bucket, Key="k", Body=b"data")
        twice = {"TagSet": [{"Key": "a", "Value": "1"}, {"Key": "a", "Value": "2"}]}
        with pytest.raises(ClientError) as raised:
            s3.put_object_tagging(Bucket=bucket, Key="k", Tagging=twice)
        assert error_of(raised) == (400, "InvalidTag", "Cannot provide multiple Tags with the same key")

    def test_a_bad_tagging_header_refuses_the_write(self, s3: Any, bucket: str) -> None:
        with pytest.raises(ClientError) as raised:
            s3.put_object(Bucket=bucket, Key="dup", Body=b"data", Tagging="a=1&a=2")
        assert error_of(raised)[:2] == (400, "InvalidArgument")
        with pytest.raises(ClientError) as raised:
            s3.put_object(Bucket=bucket, Key="many", Body=b"data", Tagging="&".join(f"k{n}=v" for n in range(11)))
        assert error_of(raised)[:2] == (400, "BadRequest")
        with pytest.raises(ClientError) as raised:
            s3.put_object(Bucket=bucket, Key="aws", Body=b"data", Tagging="aws%3Ax=1")
        assert error_of(raised)[:2] == (400, "InvalidTag")
        listed = s3.list_objects_v2(Bucket=bucket)
        assert listed["KeyCount"] == 0

    def test_an_unknown_tagging_directive_is_invalid_argument(self, s3: Any, bucket: str) -> None:
        s3.put_object(Bucket=bucket, Key="src", Body=b"data")
        with pytest.raises(ClientError) as raised:
            s3.copy_object(Bucket=bucket, Key="dst", CopySource={"Bucket": bucket, "Key": "src"},
                           TaggingDirective="MERGE")
        assert error_of(raised)[:2] == (400, "InvalidArgument")


class TestBucketTagging:
    def test_bucket_tags_are_put_read_and_deleted(self, s3: Any, bucket: str) -> None:
        with pytest.raises(ClientError) as raised:
            s3.get_bucket_tagging(Bucket=bucket)
        assert error_of(raised) == (404, "NoSuchTagSet", "The TagSet does not exist")
        put = s3.put_bucket_tagging(Bucket=bucket, Tagging=tag_set(env="prod", team="storage"))
        assert put["ResponseMetadata"]["HTTPStatusCode"] == 204
        assert s3.get_bucket_tagging(Bucket=bucket)["TagSet"] == tag_set(env="prod", team="storage")["TagSet"]
        s3.put_bucket_tagging(Bucket=bucket, Tagging=tag_set(only="this"))
        assert s3.get_bucket_tagging(Bucket=bucket)["TagSet"] == [{"Key": "only", "Value": "this"}]
        deleted = s3.delete_bucket_tagging(Bucket=bucket)
        assert deleted["ResponseMetadata"]["HTTPStatusCode"] == 204
        with pytest.raises(ClientError) as raised:
            s3.get_bucket_tagging(Bucket=bucket)
        assert error_of(raised)[:2] == (404, "NoSuchTagSet")

    def test_fifty_tags_fit_and_fifty_one_do_not(self, s3: Any, bucket: str) -> None:
        s3.put_bucket_tagging(Bucket=bucket, Tagging=tag_set(**{f"k{n}": "v" for n in range(50)}))
        assert len(s3.get_bucket_tagging(Bucket=bucket)["TagSet"]) == 50
        with pytest.raises(ClientError) as raised:
            s3.put_bucket_tagging(Bucket=bucket, Tagging=tag_set(**{f"k{n}": "v" for n in range(51)}))
        assert error_of(raised)[:2] == (400, "InvalidTag")

    def test_a_missing_bucket_is_no_such_bucket(self, s3: Any) -> None:
        with pytest.raises(ClientError) as raised:
            s3.get_bucket_tagging(Bucket=f"absent-{uuid.uuid4().hex[:16]}")
        assert error_of(raised)[:2] == (404, "NoSuchBucket")


class TestMalformedBodies:
    @pytest.mark.parametrize(("body", "code"), [
        (b"<Tagging><TagSet><Tag><Key>a</Key></Tag></TagSet></Tagging>", "MalformedXML"),
        (b"<Tagging></Tagging>", "MalformedXML"),
        (b"<Other><TagSet/></Other>", "MalformedXML"),
        (b"<Tagging><TagSet>", "MalformedXML"),
        (b"<Tagging><TagSet><Tag><Key></Key><Value>v</Value></Tag></TagSet></Tagging>", "InvalidTag"),
    ], ids=["no-value", "no-tagset", "wrong-root", "unclosed", "empty-key"])
    def test_a_body_that_is_not_a_valid_tag_set_is_refused(self, s3: Any, bucket: str, body: bytes, code: str) -> None:
        s3.put_object(Bucket=bucket, Key="k", Body=b"data")

        def send_raw(request: Any, **_: Any) -> None:
            request.data = body
            for name in [h for h in request.headers if h.lower().startswith(("x-amz-checksum", "content-"))]:
                del request.headers[name]
            request.headers["Content-Length"] = str(len(body))

        s3.meta.events.register_first("before-sign.s3.PutObjectTagging", send_raw)
        try:
            with pytest.raises(ClientError) as raised:
                s3.put_object_tagging(Bucket=bucket, Key="k", Tagging=tag_set(a="1"))
        finally:
            s3.meta.events.unregister("before-sign.s3.PutObjectTagging", send_raw)
        assert error_of(raised)[:2] == (400, code)


def test_the_aws_cli_tags_objects_and_buckets(server: StratoServer, bucket: str, tmp_path: Path) -> None:
    aws = Aws(server, tmp_path / "home")
    (tmp_path / "f.txt").write_text("hello")
    aws("s3api", "put-object", "--bucket", bucket, "--key", "f.txt", "--body", str(tmp_path / "f.txt"),
        "--tagging", "made=cli")
    assert aws.json("s3api", "get-object-tagging", "--bucket", bucket, "--key", "f.txt")["TagSet"] == [
        {"Key": "made", "Value": "cli"}]
    aws("s3api", "put-object-tagging", "--bucket", bucket, "--key", "f.txt", "--tagging",
        json.dumps(tag_set(changed="yes")))
    assert aws.json("s3api", "get-object-tagging", "--bucket", bucket, "--key", "f.txt")["TagSet"] == [
        {"Key": "changed", "Value": "yes"}]
    aws("s3api", "delete-object-tagging", "--bucket", bucket, "--key", "f.txt")
    assert aws.json("s3api", "get-object-tagging", "--bucket", bucket, "--key", "f.txt")["TagSet"] == []
    aws("s3api", "put-bucket-tagging", "--bucket", bucket, "--tagging", json.dumps(tag_set(env="test")))
    assert aws.json("s3api", "get-bucket-tagging", "--bucket", bucket)["TagSet"] == [{"Key": "env", "Value": "test"}]
    aws("s3api", "delete-bucket-tagging", "--bucket", bucket)
    missing = aws("s3api", "get-bucket-tagging", "--bucket", bucket, check=False)
    assert missing.returncode != 0
    assert "NoSuchTagSet" in missing.stderr


def test_minio_py_sets_reads_and_deletes_tags(server: StratoServer, bucket: str) -> None:
    minio = pytest.importorskip("minio")
    from minio.commonconfig import Tags

    from tests.servers import ACCESS_KEY, SECRET_KEY

    mc = minio.Minio(f"127.0.0.1:{server.port}", access_key=ACCESS_KEY, secret_key=SECRET_KEY, secure=False)
    on_write = Tags.new_object_tags()
    on_write["origin"] = "minio"
    mc.put_object(bucket, "m", io.BytesIO(b"data"), 4, tags=on_write)
    assert dict(mc.get_object_tags(bucket, "m")) == {"origin": "minio"}
    changed = Tags.new_object_tags()
    changed["state"] = "done"
    mc.set_object_tags(bucket, "m", changed)
    assert dict(mc.get_object_tags(bucket, "m")) == {"state": "done"}
    mc.delete_object_tags(bucket, "m")
    assert mc.get_object_tags(bucket, "m") is None
    for_bucket = Tags.new_bucket_tags()
    for_bucket["env"] = "dev"
    mc.set_bucket_tags(bucket, for_bucket)
    assert dict(mc.get_bucket_tags(bucket)) == {"env": "dev"}
    mc.delete_bucket_tags(bucket)
    assert mc.get_bucket_tags(bucket) is None
