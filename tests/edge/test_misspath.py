"""Misses answered in the edge's protocol when their fetch lands (edge/misspath.py,
edge/protocol.py), seen from a raw socket: the answers the ASGI path gives, one origin fetch
per key, and a connection that stays in step whatever happens while the fetch is out."""

from __future__ import annotations

import gzip
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.edge.conftest import StratoEdge
from tests.edge.origin import Origin, Route
from tests.edge.rawhttp import Connection, request

BODY = bytes(range(256)) * 4  # 1 KiB: received whole with its head, answered by the protocol
TEXT = b"a compressible body, " * 100
LARGE = bytes(range(251)) * 8500  # ~2 MiB: more than the memory tier takes, so it streams


def small(body: bytes = BODY, content_type: str = "application/octet-stream", gate: threading.Event | None = None,
          ) -> Route:
    """A cacheable response whose head and body the origin sends in one write."""
    fields = {"Cache-Control": "max-age=600", "Content-Type": content_type, "ETag": '"e"'}
    return Route(200, fields, body, gate=gate, together=True)


def wait_until_seen(origin: Origin, path: str) -> None:
    with origin.arrived:
        origin.arrived.wait_for(lambda: origin.count(path) > 0, timeout=30)


@pytest.fixture
def conn(edge: StratoEdge) -> Iterator[Connection]:
    connection = Connection(edge)
    yield connection
    connection.close()


class TestAnswers:
    def test_a_miss_carries_the_same_fields_as_a_miss_through_the_asgi_app(
        self, origin: Origin, conn: Connection
    ) -> None:
        origin.routes["/a"] = small()
        origin.routes["/b"] = small()
        fast = conn.get("/a")
        slow = conn.get("/b", "Content-Length: 0")  # a request with a body never takes the fast path
        assert fast[0] == slow[0] == 200
        assert fast[2] == slow[2] == BODY
        assert fast[1].keys() == slow[1].keys()
        for name in fast[1].keys() - {"date", "age"}:  # both from the clock: a second may pass between the two
            assert fast[1][name] == slow[1][name], name
        assert fast[1]["cache-status"] == "strato; fwd=uri-miss; stored"
        assert conn.get("/a")[1]["cache-status"].startswith("strato; hit")

    def test_conditionals_and_head_shape_a_miss_as_they_shape_a_hit(self, origin: Origin, conn: Connection) -> None:
        for path in ("/conditional", "/failed", "/head"):
            origin.routes[path] = small()
        assert conn.get("/conditional", 'If-None-Match: "e"')[0::2] == (304, b"")
        assert conn.get("/failed", 'If-Match: "other"')[0] == 412
        status, headers, body = conn.get("/head", method="HEAD")
        assert (status, headers["content-length"], body) == (200, str(len(BODY)), b"")
        for path in ("/conditional", "/failed", "/head"):
            assert conn.get(path)[1]["cache-status"].startswith("strato; hit")
        assert [origin.count(p) for p in ("/conditional", "/failed", "/head")] == [1, 1, 1]

    def test_a_range_asked_of_an_uncached_object_fills_the_cache(self, origin: Origin, conn: Connection) -> None:
        """The origin is asked for the whole object (as nginx's proxy_cache and Varnish ask), the
        range is answered from it, and the next range is a hit: a player's range requests fill
        the cache."""
        origin.routes["/range"] = small()
        status, headers, body = conn.get("/range", "Range: bytes=10-19")
        assert (status, body, headers["content-range"]) == (206, BODY[10:20], f"bytes 10-19/{len(BODY)}")
        assert headers["cache-status"] == "strato; fwd=uri-miss; stored"
        assert "range" not in origin.last("/range").headers
        status, headers, body = conn.get("/range", "Range: bytes=20-29")
        assert (status, body) == (206, BODY[20:30])
        assert headers["cache-status"].startswith("strato; hit")
        assert origin.count("/range") == 1

    def test_a_compressible_miss_is_answered_compressed_and_the_identity_body_stays_stored(
        self, origin: Origin, conn: Connection, edge: StratoEdge
    ) -> None:
        origin.routes["/text"] = small(TEXT, "text/plain")
        status, headers, body = conn.get("/text", "Accept-Encoding: gzip")
        assert (status, headers["content-encoding"], headers["content-length"]) == (200, "gzip", str(len(body)))
        assert "accept-encoding" in headers["vary"].lower()
        assert gzip.decompress(body) == TEXT
        assert conn.get("/text")[2] == TEXT
        assert origin.count("/text") == 1
        assert edge.metric("strato_edge_compressions_total") == 1

    def test_an_uncacheable_miss_is_fetched_once_for_each_request(self, origin: Origin, conn: Connection) -> None:
        origin.routes["/nostore"] = Route(200, {"Cache-Control": "no-store"}, b"fresh", together=True)
        for _ in range(2):
            status, headers, body = conn.get("/nostore")
            assert (status, body, headers["cache-status"]) == (200, b"fresh", "strato; fwd=uri-miss")
        assert origin.count("/nostore") == 2

    def test_a_body_too_large_for_memory_streams_through_and_is_stored(
        self, origin: Origin, conn: Connection
    ) -> None:
        origin.routes["/large"] = small(LARGE)
        assert conn.get("/large")[2] == LARGE
        status, headers, body = conn.get("/large")
        assert (status, body) == (200, LARGE)
        assert headers["cache-status"].startswith("strato; hit")
        assert origin.count("/large") == 1

    def test_an_origin_that_hangs_up_gets_a_502_and_the_connection_goes_on(
        self, origin: Origin, conn: Connection
    ) -> None:
        origin.down = True
        assert conn.get("/gone")[0] == 502
        origin.down = False
        origin.routes["/back"] = small()
        assert conn.get("/back")[2] == BODY

    def test_misses_are_counted_and_logged_as_before(self, origin: Origin, tmp_path: Path) -> None:
        origin.routes["/counted"] = small()
        log = tmp_path / "access.log"
        edge = StratoEdge(origin.url, tmp_path / "cache", "--access-log", str(log)).start()
        connection = Connection(edge)
        try:
            assert connection.get("/counted")[2] == BODY
            assert connection.get("/counted")[2] == BODY
            assert (edge.metric("strato_edge_misses_total"), edge.metric("strato_edge_hits_total")) == (1, 1)
            assert edge.metric("strato_edge_origin_fetches_total") == 1
            assert edge.metric("strato_edge_bytes_served_total") == 2 * len(BODY)
        finally:
            connection.close()
            edge.stop()
        lines = [line for line in log.read_text().splitlines() if "/counted" in line]
        assert [line.split('" ')[1].split()[:2] for line in lines] == [["200", "1024"]] * 2

    def test_a_rate_limited_client_is_refused_before_any_fetch(self, origin: Origin, tmp_path: Path) -> None:
        origin.routes["/first"] = small()
        origin.routes["/second"] = small()
        edge = StratoEdge(origin.url, tmp_path / "cache", "--rate", "0.001", "--burst", "1").start()
        connection = Connection(edge)
        try:
            assert connection.get("/first")[0] == 200
            status, headers, _ = connection.get("/second")
            assert (status, int(headers["retry-after"]) > 0) == (429, True)
        finally:
            connection.close()
            edge.stop()
        assert origin.count("/second") == 0


class TestTheConnection:
    def test_requests_pipelined_behind_a_miss_wait_for_it_and_keep_their_order(
        self, origin: Origin, conn: Connection
    ) -> None:
        gate = threading.Event()
        origin.routes["/slow"] = small(gate=gate)
        origin.routes["/quick"] = small(b"quick")
        conn.send(request("/slow") + request("/quick") + request("/slow"))
        wait_until_seen(origin, "/slow")
        gate.set()
        answers = [conn.response() for _ in range(3)]
        assert [a[2] for a in answers] == [BODY, b"quick", BODY]
        assert answers[2][1]["cache-status"].startswith("strato; hit")
        assert origin.count("/slow") == 1

    def test_misses_for_one_key_on_many_connections_make_one_fetch(self, origin: Origin, edge: StratoEdge) -> None:
        gate = threading.Event()
        origin.routes["/shared"] = small(gate=gate)
        connections = [Connection(edge) for _ in range(5)]
        try:
            for connection in connections:
                connection.send(request("/shared"))
            wait_until_seen(origin, "/shared")
            gate.set()
            assert [c.response()[2] for c in connections] == [BODY] * 5
        finally:
            for connection in connections:
                connection.close()
        assert origin.count("/shared") == 1

    def test_a_client_that_leaves_during_the_fetch_does_not_stop_it(self, origin: Origin, edge: StratoEdge) -> None:
        gate = threading.Event()
        origin.routes["/left"] = small(gate=gate)
        leaving = Connection(edge)
        leaving.send(request("/left"))
        wait_until_seen(origin, "/left")
        leaving.close()
        gate.set()
        staying = Connection(edge)
        try:
            assert staying.get("/left")[2] == BODY
        finally:
            staying.close()
        assert origin.count("/left") == 1

    def test_a_server_stopping_during_a_fetch_still_answers_the_miss_then_closes(
        self, origin: Origin, tmp_path: Path
    ) -> None:
        gate = threading.Event()
        origin.routes["/stopping"] = small(gate=gate)
        edge = StratoEdge(origin.url, tmp_path / "cache", "--log-level", "info").start()
        connection = Connection(edge)
        try:
            connection.send(request("/stopping"))
            wait_until_seen(origin, "/stopping")
            assert edge.process is not None
            edge.process.terminate()
            deadline = time.monotonic() + 30
            while not any("Shutting down" in line for line in edge.output) and time.monotonic() < deadline:
                time.sleep(0.01)  # the server has asked its connections to finish before the fetch lands
            gate.set()
            status, headers, body = connection.response()
            assert (status, headers["connection"], body) == (200, "close", BODY)
            assert connection.rfile.read() == b""
        finally:
            connection.close()
            edge.stop()
