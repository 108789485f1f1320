"""Helpers for engine tests: run coroutines, stream bodies, read objects back, count files."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator, Coroutine
from pathlib import Path
from typing import Any, TypeVar

from strato.storage.engine import ObjectStore, WriteConditions
from strato.storage.records import Expectation, ObjectVersion

T = TypeVar("T")
BUCKET = "bucket"
MiB = 1024 * 1024


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


async def chunks(data: bytes, size: int = 256 * 1024) -> AsyncIterator[bytes]:
    for offset in range(0, len(data), size):
        yield data[offset : offset + size]


async def put(
    store: ObjectStore,
    key: str,
    data: bytes,
    expect: Expectation | None = None,
    *,
    bucket: str = BUCKET,
    system: dict[str, str] | None = None,
    user: dict[str, str] | None = None,
    conditions: WriteConditions | None = None,
    max_size: int | None = None,
) -> ObjectVersion:
    return await store.put_object(
        bucket,
        key,
        chunks(data),
        expect or Expectation(),
        system=system or {},
        user=user or {},
        conditions=conditions,
        max_size=max_size,
    )


async def read(
    store: ObjectStore, key: str, start: int = 0, end: int | None = None, *, bucket: str = BUCKET
) -> bytes:
    reader = await store.open_object(bucket, key)
    try:
        stop = reader.obj.size if end is None else end
        return b"".join([chunk async for chunk in reader.iter_range(start, stop)])
    finally:
        reader.close()


def md5(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def blob_files(data_dir: Path) -> set[str]:
    return {path.name for path in (data_dir / "blobs").glob("*/*")}


def temp_files(data_dir: Path) -> list[str]:
    return [path.name for path in (data_dir / "tmp").iterdir()]
