"""Multipart uploads with boto3: the upload lifecycle, part rules, listings, copying parts,
and boto3's managed transfers."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import unquote_plus

import pytest
from boto3.s3.transfer import TransferConfig
from botocore.exceptions import ClientError

from tests.e2e.client_errors import error_of

MiB = 1024 * 1024


def blob(size: int, seed: str) -> bytes:
    """Deterministic, incompressible-looking bytes."""
    block = hashlib.sha512(seed.encode()).digest()
    return (block * (size // len(block) + 1))[:size]


def start(s3: Any, bucket: str, key: str, **extra: Any) -> str:
    upload_id: str = s3.create_multipart_upload(Bucket=bucket, Key=key, **extra)["UploadId"]
    return upload_id


def upload(s3: Any, bucket: str, key: str, upload_id: str, number: int, data: bytes) -> dict[str, Any]:
    etag = s3.upload_part(Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=data)["ETag"]
    return {"PartNumber": number, "ETag": etag}


def complete(s3: Any, bucket: str, key: str, upload_id: str, parts: list[dict[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = s3.complete_multipart_upload(
        Bucket=bucket, Key=key, UploadId=upload_id, MultipartUpload={"Parts": parts})
    return result


class TestTheUploadLifecycle:
    def test_parts_completed_in_order_read_back_as_one_object(self, s3: Any, bucket: str) -> None:
        parts = [blob(5 * MiB, "one"), blob(5 * MiB, "two"), blob(123, "three")]
        upload_id = start(s3, bucket, "assembled.bin")
        done = [upload(s3, bucket, "assembled.bin", upload_id, n, data) for n, data in enumerate(parts, 1)]
        result = complete(s3, bucket, "assembled.bin", upload_id, done)
        assert result["Key"] == "assembled.bin"
        assert result["Bucket"] == bucket
        got = s3.get_object(Bucket=bucket, Key="assembled.bin")
        assert got["ContentLength"] == 10 * MiB + 123
        assert got["Body"].read() == b"".join(parts)

    def test_the_etag_is_the_md5_of_the_part_md5s_with_the_part_count(self, s3: Any, bucket: str) -> None:
        parts = [blob(5 * MiB, "a"), blob(5 * MiB, "b"), blob(10, "c")]
        upload_id = start(s3, bucket, "k")
        done = [upload(s3, bucket, "k", upload_id, n, data) for n, data in enumerate(parts, 1)]
        assert [p["ETag"] for p in done] == [f'"{hashlib.md5(p).hexdigest()}"' for p in parts]
        result = complete(s3, bucket, "k", upload_id, done)
        joined = b"".join(hashlib.md5(p).digest() for p in parts)
        expected = f'"{hashlib.md5(joined).hexdigest()}-3"'
        assert result["ETag"] == expected
        assert s3.head_object(Bucket=bucket, Key="k")["ETag"] == expected

    def test_metadata_given_at_creation_is_on_the_completed_object(self, s3: Any, bucket: str) -> None:
        upload_id = start(s3, bucket, "k", ContentType="video/mp4", Metadata={"camera": "front"},
                          CacheControl="no-store")
        complete(s3, bucket, "k", upload_id, [upload(s3, bucket, "k", upload_id, 1, b"frames")])
        head = s3.head_object(Bucket=bucket, Key="k")
        assert head["ContentType"] == "video/mp4"
        assert head["Metadata"] == {"camera": "front"}
        assert head["CacheControl"] == "no-store"

    def test_a_single_small_part_is_a_valid_upload(self, s3: Any, bucket: str) -> None:
        upload_id = start(s3, bucket, "tiny")
        complete(s3, bucket, "tiny", upload_id, [upload(s3, bucket, "tiny", upload_id, 1, b"tiny")])
        assert s3.get_object(Bucket=bucket, Key="tiny")["Body"].read() == b"tiny"

    def test_an_upload_in_progress_is_not_an_object_yet(self, s3: Any, bucket: str) -> None:
        upload_id = start(s3, bucket, "pending")
        upload(s3, bucket, "pending", upload_id, 1, b"data")
        assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 0
        with pytest.raises(ClientError) as caught:
            s3.head_object(Bucket=bucket, Key="pending")
        assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404

    def test_uploading_a_part_again_replaces_it(self, s3: Any, bucket: str) -> None:
        upload_id = start(s3, bucket, "k")
        upload(s3, bucket, "k", upload_id, 1, b"first try")
        again = upload(s3, bucket, "k", upload_id, 1, b"second try")
        complete(s3, bucket, "k", upload_id, [again])
        assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"second try"

    def test_parts_left_out_of_the_completion_are_not_in_the_object(self, s3: Any, bucket: str) -> None:
        parts = {n: blob(5 * MiB, str(n)) for n in (1, 2, 3)}
        upload_id = start(s3, bucket, "k")
        done = {n: upload(s3, bucket, "k", upload_id, n, data) for n, data in parts.items()}
        complete(s3, bucket, "k", upload_id, [done[1], done[3]])
        got = s3.get_object(Bucket=bucket, Key="k")
        assert got["Body"].read() == parts[1] + parts[3]

    def test_part_numbers_may_have_gaps(self, s3: Any, bucket: str) -> None:
        upload_id = start(s3, bucket, "k")
        first = upload(s3, bucket, "k", upload_id, 7, blob(5 * MiB, "seven"))
        last = upload(s3, bucket, "k", upload_id, 10000, b"end")
        complete(s3, bucket, "k", upload_id, [first, last])
        assert s3.head_object(Bucket=bucket, Key="k")["ContentLength"] == 5 * MiB + 3

    def test_completing_over_an_existing_object_replaces_it(self, s3: Any, bucket: str) -> None:
        s3.put_object(Bucket=bucket, Key="k", Body=b"old", Metadata={"old": "yes"})
        upload_id = start(s3, bucket, "k")
        complete(s3, bucket, "k", upload_id, [upload(s3, bucket, "k", upload_id, 1, b"new")])
        got = s3.get_object(Bucket=bucket, Key="k")
        assert got["Body"].read() == b"new"
        assert got["Metadata"] == {}


class TestPartRules:
    def test_a_small_part_before_the_last_is_entity_too_small(self, s3: Any, bucket: str) -> None:
        upload_id = start(s3, bucket, "k")
        done = [upload(s3, bucket, "k", upload_id, n, data) for n, data in ((1, b"small"), (2, b"last"))]
        with pytest.raises(ClientError) as caught:
            complete(s3, bucket, "k", upload_id, done)
        assert error_of(caught) == ("EntityTooSmall", 400)

    def test_a_wrong_etag_is_invalid_part(self, s3: Any, bucket: str) -> None:
        upload_id = start(s3, bucket, "k")
        upload(s3, bucket, "k", upload_id, 1, b"data")
        with pytest.raises(ClientError) as caught:
            complete(s3, bucket, "k", upload_id, [{"PartNumber": 1, "ETag": f'"{"0" * 32}"'}])
        assert error_of(caught) == ("InvalidPart", 400)

    def test_a_part_never_uploaded_is_invalid_part(self, s3: Any, bucket: str) -> None:
        upload_id = start(s3, bucket, "k")
        done = upload(s3, bucket, "k", upload_id, 1, b"data")
        with pytest.raises(ClientError) as caught:
            complete(s3, bucket, "k", upload_id, [{"PartNumber": 2, "ETag": done["ETag"]}])
        assert error_of(caught) == ("InvalidPart", 400)

    def test_parts_listed_out_of_order_are_invalid_part_order(self, s3: Any, bucket: str) -> None:
        upload_id = start(s3, bucket, "k")
        one = upload(s3, bucket, "k", upload_id, 1, blob(5 * MiB, "1"))
        two = upload(s3, bucket, "k", upload_id, 2, b"two")
        with pytest.raises(ClientError) as caught:
            complete(s3, bucket, "k", upload_id, [two, one])
        assert error_of(caught) == ("InvalidPartOrder", 400)

    def test_a_failed_completion_leaves_the_upload_open_to_retry(self, s3: Any, bucket: str) -> None:
        upload_id = start(s3, bucket, "k")
        good = upload(s3, bucket, "k", upload_id, 1, b"data")
        with pytest.raises(ClientError):
            complete(s3, bucket, "k", upload_id, [{"PartNumber": 1, "ETag": f'"{"f" * 32}"'}])
        complete(s3, bucket, "k", upload_id, [good])
        assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"data"

    def test_a_completion_naming_no_parts_is_malformed_xml(self, s3: Any, bucket: str) -> None:
        upload_id = start(s3, bucket, "k")
        upload(s3, bucket, "k", upload_id, 1, b"data")
        with pytest.raises(ClientError) as caught:
            complete(s3, bucket, "k", upload_id, [])
        assert error_of(caught) == ("MalformedXML", 400)

    @pytest.mark.parametrize("number", [0, 10001])
    def test_a_part_number_outside_1_to_10000_is_an_invalid_argument(
        self, s3: Any, bucket: str, number: int
    ) -> None:
        upload_id = start(s3, bucket, "k")
        with pytest.raises(ClientError) as caught:
            s3.upload_part(Bucket=bucket, Key="k", UploadId=upload_id, PartNumber=number, Body=b"x")
        assert error_of(caught) == ("InvalidArgument", 400)

    def test_a_part_for_an_unknown_upload_is_no_such_upload(self, s3: Any, bucket: str) -> None:
        with pytest.raises(ClientError) as caught:
            s3.upload_part(Bucket=bucket, Key="k", UploadId="no-such-upload", PartNumber=1, Body=b"x")
        assert error_of(caught) == ("NoSuchUpload", 404)

    def test_an_upload_id_is_bound_to_its_key(self, s3: Any, bucket: str) -> None:
        upload_id = start(s3, bucket, "mine")
        with pytest.raises(ClientError) as caught:
            s3.upload_part(Bucket=bucket, Key="other", UploadId=upload_id, PartNumber=1, Body=b"x")
        assert error_of(caught) == ("NoSuchUpload", 404)


class TestAborting:
    def test_an_aborted_upload_is_gone_for_every_operation(self, s3: Any, bucket: str) -> None:
        upload_id = start(s3, bucket, "k")
        part = upload(s3, bucket, "k", upload_id, 1, b"data")
        assert s3.abort_multipart_upload(Bucket=bucket, Key="k", UploadId=upload_id)[
            "ResponseMetadata"]["HTTPStatusCode"] == 204
        attempts: list[Callable[[], Any]] = [
            lambda: s3.upload_part(Bucket=bucket, Key="k", UploadId=upload_id, PartNumber=2, Body=b"x"),
            lambda: s3.list_parts(Bucket=bucket, Key="k", UploadId=upload_id),
            lambda: complete(s3, bucket, "k", upload_id, [part]),
            lambda: s3.abort_multipart_upload(Bucket=bucket, Key="k", UploadId=upload_id),
        ]
        for attempt in attempts:
            with pytest.raises(ClientError) as caught:
                attempt()
            assert error_of(caught) == ("NoSuchUpload", 404)
        assert "Uploads" not in s3.list_multipart_uploads(Bucket=bucket)

    def test_a_completed_upload_can_no_longer_take_parts(self, s3: Any, bucket: str) -> None:
        upload_id = start(s3, bucket, "k")
        complete(s3, bucket, "k", upload_id, [upload(s3, bucket, "k", upload_id, 1, b"data")])
        with pytest.raises(ClientError) as caught:
            s3.upload_part(Bucket=bucket, Key="k", UploadId=upload_id, PartNumber=2, Body=b"x")
        assert error_of(caught) == ("NoSuchUpload", 404)
        assert "Uploads" not in s3.list_multipart_uploads(Bucket=bucket)


class TestListParts:
    def test_parts_are_listed_with_number_size_and_etag(self, s3: Any, bucket: str) -> None:
        upload_id = start(s3, bucket, "k")
        done = [upload(s3, bucket, "k", upload_id, n, b"x" * n) for n in (3, 1, 2)]
        listed = s3.list_parts(Bucket=bucket, Key="k", UploadId=upload_id)
        assert [(p["PartNumber"], p["Size"]) for p in listed["Parts"]] == [(1, 1), (2, 2), (3, 3)]
        assert {p["ETag"] for p in listed["Parts"]} == {d["ETag"] for d in done}
        assert listed["UploadId"] == upload_id
        assert listed["IsTruncated"] is False

    def test_max_parts_and_the_part_number_marker_page_through_the_parts(self, s3: Any, bucket: str) -> None:
        upload_id = start(s3, bucket, "k")
        for n in range(1, 8):
            upload(s3, bucket, "k", upload_id, n, b"p")
        first = s3.list_parts(Bucket=bucket, Key="k", UploadId=upload_id, MaxParts=3)
        assert [p["PartNumber"] for p in first["Parts"]] == [1, 2, 3]
        assert first["IsTruncated"] is True
        assert first["NextPartNumberMarker"] == 3
        second = s3.list_parts(Bucket=bucket, Key="k", UploadId=upload_id, MaxParts=3,
                               PartNumberMarker=first["NextPartNumberMarker"])
        assert [p["PartNumber"] for p in second["Parts"]] == [4, 5, 6]
        assert second["PartNumberMarker"] == 3
        paged = s3.get_paginator("list_parts").paginate(
            Bucket=bucket, Key="k", UploadId=upload_id, PaginationConfig={"PageSize": 2})
        assert [p["PartNumber"] for page in paged for p in page["Parts"]] == list(range(1, 8))


class TestListMultipartUploads:
    def test_uploads_in_progress_are_listed_by_key_then_age(self, s3: Any, bucket: str) -> None:
        first_b = start(s3, bucket, "b")
        a = start(s3, bucket, "a")
        second_b = start(s3, bucket, "b")
        listed = s3.list_multipart_uploads(Bucket=bucket)
        listed_ids = [(u["Key"], u["UploadId"]) for u in listed["Uploads"]]
        assert listed_ids == [("a", a), ("b", first_b), ("b", second_b)]
        assert listed["IsTruncated"] is False

    def test_a_prefix_and_delimiter_group_uploads_like_keys(self, s3: Any, bucket: str) -> None:
        for key in ("logs/2024/a", "logs/2024/b", "logs/2025/c", "logs/top", "other"):
            start(s3, bucket, key)
        listed = s3.list_multipart_uploads(Bucket=bucket, Prefix="logs/", Delimiter="/")
        assert [p["Prefix"] for p in listed["CommonPrefixes"]] == ["logs/2024/", "logs/2025/"]
        assert [u["Key"] for u in listed["Uploads"]] == ["logs/top"]

    def test_key_and_upload_id_markers_page_through_uploads(self, s3: Any, bucket: str) -> None:
        ids = [(key, start(s3, bucket, key)) for key in ("a", "b", "b", "c")]
        first = s3.list_multipart_uploads(Bucket=bucket, MaxUploads=2)
        assert [(u["Key"], u["UploadId"]) for u in first["Uploads"]] == ids[:2]
        assert first["IsTruncated"] is True
        assert (first["NextKeyMarker"], first["NextUploadIdMarker"]) == ids[1]
        second = s3.list_multipart_uploads(Bucket=bucket, MaxUploads=2, KeyMarker=first["NextKeyMarker"],
                                           UploadIdMarker=first["NextUploadIdMarker"])
        assert [(u["Key"], u["UploadId"]) for u in second["Uploads"]] == ids[2:]
        assert second["IsTruncated"] is False

    def test_a_key_marker_alone_skips_every_upload_of_that_key(self, s3: Any, bucket: str) -> None:
        for key in ("a", "b", "b", "c"):
            start(s3, bucket, key)
        listed = s3.list_multipart_uploads(Bucket=bucket, KeyMarker="b")
        assert [u["Key"] for u in listed["Uploads"]] == ["c"]

    def test_awkward_keys_round_trip_through_url_encoding(self, s3: Any, bucket: str) -> None:
        keys = ["a b+c", "new\nline", "per%cent", "caf\u00e9/\U0001F600"]
        for key in keys:
            start(s3, bucket, key)
        plain = s3.list_multipart_uploads(Bucket=bucket)
        assert [u["Key"] for u in plain["Uploads"]] == sorted(keys)
        encoded = s3.list_multipart_uploads(Bucket=bucket, EncodingType="url")
        assert encoded["EncodingType"] == "url"
        assert [unquote_plus(u["Key"]) for u in encoded["Uploads"]] == sorted(keys)
        assert all(" " not in u["Key"] and "\n" not in u["Key"] for u in encoded["Uploads"])

    def test_the_paginator_visits_every_upload_once(self, s3: Any, bucket: str) -> None:
        made = sorted((f"key-{i % 3}", start(s3, bucket, f"key-{i % 3}")) for i in range(7))
        pages = s3.get_paginator("list_multipart_uploads").paginate(
            Bucket=bucket, PaginationConfig={"PageSize": 2})
        assert [(u["Key"], u["UploadId"]) for page in pages for u in page.get("Uploads", [])] == made


class TestUploadPartCopy:
    def test_a_range_of_another_object_becomes_a_part(self, s3: Any, bucket: str) -> None:
        source = blob(6 * MiB, "source")
        s3.put_object(Bucket=bucket, Key="source", Body=source)
        upload_id = start(s3, bucket, "k")
        copied = s3.upload_part_copy(Bucket=bucket, Key="k", UploadId=upload_id, PartNumber=1,
                                     CopySource={"Bucket": bucket, "Key": "source"},
                                     CopySourceRange=f"bytes=0-{5 * MiB - 1}")
        assert copied["CopyPartResult"]["ETag"] == f'"{hashlib.md5(source[: 5 * MiB]).hexdigest()}"'
        tail = upload(s3, bucket, "k", upload_id, 2, b"-tail")
        complete(s3, bucket, "k", upload_id, [
            {"PartNumber": 1, "ETag": copied["CopyPartResult"]["ETag"]}, tail])
        assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == source[: 5 * MiB] + b"-tail"

    def test_without_a_range_the_whole_source_becomes_the_part(self, s3: Any, bucket: str) -> None:
        s3.put_object(Bucket=bucket, Key="source", Body=b"entire source")
        upload_id = start(s3, bucket, "k")
        copied = s3.upload_part_copy(Bucket=bucket, Key="k", UploadId=upload_id, PartNumber=1,
                                     CopySource=f"{bucket}/source")
        complete(s3, bucket, "k", upload_id, [{"PartNumber": 1, "ETag": copied["CopyPartResult"]["ETag"]}])
        assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"entire source"

    def test_a_range_past_the_end_of_the_source_is_invalid_range(self, s3: Any, bucket: str) -> None:
        s3.put_object(Bucket=bucket, Key="source", Body=b"short")
        upload_id = start(s3, bucket, "k")
        with pytest.raises(ClientError) as caught:
            s3.upload_part_copy(Bucket=bucket, Key="k", UploadId=upload_id, PartNumber=1,
                                CopySource=f"{bucket}/source", CopySourceRange="bytes=0-99")
        assert error_of(caught) == ("InvalidRange", 416)

    def test_a_middle_part_of_a_multipart_source_can_be_copied(self, s3: Any, bucket: str) -> None:
        parts = [blob(5 * MiB, "x"), blob(5 * MiB, "y")]
        upload_id = start(s3, bucket, "source")
        complete(s3, bucket, "source", upload_id,
                 [upload(s3, bucket, "source", upload_id, n, d) for n, d in enumerate(parts, 1)])
        target = start(s3, bucket, "k")
        span = f"bytes={5 * MiB - 10}-{5 * MiB + 9}"
        copied = s3.upload_part_copy(Bucket=bucket, Key="k", UploadId=target, PartNumber=1,
                                     CopySource=f"{bucket}/source", CopySourceRange=span)
        complete(s3, bucket, "k", target, [{"PartNumber": 1, "ETag": copied["CopyPartResult"]["ETag"]}])
        joined = b"".join(parts)
        assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == joined[5 * MiB - 10 : 5 * MiB + 10]


class TestManagedTransfers:
    def test_upload_file_and_download_file_round_trip_20_mib_in_parts(
        self, s3: Any, bucket: str, tmp_path: Path
    ) -> None:
        source = tmp_path / "source.bin"
        source.write_bytes(os.urandom(20 * MiB))
        config = TransferConfig(multipart_threshold=5 * MiB, multipart_chunksize=5 * MiB, max_concurrency=4)
        s3.upload_file(str(source), bucket, "big/file.bin", Config=config)
        head = s3.head_object(Bucket=bucket, Key="big/file.bin")
        assert head["ContentLength"] == 20 * MiB
        assert head["ETag"].endswith('-4"')
        target = tmp_path / "target.bin"
        s3.download_file(bucket, "big/file.bin", str(target), Config=config)
        assert hashlib.sha256(target.read_bytes()).digest() == hashlib.sha256(source.read_bytes()).digest()
