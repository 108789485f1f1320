"""Following a strato server's CloudFront invalidations, from its database (the edge inside
`strato serve`) or over HTTP (a standalone `strato edge --invalidations-from URL`)."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from urllib.parse import urlsplit

from strato.auth import sigv4
from strato.cdn.registry import DistributionRegistry
from strato.edge.origins import HttpOrigin
from strato.edge.store import EdgeStore
from strato.http.bodies import BodyTooLarge, collect

log = logging.getLogger("strato.edge")

# Invalidated paths recorded after a sequence number: (seq, distribution id, path), oldest first.
Source = Callable[[int], Awaitable[list[tuple[int, str, str]]]]
PATH = "/_strato/cdn/invalidations"
MAX_ANSWER = 4 * 1024 * 1024


def local(registry: DistributionRegistry) -> Source:
    async def since(seq: int) -> list[tuple[int, str, str]]:
        return registry.invalidations_since(seq)

    return since


class Remote:
    """A strato server's invalidations over HTTP, asked with SigV4-signed requests
    (service `cloudfront`), optionally only those of one distribution."""

    def __init__(self, server: str, access_key: str, secret_key: str, region: str,
                 distribution: str | None = None) -> None:
        self.origin = HttpOrigin(server)
        self.host = urlsplit(server).netloc
        self.keys = (access_key, secret_key, region)
        self.distribution = distribution

    async def __call__(self, seq: int) -> list[tuple[int, str, str]]:
        access_key, secret_key, region = self.keys
        query = sigv4.presign("GET", self.host, PATH.encode(), [("since", str(seq))], access_key=access_key,
                              secret=secret_key, region=region, service="cloudfront", now=time.time(), expires=60,
                              s3_path=False)
        response = await self.origin.fetch("GET", f"{PATH}?{query}", {})
        try:
            body = await collect(response.body, MAX_ANSWER)
        except BodyTooLarge:
            raise ValueError("the invalidations answer is too large") from None
        if response.status != 200:
            raise ConnectionError(f"{self.host} answered {response.status}: {body[:200]!r}")
        rows = [(int(row["seq"]), str(row["distribution"]), str(row["path"]))
                for row in json.loads(body)["invalidations"]]
        if self.distribution is None:
            return rows
        # the other distributions' rows still move the sequence on
        return [row if row[1] == self.distribution else (row[0], row[1], "") for row in rows]

    async def close(self) -> None:
        await self.origin.close()


async def follow(source: Source, store: EdgeStore, applied: Path, every: float = 1.0) -> None:
    """Apply invalidations to the cache as they are recorded. The last one applied is kept in
    `applied`, so a restarted edge applies those it missed before serving from its cache. A path
    is purged for every site of the cache (an over-purge costs a miss, never staleness)."""
    seq = _applied(applied)
    while True:
        try:
            rows = await source(seq)
        except Exception as exc:  # the server is away: keep serving, ask again
            log.warning("cannot read invalidations: %r", exc)
            rows = []
        for _seq, _distribution, path in rows:
            if path:
                store.purge(path)
        if rows:
            seq = rows[-1][0]
            _remember(applied, seq)
        await asyncio.sleep(every)


def _applied(path: Path) -> int:
    try:
        with open(path) as text:
            return int(text.read())
    except (FileNotFoundError, ValueError):
        return 0


def _remember(path: Path, seq: int) -> None:
    temporary = f"{path}.tmp"
    with open(temporary, "w") as out:
        out.write(str(seq))
    os.replace(temporary, path)
