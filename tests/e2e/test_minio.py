"""minio-py, the MinIO SDK, against strato with its default settings."""

from __future__ import annotations

import hashlib
import io
import os
import urllib.request
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from minio import Minio
from minio.commonconfig import CopySource
from minio.deleteobjects import DeleteObject
from minio.error import S3Error as MinioS3Error

from tests.servers import ACCESS_KEY, SECRET_KEY, StratoServer

MiB = 1024 * 1024


@pytest.fixture(scope="module")
def mc(server: StratoServer) -> Any:
    return Minio(f"127.0.0.1:{server.port}", access_key=ACCESS_KEY, secret_key=SECRET_KEY, secure=False)


@pytest.fixture
def mbucket(mc: Any) -> str:
    name = f"minio-{uuid.uuid4().hex[:16]}"
    mc.make_bucket(name)
    return name


def read_object(mc: Any, bucket: str, key: str, **kwargs: Any) -> bytes:
    response = mc.get_object(bucket, key, **kwargs)
    try:
        data: bytes = response.read()
        return data
    finally:
        response.close()
        response.release_conn()


def test_make_bucket_and_bucket_exists(mc: Any, mbucket: str) -> None:
    assert mc.bucket_exists(mbucket)
    assert not mc.bucket_exists(f"absent-{uuid.uuid4().hex[:16]}")
    assert mbucket in [b.name for b in mc.list_buckets()]
    with pytest.raises(MinioS3Error) as raised:
        mc.make_bucket(mbucket)
    assert raised.value.code in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists")


def test_put_object_and_get_object_round_trip(mc: Any, mbucket: str) -> None:
    body = b"hello from minio-py" * 100
    written = mc.put_object(mbucket, "dir/hello.txt", io.BytesIO(body), len(body), content_type="text/plain",
                            metadata={"x-amz-meta-origin": "minio"})
    assert written.etag == hashlib.md5(body).hexdigest()
    assert read_object(mc, mbucket, "dir/hello.txt") == body
    assert read_object(mc, mbucket, "dir/hello.txt", offset=5, length=4) == body[5:9]
    stat = mc.stat_object(mbucket, "dir/hello.txt")
    assert stat.size == len(body)
    assert stat.etag == written.etag
    assert stat.content_type == "text/plain"
    assert stat.metadata["x-amz-meta-origin"] == "minio"


def test_put_object_of_unknown_length_streams_in_parts(mc: Any, mbucket: str) -> None:
    body = os.urandom(11 * MiB)
    mc.put_object(mbucket, "streamed", io.BytesIO(body), -1, part_size=5 * MiB)
    assert mc.stat_object(mbucket, "streamed").etag.endswith("-3")
    assert hashlib.sha256(read_object(mc, mbucket, "streamed")).digest() == hashlib.sha256(body).digest()


def test_fput_and_fget_of_a_12_mib_file_use_multipart(mc: Any, mbucket: str, tmp_path: Path) -> None:
    source = tmp_path / "twelve.bin"
    source.write_bytes(os.urandom(12 * MiB))
    written = mc.fput_object(mbucket, "files/twelve.bin", str(source))
    assert written.etag.endswith("-3")  # minio-py's 5 MiB parts
    assert mc.stat_object(mbucket, "files/twelve.bin").size == 12 * MiB
    target = tmp_path / "back.bin"
    mc.fget_object(mbucket, "files/twelve.bin", str(target))
    assert hashlib.sha256(target.read_bytes()).digest() == hashlib.sha256(source.read_bytes()).digest()


def test_list_objects_recursive_and_by_level(mc: Any, mbucket: str) -> None:
    for key in ("a.txt", "dir/b.txt", "dir/sub/c.txt", "dir/sub/d.txt", "other/e.txt"):
        mc.put_object(mbucket, key, io.BytesIO(b"x"), 1)
    everything = [o.object_name for o in mc.list_objects(mbucket, recursive=True)]
    assert everything == ["a.txt", "dir/b.txt", "dir/sub/c.txt", "dir/sub/d.txt", "other/e.txt"]
    top = [(o.object_name, o.is_dir) for o in mc.list_objects(mbucket)]
    assert top == [("a.txt", False), ("dir/", True), ("other/", True)]
    level = [o.object_name for o in mc.list_objects(mbucket, prefix="dir/")]
    assert level == ["dir/b.txt", "dir/sub/"]
    after = [o.object_name for o in mc.list_objects(mbucket, recursive=True, start_after="dir/sub/c.txt")]
    assert after == ["dir/sub/d.txt", "other/e.txt"]
    v1 = [o.object_name for o in mc.list_objects(mbucket, recursive=True, use_api_v1=True)]
    assert v1 == everything


def test_stat_object_of_a_missing_key_is_no_such_key(mc: Any, mbucket: str) -> None:
    with pytest.raises(MinioS3Error) as raised:
        mc.stat_object(mbucket, "missing")
    assert raised.value.code in ("NoSuchKey", "NoSuchObject")


def test_remove_objects_deletes_in_bulk(mc: Any, mbucket: str) -> None:
    keys = [f"bulk/{index:03d}" for index in range(50)]
    for key in keys:
        mc.put_object(mbucket, key, io.BytesIO(b"x"), 1)
    mc.put_object(mbucket, "keep", io.BytesIO(b"x"), 1)
    errors = list(mc.remove_objects(mbucket, [DeleteObject(key) for key in keys]))
    assert errors == []
    assert [o.object_name for o in mc.list_objects(mbucket, recursive=True)] == ["keep"]
    mc.remove_object(mbucket, "keep")
    assert list(mc.list_objects(mbucket, recursive=True)) == []


def test_copy_object_copies_bytes_and_metadata(mc: Any, mbucket: str) -> None:
    body = os.urandom(200_000)
    mc.put_object(mbucket, "src", io.BytesIO(body), len(body), content_type="image/png",
                  metadata={"x-amz-meta-kind": "original"})
    other = f"minio-{uuid.uuid4().hex[:16]}"
    mc.make_bucket(other)
    result = mc.copy_object(other, "dst", CopySource(mbucket, "src"))
    assert result.etag == hashlib.md5(body).hexdigest()
    assert read_object(mc, other, "dst") == body
    stat = mc.stat_object(other, "dst")
    assert stat.content_type == "image/png"
    assert stat.metadata["x-amz-meta-kind"] == "original"


def test_presigned_get_object_is_fetchable_with_urllib(mc: Any, mbucket: str) -> None:
    mc.put_object(mbucket, "shared/report 1.txt", io.BytesIO(b"presigned by minio"), 18)
    url = mc.presigned_get_object(mbucket, "shared/report 1.txt", expires=timedelta(minutes=5))
    assert "X-Amz-Signature=" in url
    with urllib.request.urlopen(url, timeout=30) as response:
        assert response.read() == b"presigned by minio"


def test_presigned_put_object_accepts_an_upload_from_urllib(mc: Any, mbucket: str) -> None:
    url = mc.presigned_put_object(mbucket, "uploaded", expires=timedelta(minutes=5))
    request = urllib.request.Request(url, data=b"put through a URL", method="PUT")
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.status == 200
    assert read_object(mc, mbucket, "uploaded") == b"put through a URL"
