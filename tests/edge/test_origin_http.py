"""The edge's HTTP/1.1 origin client (edge/origin_http.py through HttpOrigin) against a raw
origin on loopback that answers with scripted bytes and counts its connections."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from strato.edge.origin_http import WHOLE_UP_TO
from strato.edge.origins import HttpOrigin, OriginResponse

# (request head and body as received) -> raw answer bytes; None: answer nothing
Script = Callable[[bytes], bytes | None]


class RawOrigin:
    def __init__(self, script: Script, *, close_after_answer: bool = False) -> None:
        self.script = script
        self.close_after_answer = close_after_answer
        self.connections = 0
        self.ended = 0  # connections over
        self.requests: list[bytes] = []
        self.server: asyncio.Server | None = None

    async def __aenter__(self) -> RawOrigin:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return self

    async def __aexit__(self, *_: object) -> None:
        assert self.server is not None
        self.server.close()

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                body = b""
                if b"transfer-encoding: chunked" in head.lower():
                    body = await reader.readuntil(b"0\r\n\r\n")
                elif b"content-length:" in head.lower():
                    length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
                    body = await reader.readexactly(length)
                self.requests.append(head + body)
                answer = self.script(head + body)
                if answer is None:
                    await reader.read()  # stay silent until the client goes
                    return
                writer.write(answer)
                await writer.drain()
                if self.close_after_answer:
                    return
        except (asyncio.IncompleteReadError, ConnectionError):
            return
        finally:
            self.ended += 1
            writer.close()


def answer(body: bytes, *fields: str) -> Script:
    head = "".join(f"{field}\r\n" for field in fields)
    return lambda _: f"HTTP/1.1 200 OK\r\ncontent-length: {len(body)}\r\n{head}\r\n".encode() + body


async def read(response: OriginResponse) -> bytes:
    return b"".join([chunk async for chunk in response.body])


def run(test: Callable[[], Awaitable[None]]) -> None:
    asyncio.run(asyncio.wait_for(test(), 30))


class TestResponses:
    def test_a_chunked_body_arrives_decoded(self) -> None:
        async def test() -> None:
            raw = b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"
            async with RawOrigin(lambda _: raw) as origin:
                client = HttpOrigin(origin.url)
                response = await client.fetch("GET", "/c", {})
                assert (response.status, await read(response)) == (200, b"hello world")
                await client.close()
        run(test)

    def test_a_body_without_a_length_ends_with_the_connection(self) -> None:
        async def test() -> None:
            raw = b"HTTP/1.1 200 OK\r\nconnection: close\r\n\r\nuntil the end"
            async with RawOrigin(lambda _: raw, close_after_answer=True) as origin:
                client = HttpOrigin(origin.url)
                assert await read(await client.fetch("GET", "/eof", {})) == b"until the end"
                assert await read(await client.fetch("GET", "/eof", {})) == b"until the end"
                assert origin.connections == 2
                await client.close()
        run(test)

    def test_a_body_under_identity_alone_is_read_until_the_connection_ends(self) -> None:
        # RFC 9112 6.3: chunked is not the final coding, so the origin's close ends the body.
        async def test() -> None:
            raw = b"HTTP/1.1 200 OK\r\ntransfer-encoding: identity\r\n\r\nuntil the end"
            async with RawOrigin(lambda _: raw, close_after_answer=True) as origin:
                client = HttpOrigin(origin.url)
                assert await read(await client.fetch("GET", "/coded", {})) == b"until the end"
                await client.close()
        run(test)

    @pytest.mark.parametrize("coding", [b"gzip", b"gzip, chunked", b"foo", b"chunked, identity"])
    def test_a_transfer_coding_the_edge_cannot_undo_is_no_answer_to_pass_on(self, coding: bytes) -> None:
        # RFC 9112 6.1, 7: a transfer coding is the connection's, never the content's: a body still
        # coded (gzip left on it, chunk framing under a coding after chunked) would go to clients,
        # and into the cache, as if it were the content. The edge's 502, as nginx answers.
        async def test() -> None:
            raw = b"HTTP/1.1 200 OK\r\ntransfer-encoding: %s\r\n\r\n5\r\ncoded\r\n0\r\n\r\n" % coding
            async with RawOrigin(lambda _: raw, close_after_answer=True) as origin:
                client = HttpOrigin(origin.url)
                with pytest.raises(ConnectionError, match="transfer coding"):
                    await client.fetch("GET", "/coded", {})
                await client.close()
        run(test)

    def test_bytes_beyond_the_content_length_are_dropped_with_the_connection(self) -> None:
        # RFC 9112 6.3: extra data is never processed as a response of its own.
        async def test() -> None:
            raw = b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\nx-a: 1\r\n\r\nhelloHTTP/1.1 200 OK\r\nx-b: 2\r\n\r\n"
            async with RawOrigin(lambda _: raw) as origin:
                client = HttpOrigin(origin.url)
                response = await client.fetch("GET", "/long", {})
                assert (response.headers.get("x-a"), "x-b" in response.headers) == ("1", False)
                assert await read(response) == b"hello"
                assert await read(await client.fetch("GET", "/long", {})) == b"hello"
                assert origin.connections == 2
                await client.close()
        run(test)

    def test_a_status_beyond_599_is_no_answer_of_http(self) -> None:
        # RFC 9110 15: values outside 100..599 are invalid; such an answer (LinkedIn's 999, say)
        # fails as an unparseable one does (the edge's 502), and its connection is not used again.
        async def test() -> None:
            statuses = iter([b"999 Request denied", b"200 OK"])
            async with RawOrigin(lambda _: b"HTTP/1.1 %s\r\ncontent-length: 2\r\n\r\nok" % next(statuses)) as origin:
                client = HttpOrigin(origin.url)
                with pytest.raises(ConnectionError):
                    await client.fetch("GET", "/odd", {})
                assert await read(await client.fetch("GET", "/odd", {})) == b"ok"
                assert origin.connections == 2
                await client.close()
        run(test)

    def test_an_interim_response_is_skipped_for_the_final_one(self) -> None:
        async def test() -> None:
            raw = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\ncontent-length: 2\r\nx-a: 1\r\n\r\nok"
            async with RawOrigin(lambda _: raw) as origin:
                client = HttpOrigin(origin.url)
                response = await client.fetch("GET", "/interim", {})
                assert (response.status, response.headers["x-a"], await read(response)) == (201, "1", b"ok")
                await client.close()
        run(test)

    def test_trailer_fields_are_not_merged_into_the_header_section(self) -> None:
        # RFC 9110 6.5.1: a recipient does not merge trailer fields it has no definition for;
        # a trailer is no header, whether the body came whole with its head or not.
        async def test() -> None:
            raw = (b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\ntrailer: x-digest, cache-control\r\n"
                   b"cache-control: max-age=60\r\n\r\n5\r\nhello\r\n0\r\nx-digest: abc\r\n"
                   b"cache-control: no-store\r\n\r\n")
            async with RawOrigin(lambda _: raw) as origin:
                client = HttpOrigin(origin.url)
                response = await client.fetch("GET", "/trailed", {})
                assert (response.whole, await read(response)) == (b"hello", b"hello")
                assert "x-digest" not in response.headers
                assert response.headers["cache-control"] == "max-age=60"
                assert await read(await client.fetch("GET", "/trailed", {})) == b"hello"
                assert origin.connections == 1
                await client.close()
        run(test)

    def test_set_cookie_lines_are_kept_apart(self) -> None:
        """RFC 9110 5.3: Set-Cookie is the field whose lines cannot be joined with commas."""
        async def test() -> None:
            async with RawOrigin(answer(b"x", "Set-Cookie: a=1; Expires=Wed, 21 Oct 2037 07:28:00 GMT",
                                        "set-cookie: b=2")) as origin:
                client = HttpOrigin(origin.url)
                response = await client.fetch("GET", "/k", {})
                assert response.headers["set-cookie"].split("\n") == [
                    "a=1; Expires=Wed, 21 Oct 2037 07:28:00 GMT", "b=2"]
                await client.close()
        run(test)

    def test_repeated_fields_are_joined_and_names_lowered(self) -> None:
        async def test() -> None:
            async with RawOrigin(answer(b"x", "Vary: a", "VARY: b")) as origin:
                client = HttpOrigin(origin.url)
                response = await client.fetch("GET", "/f", {})
                assert response.headers["vary"] == "a, b"
                await read(response)
                await client.close()
        run(test)


class TestConnections:
    def test_requests_one_after_another_share_one_connection(self) -> None:
        async def test() -> None:
            async with RawOrigin(answer(b"same")) as origin:
                client = HttpOrigin(origin.url)
                for _ in range(5):
                    assert await read(await client.fetch("GET", "/k", {})) == b"same"
                assert origin.connections == 1
                await client.close()
        run(test)

    def test_a_discarded_origin_keeps_no_connection(self) -> None:
        """A distribution's origin that changed: its idle connection is closed at once, and one
        in use is closed when its response is over, never pooled again."""
        async def test() -> None:
            async with RawOrigin(answer(b"old")) as origin:
                client = HttpOrigin(origin.url)
                assert await read(await client.fetch("GET", "/a", {})) == b"old"
                client.discard()
                for _ in range(2):
                    assert await read(await client.fetch("GET", "/a", {})) == b"old"
                assert origin.connections == 3  # one per request after the discard
        run(test)

    def test_a_body_that_came_with_its_head_is_handed_over_whole_and_the_connection_pooled(self) -> None:
        async def test() -> None:
            async with RawOrigin(answer(b"small")) as origin:
                client = HttpOrigin(origin.url)
                first = await client.fetch("GET", "/a", {})
                second = await client.fetch("GET", "/b", {})  # first was never read nor released
                assert (first.whole, await read(first), second.whole) == (b"small", b"small", b"small")
                assert origin.connections == 1
                await client.close()
        run(test)

    def test_a_body_still_arriving_streams_and_is_not_whole(self) -> None:
        rest = b"r" * WHOLE_UP_TO  # more than a small body: not awaited whole

        async def test() -> None:
            more = asyncio.Event()

            async def slow(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
                await reader.readuntil(b"\r\n\r\n")
                writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\n\r\nfirst" % (5 + len(rest)))
                await writer.drain()
                await more.wait()  # the rest follows once the client has the head
                writer.write(rest)
                await writer.drain()
                writer.close()

            server = await asyncio.start_server(slow, "127.0.0.1", 0)
            client = HttpOrigin(f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}")
            response = await client.fetch("GET", "/slow", {})
            assert response.whole is None
            more.set()
            assert await read(response) == b"first" + rest
            await client.close()
            server.close()
        run(test)

    def test_a_small_body_written_after_its_head_is_awaited_and_handed_over_whole(self) -> None:
        async def test() -> None:
            async def apart(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
                await reader.readuntil(b"\r\n\r\n")
                writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\n")
                await writer.drain()
                writer.write(b"apart")
                await writer.drain()
                writer.close()

            server = await asyncio.start_server(apart, "127.0.0.1", 0)
            client = HttpOrigin(f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}")
            response = await client.fetch("GET", "/apart", {})
            assert (response.whole, await read(response)) == (b"apart", b"apart")
            await client.close()
            server.close()
        run(test)

    def test_the_length_an_answer_to_head_declares_is_not_awaited(self) -> None:
        async def test() -> None:
            async with RawOrigin(lambda _: b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\n") as origin:
                client = HttpOrigin(origin.url)
                response = await client.fetch("HEAD", "/head", {})
                assert (response.status, response.headers["content-length"]) == (200, "5")
                response.release()
                await client.close()
        run(test)

    @pytest.mark.parametrize("length", ["5", "0", None])
    def test_a_connection_that_answered_a_head_carries_the_next_request(self, length: str | None) -> None:
        """RFC 9112 6.3: an answer to a HEAD ends with its head, whatever length it declares (or none)."""
        def script(request: bytes) -> bytes:
            if request.startswith(b"HEAD"):
                declared = "" if length is None else f"content-length: {length}\r\n"
                return f"HTTP/1.1 200 OK\r\n{declared}\r\n".encode()
            return b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhello"

        async def test() -> None:
            async with RawOrigin(script) as origin:
                client = HttpOrigin(origin.url)
                for _ in range(2):
                    response = await client.fetch("HEAD", "/k", {})
                    assert (response.status, response.headers.get("content-length")) == (200, length)
                    response.release()
                assert await read(await client.fetch("GET", "/k", {})) == b"hello"
                assert origin.connections == 1
                await client.close()
        run(test)

    def test_bytes_after_an_answer_to_a_head_close_its_connection(self) -> None:
        async def test() -> None:
            async with RawOrigin(answer(b"stray")) as origin:
                client = HttpOrigin(origin.url)
                response = await client.fetch("HEAD", "/k", {})
                assert response.status == 200
                response.release()
                assert await read(await client.fetch("GET", "/k", {})) == b"stray"
                assert origin.connections == 2
                await client.close()
        run(test)

    def test_a_connection_the_origin_closed_while_idle_is_replaced(self) -> None:
        async def test() -> None:
            async with RawOrigin(answer(b"again"), close_after_answer=True) as origin:
                client = HttpOrigin(origin.url)
                for _ in range(3):
                    assert await read(await client.fetch("GET", "/k", {})) == b"again"
                assert origin.connections == 3
                await client.close()
        run(test)

    def test_a_response_nobody_reads_gives_its_connection_back(self) -> None:
        async def test() -> None:
            async with RawOrigin(answer(b"unread")) as origin:
                client = HttpOrigin(origin.url, connections=1)
                await client.fetch("GET", "/a", {})  # dropped unread
                gc.collect()
                assert await read(await client.fetch("GET", "/b", {})) == b"unread"
                await client.close()
        run(test)

    def test_a_silent_origin_times_out(self) -> None:
        async def test() -> None:
            async with RawOrigin(lambda _: None) as origin:
                client = HttpOrigin(origin.url, timeout=0.2)
                with pytest.raises(TimeoutError):
                    await client.fetch("GET", "/silent", {})
                await client.close()
        run(test)

    def test_a_pooled_connection_idle_past_the_timeout_is_used_again(self) -> None:
        async def test() -> None:
            async with RawOrigin(answer(b"kept")) as origin:
                client = HttpOrigin(origin.url, timeout=0.2)
                assert await read(await client.fetch("GET", "/a", {})) == b"kept"
                await asyncio.sleep(0.5)  # the connection's timer checks it twice meanwhile
                assert await read(await client.fetch("GET", "/b", {})) == b"kept"
                assert origin.connections == 1
                await client.close()
        run(test)

    def test_an_idle_connection_is_closed_after_the_keepalive_timeout(self) -> None:
        """The edge closes it, before an origin that closes idle connections itself could do so
        under a request on its way."""
        async def test() -> None:
            async with RawOrigin(answer(b"ok")) as origin:
                client = HttpOrigin(origin.url, keepalive_timeout=0.2)
                assert await read(await client.fetch("GET", "/a", {})) == b"ok"
                assert await read(await client.fetch("GET", "/b", {})) == b"ok"
                assert (origin.connections, origin.ended) == (1, 0)
                await asyncio.sleep(0.5)
                assert origin.ended == 1, "closed while idle, with no request to come"
                assert await read(await client.fetch("GET", "/c", {})) == b"ok"
                assert origin.connections == 2
                await client.close()
        run(test)

    def test_a_silent_answer_on_a_connection_from_the_pool_times_out(self) -> None:
        async def test() -> None:
            async with RawOrigin(lambda request: None if b"/silent" in request else answer(b"ok")(request)) as origin:
                client = HttpOrigin(origin.url, timeout=0.2)
                assert await read(await client.fetch("GET", "/first", {})) == b"ok"
                await asyncio.sleep(0.3)
                with pytest.raises(TimeoutError):
                    await client.fetch("GET", "/silent", {})
                assert origin.connections == 1
                await client.close()
        run(test)

    def test_a_body_that_keeps_coming_is_read_to_its_end_however_long_it_takes(self) -> None:
        """The timeout is for silence: a streamed body whose pieces come 0.3 s apart is not
        cut after 1 s."""
        piece = b"x" * (WHOLE_UP_TO // 2)

        async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await reader.readuntil(b"\r\n\r\n")
            writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\n\r\n" % (4 * len(piece)))
            for _ in range(4):
                await asyncio.sleep(0.3)
                writer.write(piece)
                await writer.drain()
            await reader.read()
            writer.close()

        async def test() -> None:
            server = await asyncio.start_server(serve, "127.0.0.1", 0)
            client = HttpOrigin(f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}", timeout=1.0)
            assert await read(await client.fetch("GET", "/slow", {})) == piece * 4
            await client.close()
            server.close()
        run(test)


class TestRequests:
    def test_the_target_goes_byte_for_byte_under_the_origins_path_with_its_host(self) -> None:
        async def test() -> None:
            async with RawOrigin(answer(b"")) as origin:
                client = HttpOrigin(origin.url + "/prefix/")
                await read(await client.fetch("GET", "/a%2Fb?x=%20&y", {"x-kept": "1", "host": "ignored"}))
                head = origin.requests[0].decode()
                assert head.startswith("GET /prefix/a%2Fb?x=%20&y HTTP/1.1\r\n")
                assert f"host: {origin.url.removeprefix('http://')}\r\n" in head
                assert "x-kept: 1\r\n" in head
                assert "ignored" not in head
                await client.close()
        run(test)

    def test_a_streamed_body_goes_chunked_unless_its_length_is_known(self) -> None:
        async def body() -> AsyncIterator[bytes]:
            yield b"part one, "
            yield b"part two"

        async def test() -> None:
            async with RawOrigin(answer(b"stored")) as origin:
                client = HttpOrigin(origin.url)
                await read(await client.fetch("PUT", "/up", {}, body()))
                await read(await client.fetch("PUT", "/up", {"content-length": "18"}, body()))
                chunked, sized = origin.requests
                assert b"transfer-encoding: chunked" in chunked
                assert chunked.endswith(b"a\r\npart one, \r\n8\r\npart two\r\n0\r\n\r\n")
                assert sized.endswith(b"\r\n\r\npart one, part two")
                await client.close()
        run(test)

    def test_a_body_the_client_stops_sending_fails_its_request_and_nothing_else(self) -> None:
        """A client gone mid-upload fails the request it was sending (its error reaches the edge,
        which answers it); the answer it will never wait for is no error of its own: asyncio once
        logged "Future exception was never retrieved" for each such upload."""
        async def body() -> AsyncIterator[bytes]:
            yield b"part one, "
            raise ConnectionResetError("the client went away")

        async def test() -> None:
            unhandled: list[dict[str, object]] = []
            asyncio.get_running_loop().set_exception_handler(lambda _, context: unhandled.append(context))
            async with RawOrigin(lambda _: None) as origin:
                client = HttpOrigin(origin.url)
                with pytest.raises(ConnectionResetError, match="the client went away"):
                    await client.fetch("PUT", "/up", {"content-length": "100"}, body())
                await client.close()
                await asyncio.sleep(0.05)  # the connection's loss is told
                gc.collect()
                assert unhandled == []
        run(test)

    def test_an_origin_gone_while_a_huge_head_is_written_fails_its_request_and_nothing_else(self) -> None:
        """A request head bigger than the socket takes pauses writing; the origin's going then fails
        the request alone: asyncio once logged "Future exception was never retrieved" for the wait
        on writing that no one was in."""
        async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await reader.readexactly(1024)
            await asyncio.sleep(0.2)  # the edge's writes back up
            writer.transport.abort()

        async def test() -> None:
            unhandled: list[dict[str, object]] = []
            asyncio.get_running_loop().set_exception_handler(lambda _, context: unhandled.append(context))
            server = await asyncio.start_server(silent, "127.0.0.1", 0)
            client = HttpOrigin(f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}", timeout=5)
            failed = False
            try:
                await client.fetch("GET", "/k", {"x-large": "v" * (16 * 1024 * 1024)})
            except ConnectionError:  # not kept: its traceback would keep the connection alive
                failed = True
            await client.close()
            server.close()
            await asyncio.sleep(0.05)  # the connection's loss is told
            gc.collect()
            assert failed
            assert unhandled == []
        run(test)

    @pytest.mark.parametrize("closes", [True, False])
    def test_an_answer_before_the_body_is_all_sent_ends_the_upload_and_is_the_answer(self, closes: bool) -> None:
        """RFC 9112 9.5: an origin refusing a body (nginx's 413 past client_max_body_size, an S3
        403) answers before reading it, and may close; the body stops going and that answer is the
        response, where the upload's failed write made it a 502. The connection, its request cut
        short, is not used again."""
        answers: list[int] = []
        ended: list[asyncio.Event] = []

        async def refuse(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            over = asyncio.Event()
            ended.append(over)
            try:
                await reader.readuntil(b"\r\n\r\n")
                answers.append(413)
                writer.write(b"HTTP/1.1 413 Payload Too Large\r\ncontent-length: 9\r\n\r\ntoo large")
                await writer.drain()
                if not closes:
                    await reader.read()  # reads nothing more until the edge goes
            finally:
                writer.close()
                over.set()

        async def upload() -> AsyncIterator[bytes]:
            for _ in range(1024):
                yield b"u" * 65536

        async def test() -> None:
            server = await asyncio.start_server(refuse, "127.0.0.1", 0)
            client = HttpOrigin(f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}", timeout=5)
            response = await client.fetch("PUT", "/up", {"content-length": str(1024 * 65536)}, upload())
            assert (response.status, await read(response)) == (413, b"too large")
            response = await client.fetch("PUT", "/up", {"content-length": str(1024 * 65536)}, upload())
            assert (response.status, await read(response), answers) == (413, b"too large", [413, 413])
            await client.close()
            for handler in ended:  # each connection closed by the client, not used again
                await handler.wait()
            server.close()
        run(test)
