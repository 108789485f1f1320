"""Origins: where the edge fetches what it does not have. One protocol, an HTTP origin for
any server (a strato's S3 API included, optionally signing its requests)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlsplit

import aiohttp
from yarl import URL

CHUNK = 256 * 1024


@dataclass(slots=True)
class OriginResponse:
    status: int
    headers: dict[str, str]
    body: AsyncIterator[bytes]
    release: Callable[[], None]


class Origin(Protocol):
    async def fetch(
        self, method: str, target: str, headers: Mapping[str, str], body: AsyncIterator[bytes] | None = None
    ) -> OriginResponse: ...

    async def close(self) -> None: ...


def _joined(raw: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Field lines of one name joined with ", " (RFC 9110 §5.3), names lower-cased."""
    headers: dict[str, str] = {}
    for name, value in raw:
        lowered = name.lower()
        headers[lowered] = f"{headers[lowered]}, {value}" if lowered in headers else value
    return headers


class HttpOrigin:
    """An HTTP(S) origin at `base` (scheme, host, port, optional path prefix). Bodies pass
    through untouched: no decompression, no buffering."""

    def __init__(self, base: str, *, timeout: float = 30.0, connections: int = 256) -> None:
        parts = urlsplit(base)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"origin must be an http(s) URL, not {base!r}")
        self.base = f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}"
        self.host = parts.netloc
        self._timeout = aiohttp.ClientTimeout(total=None, connect=timeout, sock_read=timeout)
        self._connections = connections
        self._session: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._connections, ttl_dns_cache=60),
                timeout=self._timeout, auto_decompress=False,
                skip_auto_headers=("Accept-Encoding", "User-Agent", "Content-Type"),
            )
        return self._session

    async def fetch(
        self, method: str, target: str, headers: Mapping[str, str], body: AsyncIterator[bytes] | None = None
    ) -> OriginResponse:
        # encoded=True: the path and query go to the origin byte for byte as the client sent them.
        response = await self._client().request(
            method, URL(self.base + target, encoded=True), headers=dict(headers), data=body,
            allow_redirects=False,
        )

        async def chunks() -> AsyncIterator[bytes]:
            try:
                async for chunk in response.content.iter_chunked(CHUNK):
                    yield chunk
            finally:
                response.release()

        return OriginResponse(response.status, _joined(response.headers.items()), chunks(), response.release)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
