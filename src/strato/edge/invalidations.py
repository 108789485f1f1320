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
Rows = list[tuple[int, str, str]]
# A feed's identity (made with the server's database: "" from a server older than that) and its
# rows after a sequence number.
Source = Callable[[int], Awaitable[tuple[str, Rows]]]
PATH = "/_strato/cdn/invalidations"
MAX_ANSWER = 4 * 1024 * 1024


def local(registry: DistributionRegistry) -> Source:
    async def since(seq: int) -> tuple[str, Rows]:
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

    async def __call__(self, seq: int) -> tuple[str, Rows]:
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
        answer = json.loads(body)
        rows = [(int(row["seq"]), str(row["distribution"]), str(row["path"])) for row in answer["invalidations"]]
        feed = str(answer.get("feed", ""))
        if self.distribution is None:
            return feed, rows
        # the other distributions' rows still move the sequence on
        return feed, [row if row[1] == self.distribution else (row[0], row[1], "") for row in rows]

    async def close(self) -> None:
        await self.origin.close()


async def start_following(source: Source, store: EdgeStore, cache_dir: Path,
                          at_most: float | None = None) -> asyncio.Future[None]:
    """Apply the invalidations made while the edge was down (`catch_up`, waiting `at_most` seconds
    if told: a server far away must not keep the edge from starting), so that the edge serves
    none of what they dropped; then the task that follows the feed."""
    applied = cache_dir / "invalidations-applied"
    try:
        await asyncio.wait_for(catch_up(source, store, applied), at_most)
    except TimeoutError:
        log.warning("the invalidations made while the edge was down are not all applied yet")
    return asyncio.ensure_future(follow(source, store, applied))


async def follow(source: Source, store: EdgeStore, applied: Path, every: float = 1.0) -> None:
    """Apply invalidations to the cache as they are recorded, page after page while the feed
    has more, then every `every` seconds. The feed and the last one applied are kept in
    `applied`, so a restarted edge goes on from there (catch_up, before it serves), and one
    whose server's database was made again (another feed, numbered from 1 again) applies the
    new feed from its start. A path is purged for every site of the cache (an over-purge costs
    a miss, never staleness)."""
    feed, seq = _applied(applied)
    while True:
        feed, seq, more = await _apply_page(source, store, applied, feed, seq)
        if not more:
            await asyncio.sleep(every)


async def catch_up(source: Source, store: EdgeStore, applied: Path) -> None:
    """Apply every invalidation recorded since the last one applied (those made while the edge
    was down), until the feed has no more or cannot be read."""
    feed, seq = _applied(applied)
    more = True
    while more:
        feed, seq, more = await _apply_page(source, store, applied, feed, seq)


async def _apply_page(source: Source, store: EdgeStore, applied: Path, feed: str, seq: int) -> tuple[str, int, bool]:
    """Read the feed after `seq` once and apply what it answers: the feed and the last one
    applied now, and whether it answered any past `seq` (there may be more)."""
    try:
        answered, rows = await source(seq)
        if answered and feed and answered != feed and seq:
            log.warning("the server's invalidation feed is a new one: applying it from its start")
            seq = 0
            answered, rows = await source(seq)
    except Exception as exc:  # the server is away: keep serving, ask again
        log.warning("cannot read invalidations: %r", exc)
        return feed, seq, False
    for _seq, _distribution, path in rows:
        if path:
            store.purge(path)
    if rows or answered != feed:
        await store.settled()  # marked applied once a crash cannot bring the purged back
        feed, seq = answered, rows[-1][0] if rows else seq
        _remember(applied, feed, seq)
    return feed, seq, bool(rows)  # a source answers only rows past the one it was given


def _applied(path: Path) -> tuple[str, int]:
    """The feed and the last sequence number applied ("" and the number, as edges wrote it
    before feeds had an identity: the next feed read is taken for that one)."""
    try:
        with open(path) as text:
            feed, _, seq = text.read().strip().rpartition(" ")
            return feed, int(seq)
    except (FileNotFoundError, ValueError):
        return "", 0


def _remember(path: Path, feed: str, seq: int) -> None:
    temporary = f"{path}.tmp"
    with open(temporary, "w") as out:
        out.write(f"{feed} {seq}" if feed else str(seq))
    os.replace(temporary, path)
