"""Following a server's invalidation feed (edge/invalidations.py): what an edge applies to its
cache, and what it remembers across restarts and across a server whose database was made again."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from strato.edge.invalidations import PATH, Rows, follow
from strato.edge.store import EdgeStore
from tests.edge.conftest import StratoEdge
from tests.edge.origin import Origin, Route, Seen
from tests.edge.test_proxy import call
from tests.edge.test_store import entry

KIB = 1024


class Feed:
    """A server's feed: its identity and its rows, as the server answers `since`."""

    def __init__(self, feed: str, paths: list[str]) -> None:
        self.feed = feed
        self.rows: Rows = [(seq, "E1", path) for seq, path in enumerate(paths, 1)]
        self.asked: list[int] = []
        self.thrice: asyncio.Event | None = None

    async def __call__(self, seq: int) -> tuple[str, Rows]:
        self.asked.append(seq)
        if len(self.asked) >= 3 and self.thrice is not None:
            self.thrice.set()
        return self.feed, [row for row in self.rows if row[0] > seq]


def cached(directory: Path, *keys: str) -> EdgeStore:
    store = EdgeStore(directory, 64 * KIB * KIB, 0)
    store.load()
    for key in keys:
        store.commit(entry(key, KIB), b"x" * KIB, written=False)
    return store


def followed(feed: Feed, store: EdgeStore, applied: Path) -> None:
    """`follow` until it has asked the feed twice after its first answer."""
    async def run() -> None:
        feed.thrice = asyncio.Event()  # of this run's loop
        task = asyncio.ensure_future(follow(feed, store, applied, every=0.01))
        await feed.thrice.wait()
        task.cancel()

    asyncio.run(run())


def test_paths_are_purged_once_and_the_last_applied_is_remembered(tmp_path: Path) -> None:
    store = cached(tmp_path / "cache", "/a", "/b", "/c")
    feed = Feed("f1", ["/a", "/b"])
    followed(feed, store, tmp_path / "applied")
    assert [key for key in ("/a", "/b", "/c") if store.lookup(key, {}) is not None] == ["/c"]
    assert feed.asked[:2] == [0, 2]
    again = Feed("f1", ["/a", "/b", "/c"])
    followed(again, store, tmp_path / "applied")
    assert again.asked[0] == 2, "a restarted edge goes on from the last one it applied"
    assert store.lookup("/c", {}) is None
    store.close()


def test_a_new_feed_is_applied_from_its_start(tmp_path: Path) -> None:
    """The server's database was made again: its numbers start over, and an edge that went on
    from its last number would miss every invalidation until the new feed got that far."""
    store = cached(tmp_path / "cache", "/old", "/kept", "/new")
    followed(Feed("f1", ["/old", "/old", "/old"]), store, tmp_path / "applied")
    made_again = Feed("f2", ["/new"])
    followed(made_again, store, tmp_path / "applied")
    assert store.lookup("/new", {}) is None
    assert store.lookup("/kept", {}) is not None
    assert made_again.asked[:3] == [3, 0, 1]
    store.close()


def test_an_edge_that_remembered_a_number_alone_takes_the_next_feed_for_its_own(tmp_path: Path) -> None:
    """What edges wrote before feeds had an identity: the number goes on."""
    (tmp_path / "applied").write_text("2")
    store = cached(tmp_path / "cache", "/a", "/b", "/c")
    feed = Feed("f1", ["/a", "/b", "/c"])
    followed(feed, store, tmp_path / "applied")
    assert feed.asked[0] == 2
    assert [key for key in ("/a", "/b", "/c") if store.lookup(key, {}) is not None] == ["/a", "/b"]
    assert (tmp_path / "applied").read_text() == "f1 3"
    store.close()


def body_of(edge: StratoEdge, path: str) -> bytes:
    """The edge's body for `path` on one Host, whichever port the edge has (so the same cache keys
    across a restart)."""
    return call(edge, path, {"Host": "site.test"})[2]


def test_a_restarted_edge_applies_every_page_it_missed_before_serving(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Invalidations made while the edge was down, more than one page of the feed, answered
    slowly: the edge's first answers after the restart are none of those they dropped."""
    paths = ["/a", "/b", "/c"]
    web = Origin()
    invalidated: list[str] = []

    def feed(seen: Seen) -> tuple[int, dict[str, str], bytes]:
        time.sleep(0.3)  # a server far away
        since = int(parse_qs(urlsplit(seen.path).query)["since"][0])
        rows = [{"seq": seq, "distribution": "E1", "path": path} for seq, path in enumerate(invalidated, 1)]
        page = [row for row in rows if int(str(row["seq"])) > since][:1]
        return 200, {"Content-Type": "application/json"}, json.dumps({"feed": "f1", "invalidations": page}).encode()

    web.routes[PATH] = Route(answer=feed)
    for path in paths:
        web.routes[path] = Route(200, {"Cache-Control": "max-age=3600"}, b"version 1")
    edge = StratoEdge(web.url, tmp_path / "cache", "--invalidations-from", web.url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")
    try:
        edge.start()
        assert [body_of(edge, path) for path in paths] == [b"version 1"] * 3
        edge.stop()
        for path in paths:
            web.routes[path] = Route(200, {"Cache-Control": "max-age=3600"}, b"version 2")
        invalidated += paths
        edge.start()
        assert [body_of(edge, path) for path in paths] == [b"version 2"] * 3
    finally:
        edge.stop()
        web.close()
