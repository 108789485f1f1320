"""Verifying a signed payload hash (x-amz-content-sha256) while the body streams through."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import AsyncIterator

from strato.auth.errors import AuthError


async def verify_sha256(body: AsyncIterator[bytes], expected_hex: str) -> AsyncIterator[bytes]:
    """Yields the body; raises at the end, before the consumer can commit, on a mismatch."""
    digest = hashlib.sha256()
    async for chunk in body:
        digest.update(chunk)
        yield chunk
    if not hmac.compare_digest(digest.hexdigest(), expected_hex):
        raise AuthError(
            "XAmzContentSHA256Mismatch", "The provided 'x-amz-content-sha256' header does not match what was computed.",
            400,
        )
