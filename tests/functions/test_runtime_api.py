"""The Runtime API listener of one environment, spoken to over real sockets: what a runtime
may fetch and answer, and that a hostile runtime cannot break it."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
import sys
import time
from collections.abc import Awaitable, Callable
from typing import ClassVar

import pytest

from strato.functions.records import ResponseStream
from strato.functions.runtime_api import MAX_RESULT, Delivery, RuntimeApiListener, RuntimeChannel
from strato.functions.runtime_api.connection import MAX_CONNECTIONS, MAX_HEAD, MAX_REFUSALS

BASE = "/2018-06-01/runtime"
ENVIRONMENT_UID = 1_999_999_999  # no account's


class Recorder:
    """The environment's side, reduced to a record of what the runtime said."""

    def __init__(self) -> None:
        self.events: list[tuple[str, ...]] = []
        self.payloads: list[bytes] = []
        self.changed = asyncio.Event()

    async def wait(self, count: int) -> None:
        """Until `count` events have been recorded."""
        while len(self.events) < count:
            self.changed.clear()
            await self.changed.wait()

    def runtime_ready(self) -> None:
        self.events.append(("ready",))
        self.changed.set()

    def invocation_started(self, request_id: str) -> None:
        self.events.append(("started", request_id))
        self.changed.set()

    def runtime_waiting(self) -> None:
        return None

    def invocation_done(self, request_id: str, payload: bytes, error_type: str | None) -> None:
        self.events.append(("done", request_id, str(error_type)))
        self.changed.set()
        self.payloads.append(payload)

    def init_failed(self, payload: bytes, error_type: str | None) -> None:
        self.events.append(("init_failed", str(error_type)))
        self.changed.set()
        self.payloads.append(payload)


Response = tuple[int, dict[str, str], bytes]


class Client:
    """A keep-alive HTTP/1.1 client that reads one response at a time."""

    opened: ClassVar[list[Client]] = []  # closed when the test ends

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        Client.opened.append(self)

    @classmethod
    async def connect(cls, listener: RuntimeApiListener) -> Client:
        host, port = listener.address.split(":")
        return cls(*await asyncio.open_connection(host, int(port)))

    async def request(self, method: str, path: str, body: bytes = b"", headers: str = "") -> Response:
        head = f"{method} {path} HTTP/1.1\r\nHost: x\r\n{headers}Content-Length: {len(body)}\r\n\r\n"
        self.writer.write(head.encode() + body)
        return await self.response()

    async def response(self) -> Response:
        head = await asyncio.wait_for(self.reader.readuntil(b"\r\n\r\n"), 5)
        lines = head.decode().split("\r\n")
        status = int(lines[0].split()[1])
        fields = dict(line.split(": ", 1) for line in lines[1:] if line)
        body = await self.reader.readexactly(int(fields["Content-Length"]))
        return status, fields, body

    async def closed(self) -> bool:
        return await asyncio.wait_for(self.reader.read(), 5) == b""

    def close(self) -> None:
        if not self.writer.is_closing():
            self.writer.close()


def with_listener(test: Callable[[RuntimeChannel, RuntimeApiListener, Recorder], Awaitable[None]]) -> None:
    async def main() -> None:
        recorder = Recorder()
        channel = RuntimeChannel(recorder)
        listener = await RuntimeApiListener.open(channel, restricted=False)
        try:
            await test(channel, listener, recorder)
        finally:
            listener.close()
            for client in Client.opened:
                client.close()
                with contextlib.suppress(ConnectionError):
                    await client.writer.wait_closed()
            Client.opened.clear()
    asyncio.run(main())


def delivery(request_id: str = "req-1", payload: bytes = b'{"k": 1}', client_context: str | None = None,
             cognito_identity: str | None = None, stream: ResponseStream | None = None) -> Delivery:
    return Delivery(request_id, payload, "arn:aws:lambda:us-east-1:000000000000:function:f:live", 3000,
                    client_context, cognito_identity, stream)


class TestNext:
    def test_next_waits_for_an_invocation_and_carries_every_header(self) -> None:
        async def test(channel: RuntimeChannel, listener: RuntimeApiListener, recorder: Recorder) -> None:
            client = await Client.connect(listener)
            pending = asyncio.ensure_future(client.request("GET", f"{BASE}/invocation/next"))
            await recorder.wait(1)
            assert not pending.done()
            before = int(time.time() * 1000)
            channel.submit(delivery(client_context='{"custom":\n{"a": 1}}',
                                    cognito_identity='{"cognitoIdentityId": "x"}'))
            status, fields, body = await pending
            assert status == 200
            assert body == b'{"k": 1}'
            assert fields["Lambda-Runtime-Aws-Request-Id"] == "req-1"
            assert before + 3000 <= int(fields["Lambda-Runtime-Deadline-Ms"]) <= int(time.time() * 1000) + 3000
            assert fields["Lambda-Runtime-Invoked-Function-Arn"].endswith(":function:f:live")
            assert fields["Lambda-Runtime-Trace-Id"].startswith("Root=1-")
            assert json.loads(fields["Lambda-Runtime-Client-Context"]) == {"custom": {"a": 1}}
            assert fields["Lambda-Runtime-Cognito-Identity"] == '{"cognitoIdentityId": "x"}'
            assert recorder.events == [("ready",), ("started", "req-1")]
            client.close()
        with_listener(test)

    def test_an_invocation_submitted_first_is_handed_out_at_once(self) -> None:
        async def test(channel: RuntimeChannel, listener: RuntimeApiListener, recorder: Recorder) -> None:
            channel.submit(delivery(payload=b"x" * 200_000))
            client = await Client.connect(listener)
            status, fields, body = await client.request("GET", f"{BASE}/invocation/next")
            assert (status, len(body)) == (200, 200_000)
            assert "Lambda-Runtime-Client-Context" not in fields
            client.close()
        with_listener(test)


class TestAnswers:
    def test_a_result_is_accepted_once_then_refused_as_a_state_transition(self) -> None:
        async def test(channel: RuntimeChannel, listener: RuntimeApiListener, recorder: Recorder) -> None:
            channel.submit(delivery())
            client = await Client.connect(listener)
            await client.request("GET", f"{BASE}/invocation/next")
            assert (await client.request("POST", f"{BASE}/invocation/req-1/response", b'"ok"'))[0] == 202
            status, _, body = await client.request("POST", f"{BASE}/invocation/req-1/response", b'"again"')
            assert status == 403
            assert json.loads(body)["errorType"] == "InvalidStateTransition"
            assert recorder.payloads == [b'"ok"']
            assert recorder.events[-1] == ("done", "req-1", "None")
            client.close()
        with_listener(test)

    def test_a_result_pipelined_with_the_next_get_is_accepted_before_the_next_invocation_arrives(self) -> None:
        async def test(channel: RuntimeChannel, listener: RuntimeApiListener, recorder: Recorder) -> None:
            channel.submit(delivery())
            client = await Client.connect(listener)
            await client.request("GET", f"{BASE}/invocation/next")
            channel.submit(delivery("req-2"))
            client.writer.write(f"POST {BASE}/invocation/req-1/response HTTP/1.1\r\nHost: x\r\n"
                                f"Content-Length: 4\r\n\r\n\"ok\"GET {BASE}/invocation/next HTTP/1.1\r\n"
                                "Host: x\r\n\r\n".encode())
            assert (await client.response())[0] == 202
            status, fields, _ = await client.response()
            assert (status, fields["Lambda-Runtime-Aws-Request-Id"]) == (200, "req-2")
            assert recorder.events[-2:] == [("done", "req-1", "None"), ("started", "req-2")]
            client.close()
        with_listener(test)

    def test_an_unknown_request_id_is_invalid(self) -> None:
        async def test(channel: RuntimeChannel, listener: RuntimeApiListener, recorder: Recorder) -> None:
            channel.submit(delivery())
            client = await Client.connect(listener)
            await client.request("GET", f"{BASE}/invocation/next")
            for request_id in ("someone-else", "", "req-1/response"):
                status, _, body = await client.request("POST", f"{BASE}/invocation/{request_id}/response", b"{}")
                assert (status, json.loads(body)["errorType"]) == (400, "InvalidRequestID")
            assert recorder.payloads == []
            client.close()
        with_listener(test)

    def test_an_error_post_carries_its_type_from_the_header_when_there_is_one(self) -> None:
        async def test(channel: RuntimeChannel, listener: RuntimeApiListener, recorder: Recorder) -> None:
            for request_id, header in (("a", ""), ("b", "Lambda-Runtime-Function-Error-Type: Custom.Failure\r\n")):
                channel.submit(delivery(request_id))
                client = await Client.connect(listener)
                await client.request("GET", f"{BASE}/invocation/next")
                body = b'{"errorType": "ValueError", "errorMessage": "boom"}'
                assert (await client.request("POST", f"{BASE}/invocation/{request_id}/error", body, header))[0] == 202
                client.close()
            assert [event[2] for event in recorder.events if event[0] == "done"] == ["", "Custom.Failure"]
        with_listener(test)

    def test_a_result_of_exactly_the_limit_is_accepted(self) -> None:
        async def test(channel: RuntimeChannel, listener: RuntimeApiListener, recorder: Recorder) -> None:
            channel.submit(delivery())
            client = await Client.connect(listener)
            await client.request("GET", f"{BASE}/invocation/next")
            result = b"r" * MAX_RESULT
            assert (await client.request("POST", f"{BASE}/invocation/req-1/response", result))[0] == 202
            assert recorder.payloads == [result]
            client.close()
        with_listener(test)

    def test_a_larger_result_is_413_and_ends_the_invocation_with_lambdas_error(self) -> None:
        async def test(channel: RuntimeChannel, listener: RuntimeApiListener, recorder: Recorder) -> None:
            channel.submit(delivery())
            client = await Client.connect(listener)
            await client.request("GET", f"{BASE}/invocation/next")
            status, _, body = await client.request("POST", f"{BASE}/invocation/req-1/response", b"r" * (MAX_RESULT + 1))
            assert (status, json.loads(body)["errorType"]) == (413, "RequestEntityTooLarge")
            assert recorder.events[-1] == ("done", "req-1", "Function.ResponseSizeTooLarge")
            assert json.loads(recorder.payloads[0]) == {
                "errorMessage": f"Response payload size ({MAX_RESULT + 1} bytes) exceeded maximum allowed "
                                f"payload size ({MAX_RESULT} bytes).",
                "errorType": "Function.ResponseSizeTooLarge"}
            channel.submit(delivery("req-2"))  # the connection is still in step
            assert (await client.request("GET", f"{BASE}/invocation/next"))[0] == 200
            client.close()
        with_listener(test)


    def test_a_client_expecting_100_continue_is_told_to_send_its_body(self) -> None:
        async def test(channel: RuntimeChannel, listener: RuntimeApiListener, recorder: Recorder) -> None:
            channel.submit(delivery())
            client = await Client.connect(listener)
            await client.request("GET", f"{BASE}/invocation/next")
            client.writer.write(f"POST {BASE}/invocation/req-1/response HTTP/1.1\r\nHost: x\r\n"
                                "Expect: 100-continue\r\nContent-Length: 4\r\n\r\n".encode())
            assert await client.reader.readuntil(b"\r\n\r\n") == b"HTTP/1.1 100 Continue\r\n\r\n"
            client.writer.write(b'"ok"')
            assert (await client.response())[0] == 202
            assert recorder.payloads == [b'"ok"']
        with_listener(test)


class TestInit:
    def test_an_init_error_is_accepted_before_the_first_next(self) -> None:
        async def test(channel: RuntimeChannel, listener: RuntimeApiListener, recorder: Recorder) -> None:
            client = await Client.connect(listener)
            body = b'{"errorType": "Runtime.ImportModuleError", "errorMessage": "no"}'
            header = "Lambda-Runtime-Function-Error-Type: Runtime.ImportModuleError\r\n"
            assert (await client.request("POST", f"{BASE}/init/error", body, header))[0] == 202
            assert recorder.events == [("init_failed", "Runtime.ImportModuleError")]
            assert recorder.payloads == [body]
            client.close()
        with_listener(test)

    def test_an_init_error_after_init_is_refused(self) -> None:
        async def test(channel: RuntimeChannel, listener: RuntimeApiListener, recorder: Recorder) -> None:
            channel.submit(delivery())
            client = await Client.connect(listener)
            await client.request("GET", f"{BASE}/invocation/next")
            status, _, body = await client.request("POST", f"{BASE}/init/error", b"{}")
            assert (status, json.loads(body)["errorType"]) == (403, "InvalidStateTransition")
            client.close()
        with_listener(test)


class TestHostileRuntime:
    def test_garbage_is_refused_and_the_listener_keeps_serving(self) -> None:
        async def test(channel: RuntimeChannel, listener: RuntimeApiListener, recorder: Recorder) -> None:
            garbage = await Client.connect(listener)
            garbage.writer.write(b"\x00\xffNOT HTTP AT ALL\r\n\r\n")
            status, _, _ = await garbage.response()
            assert status == 400
            assert await garbage.closed()
            client = await Client.connect(listener)
            assert (await client.request("GET", "/2018-06-01/runtime/elsewhere"))[0] == 404
            assert (await client.request("DELETE", f"{BASE}/invocation/next"))[0] == 405
            channel.submit(delivery())
            assert (await client.request("GET", f"{BASE}/invocation/next"))[0] == 200
            client.close()
        with_listener(test)

    def test_an_endless_head_is_cut_off(self) -> None:
        async def test(channel: RuntimeChannel, listener: RuntimeApiListener, recorder: Recorder) -> None:
            client = await Client.connect(listener)
            client.writer.write(b"GET " + BASE.encode() + b"/invocation/next HTTP/1.1\r\nX: ")
            filler = b"a" * 65536
            for _ in range(MAX_HEAD // len(filler) + 2):
                client.writer.write(filler)
            assert (await client.response())[0] == 431
        with_listener(test)

    def test_a_second_waiter_is_refused_while_one_is_parked(self) -> None:
        async def test(channel: RuntimeChannel, listener: RuntimeApiListener, recorder: Recorder) -> None:
            first, second = await Client.connect(listener), await Client.connect(listener)
            parked = asyncio.ensure_future(first.request("GET", f"{BASE}/invocation/next"))
            await recorder.wait(1)
            assert (await second.request("GET", f"{BASE}/invocation/next"))[0] == 403
            channel.submit(delivery())
            assert (await parked)[0] == 200
            first.close()
            second.close()
        with_listener(test)

    def test_a_request_pipelined_behind_a_parked_next_closes_the_connection(self) -> None:
        async def test(channel: RuntimeChannel, listener: RuntimeApiListener, recorder: Recorder) -> None:
            client = await Client.connect(listener)
            request = f"GET {BASE}/invocation/next HTTP/1.1\r\nHost: x\r\n\r\n".encode()
            client.writer.write(request * 2)
            assert await client.closed()
            other = await Client.connect(listener)
            channel.submit(delivery())
            assert (await other.request("GET", f"{BASE}/invocation/next"))[0] == 200
            other.close()
        with_listener(test)

    def test_a_connection_spinning_on_bad_requests_is_closed(self) -> None:
        async def test(channel: RuntimeChannel, listener: RuntimeApiListener, recorder: Recorder) -> None:
            client = await Client.connect(listener)
            for _ in range(MAX_REFUSALS):
                assert (await client.request("POST", f"{BASE}/invocation/nobody/response", b"{}"))[0] == 400
            assert await client.closed()
        with_listener(test)

    def test_connections_beyond_the_limit_are_dropped(self) -> None:
        async def test(channel: RuntimeChannel, listener: RuntimeApiListener, recorder: Recorder) -> None:
            clients = [await Client.connect(listener) for _ in range(MAX_CONNECTIONS)]
            extra = await Client.connect(listener)
            assert await extra.closed()
            for client in clients:
                client.close()
        with_listener(test)

    def test_a_runtime_that_leaves_its_next_does_not_swallow_the_invocation(self) -> None:
        async def test(channel: RuntimeChannel, listener: RuntimeApiListener, recorder: Recorder) -> None:
            leaving = await Client.connect(listener)
            leaving.writer.write(f"GET {BASE}/invocation/next HTTP/1.1\r\nHost: x\r\n\r\n".encode())
            await recorder.wait(1)
            leaving.close()
            for _ in range(500):  # until the listener has seen the connection go
                if not listener.connections:
                    break
                await asyncio.sleep(0.01)
            channel.submit(delivery())
            client = await Client.connect(listener)
            assert (await client.request("GET", f"{BASE}/invocation/next"))[0] == 200
            client.close()
        with_listener(test)


class TestOwnership:
    """Every environment's port is on the host's loopback: only its own processes may use it."""

    def test_only_the_owners_process_tree_is_admitted(self) -> None:
        async def main() -> None:
            recorder = Recorder()
            channel = RuntimeChannel(recorder)
            listener = await RuntimeApiListener.open(channel)
            host, port = listener.address.split(":")
            fetch = ("import http.client, sys; c = http.client.HTTPConnection(sys.argv[1], int(sys.argv[2])); "
                     f"c.request('GET', '{BASE}/invocation/next'); r = c.getresponse(); print(r.status, r.read())")
            runtime = await asyncio.create_subprocess_exec(
                sys.executable, "-c", "import subprocess, sys; subprocess.run([sys.executable, *sys.argv[1:]])",
                "-c", fetch, host, port, stdout=asyncio.subprocess.PIPE)
            listener.owner = runtime.pid
            stranger = await Client.connect(listener)
            assert await stranger.closed()
            channel.submit(delivery(payload=b'"for the owner"'))
            output, _ = await runtime.communicate()
            assert output == b"200 b'\"for the owner\"'\n"  # fetched by the owner's grandchild
            stranger.close()
            listener.close()
            Client.opened.clear()
        asyncio.run(main())

    @pytest.mark.skipif(os.geteuid() != 0, reason="a socket of another uid needs root")
    def test_an_environment_with_a_uid_of_its_own_is_told_by_that_uid_alone(self) -> None:
        """Its processes' descriptors are not walked: a tenant that fills its tree with them
        would make every stranger's connection stall the controller for seconds."""
        async def main() -> None:
            recorder = Recorder()
            channel = RuntimeChannel(recorder)
            listener = await RuntimeApiListener.open(channel)
            host, port = listener.address.split(":")
            listener.owner = os.getpid()  # a tree that holds the stranger's socket: the uid still decides
            listener.owner_uid = ENVIRONMENT_UID
            stranger = await Client.connect(listener)
            assert await stranger.closed()
            os.seteuid(ENVIRONMENT_UID)  # a socket belongs to the uid that made it
            try:
                own = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            finally:
                os.seteuid(0)
            own.connect((host, int(port)))
            reader, writer = await asyncio.open_connection(sock=own)
            writer.write(f"GET {BASE}/invocation/next HTTP/1.1\r\nHost: x\r\n\r\n".encode())
            channel.submit(delivery())
            assert await reader.readline() == b"HTTP/1.1 200 OK\r\n"
            writer.close()
            stranger.close()
            listener.close()
            Client.opened.clear()
        asyncio.run(main())
