"""An API worker's side of lending, against a stand-in lease desk and a stand-in runtime: a
lent Runtime API connection carries the worker's invocations, each reported to the desk as it
begins and ends, and goes back when the desk recalls it."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from strato.functions.borrowing import LeaseBook, Loan
from strato.functions.datagrams import Datagrams
from strato.functions.ipc import ControllerClient, ControllerUnavailable, FrameReader, encode_frame
from strato.functions.records import FunctionVersion, Invocation, InvokeResult
from strato.functions.report_ring import RingReader
from tests.functions.support import function, invocation
from tests.servers import read_response

WAIT = 5.0
NEXT = b"GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: runtime\r\n\r\n"


class Desk:
    """The controller's end of one worker's channel and report ring: what the worker reports,
    in order (the ring read before each channel message, which names the last record before it)."""

    def __init__(self, sock: socket.socket) -> None:
        self.reports: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.ring: RingReader | None = None
        self.channel = Datagrams(sock, self._message, lambda: None)

    def _message(self, head: dict[str, Any], payload: bytes, fd: int | None) -> None:
        if head["op"] == "ring" and fd is not None:
            self.ring = RingReader(fd)
            return
        self._read_ring()
        if self.ring is not None:
            assert head.pop("after") == self.ring.read, "every record written before it was heard"
        self.reports.put_nowait(head)

    def _read_ring(self) -> None:
        if self.ring is not None:
            self.ring.drain(self.reports.put_nowait)

    async def report(self) -> dict[str, Any]:
        for _ in range(int(WAIT / 0.005)):
            self._read_ring()
            if not self.reports.empty():
                return self.reports.get_nowait()
            await asyncio.sleep(0.005)
        raise AssertionError("no report came")


def run(tmp_path: Path, test: Callable[[LeaseBook, Desk, FunctionVersion], Awaitable[None]]) -> None:
    """A lease book connected to a stand-in desk, which has said hello."""
    async def main() -> None:
        path = tmp_path / "leases.sock"
        listening = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        listening.bind(str(path))
        listening.listen()
        listening.setblocking(False)
        book = LeaseBook(path)
        fn = function(tmp_path, "lent-fn")
        try:
            assert book.take(invocation(fn)) is None, "the first call only connects"
            accepted, _ = await asyncio.wait_for(asyncio.get_running_loop().sock_accept(listening), WAIT)
            desk = Desk(accepted)
            desk.channel.send({"op": "hello", "id": 7})
            await until(lambda: book.lessee == 7)
            await test(book, desk, fn)
            desk.channel.close()
        finally:
            book.close()
            listening.close()
    asyncio.run(main())


async def until(condition: Callable[[], object]) -> None:
    for _ in range(1000):
        if condition():
            return
        await asyncio.sleep(0.005)
    raise AssertionError("never happened")


def lend(desk: Desk, fn: FunctionVersion, lease: int = 1) -> socket.socket:
    """Lend the worker a runtime parked on GET next; returns the runtime's end of its connection."""
    runtime, lent = socket.socketpair()
    desk.channel.send({"op": "lend", "lease": lease, "name": fn.name, "version": fn.version,
                       "revision": fn.revision_id}, fd=lent.fileno())
    lent.close()
    runtime.settimeout(WAIT)
    return runtime


async def taken(book: LeaseBook, fn: FunctionVersion) -> Loan:
    loan: Loan | None = None

    def take() -> Loan | None:
        nonlocal loan
        loan = book.take(invocation(fn))
        return loan

    await until(take)
    assert loan is not None
    return loan


def test_an_invocation_runs_on_the_lent_runtime_and_is_reported_as_it_begins_and_ends(tmp_path: Path) -> None:
    async def test(book: LeaseBook, desk: Desk, fn: FunctionVersion) -> None:
        runtime = lend(desk, fn)
        loan = await taken(book, fn)
        call = invocation(fn, b'{"n": 1}', log_tail=False)
        answered = asyncio.ensure_future(loan.invoke(call))
        handed = await asyncio.to_thread(read_response, runtime)
        assert handed.status == 200
        assert handed.headers["lambda-runtime-aws-request-id"] == call.request_id
        assert handed.body == b'{"n": 1}'
        begin = await desk.report()
        assert (begin["op"], begin["lease"], begin["request_id"]) == ("begin", 1, call.request_id)
        answer = b'{"result": 2}'
        runtime.sendall(b"POST /2018-06-01/runtime/invocation/%s/response HTTP/1.1\r\nHost: runtime\r\n"
                        b"Content-Length: %d\r\n\r\n%s" % (call.request_id.encode(), len(answer), answer) + NEXT)
        result = await asyncio.wait_for(answered, WAIT)
        assert (result.payload, result.function_error) == (answer, None)
        end = await desk.report()
        assert (end["op"], end["request_id"], end["error_type"]) == ("end", call.request_id, None)
        assert end["at"] >= begin["at"]
        assert book.take(invocation(fn)) is loan, "idle again, for the next invocation"
        runtime.close()
    run(tmp_path, test)


def test_a_loan_serves_only_its_own_function_revision(tmp_path: Path) -> None:
    async def test(book: LeaseBook, desk: Desk, fn: FunctionVersion) -> None:
        runtime = lend(desk, fn)
        await taken(book, fn)
        changed = function(tmp_path, "lent-fn", environment={"MODE": "new"})
        assert book.take(invocation(changed)) is None
        runtime.close()
    run(tmp_path, test)


def test_a_recall_of_an_idle_loan_gives_it_back_waiting(tmp_path: Path) -> None:
    async def test(book: LeaseBook, desk: Desk, fn: FunctionVersion) -> None:
        runtime = lend(desk, fn)
        loan = await taken(book, fn)
        book.settle(loan)
        desk.channel.send({"op": "recall", "lease": 1})
        assert await desk.report() == {"op": "return", "lease": 1, "waiting": True}
        assert book.take(invocation(fn)) is None
        runtime.close()
    run(tmp_path, test)


def test_a_recall_of_an_idle_loan_whose_runtime_is_gone_gives_it_back_at_once(tmp_path: Path) -> None:
    """The controller recalls a lent environment that died idle: the loan must not wait to be taken."""
    async def test(book: LeaseBook, desk: Desk, fn: FunctionVersion) -> None:
        runtime = lend(desk, fn)
        loan = await taken(book, fn)
        book.settle(loan)
        runtime.close()
        await until(lambda: not loan.usable)
        desk.channel.send({"op": "recall", "lease": 1})
        assert await desk.report() == {"op": "return", "lease": 1, "waiting": False}
        assert book.take(invocation(fn)) is None
    run(tmp_path, test)


def test_a_recall_that_comes_with_the_lend_is_not_lost(tmp_path: Path) -> None:
    async def test(book: LeaseBook, desk: Desk, fn: FunctionVersion) -> None:
        runtime = lend(desk, fn)
        desk.channel.send({"op": "recall", "lease": 1})  # read in the same go as the lend
        assert await desk.report() == {"op": "return", "lease": 1, "waiting": True}
        assert book.take(invocation(fn)) is None
        runtime.close()
    run(tmp_path, test)


def test_the_desk_going_away_voids_an_invocation_in_flight(tmp_path: Path) -> None:
    async def test(book: LeaseBook, desk: Desk, fn: FunctionVersion) -> None:
        runtime = lend(desk, fn)
        loan = await taken(book, fn)
        answered = asyncio.ensure_future(loan.invoke(invocation(fn, log_tail=False)))
        await asyncio.to_thread(read_response, runtime)
        desk.channel.close()
        with pytest.raises(ControllerUnavailable):
            await asyncio.wait_for(answered, WAIT)
        assert runtime.recv(10) == b"", "the worker dropped the runtime's connection"
        runtime.close()
    run(tmp_path, test)


def test_payloads_are_reported_without_their_bodies(tmp_path: Path) -> None:
    """Reports are small by contract: the invocation's payload never travels to the desk."""
    async def test(book: LeaseBook, desk: Desk, fn: FunctionVersion) -> None:
        runtime = lend(desk, fn)
        loan = await taken(book, fn)
        call = invocation(fn, json.dumps({"big": "x" * 100_000}).encode(), log_tail=False)
        answered = asyncio.ensure_future(loan.invoke(call))
        await asyncio.to_thread(read_response, runtime)
        begin = await desk.report()
        assert "x" * 100 not in json.dumps(begin)
        runtime.sendall(b"POST /2018-06-01/runtime/invocation/%s/response HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}"
                        % call.request_id.encode() + NEXT)
        await asyncio.wait_for(answered, WAIT)
        runtime.close()
    run(tmp_path, test)


async def stand_in_controller(path: Path, heads: list[dict[str, Any]], served: asyncio.Event) -> asyncio.Server:
    """Answers the invocation relayed to it (recorded in `heads`) with the payload `relayed`;
    `served` once the client has closed the connection."""
    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        def answer(head: dict[str, Any], payload: bytes) -> None:
            heads.append(head)
            writer.write(encode_frame({"executed_version": "$LATEST"}, b'"relayed"'))

        FrameReader(answer).feed(await reader.read(65536))
        await reader.read()  # until the client closes
        writer.close()
        await writer.wait_closed()
        served.set()
    return await asyncio.start_unix_server(serve, str(path))


def test_a_client_starts_an_invocation_on_an_idle_loan_without_waiting(tmp_path: Path) -> None:
    async def test(book: LeaseBook, desk: Desk, fn: FunctionVersion) -> None:
        client = ControllerClient(tmp_path / "controller.sock", enqueue_nothing, book)
        outcomes: list[InvokeResult | BaseException] = []
        assert not client.start(invocation(fn), outcomes.append), "nothing is lent yet: the caller awaits invoke"
        runtime = lend(desk, fn)
        book.settle(await taken(book, fn))
        call = invocation(fn, b'{"n": 1}', log_tail=False)
        assert client.start(call, outcomes.append)
        handed = await asyncio.to_thread(read_response, runtime)
        assert handed.body == b'{"n": 1}'
        runtime.sendall(b"POST /2018-06-01/runtime/invocation/%s/response HTTP/1.1\r\nContent-Length: 2\r\n\r\n42"
                        % call.request_id.encode() + NEXT)
        await until(lambda: outcomes)
        assert outcomes == [InvokeResult(b"42", fn.version)]
        runtime.close()
    run(tmp_path, test)


def test_a_started_invocation_whose_environment_was_lost_is_relayed_through_the_controller(tmp_path: Path) -> None:
    async def test(book: LeaseBook, desk: Desk, fn: FunctionVersion) -> None:
        relayed: list[dict[str, Any]] = []
        served = asyncio.Event()
        controller = await stand_in_controller(tmp_path / "controller.sock", relayed, served)
        client = ControllerClient(tmp_path / "controller.sock", enqueue_nothing, book)
        runtime = lend(desk, fn)
        book.settle(await taken(book, fn))
        call = invocation(fn, b"{}", log_tail=False)
        outcomes: list[InvokeResult | BaseException] = []
        assert client.start(call, outcomes.append)
        begin = await desk.report()
        desk.channel.send({"op": "result", "lease": 1, "request_id": begin["request_id"], "lost": True})
        await until(lambda: outcomes)
        assert outcomes == [InvokeResult(b'"relayed"', "$LATEST")]
        assert [(head["op"], head["request_id"], head["lessee"]) for head in relayed] == [
            ("invoke", call.request_id, 7)]
        client.close()
        await asyncio.wait_for(served.wait(), WAIT)
        controller.close()
        runtime.close()
    run(tmp_path, test)


async def enqueue_nothing(invocation: Invocation) -> None:
    raise AssertionError("no event is queued here")


def test_an_invocation_the_controller_never_ends_fails_after_its_timeout_and_grace(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The runtime never answers and the controller says nothing (its timeout would end the
    invocation): past the function's timeout and RESULT_GRACE the caller gets an error, and
    the loan is not used again."""
    monkeypatch.setattr("strato.functions.borrowing.RESULT_GRACE", 0.2)
    monkeypatch.setattr("strato.functions.borrowing.SWEEP", 0.05)

    async def test(book: LeaseBook, desk: Desk, fn: FunctionVersion) -> None:
        quick = function(tmp_path, "lent-fn", timeout=1)
        runtime = lend(desk, quick)
        loan = await taken(book, quick)
        outcomes: list[InvokeResult | BaseException] = []
        started = asyncio.get_running_loop().time()
        loan.start(invocation(quick, log_tail=False), outcomes.append)
        await asyncio.to_thread(read_response, runtime)
        await until(lambda: outcomes)
        assert isinstance(outcomes[0], ControllerUnavailable)
        assert asyncio.get_running_loop().time() - started >= 1.2
        assert book.take(invocation(quick)) is None
        runtime.close()
    run(tmp_path, test)
