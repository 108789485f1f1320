"""Checksums as boto3 computes, sends and validates them: whole objects, Content-MD5,
multipart composite and full-object checksums, GetObjectAttributes, and aws-chunked
trailers (STREAMING-UNSIGNED-PAYLOAD-TRAILER) over plain HTTP."""

from __future__ import annotations

import base64
import hashlib
import os
import zlib
from collections.abc import Sequence
from typing import Any

import pytest
from awscrt import checksums as crt
from botocore.exceptions import ClientError
from botocore.httpchecksum import AwsChunkedWrapper, Crc32Checksum

from tests.conftest import make_client
from tests.e2e.client_errors import error_of
from tests.servers import StratoServer

MiB = 1024 * 1024
ALGORITHMS = ["CRC32", "CRC32C", "SHA1", "SHA256", "CRC64NVME"]


def raw_digest(algorithm: str, data: bytes) -> bytes:
    """The digest S3 reports, computed here independently of boto3."""
    if algorithm == "CRC32":
        return zlib.crc32(data).to_bytes(4, "big")
    if algorithm == "CRC32C":
        return int(crt.crc32c(data)).to_bytes(4, "big")
    if algorithm == "CRC64NVME":
        return int(crt.crc64nvme(data)).to_bytes(8, "big")
    return hashlib.new(algorithm.lower(), data).digest()


def checksum(algorithm: str, data: bytes) -> str:
    return base64.b64encode(raw_digest(algorithm, data)).decode()


def composite(algorithm: str, parts: Sequence[bytes]) -> str:
    joined = b"".join(raw_digest(algorithm, part) for part in parts)
    return f"{checksum(algorithm, joined)}-{len(parts)}"


def checksums_in(response: dict[str, Any]) -> dict[str, str]:
    return {k: v for k, v in response.items() if k.startswith("Checksum") and k != "ChecksumType"}


def multipart(s3: Any, bucket: str, key: str, parts: Sequence[bytes], algorithm: str, **create: Any) -> str:
    """An upload with every part carrying its checksum; returns the upload id, not completed."""
    upload_id: str = s3.create_multipart_upload(Bucket=bucket, Key=key, ChecksumAlgorithm=algorithm,
                                                **create)["UploadId"]
    for number, data in enumerate(parts, 1):
        s3.upload_part(Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=data,
                       ChecksumAlgorithm=algorithm)
    return upload_id


def completed_parts(s3: Any, bucket: str, key: str, upload_id: str) -> list[dict[str, Any]]:
    listed = s3.list_parts(Bucket=bucket, Key=key, UploadId=upload_id)["Parts"]
    return [{"PartNumber": p["PartNumber"], "ETag": p["ETag"], **checksums_in(p)} for p in listed]


class TestWholeObjectChecksums:
    @pytest.mark.parametrize("algorithm", ALGORITHMS)
    def test_a_put_with_a_checksum_algorithm_stores_and_returns_that_checksum(
        self, s3: Any, bucket: str, algorithm: str
    ) -> None:
        data = b"checksummed " * 1000
        put = s3.put_object(Bucket=bucket, Key="k", Body=data, ChecksumAlgorithm=algorithm)
        expected = checksum(algorithm, data)
        assert put[f"Checksum{algorithm}"] == expected
        head = s3.head_object(Bucket=bucket, Key="k", ChecksumMode="ENABLED")
        assert checksums_in(head) == {f"Checksum{algorithm}": expected}
        assert head["ChecksumType"] == "FULL_OBJECT"
        got = s3.get_object(Bucket=bucket, Key="k", ChecksumMode="ENABLED")
        assert got[f"Checksum{algorithm}"] == expected
        assert got["Body"].read() == data  # boto3 validates the checksum while reading

    def test_a_plain_put_gets_boto3s_default_crc32(self, s3: Any, bucket: str) -> None:
        s3.put_object(Bucket=bucket, Key="k", Body=b"default")
        head = s3.head_object(Bucket=bucket, Key="k", ChecksumMode="ENABLED")
        assert head["ChecksumCRC32"] == checksum("CRC32", b"default")

    def test_a_checksum_supplied_by_the_caller_is_verified_and_stored(self, s3: Any, bucket: str) -> None:
        s3.put_object(Bucket=bucket, Key="k", Body=b"given", ChecksumSHA256=checksum("SHA256", b"given"))
        head = s3.head_object(Bucket=bucket, Key="k", ChecksumMode="ENABLED")
        assert head["ChecksumSHA256"] == checksum("SHA256", b"given")

    @pytest.mark.parametrize("algorithm", ["CRC32", "SHA256"])
    def test_a_wrong_checksum_is_bad_digest_and_the_old_object_stays(
        self, s3: Any, bucket: str, algorithm: str
    ) -> None:
        s3.put_object(Bucket=bucket, Key="k", Body=b"original")
        wrong = checksum(algorithm, b"something else")
        with pytest.raises(ClientError) as caught:
            s3.put_object(Bucket=bucket, Key="k", Body=b"replacement", **{f"Checksum{algorithm}": wrong})
        assert error_of(caught) == ("BadDigest", 400)
        assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"original"

    def test_a_wrong_checksum_on_a_new_key_stores_nothing(self, s3: Any, bucket: str) -> None:
        with pytest.raises(ClientError) as caught:
            s3.put_object(Bucket=bucket, Key="k", Body=b"x" * 100_000, ChecksumCRC32=checksum("CRC32", b"y"))
        assert error_of(caught) == ("BadDigest", 400)
        assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 0

    def test_a_checksum_that_is_not_a_digest_is_an_invalid_request(self, s3: Any, bucket: str) -> None:
        with pytest.raises(ClientError) as caught:
            s3.put_object(Bucket=bucket, Key="k", Body=b"x", ChecksumCRC32="not-base64!")
        assert error_of(caught) == ("InvalidRequest", 400)


class TestContentMD5:
    def test_a_matching_content_md5_is_accepted(self, s3: Any, bucket: str) -> None:
        md5 = base64.b64encode(hashlib.md5(b"body").digest()).decode()
        s3.put_object(Bucket=bucket, Key="k", Body=b"body", ContentMD5=md5)
        assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"body"

    def test_a_wrong_content_md5_is_bad_digest_and_the_old_object_stays(self, s3: Any, bucket: str) -> None:
        s3.put_object(Bucket=bucket, Key="k", Body=b"original")
        wrong = base64.b64encode(hashlib.md5(b"other").digest()).decode()
        with pytest.raises(ClientError) as caught:
            s3.put_object(Bucket=bucket, Key="k", Body=b"replacement", ContentMD5=wrong)
        assert error_of(caught) == ("BadDigest", 400)
        assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"original"

    @pytest.mark.parametrize("value", ["not base64 at all", base64.b64encode(b"short").decode()])
    def test_a_malformed_content_md5_is_invalid_digest(self, s3: Any, bucket: str, value: str) -> None:
        with pytest.raises(ClientError) as caught:
            s3.put_object(Bucket=bucket, Key="k", Body=b"x", ContentMD5=value)
        assert error_of(caught) == ("InvalidDigest", 400)

    def test_a_wrong_content_md5_on_a_part_is_bad_digest(self, s3: Any, bucket: str) -> None:
        upload_id = s3.create_multipart_upload(Bucket=bucket, Key="k")["UploadId"]
        wrong = base64.b64encode(hashlib.md5(b"other").digest()).decode()
        with pytest.raises(ClientError) as caught:
            s3.upload_part(Bucket=bucket, Key="k", UploadId=upload_id, PartNumber=1, Body=b"x",
                           ContentMD5=wrong)
        assert error_of(caught) == ("BadDigest", 400)
        assert s3.list_parts(Bucket=bucket, Key="k", UploadId=upload_id).get("Parts", []) == []


class TestMultipartChecksums:
    PARTS = (os.urandom(5 * MiB), os.urandom(5 * MiB), b"the last part")

    @pytest.mark.parametrize("algorithm", ["SHA256", "SHA1", "CRC32", "CRC32C"])
    def test_parts_with_checksums_make_a_composite_checksum_of_the_part_checksums(
        self, s3: Any, bucket: str, algorithm: str
    ) -> None:
        upload_id = multipart(s3, bucket, "k", self.PARTS, algorithm)
        parts = completed_parts(s3, bucket, "k", upload_id)
        assert [p[f"Checksum{algorithm}"] for p in parts] == [checksum(algorithm, d) for d in self.PARTS]
        done = s3.complete_multipart_upload(Bucket=bucket, Key="k", UploadId=upload_id,
                                            MultipartUpload={"Parts": parts})
        expected = composite(algorithm, self.PARTS)
        assert done[f"Checksum{algorithm}"] == expected
        head = s3.head_object(Bucket=bucket, Key="k", ChecksumMode="ENABLED")
        assert head[f"Checksum{algorithm}"] == expected
        assert head["ChecksumType"] == "COMPOSITE"

    def test_a_part_read_by_number_reports_that_parts_checksum(self, s3: Any, bucket: str) -> None:
        upload_id = multipart(s3, bucket, "k", self.PARTS, "SHA256")
        s3.complete_multipart_upload(Bucket=bucket, Key="k", UploadId=upload_id,
                                     MultipartUpload={"Parts": completed_parts(s3, bucket, "k", upload_id)})
        got = s3.get_object(Bucket=bucket, Key="k", PartNumber=2, ChecksumMode="ENABLED")
        assert got["ChecksumSHA256"] == checksum("SHA256", self.PARTS[1])
        assert got["Body"].read() == self.PARTS[1]

    @pytest.mark.parametrize("algorithm", ["CRC32", "CRC32C", "CRC64NVME"])
    def test_a_full_object_crc_equals_the_crc_of_all_the_data(
        self, s3: Any, bucket: str, algorithm: str
    ) -> None:
        upload_id = multipart(s3, bucket, "k", self.PARTS, algorithm, ChecksumType="FULL_OBJECT")
        parts = completed_parts(s3, bucket, "k", upload_id)
        done = s3.complete_multipart_upload(Bucket=bucket, Key="k", UploadId=upload_id,
                                            MultipartUpload={"Parts": parts})
        whole = b"".join(self.PARTS)
        assert done[f"Checksum{algorithm}"] == checksum(algorithm, whole)
        assert done["ChecksumType"] == "FULL_OBJECT"
        got = s3.get_object(Bucket=bucket, Key="k", ChecksumMode="ENABLED")
        assert got[f"Checksum{algorithm}"] == checksum(algorithm, whole)
        assert got["Body"].read() == whole  # boto3 validates the full-object CRC while reading

    def test_the_full_object_crc32_is_zlibs_crc32_of_the_data(self, s3: Any, bucket: str) -> None:
        upload_id = multipart(s3, bucket, "k", self.PARTS, "CRC32", ChecksumType="FULL_OBJECT")
        s3.complete_multipart_upload(Bucket=bucket, Key="k", UploadId=upload_id,
                                     MultipartUpload={"Parts": completed_parts(s3, bucket, "k", upload_id)})
        head = s3.head_object(Bucket=bucket, Key="k", ChecksumMode="ENABLED")
        assert base64.b64decode(head["ChecksumCRC32"]) == zlib.crc32(b"".join(self.PARTS)).to_bytes(4, "big")

    def test_the_create_response_names_the_algorithm_and_type(self, s3: Any, bucket: str) -> None:
        created = s3.create_multipart_upload(Bucket=bucket, Key="k", ChecksumAlgorithm="CRC32",
                                             ChecksumType="FULL_OBJECT")
        assert (created["ChecksumAlgorithm"], created["ChecksumType"]) == ("CRC32", "FULL_OBJECT")
        listed = s3.list_parts(Bucket=bucket, Key="k", UploadId=created["UploadId"])
        assert (listed["ChecksumAlgorithm"], listed["ChecksumType"]) == ("CRC32", "FULL_OBJECT")

    def test_a_full_object_checksum_given_at_completion_is_verified(self, s3: Any, bucket: str) -> None:
        upload_id = multipart(s3, bucket, "k", self.PARTS, "CRC32", ChecksumType="FULL_OBJECT")
        parts = completed_parts(s3, bucket, "k", upload_id)
        whole = checksum("CRC32", b"".join(self.PARTS))
        done = s3.complete_multipart_upload(Bucket=bucket, Key="k", UploadId=upload_id, ChecksumCRC32=whole,
                                            ChecksumType="FULL_OBJECT", MultipartUpload={"Parts": parts})
        assert done["ChecksumCRC32"] == whole

    def test_a_wrong_full_object_checksum_at_completion_is_bad_digest_and_creates_nothing(
        self, s3: Any, bucket: str
    ) -> None:
        upload_id = multipart(s3, bucket, "k", self.PARTS, "CRC32", ChecksumType="FULL_OBJECT")
        parts = completed_parts(s3, bucket, "k", upload_id)
        with pytest.raises(ClientError) as caught:
            s3.complete_multipart_upload(Bucket=bucket, Key="k", UploadId=upload_id,
                                         ChecksumCRC32=checksum("CRC32", b"not the data"),
                                         ChecksumType="FULL_OBJECT", MultipartUpload={"Parts": parts})
        assert error_of(caught) == ("BadDigest", 400)
        assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 0
        assert [u["UploadId"] for u in s3.list_multipart_uploads(Bucket=bucket)["Uploads"]] == [upload_id]

    def test_a_wrong_part_checksum_at_completion_is_invalid_part(self, s3: Any, bucket: str) -> None:
        upload_id = multipart(s3, bucket, "k", self.PARTS[1:], "SHA256")
        parts = completed_parts(s3, bucket, "k", upload_id)
        parts[0]["ChecksumSHA256"] = checksum("SHA256", b"not this part")
        with pytest.raises(ClientError) as caught:
            s3.complete_multipart_upload(Bucket=bucket, Key="k", UploadId=upload_id,
                                         MultipartUpload={"Parts": parts})
        assert error_of(caught) == ("InvalidPart", 400)

    def test_a_part_with_a_wrong_checksum_is_bad_digest_and_not_kept(self, s3: Any, bucket: str) -> None:
        upload_id = s3.create_multipart_upload(Bucket=bucket, Key="k", ChecksumAlgorithm="SHA256")["UploadId"]
        with pytest.raises(ClientError) as caught:
            s3.upload_part(Bucket=bucket, Key="k", UploadId=upload_id, PartNumber=1, Body=b"part",
                           ChecksumSHA256=checksum("SHA256", b"other"))
        assert error_of(caught) == ("BadDigest", 400)
        assert s3.list_parts(Bucket=bucket, Key="k", UploadId=upload_id).get("Parts", []) == []


class TestGetObjectAttributes:
    ALL = ("ETag", "Checksum", "ObjectParts", "StorageClass", "ObjectSize")

    def test_a_simple_object_reports_etag_checksum_size_and_class(self, s3: Any, bucket: str) -> None:
        s3.put_object(Bucket=bucket, Key="k", Body=b"attributes", ChecksumAlgorithm="SHA1")
        attributes = s3.get_object_attributes(Bucket=bucket, Key="k", ObjectAttributes=list(self.ALL))
        assert attributes["ETag"] == hashlib.md5(b"attributes").hexdigest()
        assert attributes["Checksum"] == {"ChecksumSHA1": checksum("SHA1", b"attributes"),
                                          "ChecksumType": "FULL_OBJECT"}
        assert attributes["ObjectSize"] == 10
        assert attributes["StorageClass"] == "STANDARD"
        assert "ObjectParts" not in attributes
        assert attributes["LastModified"] == s3.head_object(Bucket=bucket, Key="k")["LastModified"]

    def test_a_multipart_object_reports_its_parts_with_their_checksums(self, s3: Any, bucket: str) -> None:
        parts = [os.urandom(5 * MiB), b"end"]
        upload_id = multipart(s3, bucket, "k", parts, "SHA256")
        s3.complete_multipart_upload(Bucket=bucket, Key="k", UploadId=upload_id,
                                     MultipartUpload={"Parts": completed_parts(s3, bucket, "k", upload_id)})
        attributes = s3.get_object_attributes(Bucket=bucket, Key="k", ObjectAttributes=list(self.ALL))
        assert attributes["ETag"].endswith("-2")
        assert attributes["Checksum"]["ChecksumSHA256"] == composite("SHA256", parts)
        assert attributes["Checksum"]["ChecksumType"] == "COMPOSITE"
        assert attributes["ObjectSize"] == 5 * MiB + 3
        object_parts = attributes["ObjectParts"]
        assert object_parts["TotalPartsCount"] == 2
        assert [(p["PartNumber"], p["Size"], p["ChecksumSHA256"]) for p in object_parts["Parts"]] == [
            (1, 5 * MiB, checksum("SHA256", parts[0])), (2, 3, checksum("SHA256", parts[1]))]

    def test_object_parts_page_with_max_parts_and_a_marker(self, s3: Any, bucket: str) -> None:
        parts = [os.urandom(5 * MiB), os.urandom(5 * MiB), b"end"]
        upload_id = multipart(s3, bucket, "k", parts, "CRC32")
        s3.complete_multipart_upload(Bucket=bucket, Key="k", UploadId=upload_id,
                                     MultipartUpload={"Parts": completed_parts(s3, bucket, "k", upload_id)})
        first = s3.get_object_attributes(Bucket=bucket, Key="k", ObjectAttributes=["ObjectParts"], MaxParts=2)
        assert [p["PartNumber"] for p in first["ObjectParts"]["Parts"]] == [1, 2]
        assert first["ObjectParts"]["IsTruncated"] is True
        rest = s3.get_object_attributes(Bucket=bucket, Key="k", ObjectAttributes=["ObjectParts"],
                                        PartNumberMarker=first["ObjectParts"]["NextPartNumberMarker"])
        assert [p["PartNumber"] for p in rest["ObjectParts"]["Parts"]] == [3]

    def test_only_the_attributes_asked_for_are_returned(self, s3: Any, bucket: str) -> None:
        s3.put_object(Bucket=bucket, Key="k", Body=b"x")
        attributes = s3.get_object_attributes(Bucket=bucket, Key="k", ObjectAttributes=["ObjectSize"])
        assert attributes["ObjectSize"] == 1
        assert not {"ETag", "Checksum", "StorageClass"} & set(attributes)

    def test_attributes_of_a_missing_key_are_no_such_key(self, s3: Any, bucket: str) -> None:
        with pytest.raises(ClientError) as caught:
            s3.get_object_attributes(Bucket=bucket, Key="missing", ObjectAttributes=["ETag"])
        assert error_of(caught) == ("NoSuchKey", 404)


class _WrongCrc32(Crc32Checksum):  # type: ignore[misc]
    def digest(self) -> bytes:
        return b"\x00\x00\x00\x00"


def trailer_client(server: StratoServer, sent: list[dict[str, str]], *, corrupt: bool = False) -> Any:
    """boto3 sending checksums as aws-chunked trailers, as it does over HTTPS.

    botocore picks the trailer form only for https endpoints; over http this client asks for it
    through botocore's own event hooks, and records the headers of what it sent."""
    client = make_client(server.url)

    def use_trailer(params: dict[str, Any], **_: Any) -> None:
        algorithm = params["context"].get("checksum", {}).get("request_algorithm")
        if isinstance(algorithm, dict):
            algorithm["in"] = "trailer"

    def lie_in_trailer(request: Any, **_: Any) -> None:
        if isinstance(request.data, AwsChunkedWrapper):
            raw = request.data._raw
            request.data = AwsChunkedWrapper(raw, checksum_cls=_WrongCrc32,
                                             checksum_name="x-amz-checksum-crc32")

    def record(request: Any, **_: Any) -> None:
        headers = request.headers.items()
        sent.append({k.lower(): v.decode() if isinstance(v, bytes) else v for k, v in headers})

    for operation in ("PutObject", "UploadPart"):
        client.meta.events.register(f"before-call.s3.{operation}", use_trailer)
        if corrupt:
            client.meta.events.register_first(f"request-created.s3.{operation}", lie_in_trailer)
        client.meta.events.register(f"before-send.s3.{operation}", record)
    return client


class TestTrailingChecksums:
    @pytest.mark.parametrize("algorithm", ALGORITHMS)
    def test_a_checksum_sent_as_a_trailer_is_verified_and_stored(
        self, server: StratoServer, s3: Any, bucket: str, algorithm: str
    ) -> None:
        sent: list[dict[str, str]] = []
        client = trailer_client(server, sent)
        data = os.urandom(MiB + 12345)  # more than one aws-chunked chunk
        put = client.put_object(Bucket=bucket, Key="k", Body=data, ChecksumAlgorithm=algorithm)
        (headers,) = sent
        assert headers["x-amz-content-sha256"] == "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
        assert headers["x-amz-trailer"] == f"x-amz-checksum-{algorithm.lower()}"
        assert "aws-chunked" in headers["content-encoding"]
        assert put[f"Checksum{algorithm}"] == checksum(algorithm, data)
        head = s3.head_object(Bucket=bucket, Key="k", ChecksumMode="ENABLED")
        assert head[f"Checksum{algorithm}"] == checksum(algorithm, data)
        assert head["ContentLength"] == len(data)
        assert "ContentEncoding" not in head
        assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == data

    def test_a_trailer_keeps_a_content_encoding_the_caller_set(
        self, server: StratoServer, s3: Any, bucket: str
    ) -> None:
        client = trailer_client(server, [])
        client.put_object(Bucket=bucket, Key="k", Body=b"compressed?", ContentEncoding="gzip")
        assert s3.head_object(Bucket=bucket, Key="k")["ContentEncoding"] == "gzip"

    def test_an_empty_body_with_a_trailer_is_stored_empty(
        self, server: StratoServer, s3: Any, bucket: str
    ) -> None:
        client = trailer_client(server, [])
        client.put_object(Bucket=bucket, Key="k", Body=b"", ChecksumAlgorithm="CRC32")
        got = s3.get_object(Bucket=bucket, Key="k", ChecksumMode="ENABLED")
        assert got["Body"].read() == b""
        assert got["ChecksumCRC32"] == checksum("CRC32", b"")

    def test_parts_sent_with_trailers_complete_into_the_object(
        self, server: StratoServer, s3: Any, bucket: str
    ) -> None:
        client = trailer_client(server, [])
        parts = [os.urandom(5 * MiB), b"tail"]
        upload_id = multipart(client, bucket, "k", parts, "CRC32C")
        done = client.complete_multipart_upload(
            Bucket=bucket, Key="k", UploadId=upload_id,
            MultipartUpload={"Parts": completed_parts(client, bucket, "k", upload_id)})
        assert done["ChecksumCRC32C"] == composite("CRC32C", parts)
        assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"".join(parts)

    def test_a_wrong_trailing_checksum_is_bad_digest_and_the_old_object_stays(
        self, server: StratoServer, s3: Any, bucket: str
    ) -> None:
        s3.put_object(Bucket=bucket, Key="k", Body=b"original")
        sent: list[dict[str, str]] = []
        liar = trailer_client(server, sent, corrupt=True)
        with pytest.raises(ClientError) as caught:
            liar.put_object(Bucket=bucket, Key="k", Body=b"replacement", ChecksumAlgorithm="CRC32")
        assert error_of(caught) == ("BadDigest", 400)
        assert sent[0]["x-amz-content-sha256"] == "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
        assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"original"
