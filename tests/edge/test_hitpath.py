"""Fresh hits answered in the edge's HTTP protocol (edge/hitpath.py, edge/protocol.py), seen
from a raw socket: the same answers the ASGI path gives, on keep-alive connections that stay
in step whatever the client sends next."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from strato.http.conditionals import format_http_date
from tests.edge.conftest import StratoEdge
from tests.edge.origin import Origin, Route, Seen
from tests.edge.rawhttp import Connection, request

BODY = bytes(range(256)) * 4  # 1 KiB, held in the memory tier
LARGE = bytes(range(251)) * 8500  # ~2 MiB: on disk only, ranges read from the page cache


@pytest.fixture
def conn(edge: StratoEdge) -> Iterator[Connection]:
    connection = Connection(edge)
    yield connection
    connection.close()


@pytest.fixture
def cached(origin: Origin, conn: Connection) -> Origin:
    """/one (1 KiB, with validators) and /large (~2 MiB), each fetched once and stored."""
    origin.routes["/one"] = Route(200, {"Cache-Control": "max-age=600", "Content-Type": "application/octet-stream",
                                        "ETag": '"one"', "Last-Modified": "Tue, 01 Oct 2024 10:00:00 GMT"}, BODY)
    origin.routes["/large"] = Route(200, {"Cache-Control": "max-age=600", "ETag": '"large"'}, LARGE)
    assert conn.get("/one")[2] == BODY
    assert conn.get("/large")[2] == LARGE
    return origin


class TestHits:
    def test_a_hit_carries_the_same_fields_as_the_same_request_through_the_asgi_app(
        self, cached: Origin, conn: Connection
    ) -> None:
        fast = conn.get("/one")
        conn.send(request("/one", "Content-Length: 0"))  # a request with a body never takes the fast path
        slow = conn.response()
        assert fast[0] == slow[0] == 200
        assert fast[2] == slow[2] == BODY
        assert fast[1].keys() == slow[1].keys()
        for name in fast[1].keys() - {"age", "date", "cache-status"}:
            assert fast[1][name] == slow[1][name], name
        assert fast[1]["cache-status"].startswith("strato; hit; ttl=")
        assert fast[1]["content-length"] == str(len(BODY))
        assert cached.count("/one") == 1

    def test_hits_are_counted_and_logged_as_before(self, origin: Origin, tmp_path: Path) -> None:
        origin.routes["/counted"] = Route(200, {"Cache-Control": "max-age=600"}, BODY)
        log = tmp_path / "access.log"
        edge = StratoEdge(origin.url, tmp_path / "cache", "--access-log", str(log)).start()
        connection = Connection(edge)
        try:
            for _ in range(3):
                assert connection.get("/counted")[2] == BODY
            assert connection.get("/counted", method="HEAD")[2] == b""
            assert edge.metric("strato_edge_hits_total") == 3
            assert edge.metric("strato_edge_bytes_served_total") == 3 * len(BODY)
        finally:
            connection.close()
            edge.stop()
        lines = [line for line in log.read_text().splitlines() if "/counted" in line]
        assert [line.split('" ')[1].split()[:2] for line in lines] == [["200", "1024"]] * 3 + [["200", "0"]]

    def test_a_rate_limited_head_is_logged_with_no_body_sent(self, origin: Origin, tmp_path: Path) -> None:
        origin.routes["/limited"] = Route(200, {"Cache-Control": "max-age=600"}, BODY)
        log = tmp_path / "access.log"
        edge = StratoEdge(origin.url, tmp_path / "cache", "--rate", "1", "--burst", "1",
                          "--access-log", str(log)).start()
        connection = Connection(edge)
        try:
            assert connection.get("/limited")[0] == 200
            assert connection.get("/limited", method="HEAD")[::2] == (429, b"")
            # and through the ASGI app (a request directive takes it off the hit path)
            assert connection.get("/limited", "Cache-Control: no-cache", method="HEAD")[::2] == (429, b"")
        finally:
            connection.close()
            edge.stop()
        lines = [line for line in log.read_text().splitlines() if '"HEAD /limited"' in line]
        assert [line.split('" ')[1].split()[:2] for line in lines] == [["429", "0"]] * 2

    def test_head_gets_the_length_without_the_body_and_the_connection_goes_on(
        self, cached: Origin, conn: Connection
    ) -> None:
        status, headers, body = conn.get("/one", method="HEAD")
        assert (status, headers["content-length"], body) == (200, str(len(BODY)), b"")
        assert conn.get("/one")[2] == BODY

    def test_request_directives_still_rule_a_fresh_entry(self, cached: Origin, conn: Connection) -> None:
        assert conn.get("/one", "Cache-Control: only-if-cached")[0] == 200
        assert cached.count("/one") == 1
        assert conn.get("/one", "Cache-Control: no-cache")[0] == 200
        assert conn.get("/one", "Pragma: no-cache")[0] == 200
        assert cached.count("/one") == 3

    def test_each_vary_variant_is_its_own_hit(self, origin: Origin, conn: Connection) -> None:
        def by_language(seen: Seen) -> tuple[int, dict[str, str], bytes]:
            return 200, {"Cache-Control": "max-age=600", "Vary": "Accept-Language"}, \
                seen.headers.get("accept-language", "none").encode()

        origin.routes["/hello"] = Route(answer=by_language)
        for _ in range(2):
            assert conn.get("/hello", "Accept-Language: fr")[2] == b"fr"
            assert conn.get("/hello", "Accept-Language: de")[2] == b"de"
            assert conn.get("/hello")[2] == b"none"
        assert origin.count("/hello") == 3


class TestConditionalsAndRanges:
    def test_a_matching_validator_gets_a_304_with_no_body(self, cached: Origin, conn: Connection) -> None:
        # RFC 9110 8.6: no Content-Length unless it is the 200's, from either path.
        for fields in ((), ("Content-Length: 0",)):
            status, headers, body = conn.get("/one", 'If-None-Match: "one"', *fields)
            assert (status, headers["etag"], "content-length" in headers, body) == (304, '"one"', False, b"")
        assert conn.get("/one", "If-Modified-Since: Tue, 01 Oct 2024 10:00:00 GMT")[0] == 304
        assert conn.get("/one", 'If-None-Match: "other"')[2] == BODY
        assert conn.get("/one", 'If-Match: "other"')[0] == 412

    def test_a_date_condition_on_a_body_without_a_modification_date_is_ignored(
        self, cached: Origin, conn: Connection
    ) -> None:
        # RFC 9110 13.1.3: If-Modified-Since is ignored where the resource has no modification
        # date (curl -z and wget -N send their file's time), on a miss, a hit, or through the ASGI app.
        cached.routes["/tagged"] = Route(200, {"Cache-Control": "max-age=600", "ETag": '"t"'}, BODY)
        for fields in ((), (), ("Content-Length: 0",)):
            status, _, body = conn.get("/tagged", "If-Modified-Since: Tue, 01 Oct 2030 10:00:00 GMT", *fields)
            assert (status, body) == (200, BODY)
        assert conn.get("/tagged", 'If-None-Match: "t"', "If-Modified-Since: Tue, 01 Oct 2030 10:00:00 GMT")[0] == 304
        assert cached.count("/tagged") == 1

    def test_if_range_with_a_date_holds_only_for_a_last_modified_a_second_before_the_date(
        self, cached: Origin, conn: Connection
    ) -> None:
        # RFC 9110 13.1.5, 8.8.2.2: a cache takes a Last-Modified as a strong validator only when
        # its stored Date is at least a second later; else a changed body could answer the range.
        now = time.time()
        for path, modified in (("/same-second", now), ("/earlier", now - 5)):
            fields = {"Cache-Control": "max-age=600", "Date": format_http_date(now),
                      "Last-Modified": format_http_date(modified)}
            cached.routes[path] = Route(200, fields, BODY, undated=True)  # the Date is its own
            conn.get(path)
            for through_asgi in ((), ("Content-Length: 0",)):
                status, _, body = conn.get(path, "Range: bytes=0-3", f"If-Range: {fields['Last-Modified']}",
                                           *through_asgi)
                assert (status, body) == ((200, BODY) if path == "/same-second" else (206, BODY[:4]))

    def test_if_match_never_holds_for_a_weak_entity_tag_but_as_a_star(self, cached: Origin, conn: Connection) -> None:
        # RFC 9110 13.1.1: If-Match compares entity tags strongly, and a weak one matches no tag.
        cached.routes["/weak"] = Route(200, {"Cache-Control": "max-age=600", "ETag": 'W/"w"'}, BODY)
        for through_asgi in ((), (), ("Content-Length: 0",)):  # a miss, a hit, a hit through the ASGI app
            assert conn.get("/weak", 'If-Match: "w"', *through_asgi)[0] == 412
            assert conn.get("/weak", 'If-Match: W/"w"', *through_asgi)[0] == 412
            assert conn.get("/weak", "If-Match: *", *through_asgi)[2] == BODY

    def test_ranges_of_a_body_in_memory(self, cached: Origin, conn: Connection) -> None:
        status, headers, body = conn.get("/one", "Range: bytes=10-19")
        assert (status, headers["content-range"], body) == (206, f"bytes 10-19/{len(BODY)}", BODY[10:20])
        status, headers, body = conn.get("/one", "Range: bytes=0-1,100-101")
        assert status == 206
        assert headers["content-type"].startswith("multipart/byteranges")
        assert BODY[0:2] in body
        assert BODY[100:102] in body
        assert conn.get("/one", "Range: bytes=5000-")[1]["content-range"] == f"bytes */{len(BODY)}"
        assert conn.get("/one", "Range: bytes=0-3", 'If-Range: "stale"')[2] == BODY

    def test_ranges_of_a_body_on_disk(self, cached: Origin, conn: Connection) -> None:
        for start in (0, 65_536, len(LARGE) - 100):
            status, headers, body = conn.get("/large", f"Range: bytes={start}-{start + 65_535}")
            end = min(start + 65_536, len(LARGE))
            assert (status, body) == (206, LARGE[start:end])
            assert headers["content-range"] == f"bytes {start}-{end - 1}/{len(LARGE)}"
        assert conn.get("/large")[2] == LARGE
        assert cached.count("/large") == 1


class TestMisses:
    def test_a_miss_is_answered_whole_or_not_modified_from_the_body_just_received(
        self, origin: Origin, conn: Connection
    ) -> None:
        origin.routes["/fresh"] = Route(200, {"Cache-Control": "max-age=600", "ETag": '"f"'}, BODY)
        status, headers, body = conn.get("/fresh")
        assert (status, headers["content-length"], body) == (200, str(len(BODY)), BODY)
        assert headers["cache-status"] == "strato; fwd=uri-miss; stored"
        origin.routes["/other"] = Route(200, {"Cache-Control": "max-age=600", "ETag": '"o"'}, BODY)
        assert conn.get("/other", 'If-None-Match: "o"')[0] == 304
        assert conn.get("/other")[2] == BODY
        assert conn.get("/fresh", "Range: bytes=10-19")[2] == BODY[10:20]
        assert (origin.count("/fresh"), origin.count("/other")) == (1, 1)


class TestTheConnection:
    def test_pipelined_requests_are_answered_in_order_hits_and_misses_alike(
        self, cached: Origin, conn: Connection
    ) -> None:
        cached.routes["/new"] = Route(200, {"Cache-Control": "max-age=600"}, b"new")
        conn.send(request("/one") + request("/new") + request("/one", "Range: bytes=0-3") + request("/new"))
        answers = [conn.response() for _ in range(4)]
        assert [a[2] for a in answers] == [BODY, b"new", BODY[:4], b"new"]
        assert [a[0] for a in answers] == [200, 200, 206, 200]

    def test_answers_through_the_asgi_app_keep_their_heads_when_they_have_no_body(
        self, origin: Origin, conn: Connection
    ) -> None:
        origin.routes["/headless"] = Route(200, {"Cache-Control": "no-store"}, b"body")
        status, headers, body = conn.get("/headless", method="HEAD")
        assert (status, headers["content-length"], body) == (200, "4", b"")
        status, headers, body = conn.get("/headless", "Content-Length: 0", method="HEAD")
        assert (status, body) == (200, b"")
        assert conn.get("/headless")[2] == b"body"

    def test_a_body_sent_with_a_get_is_read_as_a_body_not_as_the_next_request(
        self, cached: Origin, conn: Connection
    ) -> None:
        smuggled = request("/large")
        conn.send(request("/one", f"Content-Length: {len(smuggled)}", body=smuggled) + request("/one"))
        assert conn.response()[2] == BODY
        assert conn.response()[2] == BODY
        conn.send(request("/one", "Transfer-Encoding: chunked", body=b"5\r\nhello\r\n0\r\n\r\n") + request("/one"))
        assert conn.response()[2] == BODY
        assert conn.response()[2] == BODY

    def test_an_oversize_head_after_a_hit_is_refused_and_the_connection_closed(
        self, cached: Origin, conn: Connection
    ) -> None:
        assert conn.get("/one")[2] == BODY
        conn.send(b"GET /one HTTP/1.1\r\nHost: edge.test\r\nX-Filler: " + b"a" * (70 * 1024))
        status, headers, body = conn.response()
        assert (status, headers["connection"]) == (400, "close")
        assert b"RequestHeaderSectionTooLarge" in body
        assert conn.rfile.read() == b""

    def test_a_request_with_two_host_fields_is_refused_whether_or_not_it_would_be_a_hit(
        self, cached: Origin, conn: Connection
    ) -> None:
        # RFC 9112 3.2: a 400, from the protocol's fast path as from the ASGI app (which chose the
        # distribution by the first Host and the cache key by both).
        for fields in (("Host: edge.test",), ("Host: edge.test", "Content-Length: 0")):
            conn.send(b"GET /one HTTP/1.1\r\n" + "".join(f"{f}\r\n" for f in fields).encode()
                      + b"Host: other.test\r\n\r\n")
            status, _, body = conn.response()
            assert (status, body) == (400, b"more than one Host field\n")
        assert conn.get("/one")[2] == BODY
        assert cached.count("/one") == 1

    def test_an_http_1_1_request_without_host_is_refused_and_an_http_1_0_one_answered(
        self, cached: Origin, conn: Connection, edge: StratoEdge
    ) -> None:
        # RFC 9112 3.2: a Host field is what HTTP/1.1 requires (HTTP/1.0 predates it).
        for fields in ("", "Content-Length: 0\r\n"):
            conn.send(f"GET /one HTTP/1.1\r\n{fields}\r\n".encode())
            status, _, body = conn.response()
            assert (status, body) == (400, b"no Host field\n")
        assert conn.get("/one")[2] == BODY
        old = Connection(edge)
        try:
            old.send(b"GET /one HTTP/1.0\r\n\r\n")
            assert old.response()[0] == 200
        finally:
            old.close()

    def test_http_1_0_and_connection_close_are_answered_and_closed(self, cached: Origin, edge: StratoEdge) -> None:
        for raw in (b"GET /one HTTP/1.0\r\nHost: edge.test\r\n\r\n", request("/one", "Connection: close")):
            connection = Connection(edge)
            try:
                connection.send(raw)
                status, headers, body = connection.response()
                assert (status, headers["connection"], body) == (200, "close", BODY)
                assert connection.rfile.read() == b""
            finally:
                connection.close()
