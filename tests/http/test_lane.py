"""The short lane for Lambda Invoke requests (http/lane.py), on a real uvicorn server built as
`strato serve` builds its API server, and on `strato serve` itself.

Which path a request took shows on the wire: the app here streams every response without a
Content-Length, which uvicorn's usual path sends chunked and the lane, which writes a response
whole, sends with a Content-Length.
"""

from __future__ import annotations

import asyncio
import functools
import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any

import pytest
import uvicorn
import uvloop
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from strato.config import Settings
from strato.http.expect import ExpectContinueGuard
from strato.http.lane import Reply
from strato.http.types import Receive, Scope, Send
from strato.server import _uvicorn_config
from tests.conftest import make_client
from tests.e2e.lambda_helpers import deploy
from tests.servers import ACCESS_KEY, REGION, SECRET_KEY, StratoServer, sign_v4

WAIT = 10.0
INVOKE = "/2015-03-31/functions/{}/invocations"


class Hold:
    """Where a request for a function named `held` waits until the test lets it go."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._released: asyncio.Event | None = None

    async def wait(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._released = asyncio.Event()
        self.entered.set()
        await self._released.wait()

    def release(self) -> None:
        assert self._loop is not None
        assert self._released is not None
        self._loop.call_soon_threadsafe(self._released.set)


async def streaming_app(scope: Scope, receive: Receive, send: Send, hold: Hold) -> None:
    """Reads the whole body, then answers `METHOD PATH LENGTH` in two pieces, with no Content-Length.
    A function named `broken` raises; `halfway` raises after its first piece; `unfinished`
    never sends its last piece; one named `closing` answers with `connection: close`; one
    named `held` waits for the test first."""
    if "/held/" in scope["path"]:
        await hold.wait()
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body", False):
            break
    path = scope["path"]
    if "/broken/" in path:
        raise RuntimeError("the app failed")
    headers = [(b"content-type", b"text/plain")]
    if "/closing/" in path:
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": f"{scope['method']} {path} ".encode(), "more_body": True})
    if "/halfway/" in path:
        raise RuntimeError("the app failed halfway")
    if "/unfinished/" in path:
        return
    await send({"type": "http.response.body", "body": str(len(body)).encode()})


def shortcut(scope: Scope, body: bytes, reply: Reply) -> bool:
    """Takes functions named `quick` (answered at once, inside the parser's callback), `later`
    (answered 1.5 s later, with no task) and `raising` (the shortcut raises); declines the rest."""
    path = scope["path"]
    if "/quick/" in path:
        reply((200, [(b"content-type", b"text/plain")], b"quick " + body))
        return True
    if "/later/" in path:
        asyncio.get_running_loop().call_later(1.5, reply, (200, [(b"content-type", b"text/plain")], b"later"))
        return True
    if "/raising/" in path:
        raise RuntimeError("the shortcut failed")
    return False


class ThreadServer:
    """A uvicorn server on a free port in a thread, with the protocol and config of `strato serve`
    (the lane's shortcut: `shortcut` above, when asked)."""

    def __init__(self, request_timeout: float = 30.0, with_shortcut: bool = False,
                 keep_alive: int | None = None) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.hold = Hold()
        app = functools.partial(streaming_app, hold=self.hold)
        settings = Settings(request_timeout=request_timeout)
        config = _uvicorn_config(ExpectContinueGuard(app), settings, shortcut if with_shortcut else None)
        if keep_alive is not None:
            config.timeout_keep_alive = keep_alive
        self.server = uvicorn.Server(config)
        self.errors: list[str] = []  # what reached the event loop's exception handler
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        loop = uvloop.new_event_loop()
        loop.set_exception_handler(lambda loop, context: self.errors.append(repr(context.get("exception"))))
        try:
            loop.run_until_complete(self.server.serve(sockets=[self.sock]))
        finally:
            loop.close()

    def start(self) -> ThreadServer:
        """Start serving (the socket listens already: connections wait in its backlog meanwhile)."""
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self._thread.join(WAIT)
        self.sock.close()

    def listening(self) -> bool:
        """Whether it still accepts connections (a server shutting down stops first)."""
        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=WAIT).close()
        except ConnectionRefusedError:
            return False
        return True

    @property
    def connections(self) -> int:
        return len(self.server.server_state.connections)


@pytest.fixture(scope="module")
def api() -> Iterator[ThreadServer]:
    running = ThreadServer().start()
    yield running
    running.stop()


def connect(port: int) -> socket.socket:
    return socket.create_connection(("127.0.0.1", port), timeout=WAIT)


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def framing(self) -> str:
        """`length` (written whole: the lane) or `chunked` (uvicorn's usual path)."""
        return "chunked" if self.headers.get("transfer-encoding") == "chunked" else "length"


def read_answer(stream: IO[bytes]) -> Answer:
    """One HTTP/1.1 response (an interim 1xx too), Content-Length or chunked."""
    status_line = stream.readline()
    assert status_line.startswith(b"HTTP/1.1 "), status_line
    headers: dict[str, str] = {}
    while (line := stream.readline()) not in (b"\r\n", b""):
        name, _, value = line.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    status = int(status_line.split()[1])
    if status < 200:
        return Answer(status, headers, b"")
    if headers.get("transfer-encoding") == "chunked":
        body = b""
        while size := int(stream.readline().split(b";")[0], 16):
            body += stream.read(size)
            stream.readline()
        stream.readline()
        return Answer(status, headers, body)
    return Answer(status, headers, stream.read(int(headers.get("content-length", "0"))))


def request(method: str, path: str, body: bytes = b"", **headers: str) -> bytes:
    fields = {"Host": "127.0.0.1", "Content-Length": str(len(body)), **headers}
    head = f"{method} {path} HTTP/1.1\r\n" + "".join(f"{name.replace('_', '-')}: {value}\r\n"
                                                    for name, value in fields.items())
    return head.encode("latin-1") + b"\r\n" + body


def invoke(name: str, body: bytes = b"{}", **headers: str) -> bytes:
    return request("POST", INVOKE.format(name), body, **headers)


def closed_by_server(sock: socket.socket) -> bool:
    return sock.recv(1) == b""


def assert_failed_and_closed(server: ThreadServer, name: str) -> None:
    """An invoke of `name` gets a 500 with `connection: close`, and the server closes."""
    with connect(server.port) as sock, sock.makefile("rb") as stream:
        sock.sendall(invoke(name))
        answer = read_answer(stream)
        assert (answer.status, answer.headers["connection"]) == (500, "close")
        assert closed_by_server(sock)


class TestTheLane:
    def test_an_invoke_is_answered_whole(self, api: ThreadServer) -> None:
        with connect(api.port) as sock, sock.makefile("rb") as stream:
            sock.sendall(invoke("fn", b'{"n": 1}'))
            answer = read_answer(stream)
        assert (answer.status, answer.framing) == (200, "length")
        assert answer.body == f"POST {INVOKE.format('fn')} 8".encode()

    def test_the_connection_stays_open_for_a_request_on_the_usual_path(self, api: ThreadServer) -> None:
        with connect(api.port) as sock, sock.makefile("rb") as stream:
            sock.sendall(invoke("fn"))
            assert read_answer(stream).framing == "length"
            sock.sendall(request("GET", "/bucket/key"))
            after = read_answer(stream)
            assert (after.status, after.framing, after.body) == (200, "chunked", b"GET /bucket/key 0")
            sock.sendall(invoke("fn", b"[1, 2]"))
            again = read_answer(stream)
            assert (again.framing, again.body) == ("length", f"POST {INVOKE.format('fn')} 6".encode())

    def test_pipelined_requests_are_answered_in_order(self, api: ThreadServer) -> None:
        with connect(api.port) as sock, sock.makefile("rb") as stream:
            sock.sendall(invoke("first", b"1") + request("GET", "/bucket/second") + invoke("third", b"333")
                         + request("PUT", "/bucket/fourth", b"4444"))
            answers = [read_answer(stream) for _ in range(4)]
        assert [answer.body for answer in answers] == [
            f"POST {INVOKE.format('first')} 1".encode(), b"GET /bucket/second 0",
            f"POST {INVOKE.format('third')} 3".encode(), b"PUT /bucket/fourth 4"]
        assert answers[0].framing == "length"

    def test_an_invoke_behind_a_request_in_flight_waits_its_turn(self, api: ThreadServer) -> None:
        with connect(api.port) as sock, sock.makefile("rb") as stream:
            sock.sendall(request("PUT", "/bucket/first", b"x" * 100_000) + invoke("second"))
            first, second = read_answer(stream), read_answer(stream)
        assert (first.body, second.body) == (b"PUT /bucket/first 100000", f"POST {INVOKE.format('second')} 2".encode())

    def test_an_invoke_expecting_100_continue_takes_the_usual_path(self, api: ThreadServer) -> None:
        with connect(api.port) as sock, sock.makefile("rb") as stream:
            body = b'{"expect": true}'
            sock.sendall(invoke("fn", body, Expect="100-continue")[: -len(body)])
            assert read_answer(stream).status == 100
            sock.sendall(body)
            answer = read_answer(stream)
            assert (answer.status, answer.framing) == (200, "chunked")
            assert answer.body == f"POST {INVOKE.format('fn')} {len(body)}".encode()
            sock.sendall(invoke("fn"))
            assert read_answer(stream).framing == "length", "the connection goes on, the lane open again"

    def test_an_invoke_with_a_chunked_body_takes_the_usual_path(self, api: ThreadServer) -> None:
        with connect(api.port) as sock, sock.makefile("rb") as stream:
            head = f"POST {INVOKE.format('fn')} HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n"
            sock.sendall(head.encode() + b"3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n")
            answer = read_answer(stream)
        assert (answer.framing, answer.body) == ("chunked", f"POST {INVOKE.format('fn')} 5".encode())

    def test_an_invoke_that_closes_the_connection_takes_the_usual_path(self, api: ThreadServer) -> None:
        with connect(api.port) as sock, sock.makefile("rb") as stream:
            sock.sendall(invoke("fn", Connection="close"))
            answer = read_answer(stream)
            assert (answer.framing, answer.body) == ("chunked", f"POST {INVOKE.format('fn')} 2".encode())
            assert closed_by_server(sock)

    def test_an_app_answering_connection_close_on_the_lane_closes_it(self, api: ThreadServer) -> None:
        with connect(api.port) as sock, sock.makefile("rb") as stream:
            sock.sendall(invoke("closing"))
            answer = read_answer(stream)
            assert (answer.framing, answer.headers["connection"]) == ("length", "close")
            assert closed_by_server(sock)

    def test_an_app_failing_on_the_lane_gets_a_500_and_the_connection_closes(self, api: ThreadServer) -> None:
        assert_failed_and_closed(api, "broken")

    @pytest.mark.parametrize("name", ["halfway", "unfinished"])
    def test_an_app_that_fails_after_starting_its_answer_gets_a_500_not_a_cut_answer(
            self, api: ThreadServer, name: str) -> None:
        """Nothing of a lane answer is on the wire before it is whole: the part the app sent
        would pass for a complete answer with its own length."""
        assert_failed_and_closed(api, name)

    def test_a_connection_closed_after_an_invoke_leaves_no_error_behind(self) -> None:
        server = ThreadServer().start()
        try:
            with connect(server.port) as sock, sock.makefile("rb") as stream:
                sock.sendall(invoke("fn"))
                assert read_answer(stream).status == 200
            for _ in range(200):
                if server.connections == 0:
                    break
                threading.Event().wait(0.01)
        finally:
            server.stop()
        assert server.errors == []


@pytest.fixture(scope="module")
def quick() -> Iterator[ThreadServer]:
    running = ThreadServer(with_shortcut=True, keep_alive=1).start()
    yield running
    running.stop()


class TestAShortcut:
    """A shortcut takes lane requests to answer without the ASGI app (strato's warm invoke)."""

    def test_answers_a_request_it_takes_whole_at_once(self, quick: ThreadServer) -> None:
        with connect(quick.port) as sock, sock.makefile("rb") as stream:
            sock.sendall(invoke("quick", b'{"n": 1}'))
            answer = read_answer(stream)
            assert (answer.status, answer.framing, answer.body) == (200, "length", b'quick {"n": 1}')
            sock.sendall(invoke("quick", b"2"))
            assert read_answer(stream).body == b"quick 2"

    def test_leaves_what_it_declines_to_the_app(self, quick: ThreadServer) -> None:
        with connect(quick.port) as sock, sock.makefile("rb") as stream:
            sock.sendall(invoke("fn", b"[1, 2]"))
            answer = read_answer(stream)
        assert (answer.framing, answer.body) == ("length", f"POST {INVOKE.format('fn')} 6".encode())

    def test_answers_later_in_the_connections_order(self, quick: ThreadServer) -> None:
        """Requests pipelined behind one it answers later wait in uvicorn's pipeline (the app
        answers them, in order)."""
        with connect(quick.port) as sock, sock.makefile("rb") as stream:
            sock.sendall(invoke("later") + invoke("quick", b"2") + request("GET", "/bucket/third"))
            answers = [read_answer(stream) for _ in range(3)]
            assert [answer.body for answer in answers] == [
                b"later", f"POST {INVOKE.format('quick')} 1".encode(), b"GET /bucket/third 0"]
            sock.sendall(invoke("quick", b"4"))
            assert read_answer(stream).body == b"quick 4", "the lane is open again"

    def test_a_request_answered_at_once_leaves_no_idle_timer_on_the_one_behind_it(self, quick: ThreadServer) -> None:
        """The keep-alive timer (1 s here) that an answer written inside the parser's callback
        arms must not close the connection under a pipelined request answered 1.5 s later."""
        with connect(quick.port) as sock, sock.makefile("rb") as stream:
            sock.sendall(invoke("quick", b"1") + invoke("later"))
            answers = [read_answer(stream) for _ in range(2)]
        assert [(answer.status, answer.body) for answer in answers] == [(200, b"quick 1"), (200, b"later")]

    def test_a_shortcut_that_raises_gets_a_500_and_the_connection_closes(self, quick: ThreadServer) -> None:
        assert_failed_and_closed(quick, "raising")


class TestKeepAlive:
    """An idle keep-alive connection is closed after the keep-alive timeout (1 s here), by the
    connection's one timer; a connection that keeps sending requests is not."""

    @pytest.mark.parametrize("name", ["quick", "fn"])  # answered in the parser's callback / by the app
    def test_an_idle_connection_is_closed_after_the_timeout(self, quick: ThreadServer, name: str) -> None:
        with connect(quick.port) as sock, sock.makefile("rb") as stream:
            sock.sendall(invoke(name))
            assert read_answer(stream).status == 200
            opened = time.monotonic()
            assert stream.read(1) == b"", "the server closed the idle connection"
            assert time.monotonic() - opened > 0.9, "not before the keep-alive timeout (libuv counts in ms)"

    def test_empty_lines_do_not_keep_an_idle_connection_open(self, quick: ThreadServer) -> None:
        with connect(quick.port) as sock, sock.makefile("rb") as stream:
            sock.sendall(invoke("quick"))
            assert read_answer(stream).status == 200
            for _ in range(3):  # 1.5 s of empty lines, more than the timeout
                time.sleep(0.5)
                try:
                    sock.sendall(b"\r\n")
                except OSError:
                    break  # closed already
            assert stream.read(1) == b"", "the server closed the idle connection"

    def test_a_connection_that_keeps_sending_requests_stays_open(self, quick: ThreadServer) -> None:
        with connect(quick.port) as sock, sock.makefile("rb") as stream:
            for index in range(6):  # 2.4 s in all, more than twice the timeout
                sock.sendall(invoke("quick", str(index).encode()))
                assert read_answer(stream).body == f"quick {index}".encode()
                time.sleep(0.4)


def test_an_invoke_whose_body_stops_coming_is_refused_and_closed() -> None:
    """A client that declares a body and stalls does not hold its connection (and the bytes
    read so far) for ever: after the request timeout of silence it gets RequestTimeout."""
    server = ThreadServer(request_timeout=0.5).start()
    try:
        with connect(server.port) as sock, sock.makefile("rb") as stream:
            whole = invoke("stalled", b'{"x": "' + b"y" * 100 + b'"}')
            sock.sendall(whole[:-50])  # the head and part of the body, then nothing
            answer = read_answer(stream)
            assert answer.status == 400
            assert b"RequestTimeout" in answer.body
            assert closed_by_server(sock)
    finally:
        server.stop()


def test_an_invoke_answered_during_a_graceful_shutdown_closes_its_connection() -> None:
    server = ThreadServer().start()
    with connect(server.port) as sock, sock.makefile("rb") as stream:
        sock.sendall(invoke("held"))
        assert server.hold.entered.wait(WAIT)
        server.server.should_exit = True
        while server.listening():
            threading.Event().wait(0.01)
        server.hold.release()
        answer = read_answer(stream)
    server.stop()
    assert answer.status == 200
    assert answer.headers.get("connection") == "close"


# On `strato serve`: an Invoke of a deployed function and S3 requests on one connection.


def signed_invoke(server: StratoServer, name: str, payload: bytes) -> bytes:
    url = f"{server.url}{INVOKE.format(name)}"
    signing = AWSRequest("POST", url, data=payload, headers={"Content-Type": "application/json"})
    SigV4Auth(Credentials(ACCESS_KEY, SECRET_KEY), "lambda", REGION).add_auth(signing)
    headers = {"Host": f"127.0.0.1:{server.port}", **dict(signing.headers.items())}
    return request("POST", INVOKE.format(name), payload, **headers)


def signed_get(server: StratoServer, bucket: str, key: str) -> bytes:
    signed = sign_v4("GET", f"{server.url}/{bucket}/{key}")
    return request("GET", f"/{bucket}/{key}", b"", **signed.headers)


@pytest.fixture(scope="module")
def echo(server: StratoServer) -> str:
    lam = make_client(server.url, "lambda", retries={"total_max_attempts": 1, "mode": "standard"})
    return deploy(lam, """
        def handler(event, context):
            return {"echo": event}
    """)


def test_an_invoke_and_s3_requests_share_a_connection_on_strato(server: StratoServer, echo: str, s3: Any,
                                                               bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"stored bytes")
    with connect(server.port) as sock, sock.makefile("rb") as stream:
        sock.sendall(signed_invoke(server, echo, b'{"n": 1}'))
        invoked = read_answer(stream)
        assert invoked.status == 200, invoked.body
        assert json.loads(invoked.body) == {"echo": {"n": 1}}
        sock.sendall(signed_get(server, bucket, "k"))
        fetched = read_answer(stream)
        assert (fetched.status, fetched.body) == (200, b"stored bytes")
        sock.sendall(signed_invoke(server, echo, b'{"n": 2}'))
        assert json.loads(read_answer(stream).body) == {"echo": {"n": 2}}


def test_a_pipelined_invoke_and_s3_request_are_answered_in_order_on_strato(server: StratoServer, echo: str, s3: Any,
                                                                          bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"second answer")
    with connect(server.port) as sock, sock.makefile("rb") as stream:
        sock.sendall(signed_invoke(server, echo, b'"first"') + signed_get(server, bucket, "k")
                     + signed_invoke(server, echo, b'"third"'))
        answers = [read_answer(stream) for _ in range(3)]
    assert [answer.status for answer in answers] == [200, 200, 200], answers
    assert json.loads(answers[0].body) == {"echo": "first"}
    assert answers[1].body == b"second answer"
    assert json.loads(answers[2].body) == {"echo": "third"}
