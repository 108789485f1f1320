"""Warm environments lent to the API workers: what a caller sees is what the controller's path gives.

After an API worker's invocation, the functions controller lends it the idle environment (the
runtime's Runtime API connection, one end of a Unix socket pair), and that worker invokes it
directly from then on. Lending shows from outside as a process fact: the API worker holds the
socket whose peer the function's runtime holds, which otherwise only the controller does (found
with `ss`, which reads each Unix socket's peer from the kernel). Every test here first warms a
function until that is so, then checks what a caller sees against Lambda's behaviour.
"""

from __future__ import annotations

import base64
import contextlib
import datetime
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import textwrap
import threading
from collections.abc import Callable, Iterator
from typing import Any

import psutil
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from tests.conftest import make_client
from tests.e2e.lambda_helpers import NODE, SETTLING, call, deploy, function_log, needs_node, until
from tests.servers import ACCESS_KEY, REGION, SECRET_KEY, StratoServer

WARMING = 10  # invokes a worker needs at most before it holds a lent environment (it needs three)

# Every function here answers {"where": true} with its uid (one per environment), counts its
# calls, and otherwise runs `work(event)`.
PRELUDE = """
import os
calls = 0

def handler(event, context):
    global calls
    if event.get("where"):
        return os.getuid()
    calls += 1
    return work(event, context)
"""


def lending(lam: Any, work: str, **config: Any) -> str:
    """Deploy a function whose handler runs `work(event, context)` (source of that function)."""
    return deploy(lam, PRELUDE + textwrap.dedent(work), **config)


def lambda_client(server: StratoServer) -> Any:
    return make_client(server.url, "lambda", retries={"total_max_attempts": 1, "mode": "standard"}, read_timeout=60)


@pytest.fixture(scope="module")
def lam(server: StratoServer) -> Any:
    return lambda_client(server)


def socket_inodes(pid: int) -> set[int]:
    """The inodes of the sockets process `pid` holds."""
    inodes = set()
    with contextlib.suppress(OSError):
        for fd in os.listdir(f"/proc/{pid}/fd"):
            with contextlib.suppress(OSError):
                target = os.readlink(f"/proc/{pid}/fd/{fd}")
                if target.startswith("socket:["):
                    inodes.add(int(target[len("socket:["):-1]))
    return inodes


def unix_peers() -> dict[int, int]:
    """Each connected Unix socket's inode -> its peer's inode, as the kernel reports them."""
    if shutil.which("ss") is None:
        pytest.skip("showing which process holds a runtime's connection needs `ss` (iproute2)")
    listed = subprocess.run(["ss", "-x", "-n", "-H"], capture_output=True, text=True, check=True).stdout
    peers = {}
    for line in listed.splitlines():
        fields = line.split()
        if len(fields) >= 8 and fields[-3].isdigit() and fields[-1].isdigit():
            peers[int(fields[-3])] = int(fields[-1])
    return peers


def api_workers(server: StratoServer) -> list[psutil.Process]:
    return [process for process in psutil.Process(server.pid).children() if process.name().startswith("strato:worker")]


def runtime_connection(server: StratoServer, uid: int) -> set[int]:
    """The inodes of the Runtime API connection's serving end, for the environment running as `uid`."""
    runtime: set[int] = set()
    for process in psutil.Process(server.pid).children(recursive=True):
        with contextlib.suppress(psutil.NoSuchProcess):
            if process.uids().real == uid:
                runtime |= socket_inodes(process.pid)
    peers = unix_peers()
    return {peers[inode] for inode in runtime if inode in peers}


def holders(server: StratoServer, connection: set[int]) -> list[str]:
    """The API workers holding that connection (lent to them)."""
    return [worker.name() for worker in api_workers(server) if socket_inodes(worker.pid) & connection]


def warm(lam: Any, server: StratoServer, name: str) -> set[int]:
    """Invoke until the worker this client talks to holds the function's environment; its connection."""
    for _ in range(WARMING):
        _, uid = call(lam, name, {"where": True})
        connection = runtime_connection(server, uid)
        if holders(server, connection):
            return connection
    raise AssertionError(f"no API worker was lent {name}'s environment after {WARMING} invokes")


class Gate:
    """A TCP barrier for a handler: it connects, says it is in, and waits until the test opens."""

    def __init__(self) -> None:
        self._listening = socket.create_server(("127.0.0.1", 0))
        self._listening.settimeout(SETTLING)
        self.port = self._listening.getsockname()[1]
        self._inside: socket.socket | None = None

    def entered(self) -> None:
        self._inside, _ = self._listening.accept()
        self._inside.settimeout(SETTLING)
        assert self._inside.recv(2) == b"in"

    def open(self) -> None:
        if self._inside is not None:
            self._inside.sendall(b"!")
            self._inside.close()
            self._inside = None

    def close(self) -> None:
        self.open()
        self._listening.close()


@pytest.fixture
def gate() -> Iterator[Gate]:
    opened = Gate()
    yield opened
    opened.close()


COUNTER = """
def work(event, context):
    print("call", calls, event.get("n"))
    return calls
"""


def test_a_warm_environment_is_lent_to_the_worker_and_reused_there(lam: Any, server: StratoServer) -> None:
    name = lending(lam, COUNTER)
    lent = warm(lam, server, name)
    _, before = call(lam, name)
    results = [call(lam, name)[1] for _ in range(5)]
    assert results == [before + n for n in range(1, 6)]
    assert len(holders(server, lent)) == 1


def test_two_hundred_warm_invokes_all_succeed_on_one_environment(lam: Any, server: StratoServer) -> None:
    name = lending(lam, """
        def work(event, context):
            return {"calls": calls, "echo": event}
    """)
    lent = warm(lam, server, name)
    _, first = call(lam, name, {"n": 0})
    for n in range(1, 200):
        answer, result = call(lam, name, {"n": n})
        assert answer["StatusCode"] == 200
        assert "FunctionError" not in answer, result
        assert result == {"calls": first["calls"] + n, "echo": {"n": n}}
    assert holders(server, lent), "the environment is still lent"


def test_a_warm_invoke_that_times_out_says_so_and_the_next_runs_on_a_new_environment(
        lam: Any, server: StratoServer) -> None:
    name = lending(lam, """
        import time
        def work(event, context):
            if event.get("sleep"):
                time.sleep(30)
            return calls
    """, Timeout=1)
    lent = warm(lam, server, name)
    answer, error = call(lam, name, {"sleep": True})
    assert answer["FunctionError"] == "Unhandled"
    assert error["errorType"] == "Sandbox.Timedout"
    assert error["errorMessage"].endswith("Task timed out after 1.00 seconds")
    _, calls = call(lam, name)
    assert calls == 1, "a fresh environment"
    until(lambda: not holders(server, lent), "the timed-out environment's connection was dropped")


def test_a_handler_that_ends_its_warm_process_is_a_runtime_exit_error(lam: Any, server: StratoServer) -> None:
    name = lending(lam, """
        def work(event, context):
            if event.get("exit"):
                os._exit(3)
            return calls
    """)
    warm(lam, server, name)
    answer, error = call(lam, name, {"exit": True})
    assert answer["StatusCode"] == 200
    assert answer["FunctionError"] == "Unhandled"
    assert error["errorType"] == "Runtime.ExitError"
    assert "exit status 3" in error["errorMessage"]
    _, calls = call(lam, name)
    assert calls == 1, "a fresh environment"


def test_a_warm_handler_error_is_an_unhandled_function_error(lam: Any, server: StratoServer) -> None:
    name = lending(lam, """
        def work(event, context):
            raise ValueError("bad input: " + str(event.get("what")))
    """)
    warm(lam, server, name)
    answer, error = call(lam, name, {"what": "nothing"})
    assert answer["FunctionError"] == "Unhandled"
    assert (error["errorType"], error["errorMessage"]) == ("ValueError", "bad input: nothing")
    assert call(lam, name, {"where": True})[0].get("FunctionError") is None


PRINTER = """
import sys
def work(event, context):
    sys.stdout.write(f"line {event['n']}\\n")  # one write: a line never straddles two reads
    return calls
"""


def log_entries(log: str) -> list[str]:
    """The log's lines reduced to what their order is about: `START id`, `END id`, `REPORT id`, `line n`."""
    entries = []
    for line in log.splitlines():
        word, _, rest = line.partition(" RequestId: ")
        if word in ("START", "END", "REPORT"):
            entries.append(f"{word} {rest.split()[0]}")
        elif line.startswith("line "):
            entries.append(line)
    return entries


def burst(lam: Any, server: StratoServer, name: str, count: int,
          readable: Callable[[str], str] = str) -> tuple[list[str], list[str], str]:
    """`count` warm invokes of {"n": 0, 1, ...} in turn: their request ids, and once the last one's
    REPORT is in, the log's entries (of `readable(log)`) from the first one's START, and the log."""
    request_ids = [call(lam, name, {"n": n})[0]["ResponseMetadata"]["RequestId"] for n in range(count)]
    until(lambda: f"REPORT RequestId: {request_ids[-1]}\t" in function_log(server, name), "the last REPORT")
    log = function_log(server, name)
    entries = log_entries(readable(log))
    return request_ids, entries[entries.index(f"START {request_ids[0]}"):], log


def blocks(request_ids: list[str], printed: Callable[[int], list[str]]) -> list[str]:
    """The entries those invocations log in turn, invocation n having printed `printed(n)`."""
    return [entry for n, request_id in enumerate(request_ids)
            for entry in (f"START {request_id}", *printed(n), f"END {request_id}", f"REPORT {request_id}")]


def test_log_tail_of_a_warm_invoke_has_start_output_end_and_report_in_order(lam: Any, server: StratoServer) -> None:
    name = lending(lam, PRINTER)
    warm(lam, server, name)
    for n in range(3):
        answer, _ = call(lam, name, {"n": n}, LogType="Tail")
        log = base64.b64decode(answer["LogResult"]).decode()
        request_id = answer["ResponseMetadata"]["RequestId"]
        assert log_entries(log) == [f"START {request_id}", f"line {n}", f"END {request_id}", f"REPORT {request_id}"]
        assert "\tMemory Size: 128 MB\tMax Memory Used: " in log
        assert "Init Duration" not in log


def test_a_burst_of_warm_invocations_logs_each_ones_output_in_its_own_block(lam: Any, server: StratoServer) -> None:
    """The controller reads a lent environment's reports late (on a tick) and its output when it
    can; the runtime's end marks still put every line between its own START and END."""
    name = lending(lam, PRINTER)
    warm(lam, server, name)
    request_ids, entries, log = burst(lam, server, name, 60)
    assert entries == blocks(request_ids, lambda n: [f"line {n}"])
    assert "strato-end" not in log  # the marks themselves never reach the log


SOMETIMES_PRINTER = """
import sys
def work(event, context):
    if event["n"] % 2:
        sys.stdout.write(f"line {event['n']}\\n")
    return calls
"""


def test_a_burst_where_only_some_invocations_print_logs_each_line_in_its_own_block(
        lam: Any, server: StratoServer) -> None:
    """An invocation that printed nothing writes no end mark: the next one's output, read with
    the reports of both, still goes after the next one's START, not before the silent one's END."""
    name = lending(lam, SOMETIMES_PRINTER)
    warm(lam, server, name)
    request_ids, entries, _ = burst(lam, server, name, 60)
    assert entries == blocks(request_ids, lambda n: [f"line {n}"] if n % 2 else [])


def test_each_warm_invocations_output_is_logged_between_its_start_and_end(lam: Any, server: StratoServer) -> None:
    name = lending(lam, PRINTER)
    warm(lam, server, name)
    request_ids = []
    for n in range(20):
        request_ids.append(call(lam, name, {"n": n})[0]["ResponseMetadata"]["RequestId"])
        until(lambda: f"REPORT RequestId: {request_ids[-1]}\t" in function_log(server, name), "its REPORT")
    entries = log_entries(function_log(server, name))
    first = entries.index(f"START {request_ids[0]}")
    assert entries[first:] == [entry for n, request_id in enumerate(request_ids) for entry in (
        f"START {request_id}", f"line {n}", f"END {request_id}", f"REPORT {request_id}")]


def test_a_configuration_change_reaches_the_next_warm_invoke(lam: Any, server: StratoServer) -> None:
    name = lending(lam, """
        def work(event, context):
            return {"calls": calls, "mode": os.environ.get("MODE")}
    """, Environment={"Variables": {"MODE": "old"}})
    lent = warm(lam, server, name)
    assert call(lam, name)[1]["mode"] == "old"
    lam.update_function_configuration(FunctionName=name, Environment={"Variables": {"MODE": "new"}})
    lam.get_waiter("function_updated_v2").wait(FunctionName=name, WaiterConfig={"Delay": 0.1})
    assert call(lam, name)[1] == {"calls": 1, "mode": "new"}
    until(lambda: not holders(server, lent), "the old environment was recalled from its worker")


def clients_on_two_workers(server: StratoServer) -> tuple[Any, Any]:
    """Two Lambda clients whose keep-alive connections two different API workers serve."""
    def connections() -> set[int]:
        return {connection.laddr.port for connection in psutil.Process().net_connections("tcp")
                if connection.raddr and connection.raddr.port == server.port}

    by_worker: dict[str, Any] = {}
    for _ in range(20):
        before = connections()
        client = lambda_client(server)
        client.list_functions(MaxItems=1)
        (port,) = connections() - before
        for worker in api_workers(server):
            if any(connection.raddr and connection.raddr.port == port for connection in worker.net_connections("tcp")):
                by_worker.setdefault(worker.name(), client)
        if len(by_worker) == 2:
            first, second = by_worker.values()
            return first, second
    pytest.skip("the server's connections all went to one API worker")


def test_an_environment_lent_to_one_worker_serves_the_next_invoke_on_another(server: StratoServer) -> None:
    """Lambda reuses an idle environment: one lent to another API worker is recalled for the
    invoke, not left idle beside a cold start."""
    first, second = clients_on_two_workers(server)
    name = lending(first, COUNTER)
    warm(first, server, name)
    calls = [call(client, name)[1] for client in (first, second, first, second, first)]
    assert calls == list(range(calls[0], calls[0] + 5))


def test_invokes_back_to_back_reuse_one_environment(lam: Any) -> None:
    """The second invoke can come before the lend of the first one's environment reached this
    worker: it still runs there, warm."""
    for _ in range(5):
        name = lending(lam, COUNTER)
        assert [call(lam, name)[1] for _ in range(3)] == [1, 2, 3]


def test_a_function_throttled_to_zero_is_refused_though_an_environment_is_lent(lam: Any, server: StratoServer) -> None:
    name = lending(lam, COUNTER)
    lent = warm(lam, server, name)
    assert holders(server, lent), "the environment is lent"
    lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=0)
    with pytest.raises(lam.exceptions.TooManyRequestsException) as raised:
        call(lam, name)
    assert raised.value.response["Reason"] == "ReservedFunctionConcurrentInvocationLimitExceeded"
    lam.delete_function_concurrency(FunctionName=name)
    assert call(lam, name)[0]["StatusCode"] == 200


def test_a_concurrency_change_asks_lent_environments_back(lam: Any, server: StratoServer) -> None:
    """A lent environment holds its slot: a new limit must be applied to it by the controller,
    which lends it again under that limit."""
    name = lending(lam, COUNTER)
    lent = warm(lam, server, name)
    _, before = call(lam, name)
    lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=1)
    until(lambda: not holders(server, lent), "the worker gave the environment back")
    assert call(lam, name)[1] == before + 1, "the same environment, warm, serves the next invoke"


def gated(answer: str) -> str:
    """The source of a `work` that, when the event names a gate's port, waits there, and then
    returns `answer` (an expression)."""
    return f"""
        import socket
        def work(event, context):
            if "gate" in event:
                with socket.create_connection(("127.0.0.1", event["gate"])) as inside:
                    inside.sendall(b"in")
                    inside.recv(1)
            return {answer}
    """


def recall_while_busy(lam: Any, server: StratoServer, gate: Gate, name: str) -> tuple[Any, Any]:
    """Warm `name` (its handler waits at the gate when the event names one), recall its lent
    environment (a concurrency change) while an invocation runs there: that one's result, then
    the next invocation's answer and result once the worker gave the environment back."""
    lent = warm(lam, server, name)
    results: list[Any] = []
    busy = threading.Thread(target=lambda: results.append(call(lam, name, {"gate": gate.port})[1]))
    busy.start()
    try:
        gate.entered()
        make_client(server.url, "lambda").put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=5)
    finally:
        gate.open()
        busy.join()
    until(lambda: not holders(server, lent), "the worker gave the environment back")
    return results[0], call(lam, name)


def test_an_environment_recalled_while_busy_serves_the_next_invoke(lam: Any, server: StratoServer, gate: Gate) -> None:
    """The runtime sends its result and its next GET next together: the worker that gives the
    environment back as the result arrives must tell the controller that the runtime waits."""
    name = lending(lam, gated("calls"), Timeout=30)
    before, (answer, after) = recall_while_busy(lam, server, gate, name)
    assert "FunctionError" not in answer, after
    assert after == before + 1, "the same environment, warm, serves the next invoke"


def test_reserved_concurrency_counts_a_lent_environment_and_frees_it_after(
        server: StratoServer, gate: Gate) -> None:
    """The second client's worker asks the controller, which must judge by what the first
    client's worker has reported: its environment busy (429 at once), then idle (recalled)."""
    first, second = clients_on_two_workers(server)
    name = lending(first, gated('"done"'), Timeout=30)
    first.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=1)
    warm(first, server, name)
    results: list[Any] = []
    for _ in range(3):
        results.clear()
        slow = threading.Thread(target=lambda: results.append(call(first, name, {"gate": gate.port})[1]))
        slow.start()
        try:
            gate.entered()
            with pytest.raises(second.exceptions.TooManyRequestsException) as raised:
                call(second, name)
            assert raised.value.response["Reason"] == "ReservedFunctionConcurrentInvocationLimitExceeded"
        finally:
            gate.open()
            slow.join()
        assert results == ["done"]
        assert call(second, name)[1] == "done"
        assert call(first, name)[1] == "done"


# The warm invoke's own path (api/awslambda/warm.py) takes a signed RequestResponse Invoke of a
# lent function; anything it is not sure of goes to the general path. Each test warms its own
# client (its connection's worker holds the environment), then checks the answers a caller sees.

def tampering(server: StratoServer, change: Any) -> Any:
    """A Lambda client whose Invoke requests `change(request)` alters once signed (the next one only)."""
    client = lambda_client(server)
    pending = [change]

    def before_send(request: Any, **_: Any) -> None:
        if pending:
            pending.pop()(request)

    client.meta.events.register("before-send.lambda.Invoke", before_send)
    pending.clear()
    return client, lambda: pending.append(change)


def test_a_warm_invoke_whose_body_is_not_what_was_signed_is_refused_and_not_run(server: StratoServer) -> None:
    def swap_body(request: Any) -> None:
        request.body = b'{"n": 2}'  # the same length, another SHA-256

    client, arm = tampering(server, swap_body)
    name = lending(client, COUNTER)
    warm(client, server, name)
    _, before = call(client, name, {"n": 1})
    arm()
    with pytest.raises(client.exceptions.ClientError) as refused:
        call(client, name, {"n": 1})
    assert refused.value.response["Error"]["Code"] == "InvalidSignatureException"
    assert call(client, name)[1] == before + 1, "the refused invoke never ran"


class SignedAt(SigV4Auth):  # type: ignore[misc]
    """botocore's SigV4 signer for Lambda, at a time the test chooses."""

    def __init__(self, when: datetime.datetime) -> None:
        super().__init__(Credentials(ACCESS_KEY, SECRET_KEY), "lambda", REGION)
        self.when = when

    def add_auth(self, request: Any) -> None:
        request.context["timestamp"] = self.when.strftime("%Y%m%dT%H%M%SZ")
        self._modify_request_before_signing(request)
        signature = self.signature(self.string_to_sign(request, self.canonical_request(request)), request)
        self._inject_signature_to_request(request, signature)


def test_a_warm_invoke_signed_too_long_ago_is_refused_and_not_run(server: StratoServer) -> None:
    def sign_twenty_minutes_ago(request: Any) -> None:
        again = AWSRequest("POST", request.url, data=request.body)
        SignedAt(datetime.datetime.now(datetime.UTC) - datetime.timedelta(minutes=20)).add_auth(again)
        request.headers["X-Amz-Date"] = again.headers["X-Amz-Date"]
        request.headers["Authorization"] = again.headers["Authorization"]

    client, arm = tampering(server, sign_twenty_minutes_ago)
    name = lending(client, COUNTER)
    warm(client, server, name)
    _, before = call(client, name)
    arm()
    with pytest.raises(client.exceptions.ClientError) as refused:
        call(client, name)
    assert refused.value.response["Error"]["Code"] in ("InvalidSignatureException", "RequestTimeTooSkewed")
    assert call(client, name)[1] == before + 1, "the refused invoke never ran"


def test_a_warm_invoke_of_a_payload_that_is_not_json_is_refused_and_not_run(lam: Any, server: StratoServer) -> None:
    name = lending(lam, COUNTER)
    warm(lam, server, name)
    _, before = call(lam, name)
    with pytest.raises(lam.exceptions.InvalidRequestContentException):
        lam.invoke(FunctionName=name, Payload=b"{not json")
    assert call(lam, name)[1] == before + 1, "the refused invoke never ran"


@pytest.mark.parametrize("kind", ["RequestResponse", "Event"])
def test_a_payload_nested_too_deeply_to_parse_is_refused_as_bad_content(lam: Any, server: StratoServer,
                                                                        kind: str) -> None:
    """As any payload that is not JSON (before: a 500), and the function is not run."""
    name = lending(lam, COUNTER)
    warm(lam, server, name)
    _, before = call(lam, name)
    with pytest.raises(lam.exceptions.InvalidRequestContentException) as refused:
        lam.invoke(FunctionName=name, InvocationType=kind, Payload=b"[" * 100_000 + b"]" * 100_000)
    assert "nests too deeply" in refused.value.response["Error"]["Message"]
    assert call(lam, name)[1] == before + 1, "the refused invoke never ran"


def test_warm_invokes_by_qualifier_with_client_context_and_log_tail_are_answered_as_lambda_does(
        lam: Any, server: StratoServer) -> None:
    name = lending(lam, """
        def work(event, context):
            print("custom", context.client_context.custom if context.client_context else None)
            return {"calls": calls, "arn": context.invoked_function_arn}
    """)
    warm(lam, server, name)
    context = base64.b64encode(json.dumps({"custom": {"who": "test"}}).encode()).decode()
    answer, result = call(lam, name, Qualifier="$LATEST", ClientContext=context, LogType="Tail")
    assert answer["ExecutedVersion"] == "$LATEST"
    assert result["arn"].endswith(f":function:{name}:$LATEST")
    log = base64.b64decode(answer["LogResult"]).decode()
    assert "custom {'who': 'test'}" in log
    assert log_entries(log)[0] == f"START {answer['ResponseMetadata']['RequestId']}"
    _, again = call(lam, name)
    assert again["calls"] == result["calls"] + 1, "both ran on the lent environment"


def test_an_event_invoke_of_a_lent_function_is_queued_and_runs(lam: Any, server: StratoServer) -> None:
    name = lending(lam, COUNTER)
    warm(lam, server, name)
    _, before = call(lam, name)
    assert lam.invoke(FunctionName=name, InvocationType="Event", Payload=b'{"n": "queued"}')["StatusCode"] == 202
    until(lambda: "call" in function_log(server, name) and " queued\n" in function_log(server, name),
          "the queued invoke ran")
    assert call(lam, name)[1] == before + 2


# strato's Node.js runtime client is lent as its Python one is (the same Runtime API connection
# handed over at launch, GET next pipelined behind each answer, end marks in its output).
NODE_PRELUDE = """
let calls = 0;
exports.handler = async (event, context) => {
  if (event.where) return process.getuid();
  calls += 1;
  return work(event, context);
};
"""


def lending_node(lam: Any, work: str, **config: Any) -> str:
    """A nodejs function whose handler runs `work(event, context)` (JavaScript source defining it)."""
    return deploy(lam, "", runtime=str(NODE), handler="index.handler",
                  files={"index.js": NODE_PRELUDE + textwrap.dedent(work)}, **config)


@needs_node
def test_a_warm_nodejs_environment_is_lent_to_the_worker_and_reused_there(lam: Any, server: StratoServer) -> None:
    name = lending_node(lam, "function work(event) { return { calls, echo: event }; }")
    lent = warm(lam, server, name)
    _, before = call(lam, name, {"n": 0})
    results = [call(lam, name, {"n": n})[1] for n in range(1, 6)]
    assert results == [{"calls": before["calls"] + n, "echo": {"n": n}} for n in range(1, 6)]
    assert len(holders(server, lent)) == 1


@needs_node
def test_a_nodejs_environment_recalled_while_busy_serves_the_next_invoke(
        lam: Any, server: StratoServer, gate: Gate) -> None:
    """Node asks for its next invocation apart from its result, once the worker gave the
    environment back: the controller serves that GET next on the connection it had lent."""
    name = lending_node(lam, """
        const net = require("net");
        function work(event) {
          if (!event.gate) return calls;
          return new Promise((resolve) => {
            const inside = net.connect(event.gate, "127.0.0.1", () => inside.write("in"));
            inside.once("data", () => { inside.destroy(); resolve(calls); });
          });
        }
    """, Timeout=30)
    before, (answer, after) = recall_while_busy(lam, server, gate, name)
    assert "FunctionError" not in answer, after
    assert after == before + 1, "the same environment, warm, serves the next invoke"


@needs_node
def test_a_warm_nodejs_invoke_logs_its_console_output_between_start_and_end(lam: Any, server: StratoServer) -> None:
    name = lending_node(lam, "function work(event) { console.log(`said ${event.n}`); return calls; }")
    warm(lam, server, name)
    answer, _ = call(lam, name, {"n": 7}, LogType="Tail")
    request_id = answer["ResponseMetadata"]["RequestId"]
    lines = base64.b64decode(answer["LogResult"]).decode().splitlines()
    assert lines[0] == f"START RequestId: {request_id} Version: $LATEST"
    assert lines[1].endswith(f"\t{request_id}\tINFO\tsaid 7")
    assert lines[2] == f"END RequestId: {request_id}"
    assert lines[3].startswith(f"REPORT RequestId: {request_id}\t")


@needs_node
def test_a_burst_of_warm_nodejs_invocations_where_some_print_logs_each_line_in_its_own_block(
        lam: Any, server: StratoServer) -> None:
    name = lending_node(lam, """
        function work(event) {
          if (event.n % 2) process.stdout.write(`line ${event.n}\\n`);
          return calls;
        }
    """)
    warm(lam, server, name)
    request_ids, entries, log = burst(lam, server, name, 60)
    assert entries == blocks(request_ids, lambda n: [f"line {n}"] if n % 2 else [])
    assert "strato-end" not in log


@needs_node
def test_a_warm_nodejs_handler_error_is_an_unhandled_function_error(lam: Any, server: StratoServer) -> None:
    name = lending_node(lam, """
        function work(event) {
          if (event.fail) throw new TypeError("no good");
          return calls;
        }
    """)
    warm(lam, server, name)
    answer, error = call(lam, name, {"fail": True})
    assert answer["FunctionError"] == "Unhandled"
    assert (error["errorType"], error["errorMessage"]) == ("TypeError", "no good")
    assert call(lam, name, {})[1] >= 1  # the environment goes on serving


@needs_node
def test_a_warm_nodejs_invoke_that_prints_more_than_its_pipe_holds_logs_it_all_in_its_own_block(
        lam: Any, server: StratoServer) -> None:
    """Output beyond the pipe's 64 KiB, through process.stdout and process.stderr: all of it before
    the end mark (none left queued behind it for the next invocation), and the environment serves on."""
    name = lending_node(lam, """
        function work(event) {
          process.stdout.write(`line ${event.n} ${"o".repeat(event.size)}\\n`);
          process.stderr.write(`line ${event.n} ${"e".repeat(event.size)}\\n`);
          return calls;
        }
    """)
    warm(lam, server, name)
    _, uid = call(lam, name, {"where": True})
    sizes = [1, 256 * 1024, 1]
    answers = [call(lam, name, {"n": n, "size": size}) for n, size in enumerate(sizes)]
    assert [answer.get("FunctionError") for answer, _ in answers] == [None, None, None]
    assert call(lam, name, {"where": True})[1] == uid
    request_ids = [answer["ResponseMetadata"]["RequestId"] for answer, _ in answers]
    until(lambda: f"REPORT RequestId: {request_ids[-1]}\t" in function_log(server, name), "the last REPORT")
    entries = log_entries(function_log(server, name))
    blocks = entries[entries.index(f"START {request_ids[0]}"):entries.index(f"REPORT {request_ids[-1]}") + 1]
    lines = [(n, size, letter) for n, size in enumerate(sizes) for letter in "oe"]
    assert [(entry[:8], len(entry)) for entry in blocks] == [
        (entry[:8], len(entry)) for n, request_id in enumerate(request_ids) for entry in (
            f"START {request_id}", *(f"line {n} {letter * size}" for m, size, letter in lines if m == n),
            f"END {request_id}", f"REPORT {request_id}")]


@needs_node
def test_warm_nodejs_invokes_carry_payloads_near_six_megabytes_both_ways(lam: Any, server: StratoServer) -> None:
    """Bodies of many reads each way on the lent connection, back to back with small ones: each
    answer is framed by its Content-Length, whole, and the next begins where it ends."""
    name = lending_node(lam, """
        function work(event) {
          return event.echo === undefined ? "r".repeat(event.size) : { echo: event.echo, calls };
        }
    """)
    warm(lam, server, name)
    near = 6 * 1024 * 1024 - 1024  # Lambda's synchronous limit is 6 MB each way
    echo = "e" * near
    answers = [call(lam, name, {"echo": echo}), call(lam, name, {"size": near}), call(lam, name, {"echo": "small"})]
    assert [answer.get("FunctionError") for answer, _ in answers] == [None, None, None]
    assert answers[0][1]["echo"] == echo
    assert answers[1][1] == "r" * near
    assert answers[2][1] == {"echo": "small", "calls": answers[0][1]["calls"] + 2}


NODE_SOCKETS = """
const childProcess = require("child_process");
const fs = require("fs");
const sockets = (links) => links.filter((link) => link.startsWith("socket:[")).map((link) => Number(link.slice(8, -1)));
const link = (fd) => { try { return fs.readlinkSync(`/proc/self/fd/${fd}`); } catch { return ""; } };
function work(event) {
  const own = fs.readdirSync("/proc/self/fd").map(link);
  const child = childProcess.execSync("for fd in /proc/self/fd/*; do readlink $fd; done; env").toString().split("\\n");
  return {
    own: sockets(own), child: sockets(child),
    variables: [...Object.keys(process.env), ...child.map((line) => line.split("=")[0])]
      .filter((name) => name.startsWith("_STRATO")),
  };
}
"""


@needs_node
def test_a_warm_nodejs_handler_and_its_children_see_nothing_of_the_handed_connection_but_the_socket(
        lam: Any, server: StratoServer) -> None:
    """The connection's descriptor and the end marks' secret reach node through its environment:
    the client takes both out of process.env, and the descriptor is close-on-exec in node, so a
    child the handler starts holds no connection to the Runtime API."""
    name = lending_node(lam, NODE_SOCKETS)
    lent = warm(lam, server, name)
    peers = unix_peers()
    runtime_end = {peers[inode] for inode in lent}
    _, seen = call(lam, name, {})
    assert runtime_end <= set(seen["own"])
    assert not runtime_end & set(seen["child"])
    assert seen["variables"] == []


def test_a_provided_runtimes_bootstrap_is_handed_nothing_and_dials_the_runtime_api(lam: Any) -> None:
    """Only strato's own clients take a connection at launch; a zip's bootstrap gets neither its
    descriptor nor the end marks' secret, and speaks to AWS_LAMBDA_RUNTIME_API over TCP."""
    bootstrap = f"""#!{sys.executable}
import contextlib, json, os, socket, urllib.request
api = "http://" + os.environ["AWS_LAMBDA_RUNTIME_API"] + "/2018-06-01/runtime/invocation/"

def unix_sockets():
    found = []
    for fd in map(int, os.listdir("/proc/self/fd")):
        with contextlib.suppress(OSError):
            if os.readlink(f"/proc/self/fd/{{fd}}").startswith("socket:"):
                with socket.socket(fileno=os.dup(fd)) as held:
                    if held.family == socket.AF_UNIX:
                        found.append(fd)
    return found

while True:
    with urllib.request.urlopen(api + "next") as response:
        request_id = response.headers["Lambda-Runtime-Aws-Request-Id"]
    body = json.dumps({{"variables": [k for k in os.environ if k.startswith("_STRATO")], "unix": unix_sockets()}})
    urllib.request.urlopen(urllib.request.Request(api + request_id + "/response", data=body.encode())).read()
"""
    name = deploy(lam, "", runtime="provided.al2023", handler="my.handler", files={"bootstrap": bootstrap},
                  executable=("bootstrap",))
    assert [call(lam, name)[1] for _ in range(2)] == [{"variables": [], "unix": []}] * 2


@needs_node
def test_every_way_a_warm_nodejs_handler_prints_lands_in_its_own_invocations_block(
        lam: Any, server: StratoServer) -> None:
    """console.log and console.error (lines with the request id), process.stdout.write and
    process.stderr.write, and invocations that print nothing between them: each one's output
    between its START and END, whichever stream it took."""
    name = lending_node(lam, """
        const ways = [
          (n) => console.log(`line ${n}`), (n) => console.error(`line ${n}`),
          (n) => process.stdout.write(`line ${n}\\n`), (n) => process.stderr.write(`line ${n}\\n`), () => {},
        ];
        function work(event) { ways[event.n % ways.length](event.n); return calls; }
    """)
    warm(lam, server, name)
    console = re.compile(r"^\S+\t[-0-9a-f]+\t(?:INFO|ERROR)\t", re.MULTILINE)  # a time, the request id, a level
    request_ids, entries, _ = burst(lam, server, name, 20, lambda log: console.sub("", log))
    assert entries == blocks(request_ids, lambda n: [f"line {n}"] if n % 5 != 4 else [])


@needs_node
def test_a_warm_nodejs_invoke_that_times_out_says_so_and_the_next_runs_on_a_new_environment(
        lam: Any, server: StratoServer) -> None:
    name = lending_node(lam, """
        function work(event) {
          if (event.sleep) return new Promise(() => { console.log("waiting forever"); setInterval(() => {}, 1000); });
          return calls;
        }
    """, Timeout=1)
    lent = warm(lam, server, name)
    answer, error = call(lam, name, {"sleep": True}, LogType="Tail")
    assert answer["FunctionError"] == "Unhandled"
    assert error["errorType"] == "Sandbox.Timedout"
    assert error["errorMessage"].endswith("Task timed out after 1.00 seconds")
    log = base64.b64decode(answer["LogResult"]).decode()
    assert "\tINFO\twaiting forever\n" in log
    assert "Task timed out after 1.00 seconds" in log
    assert call(lam, name)[1] == 1, "a fresh environment"
    until(lambda: not holders(server, lent), "the timed-out environment's connection was dropped")


@needs_node
def test_a_warm_nodejs_handler_that_calls_process_exit_is_a_runtime_exit_error(
        lam: Any, server: StratoServer) -> None:
    name = lending_node(lam, """
        function work(event) {
          if (event.exit) process.exit(3);
          return calls;
        }
    """)
    warm(lam, server, name)
    answer, error = call(lam, name, {"exit": True})
    assert answer["FunctionError"] == "Unhandled"
    assert error["errorType"] == "Runtime.ExitError"
    assert "exit status 3" in error["errorMessage"]
    assert call(lam, name)[1] == 1, "a fresh environment"


@needs_node
@pytest.mark.parametrize(("handler", "source", "error_type", "message"), [
    ("missing.handler", "exports.handler = async () => 1;", "Runtime.ImportModuleError",
     "Error: Cannot find module 'missing'"),
    ("index.nope", "exports.handler = async () => 1;", "Runtime.HandlerNotFound",
     "index.nope is undefined or not exported"),
    ("index.handler", "exports.handler = async () => {", "Runtime.UserCodeSyntaxError",
     "SyntaxError: Unexpected end of input"),
    ("index.handler", "throw new RangeError('no start');", "RangeError", "no start"),
], ids=["missing-module", "missing-handler", "syntax-error", "thrown-at-load"])
def test_a_nodejs_init_error_reaches_the_caller_through_the_handed_connection(
        lam: Any, handler: str, source: str, error_type: str, message: str) -> None:
    name = deploy(lam, "", runtime=str(NODE), handler=handler, files={"index.js": source})
    for _ in range(2):  # a new environment each time: the failed one is not kept
        answer, error = call(lam, name)
        assert answer["FunctionError"] == "Unhandled"
        assert (error["errorType"], error["errorMessage"]) == (error_type, message)


@needs_node
def test_a_warm_nodejs_handler_that_leaves_a_rejection_unhandled_ends_its_process_before_the_next_invoke(
        lam: Any, server: StratoServer) -> None:
    """Node ends the process on an unhandled rejection once the handler's turn is over: after its
    answer and, as with Lambda's runtime, before it asks for another invocation, so the next invoke
    runs on a new environment rather than failing with the ended one's Runtime.ExitError."""
    name = lending_node(lam, """
        function work(event) {
          if (event.reject) Promise.reject(new Error("nobody waits for me"));
          return calls;
        }
    """)
    warm(lam, server, name)
    _, uid = call(lam, name, {"where": True})
    answer, _ = call(lam, name, {"reject": True})
    assert "FunctionError" not in answer
    after, new_uid = call(lam, name, {"where": True})
    assert "FunctionError" not in after
    assert new_uid != uid
    assert call(lam, name, {})[1] == 1


@needs_node
def test_a_warm_nodejs_exception_nothing_caught_is_the_invocations_error_and_the_next_runs_elsewhere(
        lam: Any, server: StratoServer) -> None:
    name = lending_node(lam, """
        function work(event) {
          if (event.late) setTimeout(() => { throw new TypeError("thrown from a timer"); }, 1);
          return event.late ? new Promise(() => {}) : calls;
        }
    """)
    warm(lam, server, name)
    _, uid = call(lam, name, {"where": True})
    answer, error = call(lam, name, {"late": True})
    assert answer["FunctionError"] == "Unhandled"
    assert (error["errorType"], error["errorMessage"]) == ("TypeError", "thrown from a timer")
    after, new_uid = call(lam, name, {"where": True})
    assert "FunctionError" not in after
    assert new_uid != uid
