"""Concurrent writers and readers of one key: the last write wins whole, conditional writes
have exactly one winner, and no reader ever sees a torn object. Proven with barriers and
counts, never with timing."""

from __future__ import annotations

import hashlib
import os
import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import pytest
from botocore.exceptions import ClientError

from tests.conftest import make_client
from tests.servers import StratoServer

THREADS = 16
T = TypeVar("T")


@pytest.fixture(scope="module")
def pooled(server: StratoServer) -> Any:
    """One boto3 client with a connection per thread, so the requests really overlap."""
    return make_client(server.url, max_pool_connections=THREADS * 2, retries={"max_attempts": 1})


def all_at_once(count: int, work: Callable[[int], T]) -> list[T]:
    """Run work(0..count-1) in threads released together by a barrier."""
    barrier = threading.Barrier(count)

    def run(index: int) -> T:
        barrier.wait(timeout=60)
        return work(index)

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(run, range(count)))


def md5_etag(data: bytes) -> str:
    return '"' + hashlib.md5(data).hexdigest() + '"'


@pytest.mark.parametrize("size", [1000, 300_000], ids=["inline-sized", "blob-sized"])
def test_sixteen_writers_to_one_key_leave_one_whole_body(pooled: Any, bucket: str, size: int) -> None:
    bodies = [bytes([index]) * 16 + os.urandom(size) for index in range(THREADS)]

    def put(index: int) -> str:
        etag: str = pooled.put_object(Bucket=bucket, Key="contended", Body=bodies[index])["ETag"]
        return etag

    etags = all_at_once(THREADS, put)
    assert etags == [md5_etag(body) for body in bodies]
    got = pooled.get_object(Bucket=bucket, Key="contended")
    body = got["Body"].read()
    assert body in bodies
    assert got["ETag"] == md5_etag(body)
    assert pooled.head_object(Bucket=bucket, Key="contended")["ETag"] == got["ETag"]
    assert pooled.list_objects_v2(Bucket=bucket)["Contents"][0]["Size"] == len(body)


@pytest.mark.parametrize("size", [10, 300_000], ids=["inline-sized", "blob-sized"])
def test_sixteen_create_only_writers_have_exactly_one_winner(pooled: Any, bucket: str, size: int) -> None:
    bodies = [f"writer {index:02d} ".encode() + os.urandom(size) for index in range(THREADS)]

    def put_if_absent(index: int) -> tuple[int, str]:
        try:
            pooled.put_object(Bucket=bucket, Key="once", Body=bodies[index], IfNoneMatch="*")
        except ClientError as error:
            return error.response["ResponseMetadata"]["HTTPStatusCode"], error.response["Error"]["Code"]
        return 200, ""

    outcomes = all_at_once(THREADS, put_if_absent)
    assert Counter(outcomes) == {(200, ""): 1, (412, "PreconditionFailed"): THREADS - 1}
    winner = bodies[outcomes.index((200, ""))]
    assert pooled.get_object(Bucket=bucket, Key="once")["Body"].read() == winner


def _self_verifying(generation: int, size: int) -> bytes:
    payload = generation.to_bytes(8, "big") + os.urandom(size)
    return hashlib.sha256(payload).digest() + payload


def _verifies(body: bytes) -> bool:
    return hashlib.sha256(body[32:]).digest() == body[:32]


def test_readers_racing_overwrites_only_ever_see_whole_objects(pooled: Any, bucket: str) -> None:
    pooled.put_object(Bucket=bucket, Key="churn", Body=_self_verifying(0, 200_000))
    writers, readers, rounds = 4, 8, 12

    def work(index: int) -> list[int]:
        seen = []
        for round_number in range(rounds):
            if index < writers:
                size = 200_000 if (index + round_number) % 2 else 4_000  # blob and inline bodies
                body = _self_verifying(1 + index * rounds + round_number, size)
                assert pooled.put_object(Bucket=bucket, Key="churn", Body=body)["ETag"] == md5_etag(body)
            else:
                got = pooled.get_object(Bucket=bucket, Key="churn")
                body = got["Body"].read()
                assert _verifies(body)
                assert got["ETag"] == md5_etag(body)
                seen.append(int.from_bytes(body[32:40], "big"))
        return seen

    generations = [generation for seen in all_at_once(writers + readers, work) for generation in seen]
    assert len(generations) == readers * rounds
    final = pooled.get_object(Bucket=bucket, Key="churn")["Body"].read()
    assert _verifies(final)
