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

    def test_past_the_purges_it_keeps_what_was_asked_before_them_is_dropped(self) -> None:
        log = PurgeLog(kept=2)
        before = asked("/a", time.time() - 1)
        for _ in range(2):
            log.record(lambda entry: entry.target == "/other")
        assert log.drops(before)
        assert not log.drops(asked("/a", time.time() + 1))
