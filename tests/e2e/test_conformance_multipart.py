"""Multipart uploads as conformance suites probe them: completing (and completing again),
the part rules, reading parts back by number, copying parts, listing uploads and the
checksums a completion is checked against."""

from __future__ import annotations

import base64
import hashlib
from typing import Any

import pytest
from boto3.s3.transfer import TransferConfig
from botocore.exceptions import ClientError

from tests.e2e.client_errors import error_of

MiB = 1024 * 1024


def upload_parts(s3: Any, bucket: str, key: str, sizes: list[int], **create: Any) -> tuple[str, bytes, list[Any]]:
    """An upload with parts of `sizes` (distinct bytes each), not completed."""
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key=key, **create)["UploadId"]
    data = b""
    parts = []
    for number, size in enumerate(sizes, start=1):
        body = bytes([number % 251]) * size
        data += body
        etag = s3.upload_part(Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=body)["ETag"]
        parts.append({"ETag": etag.strip('"'), "PartNumber": number})
    return upload_id, data, parts


class TestCompleting:
    def test_completing_twice_answers_the_same_object_again(self, s3: Any, bucket: str) -> None:
        upload_id, data, parts = upload_parts(s3, bucket, "mp", [5 * MiB, 1])
        first = s3.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=upload_id,
                                             MultipartUpload={"Parts": parts})
        again = s3.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=upload_id,
                                             MultipartUpload={"Parts": parts})
        assert again["ETag"] == first["ETag"]
        assert (again["Bucket"], again["Key"]) == (bucket, "mp")
        assert s3.get_object(Bucket=bucket, Key="mp")["Body"].read() == data

    def test_completing_again_with_other_parts_is_no_such_upload(self, s3: Any, bucket: str) -> None:
        upload_id, _, parts = upload_parts(s3, bucket, "mp", [1])
        s3.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=upload_id, MultipartUpload={"Parts": parts})
        with pytest.raises(ClientError) as caught:
            s3.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=upload_id, MultipartUpload={
                "Parts": [{"ETag": "ffffffffffffffffffffffffffffffff", "PartNumber": 1}]})
        assert error_of(caught) == ("NoSuchUpload", 404)

    def test_a_completion_without_a_body_is_malformed_xml(self, s3: Any, bucket: str) -> None:
        upload_id = s3.create_multipart_upload(Bucket=bucket, Key="mp")["UploadId"]
        with pytest.raises(ClientError) as caught:
            s3.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=upload_id)
        assert error_of(caught) == ("MalformedXML", 400)

    def test_parts_below_5_mib_before_the_last_are_entity_too_small(self, s3: Any, bucket: str) -> None:
        upload_id, _, parts = upload_parts(s3, bucket, "mp", [10 * 1024] * 10)
        with pytest.raises(ClientError) as caught:
            s3.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=upload_id,
                                         MultipartUpload={"Parts": parts})
        assert error_of(caught) == ("EntityTooSmall", 400)

    @pytest.mark.parametrize(("number", "etag"), [(9999, None), (1, "ffffffffffffffffffffffffffffffff")])
    def test_a_missing_part_or_a_wrong_etag_is_invalid_part(
        self, s3: Any, bucket: str, number: int, etag: str | None
    ) -> None:
        upload_id, _, parts = upload_parts(s3, bucket, "mp", [1])
        named = [{"ETag": etag or parts[0]["ETag"], "PartNumber": number}]
        with pytest.raises(ClientError) as caught:
            s3.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=upload_id,
                                         MultipartUpload={"Parts": named})
        assert error_of(caught) == ("InvalidPart", 400)

    def test_a_resent_part_replaces_the_first(self, s3: Any, bucket: str) -> None:
        upload_id, _, parts = upload_parts(s3, bucket, "mp", [5 * MiB, 5 * MiB, 100])
        resent = b"r" * (5 * MiB)
        etag = s3.upload_part(Bucket=bucket, Key="mp", UploadId=upload_id, PartNumber=2, Body=resent)["ETag"]
        parts[1]["ETag"] = etag.strip('"')
        s3.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=upload_id, MultipartUpload={"Parts": parts})
        body = s3.get_object(Bucket=bucket, Key="mp", Range=f"bytes={5 * MiB}-{10 * MiB - 1}")["Body"].read()
        assert body == resent

    def test_metadata_and_content_type_of_the_creation_are_the_objects(self, s3: Any, bucket: str) -> None:
        upload_id, data, parts = upload_parts(s3, bucket, "mp", [5 * MiB, 3], ContentType="text/bla",
                                              Metadata={"foo": "bar"})
        s3.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=upload_id, MultipartUpload={"Parts": parts})
        got = s3.get_object(Bucket=bucket, Key="mp")
        assert (got["ContentType"], got["Metadata"], got["ContentLength"]) == ("text/bla", {"foo": "bar"}, len(data))
        listed = s3.list_objects_v2(Bucket=bucket, Prefix="mp")["Contents"]
        assert [(o["Key"], o["Size"]) for o in listed] == [("mp", len(data))]

    def test_an_upload_overwrites_an_existing_object_only_when_completed(self, s3: Any, bucket: str) -> None:
        s3.put_object(Bucket=bucket, Key="foo", Body=b"bar")
        upload_id = s3.create_multipart_upload(Bucket=bucket, Key="foo")["UploadId"]
        assert s3.get_object(Bucket=bucket, Key="foo")["Body"].read() == b"bar"
        s3.abort_multipart_upload(Bucket=bucket, Key="foo", UploadId=upload_id)
        assert s3.get_object(Bucket=bucket, Key="foo")["Body"].read() == b"bar"

    def test_aborting_an_unknown_upload_is_no_such_upload(self, s3: Any, bucket: str) -> None:
        s3.put_object(Bucket=bucket, Key="mp", Body=b"")
        with pytest.raises(ClientError) as caught:
            s3.abort_multipart_upload(Bucket=bucket, Key="mp", UploadId="56788")
        assert error_of(caught) == ("NoSuchUpload", 404)

    def test_an_aborted_upload_leaves_no_object(self, s3: Any, bucket: str) -> None:
        upload_id, _, _ = upload_parts(s3, bucket, "mp", [5 * MiB, 5 * MiB])
        s3.abort_multipart_upload(Bucket=bucket, Key="mp", UploadId=upload_id)
        assert "Contents" not in s3.list_objects_v2(Bucket=bucket, Prefix="mp")

    def test_uploads_in_progress_are_listed(self, s3: Any, bucket: str) -> None:
        ids = {upload_parts(s3, bucket, key, [1])[0] for key in ("mymultipart", "mymultipart", "mymultipart2")}
        listed = {u["UploadId"] for u in s3.list_multipart_uploads(Bucket=bucket)["Uploads"]}
        assert ids <= listed


class TestReadingPartsByNumber:
    SIZES = (5 * MiB, 5 * MiB, 5 * MiB, MiB)

    def test_each_part_reads_back_with_the_objects_etag_and_the_parts_count(self, s3: Any, bucket: str) -> None:
        upload_id, data, parts = upload_parts(s3, bucket, "mp", list(self.SIZES))
        with pytest.raises(ClientError) as caught:
            s3.get_object(Bucket=bucket, Key="mp", PartNumber=1)
        assert error_of(caught) == ("NoSuchKey", 404)
        done = s3.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=upload_id,
                                            MultipartUpload={"Parts": parts})
        offset = 0
        for number, size in enumerate(self.SIZES, start=1):
            head = s3.head_object(Bucket=bucket, Key="mp", PartNumber=number)
            assert (head["PartsCount"], head["ETag"], head["ContentLength"]) == (4, done["ETag"], size)
            got = s3.get_object(Bucket=bucket, Key="mp", PartNumber=number)
            assert (got["PartsCount"], got["ETag"]) == (4, done["ETag"])
            assert got["Body"].read() == data[offset:offset + size]
            offset += size

    def test_a_part_number_past_the_last_part_is_invalid_part_number(self, s3: Any, bucket: str) -> None:
        upload_id, _, parts = upload_parts(s3, bucket, "mp", [5 * MiB, 1])
        s3.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=upload_id, MultipartUpload={"Parts": parts})
        with pytest.raises(ClientError) as caught:
            s3.get_object(Bucket=bucket, Key="mp", PartNumber=5)
        assert error_of(caught) == ("InvalidPartNumber", 416)
        error = caught.value.response["Error"]
        assert (error["PartNumberRequested"], error["ActualPartCount"]) == ("5", "2")

    def test_a_simple_object_is_its_own_part_1(self, s3: Any, bucket: str) -> None:
        etag = s3.put_object(Bucket=bucket, Key="single", Body=b"body")["ETag"]
        got = s3.get_object(Bucket=bucket, Key="single", PartNumber=1)
        assert (got["ETag"], got["Body"].read()) == (etag, b"body")
        with pytest.raises(ClientError) as caught:
            s3.get_object(Bucket=bucket, Key="single", PartNumber=2)
        assert error_of(caught) == ("InvalidPartNumber", 416)


class TestCopyingParts:
    def test_ranges_of_a_source_become_parts(self, s3: Any, bucket: str) -> None:
        source = hashlib.sha256(b"x").digest() * (7 * MiB // 32)
        s3.put_object(Bucket=bucket, Key="src", Body=source)
        for size in (1, 5 * MiB, 5 * MiB + 100 * 1024):
            upload_id = s3.create_multipart_upload(Bucket=bucket, Key="dst")["UploadId"]
            parts = []
            for number, start in enumerate(range(0, size, 5 * MiB), start=1):
                end = min(start + 5 * MiB, size) - 1
                copied = s3.upload_part_copy(Bucket=bucket, Key="dst", UploadId=upload_id, PartNumber=number,
                                             CopySource={"Bucket": bucket, "Key": "src"},
                                             CopySourceRange=f"bytes={start}-{end}")
                parts.append({"ETag": copied["CopyPartResult"]["ETag"], "PartNumber": number})
            s3.complete_multipart_upload(Bucket=bucket, Key="dst", UploadId=upload_id,
                                         MultipartUpload={"Parts": parts})
            assert s3.get_object(Bucket=bucket, Key="dst")["Body"].read() == source[:size]

    @pytest.mark.parametrize("key", [" ", "_", "__", "?versionId"])
    def test_a_source_key_with_special_characters_is_copied(self, s3: Any, bucket: str, key: str) -> None:
        s3.put_object(Bucket=bucket, Key=key, Body=b"abc")
        upload_id = s3.create_multipart_upload(Bucket=bucket, Key="dst")["UploadId"]
        copied = s3.upload_part_copy(Bucket=bucket, Key="dst", UploadId=upload_id, PartNumber=1,
                                     CopySource={"Bucket": bucket, "Key": key}, CopySourceRange="bytes=0-0")
        s3.complete_multipart_upload(Bucket=bucket, Key="dst", UploadId=upload_id, MultipartUpload={
            "Parts": [{"ETag": copied["CopyPartResult"]["ETag"], "PartNumber": 1}]})
        assert s3.get_object(Bucket=bucket, Key="dst")["Body"].read() == b"a"

    def test_a_range_past_the_source_is_invalid_range(self, s3: Any, bucket: str) -> None:
        s3.put_object(Bucket=bucket, Key="source", Body=b"12345")
        upload_id = s3.create_multipart_upload(Bucket=bucket, Key="dest")["UploadId"]
        with pytest.raises(ClientError) as caught:
            s3.upload_part_copy(Bucket=bucket, Key="dest", UploadId=upload_id, PartNumber=1,
                                CopySource={"Bucket": bucket, "Key": "source"}, CopySourceRange="bytes=0-21")
        assert caught.value.response["Error"]["Code"] == "InvalidRange"
        assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] in (400, 416)

    @pytest.mark.parametrize("spec", ["0-2", "bytes=0", "bytes=hello-world", "bytes=0-bar", "bytes=hello-",
                                      "bytes=0-2,3-5"])
    def test_a_range_that_is_not_first_to_last_is_an_invalid_argument(
        self, s3: Any, bucket: str, spec: str
    ) -> None:
        s3.put_object(Bucket=bucket, Key="source", Body=b"12345")
        upload_id = s3.create_multipart_upload(Bucket=bucket, Key="dest")["UploadId"]
        with pytest.raises(ClientError) as caught:
            s3.upload_part_copy(Bucket=bucket, Key="dest", UploadId=upload_id, PartNumber=1,
                                CopySource={"Bucket": bucket, "Key": "source"}, CopySourceRange=spec)
        assert error_of(caught) == ("InvalidArgument", 400)

    def test_a_percent_in_a_source_key_is_not_read_as_an_escape(self, s3: Any, bucket: str) -> None:
        s3.put_object(Bucket=bucket, Key="anyfilename%25.txt", Body=b"foo")
        s3.put_object(Bucket=bucket, Key="anyfile.txt", Body=b"foo")
        upload_id = s3.create_multipart_upload(Bucket=bucket, Key="anyfile.txt")["UploadId"]
        with pytest.raises(ClientError) as caught:
            s3.upload_part_copy(Bucket=bucket, Key="anyfile.txt", UploadId=upload_id, PartNumber=1,
                                CopySource={"Bucket": bucket, "Key": "anyfilename%.txt"})
        assert error_of(caught) == ("NoSuchKey", 404)
        assert s3.get_object(Bucket=bucket, Key="anyfile.txt")["Body"].read() == b"foo"

    def test_a_part_copied_into_an_upload_with_a_checksum_algorithm_gets_that_checksum(
        self, s3: Any, bucket: str
    ) -> None:
        """S3 computes a copied part's checksum in the upload's algorithm and returns it in
        CopyPartResult, for the completion to name (s3transfer's managed copy does this)."""
        source = b"copied part " * 1000
        s3.put_object(Bucket=bucket, Key="src", Body=source)
        upload_id = s3.create_multipart_upload(Bucket=bucket, Key="dst", ChecksumAlgorithm="SHA256")["UploadId"]
        copied = s3.upload_part_copy(Bucket=bucket, Key="dst", UploadId=upload_id, PartNumber=1,
                                     CopySource={"Bucket": bucket, "Key": "src"})["CopyPartResult"]
        assert copied["ChecksumSHA256"] == sha256_b64(source)
        s3.complete_multipart_upload(Bucket=bucket, Key="dst", UploadId=upload_id, MultipartUpload={"Parts": [
            {"ETag": copied["ETag"], "ChecksumSHA256": copied["ChecksumSHA256"], "PartNumber": 1}]})
        assert s3.get_object(Bucket=bucket, Key="dst")["Body"].read() == source

    def test_a_managed_multipart_copy_with_a_checksum_algorithm_completes(self, s3: Any, bucket: str) -> None:
        source = hashlib.sha256(b"y").digest() * (6 * MiB // 32)
        s3.put_object(Bucket=bucket, Key="big", Body=source)
        s3.copy({"Bucket": bucket, "Key": "big"}, bucket, "copy", ExtraArgs={"ChecksumAlgorithm": "SHA256"},
                Config=TransferConfig(multipart_threshold=5 * MiB, multipart_chunksize=5 * MiB))
        assert s3.get_object(Bucket=bucket, Key="copy")["Body"].read() == source


def sha256_b64(data: bytes) -> str:
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


class TestCompletionChecksums:
    def test_the_composite_sha256_given_at_completion_is_checked_and_kept(self, s3: Any, bucket: str) -> None:
        body = b"A" * 1024
        upload_id = s3.create_multipart_upload(Bucket=bucket, Key="mp", ChecksumAlgorithm="SHA256")["UploadId"]
        part = s3.upload_part(Bucket=bucket, Key="mp", UploadId=upload_id, PartNumber=1, Body=body,
                              ChecksumAlgorithm="SHA256", ChecksumSHA256=sha256_b64(body))
        composite = base64.b64encode(hashlib.sha256(hashlib.sha256(body).digest()).digest()).decode() + "-1"
        assert composite == "Ok6Cs5b96ux6+MWQkJO7UBT5sKPBeXBLwvj/hK89smg=-1"
        done = s3.complete_multipart_upload(
            Bucket=bucket, Key="mp", UploadId=upload_id, ChecksumSHA256=composite,
            MultipartUpload={"Parts": [{"ETag": part["ETag"], "ChecksumSHA256": part["ChecksumSHA256"],
                                        "PartNumber": 1}]})
        assert done["ChecksumSHA256"] == composite
        assert "ChecksumSHA256" not in s3.head_object(Bucket=bucket, Key="mp")
        assert s3.head_object(Bucket=bucket, Key="mp", ChecksumMode="ENABLED")["ChecksumSHA256"] == composite

    def test_a_wrong_composite_sha256_at_completion_is_bad_digest(self, s3: Any, bucket: str) -> None:
        body = b"A" * 1024
        upload_id = s3.create_multipart_upload(Bucket=bucket, Key="mp", ChecksumAlgorithm="SHA256")["UploadId"]
        part = s3.upload_part(Bucket=bucket, Key="mp", UploadId=upload_id, PartNumber=1, Body=body,
                              ChecksumAlgorithm="SHA256")
        wrong = sha256_b64(b"something else") + "-1"
        with pytest.raises(ClientError) as caught:
            s3.complete_multipart_upload(
                Bucket=bucket, Key="mp", UploadId=upload_id, ChecksumSHA256=wrong,
                MultipartUpload={"Parts": [{"ETag": part["ETag"], "ChecksumSHA256": part["ChecksumSHA256"],
                                            "PartNumber": 1}]})
        assert error_of(caught) == ("BadDigest", 400)

    def test_a_composite_upload_completed_without_a_parts_checksum_is_invalid_request(
        self, s3: Any, bucket: str
    ) -> None:
        upload_id = s3.create_multipart_upload(Bucket=bucket, Key="mp", ChecksumAlgorithm="SHA256")["UploadId"]
        part = s3.upload_part(Bucket=bucket, Key="mp", UploadId=upload_id, PartNumber=1, Body=b"A" * 1024,
                              ChecksumAlgorithm="SHA256")
        with pytest.raises(ClientError) as caught:
            s3.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=upload_id,
                                         MultipartUpload={"Parts": [{"ETag": part["ETag"], "PartNumber": 1}]})
        assert error_of(caught) == ("InvalidRequest", 400)
        assert "It was missing for part 1" in caught.value.response["Error"]["Message"]
        assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 0
        done = s3.complete_multipart_upload(
            Bucket=bucket, Key="mp", UploadId=upload_id,
            MultipartUpload={"Parts": [{"ETag": part["ETag"], "ChecksumSHA256": part["ChecksumSHA256"],
                                        "PartNumber": 1}]})
        assert done["ChecksumType"] == "COMPOSITE"

    def test_a_part_sent_with_another_algorithm_than_the_uploads_is_a_checksum_type_mismatch(
        self, s3: Any, bucket: str
    ) -> None:
        upload_id = s3.create_multipart_upload(Bucket=bucket, Key="mp", ChecksumAlgorithm="SHA256")["UploadId"]
        with pytest.raises(ClientError) as caught:
            s3.upload_part(Bucket=bucket, Key="mp", UploadId=upload_id, PartNumber=1, Body=b"A" * 1024,
                           ChecksumAlgorithm="CRC32")
        assert error_of(caught) == ("InvalidRequest", 400)
        assert caught.value.response["Error"]["Message"] == (
            "Checksum Type mismatch occurred, expected checksum Type: sha256, actual checksum Type: crc32")
        assert s3.list_parts(Bucket=bucket, Key="mp", UploadId=upload_id).get("Parts", []) == []

    @pytest.mark.parametrize(("algorithm", "kind", "checksums"), [
        ("SHA256", "COMPOSITE", ["275VF5loJr1YYawit0XSHREhkFXYkkPKGuoK0x9VKxI=",
                                 "mrHwOfjTL5Zwfj74F05HOQGLdUb7E5szdCbxgUSq6NM=",
                                 "Vw7oB/nKQ5xWb3hNgbyfkvDiivl+U+/Dft48nfJfDow=",
                                 "uWBwpe1dxI4Vw8Gf0X9ynOdw/SS6VBzfWm9giiv1sf4=-3"]),
        ("SHA1", "COMPOSITE", ["iIaTCGbm+vdVjNqIMF2S0T7ibMk=", "LS/TJ32bAVKEwRu+sE3X7awh/lk=",
                               "6DDwovUaHwrKNXDMzOGbuvj9kxI=", "sizjvY4eud3MrcHdZM3cQ/ol39o=-3"]),
        ("CRC32", "FULL_OBJECT", ["JRTCyQ==", "QoZTGg==", "YAgjqw==", "WgDhBQ=="]),
        ("CRC32C", "FULL_OBJECT", ["MDaLrw==", "TH4EZg==", "Z7mBIQ==", "xU+Krw=="]),
        ("CRC64NVME", "FULL_OBJECT", ["L/E4WYn8v98=", "xW1l19VobYM=", "cK5MnNaWrW4=", "i+6LR0y3eFo="]),
    ])
    def test_three_parts_of_a_b_and_c_give_the_known_checksums(
        self, s3: Any, bucket: str, algorithm: str, kind: str, checksums: list[str]
    ) -> None:
        name = f"Checksum{algorithm}"
        upload = s3.create_multipart_upload(Bucket=bucket, Key="mp", ChecksumAlgorithm=algorithm, ChecksumType=kind)
        assert upload["ChecksumAlgorithm"] == algorithm
        parts = []
        for number, (char, checksum) in enumerate(zip("ABC", checksums, strict=False), start=1):
            part = s3.upload_part(Bucket=bucket, Key="mp", UploadId=upload["UploadId"], PartNumber=number,
                                  Body=char.encode() * (5 * MiB), ChecksumAlgorithm=algorithm, **{name: checksum})
            assert part[name] == checksum
            parts.append({"ETag": part["ETag"], name: part[name], "PartNumber": number})
        done = s3.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=upload["UploadId"],
                                            MultipartUpload={"Parts": parts}, **{name: checksums[3]})
        assert (done["ChecksumType"], done[name]) == (kind, checksums[3])
        head = s3.head_object(Bucket=bucket, Key="mp", ChecksumMode="ENABLED")
        assert (head["ChecksumType"], head[name]) == (kind, checksums[3])
        attributes = s3.get_object_attributes(Bucket=bucket, Key="mp", ObjectAttributes=["Checksum"])
        assert (attributes["Checksum"]["ChecksumType"], attributes["Checksum"][name]) == (kind, checksums[3])
