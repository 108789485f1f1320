"""Collapsed fetches seen from inside one edge process (the ASGI app, a real origin socket):
the leading request fetches in its own task, so what happens to that task reaches the rest."""

from __future__ import annotations

import asyncio
from pathlib import Path

from strato.edge.origins import HttpOrigin
from strato.edge.proxy import EdgeProxy
from strato.edge.store import EdgeStore
from strato.http.types import Message

CAPACITY = 16 * 1024 * 1024


def scope(path: str) -> dict[str, object]:
    return {
        "type": "http", "method": "GET", "path": path, "raw_path": path.encode(), "query_string": b"",
        "headers": [(b"host", b"edge.test")], "client": ("127.0.0.1", 50000), "scheme": "http",
        "http_version": "1.1", "server": ("127.0.0.1", 8080),
    }


async def get(proxy: EdgeProxy, path: str) -> list[Message]:
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    await proxy(scope(path), receive, send)
    return sent


def test_a_leader_cancelled_mid_fetch_fails_its_flight_for_the_waiters_and_the_key_is_fetched_afresh(
    tmp_path: Path,
) -> None:
    async def test() -> None:
        requests = asyncio.Queue[asyncio.StreamWriter]()
        finished = asyncio.Queue[None]()

        async def origin(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            try:
                await reader.readuntil(b"\r\n\r\n")
                await requests.put(writer)  # answered (or not) by the test
                await reader.read()  # until the edge closes the connection
            finally:
                writer.close()
                finished.put_nowait(None)

        server = await asyncio.start_server(origin, "127.0.0.1", 0)
        store = EdgeStore(tmp_path, CAPACITY, CAPACITY)
        store.load()
        proxy = EdgeProxy(HttpOrigin(f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"), store)

        leader = asyncio.ensure_future(get(proxy, "/slow"))
        await requests.get()  # the leader's fetch reached the origin, which stays silent
        waiter = asyncio.ensure_future(get(proxy, "/slow"))
        for _ in range(100):  # let the waiter run until it has joined the flight
            if proxy.flights.joined:
                break
            await asyncio.sleep(0)
        assert proxy.flights.joined == 1
        leader.cancel()
        answered = await waiter
        assert answered[0]["status"] == 502
        assert leader.cancelled()

        again = asyncio.ensure_future(get(proxy, "/slow"))
        (await requests.get()).write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\ncache-control: max-age=60\r\n\r\nok")
        answer = await again
        assert answer[0]["status"] == 200
        assert b"".join(m.get("body", b"") for m in answer[1:]) == b"ok"
        assert proxy.flights.led == 2

        await proxy.origin.close()
        for _ in range(2):  # both origin connections (the cancelled fetch's, the pooled one) closed
            await finished.get()
        store.close()
        server.close()
        await server.wait_closed()

    asyncio.run(asyncio.wait_for(test(), 30))
