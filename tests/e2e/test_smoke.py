"""The everyday round trip a new user tries first."""

from __future__ import annotations

from typing import Any


def test_an_object_put_with_boto3_comes_back_byte_for_byte(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="hello.txt", Body=b"hello world", ContentType="text/plain")
    got = s3.get_object(Bucket=bucket, Key="hello.txt")
    assert got["Body"].read() == b"hello world"
    assert got["ContentType"] == "text/plain"
    assert got["ETag"] == '"5eb63bbbe01eeed093cb22bb8f5acdc3"'
