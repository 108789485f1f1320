"""A signed payload hash (x-amz-content-sha256) checked while the body streams through."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator

import pytest

from strato.auth.errors import AuthError
from strato.auth.payload import verify_sha256


async def _pieces(parts: list[bytes]) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


def streamed(parts: list[bytes], expected: str) -> tuple[list[bytes], AuthError | None]:
    """The pieces the consumer saw, and the error raised at the end, if any."""
    seen: list[bytes] = []

    async def consume() -> None:
        async for piece in verify_sha256(_pieces(parts), expected):
            seen.append(piece)

    try:
        asyncio.run(consume())
    except AuthError as exc:
        return seen, exc
    return seen, None


def test_a_body_matching_its_hash_streams_through_unchanged() -> None:
    parts = [b"hello", b" ", b"world"]
    assert streamed(parts, hashlib.sha256(b"hello world").hexdigest()) == (parts, None)


def test_an_empty_body_matches_the_hash_of_nothing() -> None:
    assert streamed([], hashlib.sha256(b"").hexdigest()) == ([], None)


def test_a_body_that_differs_from_its_hash_fails_after_the_last_piece_not_before() -> None:
    parts = [b"hello", b" ", b"World"]
    seen, error = streamed(parts, hashlib.sha256(b"hello world").hexdigest())
    assert seen == parts
    assert error is not None
    assert (error.code, error.status) == ("XAmzContentSHA256Mismatch", 400)


@pytest.mark.parametrize("cut", [0, 1, 5])
def test_a_truncated_body_fails(cut: int) -> None:
    _, error = streamed([b"hello world"[:cut]], hashlib.sha256(b"hello world").hexdigest())
    assert error is not None
