"""The edge in front of a real origin, as a client sees it: what it caches, what it
forwards, what it answers itself."""

from __future__ import annotations

import contextlib
import gzip
import http.client
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

import brotli  # type: ignore[import-untyped]
import pytest
import zstandard

from strato.http.conditionals import format_http_date, parse_http_date
from tests.edge.conftest import StratoEdge
from tests.edge.origin import Origin, Route, Seen
from tests.edge.rawhttp import Connection, request
from tests.servers import raw_exchange


def call(edge: StratoEdge, path: str, headers: dict[str, str] | None = None, method: str = "GET",
         body: bytes | None = None) -> tuple[int, dict[str, str], bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", urlsplit(edge.url).port, timeout=30)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        connection.close()


def cacheable(body: bytes, max_age: int = 60, **extra: str) -> Route:
    return Route(200, {"Cache-Control": f"max-age={max_age}", "Content-Type": "text/plain", **extra}, body)


class TestCaching:
    def test_a_fresh_response_is_served_from_the_cache_with_age_via_and_cache_status(
        self, origin: Origin, edge: StratoEdge
    ) -> None:
        origin.routes["/page"] = cacheable(b"hello")
        first = call(edge, "/page")
        second = call(edge, "/page")
        assert first[0] == second[0] == 200
        assert first[2] == second[2] == b"hello"
        assert origin.count("/page") == 1
        assert "fwd=uri-miss" in first[1]["cache-status"]
        assert "hit" in second[1]["cache-status"]
        assert second[1]["via"].endswith("strato")
        assert int(second[1]["age"]) >= 0

    def test_cache_status_says_why_a_request_went_to_the_origin(self, origin: Origin, edge: StratoEdge) -> None:
        """RFC 9211 2.2 and 2.3: a stale response, a fresh one the client's no-cache would not
        take, and what the origin answered when it validated the stored one."""
        current = {"/stale": '"v1"', "/fresh": '"v1"'}

        def versioned(seen: Seen) -> tuple[int, dict[str, str], bytes]:
            etag = current[seen.path]
            headers = {"Cache-Control": "max-age=0" if seen.path == "/stale" else "max-age=600", "ETag": etag}
            if seen.headers.get("if-none-match") == etag:
                return 304, headers, b""
            return 200, headers, etag.encode()

        for path in current:
            origin.routes[path] = Route(answer=versioned)
            assert call(edge, path)[1]["cache-status"] == "strato; fwd=uri-miss; stored"
        assert call(edge, "/stale")[1]["cache-status"].startswith("strato; fwd=stale; fwd-status=304; ttl=")
        assert call(edge, "/fresh", {"Cache-Control": "no-cache"})[1]["cache-status"].startswith(
            "strato; fwd=request; fwd-status=304; ttl=")
        assert call(edge, "/fresh")[1]["cache-status"].startswith("strato; hit; ttl=")
        current["/stale"] = '"v2"'
        status, headers, body = call(edge, "/stale")
        assert (status, body, headers["cache-status"]) == (200, b'"v2"', "strato; fwd=stale; stored")

    def test_another_variant_stored_is_a_vary_miss(self, origin: Origin, edge: StratoEdge) -> None:
        origin.routes["/varied"] = cacheable(b"by language", Vary="Accept-Language")
        assert call(edge, "/varied", {"Accept-Language": "en"})[1]["cache-status"] == "strato; fwd=uri-miss; stored"
        assert call(edge, "/varied", {"Accept-Language": "de"})[1]["cache-status"] == "strato; fwd=vary-miss; stored"
        assert call(edge, "/varied", {"Accept-Language": "de"})[1]["cache-status"].startswith("strato; hit")

    def test_no_store_is_never_stored(self, origin: Origin, edge: StratoEdge) -> None:
        origin.routes["/private"] = Route(200, {"Cache-Control": "no-store"}, b"secret")
        call(edge, "/private")
        call(edge, "/private")
        assert origin.count("/private") == 2

    def test_a_response_to_an_authorized_request_is_not_shared(self, origin: Origin, edge: StratoEdge) -> None:
        origin.routes["/mine"] = cacheable(b"yours")
        call(edge, "/mine", {"Authorization": "Bearer a"})
        call(edge, "/mine", {"Authorization": "Bearer b"})
        assert origin.count("/mine") == 2

    def test_vary_keeps_one_variant_per_request_header_value(self, origin: Origin, edge: StratoEdge) -> None:
        def by_language(seen: Seen) -> tuple[int, dict[str, str], bytes]:
            language = seen.headers.get("accept-language", "en")
            return 200, {"Cache-Control": "max-age=60", "Vary": "Accept-Language"}, language.encode()

        origin.routes["/greeting"] = Route(answer=by_language)
        assert call(edge, "/greeting", {"Accept-Language": "fr"})[2] == b"fr"
        assert call(edge, "/greeting", {"Accept-Language": "de"})[2] == b"de"
        assert call(edge, "/greeting", {"Accept-Language": "fr"})[2] == b"fr"
        assert origin.count("/greeting") == 2

    def test_a_stale_response_is_revalidated_and_a_304_refreshes_it(self, origin: Origin, edge: StratoEdge) -> None:
        def validated(seen: Seen) -> tuple[int, dict[str, str], bytes]:
            headers = {"Cache-Control": "max-age=0", "ETag": '"v1"'}
            if seen.headers.get("if-none-match") == '"v1"':
                return 304, headers, b""
            return 200, headers, b"version one"

        origin.routes["/doc"] = Route(answer=validated)
        assert call(edge, "/doc")[2] == b"version one"
        status, _, body = call(edge, "/doc")
        assert (status, body) == (200, b"version one")
        assert origin.last("/doc").headers.get("if-none-match") == '"v1"'

    def test_a_304_for_a_no_store_request_does_not_freshen_the_stored_response(
            self, origin: Origin, edge: StratoEdge) -> None:
        """RFC 9111 5.2.1.5: no part of a response to a no-store request is stored, so its 304
        answers the client but leaves the stored response stale."""
        def validated(seen: Seen) -> tuple[int, dict[str, str], bytes]:
            if seen.headers.get("if-none-match") == '"v1"':
                return 304, {"Cache-Control": "max-age=60", "ETag": '"v1"'}, b""
            return 200, {"Cache-Control": "max-age=0", "ETag": '"v1"'}, b"version one"

        origin.routes["/kept-stale"] = Route(answer=validated)
        assert call(edge, "/kept-stale")[2] == b"version one"
        assert call(edge, "/kept-stale", {"Cache-Control": "no-store"})[2] == b"version one"
        fetched = origin.count("/kept-stale")
        assert call(edge, "/kept-stale")[2] == b"version one"
        assert origin.count("/kept-stale") == fetched + 1, "still stale: validated again"
        assert call(edge, "/kept-stale")[2] == b"version one"
        assert origin.count("/kept-stale") == fetched + 1, "that 304 freshened it"

    def test_the_clients_own_conditional_request_gets_a_304_from_the_cache(
        self, origin: Origin, edge: StratoEdge
    ) -> None:
        origin.routes["/etagged"] = cacheable(b"body", ETag='"abc"')
        call(edge, "/etagged")
        status, headers, body = call(edge, "/etagged", {"If-None-Match": '"abc"'})
        assert (status, body) == (304, b"")
        assert headers["etag"] == '"abc"'
        assert origin.count("/etagged") == 1

    def test_an_origins_bodiless_answer_declaring_a_length_is_relayed_bodiless_on_a_connection_that_goes_on(
        self, origin: Origin, edge: StratoEdge
    ) -> None:
        # RFC 9110 8.6: a 304 may carry the Content-Length a 200 would have had; neither it nor a
        # 204 has content, and neither goes with a length of the edge's (a stored 204 neither).
        def validated(seen: Seen) -> tuple[int, dict[str, str], bytes]:
            if seen.headers.get("if-none-match") == '"v1"':
                return 304, {"ETag": '"v1"', "Cache-Control": "max-age=60", "Content-Length": "7"}, b""
            return 200, {"ETag": '"v1"', "Cache-Control": "max-age=60"}, b"content"

        origin.routes["/validated"] = Route(answer=validated)
        origin.routes["/deleted"] = Route(204, {"Content-Length": "7"})
        origin.routes["/empty"] = Route(204, {"Cache-Control": "max-age=60"})
        connection = Connection(edge)
        try:
            status, headers, body = connection.get("/validated", 'If-None-Match: "v1"')
            assert (status, headers["etag"], "content-length" in headers, body) == (304, '"v1"', False, b"")
            status, headers, body = connection.get("/deleted", method="DELETE")
            assert (status, "content-length" in headers, body) == (204, False, b"")
            for fields in ((), (), ("Content-Length: 0",)):  # a miss, a hit, a hit through the ASGI app
                status, headers, body = connection.get("/empty", *fields)
                assert (status, "content-length" in headers, body) == (204, False, b"")
            assert connection.get("/validated")[2] == b"content"
        finally:
            connection.close()

    def test_a_get_sent_with_a_body_is_asked_of_the_origin_without_the_bodys_length(
        self, origin: Origin, edge: StratoEdge
    ) -> None:
        # RFC 9112 6.2: the edge's GET carries no body, so no Content-Length framing one: the
        # origin would wait for bytes that never come, and every request for the key with it.
        origin.routes["/framed"] = cacheable(b"framed")
        connection = Connection(edge)
        try:
            connection.send(request("/framed", "Content-Length: 5", body=b"hello") + request("/framed"))
            assert [connection.response()[2] for _ in range(2)] == [b"framed", b"framed"]
        finally:
            connection.close()
        assert "content-length" not in origin.last("/framed").headers
        assert origin.count("/framed") == 1

    def test_a_head_for_a_body_of_unknown_length_gives_no_length_rather_than_0(
        self, origin: Origin, edge: StratoEdge
    ) -> None:
        # RFC 9110 9.3.2 and 8.6: a HEAD's Content-Length is the one a GET would get, or none
        # while it is not known (a chunked origin's body still arriving); never 0 for a body.
        origin.routes["/stream"] = Route(200, {"Cache-Control": "max-age=60"}, b"s" * 100_000, chunked=True)
        origin.routes["/passing"] = Route(200, {"Cache-Control": "no-store"}, b"p" * 100_000, chunked=True)
        for path in ("/stream", "/passing"):
            status, headers, _ = call(edge, path, method="HEAD")
            assert (status, headers.get("content-length", "100000")) == (200, "100000")
        assert call(edge, "/passing")[2] == b"p" * 100_000

    def test_a_body_passed_on_stops_being_fetched_when_its_client_goes(self, origin: Origin, edge: StratoEdge) -> None:
        """A response the edge does not keep is fetched for its client alone: once that client has
        gone, the rest of it is not read from the origin for no one (nginx gives up the upstream
        request when its client closes, proxy_ignore_client_abort off)."""
        size, piece = 256 * 1024 * 1024, b"v" * 65536
        made: list[int] = []
        over = threading.Event()

        def pieces() -> Iterator[bytes]:
            try:
                while sum(made) < size:
                    made.append(len(piece))
                    yield piece
            finally:
                over.set()

        origin.routes["/video"] = Route(200, {"Cache-Control": "no-store"}, stream=(size, pieces))
        with socket.create_connection(("127.0.0.1", urlsplit(edge.url).port or 0), timeout=30) as viewer:
            viewer.sendall(request("/video"))
            assert viewer.recv(65536).startswith(b"HTTP/1.1 200 ")
        assert over.wait(30), "the origin is still sending"
        assert sum(made) < size // 2

    def test_answers_carry_a_date_even_when_the_origin_sent_none(self, origin: Origin, edge: StratoEdge) -> None:
        # RFC 9110 6.6.1: a response forwarded without a Date gets the time it was received; the
        # edge's own answers (a 4xx) have one as any origin's with a clock do.
        origin.routes["/undated"] = Route(200, {"Cache-Control": "no-store"}, b"u", undated=True)
        origin.routes["/kept"] = Route(200, {"Cache-Control": "max-age=60"}, b"k", undated=True)
        connection = Connection(edge)
        try:
            for path in ("/undated", "/kept", "/kept", "/" + "x" * 9000):
                for fields in ((), ("Content-Length: 0",)):
                    status, headers, _ = connection.get(path, *fields)
                    assert status in (200, 414)
                    assert parse_http_date(headers["date"]) is not None, (path, fields)
        finally:
            connection.close()

    def test_a_post_invalidates_the_cached_target(self, origin: Origin, edge: StratoEdge) -> None:
        origin.routes["/thing"] = cacheable(b"before")
        call(edge, "/thing")
        origin.routes["/thing"] = Route(200, {"Cache-Control": "max-age=60"}, b"after")
        assert call(edge, "/thing", method="POST", body=b"change")[0] == 200
        assert call(edge, "/thing")[2] == b"after"
        assert origin.count("/thing", "GET") == 2

    def test_methods_paths_and_queries_reach_the_origin_unchanged(self, origin: Origin, edge: StratoEdge) -> None:
        origin.routes["/q"] = Route(200, {}, b"ok")
        call(edge, "/q?b=2&a=1&a=%2F+x", method="DELETE")
        assert (origin.seen[-1].method, origin.seen[-1].path) == ("DELETE", "/q?b=2&a=1&a=%2F+x")

    def test_cdn_cache_control_rules_the_edge_and_is_not_forwarded(self, origin: Origin, edge: StratoEdge) -> None:
        origin.routes["/cdn"] = Route(200, {"Cache-Control": "no-cache", "CDN-Cache-Control": "max-age=60"}, b"x")
        first = call(edge, "/cdn")
        call(edge, "/cdn")
        assert origin.count("/cdn") == 1
        assert "cdn-cache-control" not in first[1]
        assert first[1]["cache-control"] == "no-cache"


def by_referer(revalidated: dict[str, str]) -> Callable[[Seen], tuple[int, dict[str, str], bytes]]:
    """An origin that answers a good Referer alone (as strato's S3 under a bucket policy's
    aws:Referer condition), and validates its stored response with a 304 of `revalidated`."""
    def answer(seen: Seen) -> tuple[int, dict[str, str], bytes]:
        if seen.headers.get("referer") != "https://good.example/":
            return 403, {"Cache-Control": "private"}, b"refused"
        if seen.headers.get("if-none-match") == '"v1"':
            return 304, {"ETag": '"v1"', **revalidated}, b""
        return 200, {"Cache-Control": "max-age=0", "ETag": '"v1"'}, b"secret"

    return answer


def wait_until_joined(edge: StratoEdge, count: float, never: str) -> None:
    """Until the edge has counted `count` requests that joined a fetch in flight: polling another
    process's counter, not synchronising on time (`never` says what did not happen in 20 s)."""
    deadline = time.monotonic() + 20
    while edge.metric("strato_edge_collapsed_requests_total") < count:
        assert time.monotonic() < deadline, never
        time.sleep(0.01)


class TestCollapsing:
    @pytest.mark.parametrize(("size", "extra"), [(300_000, {}), (1024, {}), (1024, {"Connection": "close"})],
                             ids=["streamed", "in memory", "asgi"])
    def test_concurrent_misses_for_one_key_make_one_origin_fetch(
        self, origin: Origin, edge: StratoEdge, size: int, extra: dict[str, str],
    ) -> None:
        """Every request but the one that fetched says so in its Cache-Status (RFC 9211 2.6)."""
        gate = threading.Event()
        origin.routes["/slow"] = Route(200, {"Cache-Control": "max-age=60"}, b"x" * size, gate=gate)
        waiting = 10
        with ThreadPoolExecutor(waiting) as pool:
            futures = [pool.submit(call, edge, "/slow", extra) for _ in range(waiting)]
            wait_until_joined(edge, waiting - 1, "the requests never all reached the edge")
            gate.set()
            answers = [f.result() for f in futures]
        assert all(a[0] == 200 and a[2] == b"x" * size for a in answers)
        assert origin.count("/slow") == 1
        assert sorted(a[1]["cache-status"] for a in answers) == (
            ["strato; fwd=uri-miss; stored"] + ["strato; fwd=uri-miss; stored; collapsed"] * (waiting - 1))

    @pytest.mark.parametrize("extra", [{}, {"Connection": "close"}])  # the protocol's miss path; the ASGI app's
    def test_requests_that_joined_another_variants_fetch_get_their_own_variant(
            self, origin: Origin, edge: StratoEdge, extra: dict[str, str]) -> None:
        """RFC 9111 4.1: a response answers only the requests its Vary selects. Requests for
        other variants that waited on its fetch (its Vary unknown until it came) are answered
        by their own variant's fetch."""
        gate = threading.Event()

        def by_language(seen: Seen) -> tuple[int, dict[str, str], bytes]:
            language = seen.headers.get("accept-language", "none")
            return 200, {"Cache-Control": "max-age=60", "Vary": "Accept-Language"}, f"body {language}".encode()

        origin.routes["/page"] = Route(gate=gate, answer=by_language)
        languages = ["en", "fr", "fr", "de"]
        joined = edge.metric("strato_edge_collapsed_requests_total")
        with ThreadPoolExecutor(len(languages)) as pool:
            futures = [pool.submit(call, edge, "/page", {"Accept-Language": language, **extra})
                       for language in languages]
            wait_until_joined(edge, joined + len(languages) - 1, "the requests never all reached the edge")
            gate.set()
            answers = [f.result() for f in futures]
        assert [(status, body) for status, _, body in answers] == [
            (200, b"body en"), (200, b"body fr"), (200, b"body fr"), (200, b"body de")]
        assert 3 <= origin.count("/page") <= 4  # one per variant (the two fr may or may not meet)
        assert [call(edge, "/page", {"Accept-Language": language})[2] for language in ("fr", "de", "en")] == [
            b"body fr", b"body de", b"body en"]
        assert origin.count("/page") <= 4, "every variant stored"

    def test_a_request_that_joined_another_variants_revalidation_gets_its_own_variant(
            self, origin: Origin, edge: StratoEdge) -> None:
        """A 304 revalidates the stored variant it was asked for; a request for another stored
        variant that waited on it is answered from its own (revalidated in turn), not from that one."""
        gate = threading.Event()
        gate.set()

        def by_language(seen: Seen) -> tuple[int, dict[str, str], bytes]:
            language = seen.headers.get("accept-language", "none")
            headers = {"Cache-Control": "max-age=0", "Vary": "Accept-Language", "ETag": f'"{language}"'}
            if seen.headers.get("if-none-match") == f'"{language}"':
                return 304, headers, b""
            return 200, headers, f"body {language}".encode()

        origin.routes["/stale-page"] = Route(gate=gate, answer=by_language)
        assert call(edge, "/stale-page", {"Accept-Language": "en"})[2] == b"body en"
        assert call(edge, "/stale-page", {"Accept-Language": "fr"})[2] == b"body fr"
        gate.clear()
        joined = edge.metric("strato_edge_collapsed_requests_total")
        with ThreadPoolExecutor(2) as pool:
            english = pool.submit(call, edge, "/stale-page", {"Accept-Language": "en"})
            with origin.arrived:  # the English revalidation is at the origin
                assert origin.arrived.wait_for(lambda: origin.count("/stale-page") == 3, timeout=20)
            french = pool.submit(call, edge, "/stale-page", {"Accept-Language": "fr"})
            wait_until_joined(edge, joined + 1, "the French request never joined")
            gate.set()
            assert english.result()[2] == b"body en"
            assert french.result()[2] == b"body fr"

    def test_requests_that_joined_a_revalidation_answered_private_are_asked_for_each(
            self, origin: Origin, edge: StratoEdge) -> None:
        """RFC 9111 3.5 and 4.3.4: a 304 that makes the stored response private (an origin, such as
        strato's S3 under a conditional bucket policy, answering for that request alone) lets it
        answer only the request it validated: the others that waited on it are asked of the origin."""
        gate = threading.Event()
        gate.set()

        origin.routes["/guarded"] = Route(gate=gate, answer=by_referer({"CDN-Cache-Control": "private"}))
        assert call(edge, "/guarded", {"Referer": "https://good.example/"})[2] == b"secret"
        gate.clear()
        joined = edge.metric("strato_edge_collapsed_requests_total")
        with ThreadPoolExecutor(2) as pool:
            good = pool.submit(call, edge, "/guarded", {"Referer": "https://good.example/"})
            with origin.arrived:  # the good viewer's revalidation is at the origin
                assert origin.arrived.wait_for(lambda: origin.count("/guarded") == 2, timeout=20)
            bad = pool.submit(call, edge, "/guarded", {"Referer": "https://evil.example/"})
            wait_until_joined(edge, joined + 1, "the second request never joined")
            gate.set()
            assert good.result()[:3:2] == (200, b"secret")
            assert bad.result()[:3:2] == (403, b"refused")

    @pytest.mark.parametrize("extra", [{}, {"Connection": "close"}])  # the hit path; the ASGI app
    def test_a_response_a_304_made_private_is_revalidated_for_every_request(
            self, origin: Origin, edge: StratoEdge, extra: dict[str, str]) -> None:
        """RFC 9111 3.5, 4.3.4: however fresh the 304 made it, a stored response now private is
        validated for each request, which the origin may refuse."""
        origin.routes["/private-now"] = Route(answer=by_referer({"Cache-Control": "private, max-age=3600"}))
        good = {"Referer": "https://good.example/", **extra}
        assert call(edge, "/private-now", good)[2] == b"secret"
        assert call(edge, "/private-now", good)[2] == b"secret"  # revalidated: 304, private from now on
        assert call(edge, "/private-now", {"Referer": "https://evil.example/", **extra})[:3:2] == (403, b"refused")
        assert call(edge, "/private-now", good)[2] == b"secret"
        assert origin.count("/private-now") == 4

    def test_a_response_a_304_made_private_is_shared_again_once_a_304_is_not_private(
            self, origin: Origin, edge: StratoEdge) -> None:
        """RFC 9111 3.5, 4.3.4: the privacy a 304 brought (strato's S3 marks an answer a bucket
        policy's conditions gave one viewer CDN-Cache-Control: private) was that exchange's; a later
        304 without it (the policy made unconditional) makes the stored response a hit again."""
        per_viewer = {"on": True}

        def validated(seen: Seen) -> tuple[int, dict[str, str], bytes]:
            if seen.headers.get("if-none-match") != '"v1"':
                return 200, {"Cache-Control": "max-age=0", "ETag": '"v1"'}, b"shared"
            fields = {"ETag": '"v1"', "Cache-Control": "max-age=3600"}
            if per_viewer["on"]:
                fields["CDN-Cache-Control"] = "private, max-age=3600"
            return 304, fields, b""

        origin.routes["/policy"] = Route(answer=validated)
        assert call(edge, "/policy", {"Connection": "close"})[2] == b"shared"
        assert call(edge, "/policy", {"Connection": "close"})[2] == b"shared"  # 304: private from now on
        assert "hit" not in call(edge, "/policy", {"Connection": "close"})[1]["cache-status"]
        per_viewer["on"] = False
        assert call(edge, "/policy", {"Connection": "close"})[2] == b"shared"  # 304, shared again
        assert call(edge, "/policy", {"Connection": "close"})[1]["cache-status"].startswith("strato; hit")
        assert origin.count("/policy") == 4


class TestRangesAndCompression:
    def test_a_range_of_a_cached_object_is_served_from_the_cache(self, origin: Origin, edge: StratoEdge) -> None:
        data = bytes(range(256)) * 16
        origin.routes["/bin"] = Route(200, {"Cache-Control": "max-age=60", "Content-Type": "application/octet-stream"},
                                      data)
        call(edge, "/bin")
        status, headers, body = call(edge, "/bin", {"Range": "bytes=100-199"})
        assert (status, body) == (206, data[100:200])
        assert headers["content-range"] == f"bytes 100-199/{len(data)}"
        status, headers, body = call(edge, "/bin", {"Range": "bytes=0-9,2000-2009"})
        assert status == 206
        assert headers["content-type"].startswith("multipart/byteranges")
        assert data[0:10] in body
        assert data[2000:2010] in body
        assert call(edge, "/bin", {"Range": f"bytes={len(data)}-"})[0] == 416
        assert origin.count("/bin") == 1

    @pytest.mark.parametrize(("coding", "decode"), [
        ("gzip", gzip.decompress),
        ("br", brotli.decompress),
        ("zstd", lambda coded: zstandard.ZstdDecompressor().decompressobj().decompress(coded)),
    ])
    def test_text_is_compressed_for_clients_that_accept_it(
            self, origin: Origin, edge: StratoEdge, coding: str, decode: Callable[[bytes], bytes]) -> None:
        text = b"compress me " * 1000
        origin.routes["/text"] = cacheable(text)
        status, headers, body = call(edge, "/text", {"Accept-Encoding": coding})
        assert status == 200
        assert headers["content-encoding"] == coding
        assert "accept-encoding" in headers["vary"].lower()
        assert decode(body) == text
        assert call(edge, "/text")[2] == text

    def test_answers_the_edge_does_not_store_are_compressed_too(self, origin: Origin, edge: StratoEdge) -> None:
        """Compression is the answer's, whether or not the response is kept: a no-store or private
        page, one setting a cookie, a POST's answer, and one cut for the client's own preconditions
        all come compressed to a client that accepts it, as nginx's gzip filter and CloudFront
        compress them; the ETag weakened (RFC 9110 8.8.3.3) and Vary naming Accept-Encoding (12.5.5).
        One passed on as it streams in, with no length declared, comes as it is (CloudFront compresses
        only a declared length), so that a feed reaches the client piece by piece."""
        text = b"<p>your account, just now</p>" * 200
        page = {"Content-Type": "text/html", "ETag": '"v1"'}
        origin.routes["/no-store"] = Route(200, {**page, "Cache-Control": "no-store"}, text)
        origin.routes["/private"] = Route(200, {**page, "Cache-Control": "private"}, text)
        origin.routes["/feed"] = Route(200, {"Content-Type": "application/x-ndjson", "Cache-Control": "no-store"},
                                       text, chunked=True)
        origin.routes["/cookie"] = Route(200, {**page, "Cache-Control": "max-age=60"}, text, cookies=("s=1",))
        origin.routes["/api"] = Route(200, {"Content-Type": "application/json"}, text)
        none: dict[str, str] = {}
        asked = (("GET", "/no-store", none), ("GET", "/private", none), ("GET", "/cookie", none),
                 ("POST", "/api", none), ("GET", "/no-store", {"If-None-Match": '"v0"'}))
        for method, path, fields in asked:
            status, headers, body = call(edge, path, {"Accept-Encoding": "gzip", **fields}, method,
                                         b"{}" if method == "POST" else None)
            assert (status, headers.get("content-encoding")) == (200, "gzip"), (method, path, fields)
            assert gzip.decompress(body) == text
            assert "accept-encoding" in headers["vary"]
            assert headers.get("etag", 'W/"v1"') == 'W/"v1"'
        for path, fields in (("/no-store", none), ("/feed", {"Accept-Encoding": "gzip"})):
            status, headers, body = call(edge, path, fields)
            assert (status, body, headers.get("etag", '"v1"')) == (200, text, '"v1"')
            assert "content-encoding" not in headers

    def test_a_cacheable_feed_streamed_without_a_length_comes_as_it_is_while_it_arrives(
            self, origin: Origin, edge: StratoEdge) -> None:
        """CloudFront compresses only a declared length: a feed being stored as it streams in reaches
        the client piece by piece, never held back by a compressor until it flushes; its Vary names
        Accept-Encoding (RFC 9110 12.5.5: the stored whole is compressed for the next client)."""
        lines = [b'{"event": %d}\n' % number for number in range(300)]
        released = threading.Event()

        def feed() -> Iterator[bytes]:
            yield lines[0]
            released.wait(30)
            yield from lines[1:]

        origin.routes["/feed"] = Route(200, {"Content-Type": "application/x-ndjson", "Cache-Control": "max-age=60"},
                                       chunked=True, stream=(0, feed))
        with socket.create_connection(("127.0.0.1", urlsplit(edge.url).port), timeout=10) as client:
            client.sendall(b"GET /feed HTTP/1.1\r\nHost: edge\r\nAccept-Encoding: gzip\r\n\r\n")
            received = b""
            try:
                while lines[0] not in received:
                    more = client.recv(65536)
                    assert more, "the edge closed the connection"
                    received += more
            finally:
                released.set()
        head = received.partition(b"\r\n\r\n")[0].lower()
        assert b"content-encoding" not in head
        assert b"vary: accept-encoding" in head
        deadline = time.monotonic() + 10
        while "hit" not in (answer := call(edge, "/feed", {"Accept-Encoding": "gzip"}))[1]["cache-status"]:
            assert time.monotonic() < deadline, "the feed was never stored"
            time.sleep(0.05)
        status, headers, body = answer
        assert (status, headers["content-encoding"], gzip.decompress(body)) == (200, "gzip", b"".join(lines))

    def test_a_head_carries_the_fields_its_get_would(self, origin: Origin, edge: StratoEdge) -> None:
        """RFC 9110 9.3.2: a HEAD gets the fields its GET would; 8.6: its Content-Length, if any, is
        the length of the body the GET would get, the compressed one (none while none was made)."""
        text = b"compress me " * 1000
        origin.routes["/text"] = cacheable(text, ETag='"v1"')
        status, headers, _ = call(edge, "/text", {"Accept-Encoding": "gzip"}, "HEAD")
        assert (status, headers["content-encoding"], headers["etag"]) == (200, "gzip", 'W/"v1"')
        assert "content-length" not in headers
        _, got, body = call(edge, "/text", {"Accept-Encoding": "gzip"})
        _, headers, _ = call(edge, "/text", {"Accept-Encoding": "gzip"}, "HEAD")
        varying = {"date", "age", "cache-status"}
        assert {k: v for k, v in headers.items() if k not in varying} == {
            k: v for k, v in got.items() if k not in varying}
        assert headers["content-length"] == str(len(body))
        _, headers, _ = call(edge, "/text", method="HEAD")
        assert (headers["content-length"], headers["etag"]) == (str(len(text)), '"v1"')
        assert "content-encoding" not in headers

    def test_a_compressed_answer_offers_no_ranges(self, origin: Origin, edge: StratoEdge) -> None:
        """Ranges are of the identity body, never of a compressed stream, so a client holding part of
        one must not be told it can resume it with a range (nginx's gzip filter clears Accept-Ranges;
        S3 origins send it on every object)."""
        origin.routes["/text"] = Route(200, {"Cache-Control": "max-age=60", "Content-Type": "text/plain",
                                             "Accept-Ranges": "bytes"}, b"compress me " * 1000)
        for _ in range(2):  # the miss and the hit
            status, headers, _ = call(edge, "/text", {"Accept-Encoding": "gzip"})
            assert (status, headers["content-encoding"]) == (200, "gzip")
            assert "accept-ranges" not in headers
        assert call(edge, "/text")[1]["accept-ranges"] == "bytes"

    def test_not_found_and_forbidden_pages_are_compressed_too_and_other_errors_not(
            self, origin: Origin, edge: StratoEdge) -> None:
        """nginx's gzip and brotli filters compress 200, 403 and 404 answers (a site's error pages),
        no other status."""
        page = b"<html><body>nothing here, try the home page</body></html>" * 100
        for status in (403, 404, 500):
            origin.routes[f"/{status}"] = Route(status, {"Cache-Control": "max-age=60", "Content-Type": "text/html"},
                                                page)
        for _ in range(2):  # the miss and the hit
            for status, coding in ((403, "gzip"), (404, "gzip"), (500, None)):
                got, headers, body = call(edge, f"/{status}", {"Accept-Encoding": "gzip"})
                assert (got, headers.get("content-encoding")) == (status, coding)
                assert (gzip.decompress(body) if coding else body) == page

    def test_every_answer_of_a_compressible_body_names_accept_encoding_and_a_304_carries_its_200s_tag(
            self, origin: Origin, edge: StratoEdge) -> None:
        """RFC 9110 12.5.5: Accept-Encoding chose the answer whether or not it came compressed
        (nginx's gzip_vary); 15.4.5: a 304 carries the ETag and Vary its 200 would have, so the
        client's stored compressed copy keeps its weakened tag and its Vary."""
        origin.routes["/text"] = cacheable(b"compress me " * 1000, ETag='"v1"', Vary="Origin")
        connection = Connection(edge)
        try:
            assert connection.get("/text", "Accept-Encoding: gzip")[1]["etag"] == 'W/"v1"'
            for extra in ((), ("Content-Length: 0",)):  # the fast path, then the ASGI app
                identity = connection.get("/text", *extra)
                ranged = connection.get("/text", "Accept-Encoding: gzip", "Range: bytes=0-9", *extra)
                head = connection.get("/text", "Accept-Encoding: gzip", *extra, method="HEAD")
                compressed = connection.get("/text", "Accept-Encoding: gzip", 'If-None-Match: W/"v1"', *extra)
                plain = connection.get("/text", 'If-None-Match: "v1"', *extra)
                answers = (identity, ranged, head, compressed, plain)
                assert [status for status, _, _ in answers] == [200, 206, 200, 304, 304]
                for _, headers, _ in answers:
                    assert headers["vary"] == "Origin, accept-encoding"
                assert (compressed[1]["etag"], plain[1]["etag"]) == ('W/"v1"', '"v1"')
        finally:
            connection.close()

    def test_an_http_1_0_client_gets_no_chunked_framing_and_so_no_compression(
            self, origin: Origin, edge: StratoEdge) -> None:
        """RFC 9112 6.1: no Transfer-Encoding to an HTTP/1.0 request, and a body compressed as it
        streams has no length to send instead (nginx's gzip_http_version 1.1 leaves it alone too).
        Its Vary still names Accept-Encoding, as nginx's gzip_vary does for it: the field chooses
        what an HTTP/1.1 request for the same target gets."""
        text = b"streamed and compressed " * 100_000  # over the memory tier's limit: never compressed whole
        origin.routes["/long.txt"] = cacheable(text)
        for _ in range(2):  # the miss and the hit
            connection = Connection(edge)
            try:
                connection.send(b"GET /long.txt HTTP/1.0\r\nHost: edge.test\r\nAccept-Encoding: gzip\r\n\r\n")
                status, headers, body = connection.response()
                assert (status, body) == (200, text)
                assert "transfer-encoding" not in headers
                assert "content-encoding" not in headers
                assert headers["vary"] == "accept-encoding"
            finally:
                connection.close()

    def test_a_body_of_unknown_length_reaches_an_http_1_0_client_delimited_by_the_close(
            self, origin: Origin, edge: StratoEdge) -> None:
        """RFC 9112 6.1 and 6.3: an HTTP/1.0 client reads no chunked coding, so a body whose
        length is not known ahead (a chunked origin's, stored or passed on, a POST's answer) is
        sent as it is and ended by closing the connection, as nginx answers such a client."""
        body = b"c" * 100_000
        origin.routes["/kept"] = Route(200, {"Cache-Control": "max-age=60"}, body, chunked=True)
        origin.routes["/passed"] = Route(200, {"Cache-Control": "no-store"}, body, chunked=True)
        port = urlsplit(edge.url).port or 0
        for method, path in (("GET", "/kept"), ("GET", "/passed"), ("POST", "/passed")):
            answer = raw_exchange(port, f"{method} {path} HTTP/1.0\r\nHost: edge.test\r\n\r\n".encode())
            assert (answer.status, answer.body) == (200, body), (method, path)
            assert "transfer-encoding" not in answer.headers
            assert answer.headers["connection"] == "close"

    def test_an_http_1_0_client_asking_for_keep_alive_keeps_its_connection_while_lengths_are_known(
            self, origin: Origin, edge: StratoEdge) -> None:
        """RFC 9112 9.3 (and RFC 1945's keep-alive, which ab -k and old proxies use): answers of
        known length say Connection: keep-alive and the connection serves the next request, as
        nginx keeps it; one whose length is not known is ended by the close."""
        origin.routes["/kept"] = cacheable(b"k" * 5000)
        origin.routes["/streamed"] = Route(200, {"Cache-Control": "no-store"}, b"s" * 5000, chunked=True)
        connection = Connection(edge)
        try:
            for method in ("GET", "GET", "HEAD", "GET"):
                connection.send(f"{method} /kept HTTP/1.0\r\nConnection: keep-alive\r\n\r\n".encode())
                status, headers, body = connection.response(head=method == "HEAD")
                assert (status, headers["connection"]) == (200, "keep-alive")
                assert len(body) == (0 if method == "HEAD" else 5000)
            connection.send(b"GET /streamed HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
            status, headers, _ = connection.response(head=True)
            assert (status, headers["connection"]) == (200, "close")
            assert connection.rfile.read() == b"s" * 5000
        finally:
            connection.close()


class TestPurgeRestartAndFailure:
    @pytest.mark.parametrize("status", [403, 404, 200])
    def test_a_stored_response_the_origin_answered_otherwise_is_not_served_stale_again(
            self, origin: Origin, edge: StratoEdge, status: int) -> None:
        """RFC 9111 4.3.3: once the origin answers a revalidation with a full response (refusing
        the object, as S3 does for a bucket made private; losing it; or an uncacheable new one),
        the stored response is gone: a client's max-stale no longer reaches it."""
        def answer(seen: Seen) -> tuple[int, dict[str, str], bytes]:
            if origin.count("/revoked") == 1:  # stored stale at once: its Age is past its max-age
                return 200, {"Cache-Control": "max-age=60", "Age": "120", "ETag": '"v1"'}, b"old"
            return status, {"Cache-Control": "no-store"}, b"now"

        origin.routes["/revoked"] = Route(answer=answer)
        assert call(edge, "/revoked")[2] == b"old"
        assert call(edge, "/revoked")[:3:2] == (status, b"now")
        assert call(edge, "/revoked", {"Cache-Control": "max-stale"})[:3:2] == (status, b"now")
        assert origin.count("/revoked") == 3

    def test_purge_by_path_and_by_wildcard(self, origin: Origin, edge: StratoEdge) -> None:
        for path in ("/images/a.png", "/images/b.png", "/index.html"):
            origin.routes[path] = cacheable(path.encode())
            call(edge, path)
        purge = subprocess_purge(edge, "/images/*")
        assert purge.returncode == 0, purge.stderr
        call(edge, "/images/a.png")
        call(edge, "/index.html")
        assert origin.count("/images/a.png") == 2
        assert origin.count("/index.html") == 1

    def test_a_response_still_arriving_when_its_path_is_purged_is_answered_but_not_kept(
        self, origin: Origin, edge: StratoEdge
    ) -> None:
        """A purge says that what was fetched before it is out of date: a fetch in flight then
        answers those waiting for it, and is not stored for the requests after the purge (nor
        said to be); one for another path, in flight as well, is."""
        gate = threading.Event()
        origin.routes["/deploy"] = Route(200, {"Cache-Control": "max-age=60"}, b"old", gate=gate)
        origin.routes["/other"] = Route(200, {"Cache-Control": "max-age=60"}, b"other", gate=gate)
        with ThreadPoolExecutor(2) as pool:
            waiting = [pool.submit(call, edge, path) for path in ("/deploy", "/other")]
            with origin.arrived:
                assert origin.arrived.wait_for(lambda: origin.count("/deploy") == origin.count("/other") == 1, 30)
            origin.routes["/deploy"] = cacheable(b"new")
            purge = subprocess_purge(edge, "/deploy")
            assert purge.returncode == 0, purge.stderr
            gate.set()
            assert [answer.result()[2] for answer in waiting] == [b"old", b"other"]
            assert [answer.result()[1]["cache-status"] for answer in waiting] == [
                "strato; fwd=uri-miss", "strato; fwd=uri-miss; stored"]  # RFC 9211 2.5: as it was
        assert [call(edge, "/deploy")[2] for _ in range(2)] == [b"new"] * 2
        assert call(edge, "/other")[2] == b"other"
        assert (origin.count("/deploy"), origin.count("/other")) == (2, 1)

    def test_a_wildcard_anywhere_but_last_is_refused_rather_than_purging_nothing(
        self, origin: Origin, edge: StratoEdge
    ) -> None:
        """CloudFront's rule for invalidation paths: `*` only last. Taken as a literal path, the
        operator would be told of nothing wrong while every .png stays cached."""
        origin.routes["/images/a.png"] = cacheable(b"a")
        call(edge, "/images/a.png")
        purge = subprocess_purge(edge, "/index.html", "/images/*.png")
        assert purge.returncode == 1
        assert "(400)" in purge.stderr
        assert "/images/*.png" in purge.stderr

    def test_purging_a_site_matches_its_host_however_the_viewer_spelled_it(
        self, origin: Origin, edge: StratoEdge
    ) -> None:
        """RFC 9110 4.2.3: the cache key takes the host case-insensitively and without a default
        port, so one entry answers `Example.COM` and `example.com:80`: a purge of the site's
        host must drop it whichever spelling filled it."""
        origin.routes["/page"] = cacheable(b"page")
        call(edge, "/page", {"Host": "Example.COM:80"})
        purge = subprocess_purge(edge, "/page", "--host", "example.com")
        assert purge.stdout == "purged 1 cached responses\n", purge.stderr
        call(edge, "/page", {"Host": "example.com"})
        assert origin.count("/page") == 2

    def test_a_purge_naming_a_host_that_is_no_string_is_refused(self, edge: StratoEdge) -> None:
        status, _, body = call(edge, "/_strato/purge", {"Authorization": f"Bearer {edge.token}"}, "POST",
                               b'{"paths": ["/"], "host": 5}')
        assert status == 400
        assert b"host" in body

    def test_the_purge_path_asked_with_another_method_is_a_405_naming_post(self, edge: StratoEdge) -> None:
        """RFC 9110 15.5.6: the path is there, the method is not allowed, and Allow says which is."""
        status, headers, _ = call(edge, "/_strato/purge")
        assert (status, headers.get("allow")) == (405, "POST")

    def test_purge_without_the_admin_token_is_refused(self, edge: StratoEdge) -> None:
        status, _, _ = call(edge, "/_strato/purge", {"Authorization": "Bearer wrong"}, "POST", b'{"paths": ["/"]}')
        assert status == 403

    def test_purging_without_a_running_edge_or_its_token_says_so_without_a_traceback(self, tmp_path: Path) -> None:
        command = [sys.executable, "-m", "strato", "edge", "purge", "/index.html"]
        with socket.socket() as held:  # bound and not listening: refuses connections
            held.bind(("127.0.0.1", 0))
            down = subprocess.run([*command, "--edge", f"http://127.0.0.1:{held.getsockname()[1]}", "--token", "t"],
                                  capture_output=True, text=True, timeout=30)
        tokenless = subprocess.run([*command, "--cache-dir", str(tmp_path / "nothing")],
                                   capture_output=True, text=True, timeout=30)
        assert (down.returncode, tokenless.returncode) == (1, 1)
        assert down.stderr.startswith("strato: cannot reach the edge at http://127.0.0.1:"), down.stderr
        assert tokenless.stderr.startswith("strato: no admin token"), tokenless.stderr
        assert "nothing/admin-token" in tokenless.stderr

    def test_the_cache_survives_a_restart(self, origin: Origin, tmp_path: Path) -> None:
        origin.routes["/kept"] = cacheable(b"kept across restarts")
        port = free_port()  # the same site (Host) before and after
        first = StratoEdge(origin.url, tmp_path / "cache", port=port).start()
        call(first, "/kept")
        assert first.stop() == 0
        second = StratoEdge(origin.url, tmp_path / "cache", port=port).start()
        try:
            assert call(second, "/kept")[2] == b"kept across restarts"
            assert origin.count("/kept") == 1
        finally:
            second.stop()

    def test_stale_content_is_served_when_the_origin_is_down(self, tmp_path: Path) -> None:
        down = Origin()
        down.routes["/important"] = Route(200, {"Cache-Control": "max-age=0, stale-if-error=3600",
                                                "Last-Modified": format_http_date(time.time() - 3600)}, b"still here")
        edge = StratoEdge(down.url, tmp_path / "cache").start()
        try:
            assert call(edge, "/important")[2] == b"still here"
            down.down = True
            status, headers, body = call(edge, "/important")
            assert (status, body) == (200, b"still here")
            assert "stale" in headers["cache-status"]
        finally:
            edge.stop()
            down.close()

    def test_a_stale_answer_for_an_origin_error_says_it_went_forward_and_what_came_back(self, tmp_path: Path) -> None:
        """RFC 9211 2.2-2.3: the request went forward (fwd=stale, never hit); an absent fwd-status
        would mean the origin answered the status sent (200), so a 5xx is named."""
        down = Origin()
        state = {"status": 200}

        def answer(seen: Seen) -> tuple[int, dict[str, str], bytes]:
            return state["status"], {"Cache-Control": "max-age=0, stale-if-error=3600",
                                     "Last-Modified": format_http_date(time.time() - 3600)}, b"kept"

        down.routes["/s"] = Route(answer=answer)
        edge = StratoEdge(down.url, tmp_path / "cache").start()
        try:
            assert call(edge, "/s")[2] == b"kept"
            state["status"] = 503
            status, headers, body = call(edge, "/s")
            assert (status, body) == (200, b"kept")
            assert headers["cache-status"].startswith("strato; fwd=stale; fwd-status=503; ttl=")
            down.down = True
            status, headers, body = call(edge, "/s")
            assert (status, body) == (200, b"kept")
            assert headers["cache-status"].startswith("strato; fwd=stale; ttl=")
        finally:
            edge.stop()
            down.close()

    def test_a_response_purged_while_it_was_revalidated_is_fetched_again_not_a_500(
        self, origin: Origin, edge: StratoEdge
    ) -> None:
        gate = threading.Event()
        body = b"x" * 200_000  # a file of its own

        def validated(seen: Seen) -> tuple[int, dict[str, str], bytes]:
            headers = {"Cache-Control": "max-age=0", "ETag": '"v1"'}
            if seen.headers.get("if-none-match") == '"v1"':
                gate.wait(60)  # until the purge is done (10 s ran out once under a loaded machine)
                return 304, headers, b""
            return 200, headers, body

        origin.routes["/big"] = Route(answer=validated)
        assert call(edge, "/big")[2] == body
        with ThreadPoolExecutor(1) as pool:
            revalidating = pool.submit(call, edge, "/big")
            with origin.arrived:  # the revalidation is at the origin
                origin.arrived.wait_for(lambda: origin.count("/big") >= 2, timeout=10)
            purged = call(edge, "/_strato/purge", {"Authorization": f"Bearer {edge.token}"}, "POST",
                          b'{"paths": ["/big"]}')
            assert purged[0] == 200
            gate.set()
            status, headers, got = revalidating.result()
        assert (status, got) == (200, body)
        assert headers["cache-status"] == "strato; fwd=stale"

    def test_an_unreachable_origin_without_a_cached_copy_is_a_502(self, tmp_path: Path) -> None:
        # A port bound but not listening refuses connections, and no other server can take it meanwhile.
        with socket.socket() as held:
            held.bind(("127.0.0.1", 0))
            edge = StratoEdge(f"http://127.0.0.1:{held.getsockname()[1]}", tmp_path / "cache").start()
            try:
                assert call(edge, "/anything")[0] == 502
            finally:
                edge.stop()

    @pytest.mark.parametrize("path", ["/stored", "/passed"])
    def test_a_body_the_origin_cuts_short_reaches_each_client_cut_short_logged_without_a_traceback(
            self, tmp_path: Path, path: str) -> None:
        """nginx's "upstream prematurely closed connection": the client's answer ends where the
        origin's did, short of its Content-Length, and the log says so in a line, where uvicorn
        once logged a traceback for each client (stored: a fill; passed: a relayed no-store)."""
        with socket.socket() as listening:
            listening.bind(("127.0.0.1", 0))
            listening.listen()

            def serve() -> None:
                for _ in range(2):
                    connection, _ = listening.accept()
                    with connection:
                        connection.recv(65536)
                        policy = "max-age=60" if path == "/stored" else "no-store"
                        connection.sendall(f"HTTP/1.1 200 OK\r\ncontent-length: 1000000\r\ncache-control: {policy}"
                                           "\r\n\r\n".encode() + b"x" * 300000)

            server = threading.Thread(target=serve, daemon=True)
            server.start()
            edge = StratoEdge(f"http://127.0.0.1:{listening.getsockname()[1]}", tmp_path / "cache").start()
            try:
                for headers in ({}, {"Connection": "close"}):  # the protocol's miss path; the ASGI app
                    connection = http.client.HTTPConnection("127.0.0.1", edge.port, timeout=30)
                    connection.request("GET", path, headers=headers)
                    response = connection.getresponse()
                    assert response.status == 200
                    with pytest.raises(http.client.IncompleteRead):
                        response.read()
                    connection.close()
                deadline = time.monotonic() + 10
                while "".join(edge.output).count("cut short") < 2 and time.monotonic() < deadline:
                    time.sleep(0.05)
            finally:
                edge.stop()
            server.join(10)
        log = "".join(edge.output)
        assert log.count("cut short") == 2
        assert "Traceback" not in log


class TestProtection:
    def test_a_client_over_its_rate_gets_429_with_retry_after(self, origin: Origin, tmp_path: Path) -> None:
        origin.routes["/r"] = cacheable(b"r")
        limited = StratoEdge(origin.url, tmp_path / "cache", "--rate", "1", "--burst", "3").start()
        try:
            statuses = [call(limited, "/r") for _ in range(6)]
            assert [s[0] for s in statuses[:3]] == [200, 200, 200]
            refused = [s for s in statuses if s[0] == 429]
            assert refused
            assert int(refused[0][1]["retry-after"]) >= 1
        finally:
            limited.stop()

    def test_retry_after_is_never_shorter_than_the_wait(self, origin: Origin, tmp_path: Path) -> None:
        """RFC 9110 10.2.3: a client coming back after Retry-After seconds must find its token
        there, so the delay is rounded up, not to the nearest second."""
        origin.routes["/r"] = cacheable(b"r")
        limited = StratoEdge(origin.url, tmp_path / "cache", "--rate", "0.4", "--burst", "1").start()
        try:
            began = time.monotonic()
            assert call(limited, "/r")[0] == 200
            status, headers, _ = call(limited, "/r")
            elapsed = time.monotonic() - began
            assert status == 429
            assert int(headers["retry-after"]) >= 1 / 0.4 - elapsed
        finally:
            limited.stop()

    def test_a_rate_below_one_a_second_still_lets_requests_through(self, origin: Origin, tmp_path: Path) -> None:
        """The default burst (twice the rate) is at least one request, or no request could ever pass."""
        origin.routes["/r"] = cacheable(b"r")
        limited = StratoEdge(origin.url, tmp_path / "cache", "--rate", "0.2").start()
        try:
            assert call(limited, "/r")[0] == 200
        finally:
            limited.stop()

    def test_the_cache_stays_within_its_size(self, origin: Origin, tmp_path: Path) -> None:
        small = StratoEdge(origin.url, tmp_path / "cache", "--cache-size", "1M").start()
        try:
            for index in range(20):
                origin.routes[f"/blob{index}"] = cacheable(bytes(200_000))
                call(small, f"/blob{index}")
            assert small.metric("strato_edge_cache_bytes") <= 1024 * 1024
            cache = tmp_path / "cache"
            assert size_on_disk([*cache.glob("entries/*/*.body"), *cache.glob("slabs/*")]) <= 1024 * 1024
        finally:
            small.stop()


def size_on_disk(paths: list[Path]) -> int:
    """The bytes of those files still there: the disk writer may remove an evicted body between
    the listing and its stat."""
    total = 0
    for path in paths:
        with contextlib.suppress(FileNotFoundError):
            total += path.stat().st_size
    return total


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def subprocess_purge(edge: StratoEdge, *words: str) -> subprocess.CompletedProcess[str]:
    """`strato edge purge` of paths (and other words: options), the command an operator types
    (the token as a separate word)."""
    return subprocess.run(
        [sys.executable, "-m", "strato", "edge", "purge", *words, "--edge", edge.url, "--token", edge.token],
        capture_output=True, text=True, timeout=30,
    )


@pytest.fixture(autouse=True)
def _no_proxy_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HTTP_PROXY", raising=False)
    monkeypatch.delenv("http_proxy", raising=False)


class TestLimitsAndLogs:
    def test_an_overlong_target_is_refused_with_414(self, edge: StratoEdge) -> None:
        assert call(edge, "/" + "a" * 9000)[0] == 414

    def test_a_client_over_its_concurrent_requests_gets_503(self, origin: Origin, tmp_path: Path) -> None:
        """Refused, and logged as every answer is."""
        gate = threading.Event()
        for path in ("/held1", "/held2", "/free"):
            origin.routes[path] = Route(200, {"Cache-Control": "no-store"}, b"held", gate=gate)
        log = tmp_path / "access.log"
        edge = StratoEdge(origin.url, tmp_path / "cache", "--max-concurrent-per-client", "2",
                          "--access-log", str(log)).start()
        try:
            with ThreadPoolExecutor(2) as pool:
                held = [pool.submit(call, edge, path) for path in ("/held1", "/held2")]
                deadline = time.monotonic() + 20
                while origin.count("/held1") + origin.count("/held2") < 2:  # both inside the edge, waiting
                    assert time.monotonic() < deadline
                    time.sleep(0.01)  # polling another process's state, not synchronising on time
                assert call(edge, "/free")[0] == 503
                gate.set()
                assert [f.result()[0] for f in held] == [200, 200]
        finally:
            edge.stop()
        assert '"GET /free" 503 ' in log.read_text()

    def test_each_request_gets_an_access_log_line(self, origin: Origin, tmp_path: Path) -> None:
        origin.routes["/logged"] = cacheable(b"logged")
        log = tmp_path / "access.log"
        edge = StratoEdge(origin.url, tmp_path / "cache", "--access-log", str(log)).start()
        try:
            call(edge, "/logged")
            call(edge, "/logged")
        finally:
            edge.stop()
        lines = [line for line in log.read_text().splitlines() if "/logged" in line]
        assert len(lines) == 2
        assert all('"GET /logged" 200 6 ' in line for line in lines)

    def test_every_request_sent_to_the_origin_is_counted_as_an_origin_fetch(
        self, origin: Origin, edge: StratoEdge
    ) -> None:
        """Not only those made for the cache: a POST or DELETE passed through is origin load and
        origin latency too (and a failed one an origin error)."""
        origin.routes["/form"] = Route(200, {}, b"posted")
        origin.routes["/page"] = cacheable(b"page")
        assert call(edge, "/form", method="POST", body=b"a=1")[0] == 200
        assert call(edge, "/form", method="DELETE")[0] == 200
        assert call(edge, "/page")[0] == 200
        assert edge.metric("strato_edge_origin_fetches_total") == len(origin.seen) == 3
        assert edge.metric("strato_edge_origin_seconds_total") > 0
        origin.down = True
        assert call(edge, "/form", method="POST", body=b"a=1")[0] == 502
        assert edge.metric("strato_edge_origin_errors_total") == 1

    def test_a_line_names_the_target_with_its_query_as_the_client_sent_it(
        self, origin: Origin, tmp_path: Path
    ) -> None:
        """As nginx's request field has it: the query picks the variant, so a line without it
        cannot tell `?v=1` from `?v=2`; on every path an answer takes (a miss, a hit, a 429)."""
        origin.routes["/app.js"] = cacheable(b"js")
        log = tmp_path / "access.log"
        edge = StratoEdge(origin.url, tmp_path / "cache", "--access-log", str(log), "--rate", "0.001", "--burst",
                          "3").start()
        try:
            assert [call(edge, "/app.js?v=2&x=%22")[0] for _ in range(4)] == [200, 200, 200, 429]
            assert call(edge, "/app.js?v=3", {"Cache-Control": "no-cache"})[0] == 429  # through the ASGI app
        finally:
            edge.stop()
        lines = [line for line in log.read_text().splitlines() if "/app.js" in line]
        assert [line.split('" ')[0].split(' "')[1] for line in lines] == ["GET /app.js?v=2&x=%22"] * 4 + [
            "GET /app.js?v=3"]

    def test_a_request_too_malformed_to_parse_still_gets_its_line(self, origin: Origin, tmp_path: Path) -> None:
        """As nginx logs its 400s: scanners and broken clients show up in the log, with the
        bytes of the answer they got."""
        log = tmp_path / "access.log"
        edge = StratoEdge(origin.url, tmp_path / "cache", "--access-log", str(log)).start()
        try:
            answer = raw_exchange(edge.port, b"GET /a\x01b HTTP/1.1\r\nHost: x\r\n\r\n")
            assert answer.status == 400
        finally:
            edge.stop()
        assert f'127.0.0.1 "- -" 400 {len(answer.body)} ' in log.read_text()

    def test_the_log_goes_on_in_a_new_file_once_logrotate_has_moved_it(self, origin: Origin, tmp_path: Path) -> None:
        """logrotate renames the file and expects the writer to make a new one at the path, or
        every line after the first rotation goes to the rotated file for as long as the edge runs."""
        origin.routes["/page"] = cacheable(b"page")
        log = tmp_path / "access.log"
        edge = StratoEdge(origin.url, tmp_path / "cache", "--access-log", str(log)).start()
        try:
            call(edge, "/page?before")
            deadline = time.monotonic() + 10
            while "/page?before" not in log.read_text():  # the line may follow the answer
                assert time.monotonic() < deadline
                time.sleep(0.01)
            log.rename(tmp_path / "access.log.1")
            call(edge, "/page?after")
        finally:
            edge.stop()
        assert "/page?after" in log.read_text()
        assert "/page?after" not in (tmp_path / "access.log.1").read_text()

    def test_the_edges_own_paths_get_their_lines_a_refused_purge_included(self, origin: Origin, tmp_path: Path) -> None:
        """A purge (who emptied the cache, and who tried without the token) is an answer like any
        other; its bytes are no distribution's."""
        log = tmp_path / "access.log"
        edge = StratoEdge(origin.url, tmp_path / "cache", "--access-log", str(log)).start()
        try:
            status, _, body = call(edge, "/_strato/purge", {"Authorization": "Bearer wrong"}, "POST",
                                   b'{"paths": ["/"]}')
            assert status == 403
            assert subprocess_purge(edge, "/index.html").returncode == 0
            assert edge.metric("strato_edge_bytes_served_total") == 0
        finally:
            edge.stop()
        lines = [line for line in log.read_text().splitlines() if "/_strato/purge" in line]
        assert [line.split('" ')[1].split()[:2] for line in lines] == [["403", str(len(body))], ["200", "13"]]

    def test_quotes_and_backslashes_in_a_target_are_escaped_in_its_line(self, origin: Origin, tmp_path: Path) -> None:
        """As nginx writes them (\\xXX), so that a target cannot end the quoted request field
        and pass its own words for the status and size that follow."""
        origin.routes['/x"200"\\y'] = cacheable(b"odd")
        log = tmp_path / "access.log"
        edge = StratoEdge(origin.url, tmp_path / "cache", "--access-log", str(log)).start()
        try:
            assert [call(edge, '/x"200"\\y')[0] for _ in range(2)] == [200, 200]  # a miss, then a hit
        finally:
            edge.stop()
        lines = [line for line in log.read_text().splitlines() if "/x" in line]
        assert len(lines) == 2
        assert all('"GET /x\\x22200\\x22\\x5Cy" 200 3 ' in line for line in lines)


def set_cookies(edge: StratoEdge, path: str) -> tuple[list[str], str]:
    """The Set-Cookie lines of an answer, each as it came, and its Cache-Status."""
    connection = http.client.HTTPConnection("127.0.0.1", urlsplit(edge.url).port, timeout=30)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        response.read()
        lines = [value for name, value in response.getheaders() if name.lower() == "set-cookie"]
        return lines, response.getheader("cache-status") or ""
    finally:
        connection.close()


class TestCookies:
    """RFC 9110 5.3 and RFC 6265 3: Set-Cookie lines are never joined into one (a cookie's Expires
    holds a comma, and a browser reads one cookie per line), on every path an answer takes."""

    COOKIES = ("session=abc; Path=/; Expires=Wed, 21 Oct 2037 07:28:00 GMT; HttpOnly", "theme=dark; Path=/")

    @pytest.mark.parametrize(("route", "stored"), [
        (Route(200, {"Cache-Control": "no-store"}, b"passed on", cookies=COOKIES), False),
        (Route(200, {"Cache-Control": "max-age=60"}, b"small, stored", together=True, cookies=COOKIES), True),
        (Route(200, {"Cache-Control": "max-age=60"}, b"x" * 300_000, cookies=COOKIES), True),
    ], ids=["passed-on", "small", "streamed"])
    def test_each_set_cookie_line_reaches_the_client_on_its_own(
        self, origin: Origin, edge: StratoEdge, route: Route, stored: bool
    ) -> None:
        origin.routes["/page"] = route
        lines, status = set_cookies(edge, "/page")
        assert lines == list(self.COOKIES)
        assert "fwd=" in status
        if stored:
            lines, status = set_cookies(edge, "/page")
            assert lines == list(self.COOKIES)
            assert "; hit" in status

    def test_a_stored_answer_keeps_its_lines_across_a_restart(self, origin: Origin, tmp_path: Path) -> None:
        origin.routes["/kept"] = Route(200, {"Cache-Control": "max-age=60"}, b"kept", cookies=self.COOKIES)
        port = free_port()
        first = StratoEdge(origin.url, tmp_path / "cache", port=port).start()
        set_cookies(first, "/kept")
        assert first.stop() == 0
        second = StratoEdge(origin.url, tmp_path / "cache", port=port).start()
        try:
            assert set_cookies(second, "/kept")[0] == list(self.COOKIES)
            assert origin.count("/kept") == 1
        finally:
            second.stop()


class TestFetchesForTheCache:
    """A miss asks the origin for the whole response, unconditionally, and answers the client's
    range or preconditions from it (RFC 9111 4.3.2, RFC 9110 14), so that range requests and
    revalidations fill the cache as nginx's proxy_cache and Varnish fill theirs."""

    def test_a_range_of_a_large_uncached_object_is_answered_while_the_whole_is_stored(
        self, origin: Origin, edge: StratoEdge
    ) -> None:
        body = bytes(range(256)) * 1200
        origin.routes["/video"] = Route(200, {"Cache-Control": "max-age=60", "ETag": '"v"'}, body)
        status, headers, got = call(edge, "/video", {"Range": "bytes=250000-250009"})
        assert (status, got, headers["content-range"]) == (206, body[250000:250010], f"bytes 250000-250009/{len(body)}")
        status, headers, got = call(edge, "/video", {"Range": "bytes=-5"})
        assert (status, got) == (206, body[-5:])
        assert "; hit" in headers["cache-status"]
        assert [seen.headers.get("range") for seen in origin.seen if seen.path == "/video"] == [None]

    @pytest.mark.parametrize("extra", [{}, {"Connection": "close"}])  # the miss path; the ASGI app
    def test_the_viewers_address_goes_in_x_forwarded_for_as_for_any_request_to_the_origin(
        self, origin: Origin, edge: StratoEdge, extra: dict[str, str],
    ) -> None:
        """The origin learns who asked on a miss and a revalidation too, as on a pass (CloudFront
        and nginx's $proxy_add_x_forwarded_for alike): a bucket policy's aws:SourceIp needs it."""
        origin.routes["/who"] = Route(200, {"Cache-Control": "max-age=0", "ETag": '"w"'}, b"who")
        origin.routes["/who-else"] = Route(200, {"Cache-Control": "no-store"}, b"no")
        for path in ("/who", "/who", "/who-else"):
            assert call(edge, path, {"X-Forwarded-For": "192.0.2.7", **extra})[0] == 200
        assert [seen.headers.get("x-forwarded-for") for seen in origin.seen] == ["192.0.2.7, 127.0.0.1"] * 3
        assert origin.seen[1].headers.get("if-none-match") == '"w"'

    def test_a_revalidation_on_a_miss_is_answered_here_and_fills_the_cache(
        self, origin: Origin, edge: StratoEdge
    ) -> None:
        origin.routes["/app.js"] = Route(200, {"Cache-Control": "max-age=60", "ETag": '"a1"'}, b"app")
        status, _, got = call(edge, "/app.js", {"If-None-Match": '"a1"'})
        assert (status, got) == (304, b"")
        assert "if-none-match" not in origin.last("/app.js").headers
        status, headers, got = call(edge, "/app.js")
        assert (status, got) == (200, b"app")
        assert "; hit" in headers["cache-status"]
        assert origin.count("/app.js") == 1

    @pytest.mark.parametrize(("size", "asked"), [(100, [None]), (300_000, [None, "bytes=0-3"])],
                             ids=["small", "large"])
    def test_an_uncacheable_answer_gives_the_client_its_range(
        self, origin: Origin, edge: StratoEdge, size: int, asked: list[str | None]
    ) -> None:
        """Not stored: cut from the whole answer when it came in memory, else the client's own
        request goes to the origin."""
        body = (b"0123456789" * (size // 10 + 1))[:size]

        def ranged(seen: Seen) -> tuple[int, dict[str, str], bytes]:
            if seen.headers.get("range") == "bytes=0-3":
                return 206, {"Cache-Control": "no-store", "Content-Range": f"bytes 0-3/{len(body)}"}, body[:4]
            return 200, {"Cache-Control": "no-store"}, body

        origin.routes["/private"] = Route(answer=ranged)
        status, headers, got = call(edge, "/private", {"Range": "bytes=0-3"})
        assert (status, got, headers["content-range"]) == (206, b"0123", f"bytes 0-3/{len(body)}")
        assert [seen.headers.get("range") for seen in origin.seen if seen.path == "/private"] == asked
        status, _, got = call(edge, "/private", {"If-None-Match": '"none"'})
        assert (status, got) == (200, body)
