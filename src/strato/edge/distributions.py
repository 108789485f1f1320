"""The origin of `strato serve`'s edge: CloudFront-style distributions in front of strato.

A request picks its distribution by Host (aliases, then the distribution's own domain name)
and its cache behaviour by path; the behaviour names the origin: a strato bucket or any HTTP
server. A Host no distribution claims gets the default distribution: strato's S3 API by path
(`/<bucket>/<key>`), asked anonymously, so only what a bucket policy makes public is served.
An S3 origin with an origin access control is asked with requests signed by strato's root
keys (as CloudFront's OAC signs with SigV4), so its bucket can stay private.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl

from strato.auth import sigv4
from strato.cdn.records import Distribution, Origin
from strato.cdn.registry import DistributionRegistry
from strato.cdn.selection import select
from strato.cdn.validation import bucket_of
from strato.edge.origins import HttpOrigin, OriginResponse
from strato.edge.store import EdgeStore

REFRESH_SECONDS = 1.0  # how stale the edge's copy of the distributions may be
SIGNATURE_SECONDS = 60


@dataclass(frozen=True, slots=True)
class OriginKeys:
    """The keys an origin access control signs with, and the region it signs for."""

    access_key: str
    secret_key: str
    region: str


class DistributionOrigin:
    def __init__(self, registry: DistributionRegistry, api_base: str, keys: OriginKeys) -> None:
        self.registry = registry
        self.api = HttpOrigin(api_base)
        self.keys = keys
        self._custom: dict[str, HttpOrigin] = {}
        self._distributions: list[Distribution] = []
        self._generation = -1
        self._checked = 0.0

    def distributions(self) -> list[Distribution]:
        """The registry's distributions, read again when one has changed (checked once a second)."""
        now = time.monotonic()
        if now - self._checked >= REFRESH_SECONDS:
            self._checked = now
            generation = self.registry.generation()
            if generation != self._generation:
                self._distributions = self.registry.all()
                self._generation = generation
        return self._distributions

    async def fetch(
        self, method: str, target: str, headers: Mapping[str, str], body: AsyncIterator[bytes] | None = None,
        *, host: str = "",
    ) -> OriginResponse:
        path, _, query = target.partition("?")
        chosen = select(self.distributions(), host, path)
        if chosen is None:
            return await self.api.fetch(method, target, headers, body)
        distribution, behavior = chosen
        origin = distribution.config.origin(behavior.target_origin_id)
        if origin is None:  # validated at create/update; a concurrent update may race
            raise LookupError(f"distribution {distribution.id} has no origin {behavior.target_origin_id}")
        root_object = distribution.config.default_root_object
        if path == "/" and root_object:
            path = "/" + root_object.lstrip("/")
        prefix = (origin.origin_path or "").rstrip("/")
        bucket = bucket_of(origin) if origin.s3 is not None else None
        if bucket is None:
            return await self._custom_origin(origin).fetch(method, prefix + path + (f"?{query}" if query else ""),
                                                           headers, body)
        path = f"/{bucket}{prefix}{path}"
        if origin.origin_access_control_id and method in ("GET", "HEAD"):
            return await self.api.fetch(method, self._signed(method, path, query), headers, body)
        return await self.api.fetch(method, path + (f"?{query}" if query else ""), headers, body)

    def _signed(self, method: str, path: str, query: str) -> str:
        """`path?query` with a SigV4 query signature by the root keys (payload unsigned)."""
        params = parse_qsl(query, keep_blank_values=True)
        signed = sigv4.presign(method, self.api.host, path.encode(), params, access_key=self.keys.access_key,
                               secret=self.keys.secret_key, region=self.keys.region, service="s3",
                               now=time.time(), expires=SIGNATURE_SECONDS)
        return f"{path}?{signed}"

    def _custom_origin(self, origin: Origin) -> HttpOrigin:
        custom = origin.custom
        scheme = "https" if custom is not None and custom.protocol_policy == "https-only" else "http"
        port = (custom.https_port if scheme == "https" else custom.http_port) if custom is not None else 80
        base = f"{scheme}://{origin.domain_name}:{port}"
        if base not in self._custom:
            self._custom[base] = HttpOrigin(base)
        return self._custom[base]

    async def close(self) -> None:
        await self.api.close()
        for origin in self._custom.values():
            await origin.close()


async def follow_invalidations(registry: DistributionRegistry, store: EdgeStore, applied: Path,
                               every: float = REFRESH_SECONDS) -> None:
    """Apply CloudFront invalidations to the cache as they are recorded. The last one applied
    is kept in `applied`, so a restarted edge applies those it missed before serving them.
    A path is purged for every site of the cache (an over-purge costs a miss, never staleness)."""
    seq = _applied(applied)
    while True:
        rows = registry.invalidations_since(seq)
        for _seq, _distribution, path in rows:
            store.purge(path)
        if rows:
            seq = rows[-1][0]
            _remember(applied, seq)
        await asyncio.sleep(every)


def _remember(path: Path, seq: int) -> None:
    temporary = f"{path}.tmp"
    with open(temporary, "w") as out:
        out.write(str(seq))
    os.replace(temporary, path)


def _applied(path: Path) -> int:
    try:
        with open(path) as text:
            return int(text.read())
    except (FileNotFoundError, ValueError):
        return 0
