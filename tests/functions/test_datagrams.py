"""The lease desk's message channel: whole ipc.py frames over SOCK_SEQPACKET, with a descriptor
passed alongside when there is one, read as they come or only when polled, closed once."""

from __future__ import annotations

import asyncio
import os
import socket
import struct
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from strato.functions.datagrams import MAX_MESSAGE, Datagrams
from strato.functions.ipc import encode_frame

Message = tuple[dict[str, Any], bytes, int | None]


class End:
    """One end of a connected pair, recording what it hears and how often it was closed."""

    def __init__(self, sock: socket.socket, watch: bool = True) -> None:
        self.messages: list[Message] = []
        self.closes = 0
        self.heard = asyncio.Event()
        self.gone = asyncio.Event()
        self.channel = Datagrams(sock, self._message, self._closed, watch=watch)

    def _message(self, head: dict[str, Any], payload: bytes, fd: int | None) -> None:
        self.messages.append((head, payload, fd))
        self.heard.set()

    def _closed(self) -> None:
        self.closes += 1
        self.gone.set()


def run(test: Callable[[socket.socket, socket.socket], Awaitable[None]]) -> None:
    """Run `test` on a fresh event loop with a connected SOCK_SEQPACKET pair."""
    async def main() -> None:
        left, right = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            await test(left, right)
        finally:
            left.close()
            right.close()
    asyncio.run(main())


def writers_gone(read_end: int) -> bool:
    """Whether every copy of the pipe's write end is closed (a leaked one would keep it open)."""
    os.set_blocking(read_end, False)
    try:
        return os.read(read_end, 100) == b""
    except BlockingIOError:
        return False
    finally:
        os.close(read_end)


async def heard(end: End) -> None:
    await asyncio.wait_for(end.heard.wait(), 5)
    end.heard.clear()


def test_a_message_arrives_whole_with_its_head_and_payload() -> None:
    async def test(left: socket.socket, right: socket.socket) -> None:
        sender, receiver = End(left), End(right)
        sender.channel.send({"op": "begin", "lease": 1, "at": 1.5}, b"payload bytes")
        await heard(receiver)
        assert receiver.messages == [({"op": "begin", "lease": 1, "at": 1.5}, b"payload bytes", None)]
        sender.channel.close()
        receiver.channel.close()
    run(test)


def test_messages_arrive_one_by_one_in_the_order_they_were_sent() -> None:
    async def test(left: socket.socket, right: socket.socket) -> None:
        sender, receiver = End(left), End(right, watch=False)
        for n in range(50):
            sender.channel.send({"n": n}, b"x" * n)
        assert receiver.channel.poll() == 50
        assert [(head["n"], payload) for head, payload, _ in receiver.messages] == [(n, b"x" * n) for n in range(50)]
        sender.channel.close()
        receiver.channel.close()
    run(test)


def test_a_passed_socket_arrives_usable_and_belongs_to_the_receiver() -> None:
    async def test(left: socket.socket, right: socket.socket) -> None:
        sender, receiver = End(left), End(right)
        mine, lent = socket.socketpair()
        sender.channel.send({"op": "lend", "lease": 7}, fd=lent.fileno())
        lent.close()  # the sender's copy: passing it does not take it
        await heard(receiver)
        head, _, fd = receiver.messages[0]
        assert head == {"op": "lend", "lease": 7}
        assert fd is not None
        with socket.socket(fileno=fd) as received, mine:
            received.sendall(b"through the passed descriptor")
            assert mine.recv(100) == b"through the passed descriptor"
            mine.sendall(b"and back")
            assert received.recv(100) == b"and back"
        sender.channel.close()
        receiver.channel.close()
    run(test)


def test_a_passed_pipe_end_is_the_same_pipe() -> None:
    async def test(left: socket.socket, right: socket.socket) -> None:
        sender, receiver = End(left), End(right)
        read_end, write_end = os.pipe()
        sender.channel.send({"op": "pipe"}, fd=write_end)
        os.close(write_end)
        await heard(receiver)
        passed = receiver.messages[0][2]
        assert passed is not None
        os.write(passed, b"written by the receiver")
        os.close(passed)
        assert os.read(read_end, 100) == b"written by the receiver"
        assert writers_gone(read_end)
        sender.channel.close()
        receiver.channel.close()
    run(test)


def test_an_unwatched_end_reads_only_when_polled() -> None:
    async def test(left: socket.socket, right: socket.socket) -> None:
        sender, receiver = End(left), End(right, watch=False)
        sender.channel.send({"op": "end", "n": 1})
        sender.channel.send({"op": "end", "n": 2})
        for _ in range(20):
            await asyncio.sleep(0)  # the loop runs, and reads nothing for the unwatched end
        assert receiver.messages == []
        assert receiver.channel.poll() == 2
        assert [head["n"] for head, _, _ in receiver.messages] == [1, 2]
        assert receiver.channel.poll() == 0
        sender.channel.close()
        receiver.channel.close()
    run(test)


def test_an_unwatched_end_hears_its_peer_go_away_when_it_polls() -> None:
    async def test(left: socket.socket, right: socket.socket) -> None:
        sender, receiver = End(left), End(right, watch=False)
        sender.channel.send({"op": "return", "lease": 1})
        sender.channel.close()
        assert receiver.closes == 0
        receiver.channel.poll()
        assert [head["op"] for head, _, _ in receiver.messages] == ["return"]
        assert receiver.closes == 1
        assert receiver.channel.closed
    run(test)


def test_the_peer_going_away_closes_a_watched_end_once() -> None:
    async def test(left: socket.socket, right: socket.socket) -> None:
        receiver = End(right)
        left.close()
        await asyncio.wait_for(receiver.gone.wait(), 5)
        receiver.channel.close()
        receiver.channel.poll()
        assert receiver.closes == 1
    run(test)


@pytest.mark.parametrize("garbage", [
    b"not a frame at all",
    encode_frame({"op": "end"})[:-1],  # a frame cut short
    encode_frame({"n": 1}) + encode_frame({"n": 2}),  # two frames in one message
    struct.pack(">II", 2, 0) + b"[]",  # a head that is not an object
    struct.pack(">II", 3, 0) + b"{x}",  # a head that is not JSON
], ids=["not-a-frame", "cut-short", "two-frames", "not-an-object", "not-json"])
def test_a_malformed_message_closes_the_channel_once(garbage: bytes) -> None:
    async def test(left: socket.socket, right: socket.socket) -> None:
        receiver = End(right)
        left.send(garbage)
        left.send(encode_frame({"op": "never heard"}))
        await asyncio.wait_for(receiver.gone.wait(), 5)
        assert receiver.messages == []
        assert receiver.closes == 1
    run(test)


def test_a_message_larger_than_the_limit_closes_the_receiving_end() -> None:
    async def test(left: socket.socket, right: socket.socket) -> None:
        left.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 * MAX_MESSAGE)
        receiver = End(right)
        huge = encode_frame({"op": "result"}, b"x" * MAX_MESSAGE)
        try:
            left.send(huge)
        except OSError:  # the host's buffers cannot hold such a message at all
            pytest.skip("this host cannot send a message past MAX_MESSAGE")
        await asyncio.wait_for(receiver.gone.wait(), 5)
        assert receiver.messages == []
        assert receiver.closes == 1
    run(test)


def test_a_descriptor_that_arrives_with_a_malformed_message_is_closed() -> None:
    async def test(left: socket.socket, right: socket.socket) -> None:
        receiver = End(right)
        read_end, write_end = os.pipe()
        left.sendmsg([b"garbage"], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, struct.pack("i", write_end))])
        os.close(write_end)
        await asyncio.wait_for(receiver.gone.wait(), 5)
        assert writers_gone(read_end), "the passed write end was closed, not leaked"
    run(test)


def test_sending_too_large_a_message_is_refused_before_anything_is_sent() -> None:
    async def test(left: socket.socket, right: socket.socket) -> None:
        sender, receiver = End(left), End(right, watch=False)
        with pytest.raises(ValueError, match="a message of"):
            sender.channel.send({"op": "result"}, b"x" * MAX_MESSAGE)
        sender.channel.send({"op": "after"})
        assert receiver.channel.poll() == 1
        assert receiver.messages[0][0] == {"op": "after"}
        sender.channel.close()
        receiver.channel.close()
    run(test)


def test_every_message_up_to_the_limit_arrives() -> None:
    async def test(left: socket.socket, right: socket.socket) -> None:
        sender, receiver = End(left), End(right)
        payload = b"y" * (MAX_MESSAGE - len(encode_frame({"op": "result"})))
        sender.channel.send({"op": "result"}, payload)
        await heard(receiver)
        assert receiver.messages == [({"op": "result"}, payload, None)]
        assert not sender.channel.closed
        sender.channel.close()
        receiver.channel.close()
    run(test)


def test_messages_wait_while_the_socket_is_full_then_go_in_order_with_their_descriptors() -> None:
    async def test(left: socket.socket, right: socket.socket) -> None:
        sender, receiver = End(left), End(right, watch=False)
        read_end, write_end = os.pipe()
        total = 4 * MAX_MESSAGE // 4096  # far more than the socket's buffer holds
        for n in range(1, total + 1):
            sender.channel.send({"n": n}, b"z" * 4096, fd=write_end if n % 10 == 0 else None)
        os.close(write_end)  # the channel holds its own copies of what waits
        received: list[Message] = []
        while len(received) < total:
            receiver.channel.poll()
            received, receiver.messages = received + receiver.messages, []
            await asyncio.sleep(0)
        assert [head["n"] for head, _, _ in received] == list(range(1, total + 1))
        passed = [fd for _, _, fd in received if fd is not None]
        assert len(passed) == total // 10
        for fd in passed:
            os.close(fd)
        assert writers_gone(read_end), "no copy of the write end is left anywhere"
        sender.channel.close()
        receiver.channel.close()
    run(test)


def test_sending_after_close_is_ignored() -> None:
    async def test(left: socket.socket, right: socket.socket) -> None:
        sender, receiver = End(left), End(right, watch=False)
        sender.channel.close()
        read_end, write_end = os.pipe()
        sender.channel.send({"op": "late"}, fd=write_end)
        os.close(write_end)
        assert writers_gone(read_end), "the descriptor was not kept"
        receiver.channel.poll()
        assert receiver.messages == []
        assert sender.closes == 1
        assert receiver.closes == 1
    run(test)


def test_closing_twice_calls_on_close_once() -> None:
    async def test(left: socket.socket, right: socket.socket) -> None:
        end = End(left)
        end.channel.close()
        end.channel.close()
        assert end.closes == 1
    run(test)
