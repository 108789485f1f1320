"""Origins: where the edge fetches what it does not have. One protocol, an HTTP origin for
any server (a strato's S3 API included, optionally signing its requests)."""

from __future__ import annotations

import weakref
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import SplitResult, urlsplit

from strato.edge import set_cookie
from strato.edge.origin_http import KEEPALIVE_TIMEOUT, WHOLE_UP_TO, OriginPool, request_head


@dataclass(slots=True)
class OriginResponse:
    """`whole` is the entire body when it had already arrived with the head (the connection
    is then back in its pool); `body` yields it either way."""

    status: int
    headers: dict[str, str]
    body: AsyncIterator[bytes]
    release: Callable[[], None]
    whole: bytes | None = None


class Origin(Protocol):
    async def fetch(
        self, method: str, target: str, headers: Mapping[str, str], body: AsyncIterator[bytes] | None = None,
        *, host: str = "",
    ) -> OriginResponse:
        """`host` is the Host the client asked the edge for (origins that serve several sites
        choose by it); the request to the origin carries the origin's own Host."""
        ...

    async def close(self) -> None: ...


def _joined(raw: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Field lines of one name joined with ", " (RFC 9110 §5.3), Set-Cookie's kept apart
    (edge/set_cookie.py), names lower-cased."""
    headers: dict[str, str] = {}
    for name, value in raw:
        lowered = name.lower()
        if lowered not in headers:
            headers[lowered] = value
        elif lowered == set_cookie.NAME:
            headers[lowered] = set_cookie.joined(headers[lowered], value)
        else:
            headers[lowered] = f"{headers[lowered]}, {value}"
    return headers


def http_url(base: str) -> SplitResult:
    """`base` split, when it is an http(s) URL with a host and a valid port if any (ValueError
    otherwise)."""
    parts = urlsplit(base)
    try:
        valid = parts.scheme in ("http", "https") and bool(parts.netloc and parts.hostname) and parts.port != 0
    except ValueError:  # a port that is no number, or out of range
        valid = False
    if not valid:
        raise ValueError(f"origin must be an http(s) URL, not {base!r}")
    return parts


class HttpOrigin:
    """An HTTP(S) origin at `base` (scheme, host, port, optional path prefix). Bodies pass
    through untouched: no decompression, no buffering; the path and query go to the origin
    byte for byte as the client sent them."""

    def __init__(self, base: str, *, timeout: float = 30.0, connections: int = 256,
                 connect_timeout: float | None = None, connect_attempts: int = 1,
                 keepalive_timeout: float = KEEPALIVE_TIMEOUT) -> None:
        parts = http_url(base)
        self.base = f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}"
        self.host = parts.netloc
        self._prefix = parts.path.rstrip("/")
        tls = parts.scheme == "https"
        self._pool = OriginPool(parts.hostname or "", parts.port or (443 if tls else 80), tls=tls, timeout=timeout,
                                limit=connections, connect_timeout=connect_timeout, connect_attempts=connect_attempts,
                                keepalive_timeout=keepalive_timeout)

    async def fetch(
        self, method: str, target: str, headers: Mapping[str, str], body: AsyncIterator[bytes] | None = None,
        *, host: str = "", forward_host: bool = False,
    ) -> OriginResponse:
        """`forward_host`: the request carries `host` (the viewer's) instead of the origin's own,
        as CloudFront does for a behaviour that forwards the Host header."""
        sent_host = host if forward_host and host else self.host
        head, chunked = request_head(method, self._prefix + target, sent_host, headers, body=body is not None)
        connection = await self._pool.send(head, body, chunked, WHOLE_UP_TO, bodiless=method == "HEAD")
        whole = connection.received()
        if whole is not None:
            self._pool.done(connection)
            return OriginResponse(connection.status, _joined(connection.headers), _once(whole), _nothing, whole)
        pool = self._pool
        released = False

        def release() -> None:
            nonlocal released
            if not released:
                released = True
                pool.done(connection)

        async def chunks() -> AsyncIterator[bytes]:
            try:
                async for chunk in connection.body():
                    yield chunk
            finally:
                release()

        body_chunks = chunks()
        weakref.finalize(body_chunks, release)  # a response nobody reads still gives its connection back
        return OriginResponse(connection.status, _joined(connection.headers), body_chunks, release)

    async def close(self) -> None:
        self.discard()

    def discard(self) -> None:
        """Close the idle connections now, and each busy one when its response is over."""
        self._pool.close()


async def _once(body: bytes) -> AsyncIterator[bytes]:
    if body:
        yield body


def _nothing() -> None:
    """Release of a response whose connection went back to its pool with the whole body."""
