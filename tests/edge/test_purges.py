"""The purge log (edge/purges.py): which responses asked for before a purge it keeps out of the store."""

from __future__ import annotations

import time

from strato.edge.entry import Entry
from strato.edge.purges import PurgeLog


def asked(target: str, at: float) -> Entry:
    return Entry(key=f"GET edge.test{target}", variant="", vary=(), host="edge.test", target=target, status=200,
                 headers={}, request_time=at, response_time=at, size=0)


class TestPurgeLog:
    def test_a_purge_drops_what_it_matches_of_what_was_asked_before_it(self) -> None:
        log = PurgeLog()
        before = asked("/a", time.time() - 1)
        log.record(lambda entry: entry.target == "/a")
        assert log.drops(before)
        assert not log.drops(asked("/b", before.request_time))
        assert not log.drops(asked("/a", time.time() + 1))

    def test_an_invalidation_drops_what_was_asked_before_it_under_its_key(self) -> None:
        log = PurgeLog()
        before = asked("/a", time.time() - 1)
        log.invalidated("GET edge.test/a")
        assert log.drops(before)
        assert not log.drops(asked("/b", before.request_time))
        assert not log.drops(asked("/a", time.time() + 1))

    def test_past_what_it_keeps_what_was_asked_before_the_forgotten_ones_is_dropped(self) -> None:
        log = PurgeLog(purges_kept=1, keys_kept=1)
        before = asked("/a", time.time() - 1)
        log.record(lambda entry: entry.target == "/b")
        log.record(lambda entry: entry.target == "/c")
        assert log.drops(before)
        log = PurgeLog(purges_kept=1, keys_kept=1)
        for key in ("GET edge.test/b", "GET edge.test/c"):
            log.invalidated(key)
        assert log.drops(before)
        assert not log.drops(asked("/a", time.time() + 1))
