"""The pool, on two launchers: AWS's own runtime client (awslambdaric) in plain subprocesses,
and strato's isolated launcher (sandboxed environments forked from a zygote). Invoke
semantics, errors in Lambda's words, warm reuse, scale-out, throttling, retirement, reaping."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import uvloop

from strato.functions.isolated import IsolatedLauncher
from strato.functions.launcher import Launcher, LaunchSpec, Process
from strato.functions.logs import read_logs
from strato.functions.pool import Pool
from strato.functions.records import MAX_PAYLOAD, InvokeResult, TooManyRequests
from tests.functions.support import REGION, SubprocessLauncher, function, invocation, write_code

HANDLERS = '''
import json, os, signal, socket, sys, time, uuid

TOKEN = uuid.uuid4().hex  # one per environment (pids repeat across pid namespaces)

def echo(event, context):
    return event

def token(event, context):
    print("token handler says hello", event)
    return TOKEN

def context(event, context):
    return {
        "function_name": context.function_name, "function_version": context.function_version,
        "memory_limit_in_mb": context.memory_limit_in_mb, "request_id": context.aws_request_id,
        "invoked_function_arn": context.invoked_function_arn,
        "remaining": context.get_remaining_time_in_millis(), "log_group": context.log_group_name,
        "custom": context.client_context.custom if context.client_context else None,
        "event": event,
    }

def environ(event, context):
    return dict(os.environ)

def fail(event, context):
    raise ValueError("the handler refuses")

def sleep(event, context):
    time.sleep(30)

def exit(event, context):
    os._exit(1)

def leave(event, context):
    sys.exit(event.get("status", "the handler leaves"))

class Stop(BaseException):
    pass

def stop(event, context):
    raise Stop("nothing catches this")

def kill(event, context):
    os.kill(os.getpid(), signal.SIGKILL)

def gate(event, context):
    """Arrive at the test's gate, wait for it to open."""
    with socket.create_connection(("127.0.0.1", event["port"])) as connection:
        connection.sendall(b"in")
        connection.recv(1)
    return TOKEN

def big(event, context):
    return "x" * event["size"]

def hog(event, context):
    hoard = bytearray(event["mb"] * 1024 * 1024)
    hoard[::4096] = b"x" * len(hoard[::4096])  # touch every page
    return len(hoard)
'''


class Watched:
    """A launched process, counting what its environment told it of its cold start."""

    def __init__(self, process: Process) -> None:
        self.process = process
        self.pid = process.pid
        self.uid = process.uid
        self.settles = 0

    async def wait(self) -> int:
        return await self.process.wait()

    def kill(self) -> None:
        self.process.kill()

    def settled(self) -> None:
        self.settles += 1
        self.process.settled()

    def max_memory_used_mb(self) -> int:
        return self.process.max_memory_used_mb()


class Recording:
    """A launcher that keeps the processes it launched, to see them end."""

    def __init__(self, launcher: Launcher) -> None:
        self.launcher = launcher
        self.protections = launcher.protections
        self.processes: list[Watched] = []

    def runtimes(self) -> frozenset[str]:
        return self.launcher.runtimes()

    async def launch(self, spec: LaunchSpec) -> Process:
        process = Watched(await self.launcher.launch(spec))
        self.processes.append(process)
        return process

    async def close(self) -> None:
        return None  # the launcher may serve other tests


class Shared:
    """One event loop and one isolated launcher per test worker: its zygote warms up once."""

    def __init__(self, work_dir: Path) -> None:
        self.loop = asyncio.new_event_loop()
        self.launcher = self.loop.run_until_complete(self._make(work_dir))

    @staticmethod
    async def _make(work_dir: Path) -> IsolatedLauncher:
        return IsolatedLauncher(work_dir / "work", [work_dir / "data"])

    def close(self) -> None:
        self.loop.run_until_complete(self.launcher.close())
        self.loop.close()


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Shared]:
    isolated = Shared(tmp_path_factory.mktemp("isolated"))
    yield isolated
    isolated.close()


class Runner:
    def __init__(self, tmp_path: Path, shared: Shared | None) -> None:
        self.tmp_path = tmp_path
        self.shared = shared  # None: awslambdaric in plain subprocesses
        self.code = write_code(tmp_path / "code", HANDLERS)
        self.launcher: Recording | None = None

    def __call__(self, test: Callable[[Pool, Path], Awaitable[None]], uvloop_run: bool = False,
                 **settings: Any) -> None:
        async def main() -> None:
            self.launcher = Recording(self.shared.launcher if self.shared else SubprocessLauncher())
            pool = Pool(self.launcher, logs_dir=self.tmp_path / "logs", region=REGION,
                        endpoint_url="http://127.0.0.1:9000", keys=lambda name: ("KEY-" + name, "secret"), **settings)
            try:
                await test(pool, self.code)
            finally:
                await pool.close()
        if self.shared is not None:
            self.shared.loop.run_until_complete(main())
        elif uvloop_run:
            uvloop.run(main())
        else:
            asyncio.run(main())

    async def exited(self, index: int) -> None:
        """Until the index-th environment launched has exited."""
        assert self.launcher is not None
        await asyncio.wait_for(self.launcher.processes[index].wait(), 10)


@pytest.fixture(params=["awslambdaric", "isolated"])
def run(tmp_path: Path, request: pytest.FixtureRequest) -> Runner:
    if request.param == "isolated":
        return Runner(tmp_path, request.getfixturevalue("shared"))
    return Runner(tmp_path, None)


class Gate:
    """A TCP barrier: handlers connect and wait; it opens by itself once `count` have arrived."""

    def __init__(self, count: int = 0) -> None:
        self.count = count
        self.waiting: list[asyncio.StreamWriter] = []
        self.arrived = asyncio.Event()
        self.port = 0
        self._server: asyncio.Server | None = None

    async def __aenter__(self) -> Gate:
        self._server = await asyncio.start_server(self._arrive, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.open()
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()

    async def _arrive(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readexactly(2)
        self.waiting.append(writer)
        self.arrived.set()
        if len(self.waiting) == self.count:
            self.open()

    def open(self) -> None:
        for writer in self.waiting:
            writer.write(b"!")
            writer.close()
        self.waiting.clear()

    def event(self) -> bytes:
        return json.dumps({"port": self.port}).encode()


async def settled(condition: Callable[[], bool]) -> None:
    """Until the pool has heard of what already happened (an exit it watches for, too)."""
    for _ in range(1000):
        if condition():
            return
        await asyncio.sleep(0.005)
    raise AssertionError("the pool never settled")


def error(result: InvokeResult) -> dict[str, Any]:
    assert result.function_error == "Unhandled"
    document = json.loads(result.payload)
    assert isinstance(document, dict)
    return document


class TestInvoke:
    def test_echo(self, run: Runner) -> None:
        async def test(pool: Pool, code: Path) -> None:
            result = await pool.invoke(invocation(function(code, handler="app.echo"), b'{"hello": ["world", 1]}'))
            assert json.loads(result.payload) == {"hello": ["world", 1]}
            assert (result.function_error, result.executed_version) == (None, "$LATEST")
        run(test)

    def test_echo_on_uvloop(self, tmp_path: Path) -> None:
        """`strato serve` runs on uvloop, whose transports are not asyncio's classes."""
        async def test(pool: Pool, code: Path) -> None:
            fn = function(code, handler="app.echo")
            payloads = [(await pool.invoke(invocation(fn, b"[%d]" % n))).payload for n in range(3)]
            assert payloads == [b"[0]", b"[1]", b"[2]"]
        Runner(tmp_path, None)(test, uvloop_run=True)

    def test_the_handler_sees_its_event_and_context(self, run: Runner) -> None:
        async def test(pool: Pool, code: Path) -> None:
            fn = function(code, "ctx-fn", handler="app.context", memory_size=256)
            call = invocation(fn, b'{"n": 7}', client_context='{"custom": {"k": "v"}, "env": {}, "client": {}}')
            seen = json.loads((await pool.invoke(call)).payload)
            assert seen["function_name"] == "ctx-fn"
            assert seen["function_version"] == "$LATEST"
            assert seen["memory_limit_in_mb"] == "256"
            assert seen["request_id"] == call.request_id
            assert seen["invoked_function_arn"] == fn.arn
            assert 0 < seen["remaining"] <= 3000
            assert seen["log_group"] == "/aws/lambda/ctx-fn"
            assert seen["custom"] == {"k": "v"}
            assert seen["event"] == {"n": 7}
        run(test)

    def test_the_environment_has_lambdas_variables_and_the_functions_own(self, run: Runner) -> None:
        async def test(pool: Pool, code: Path) -> None:
            fn = function(code, "env-fn", handler="app.environ", environment={"GREETING": "hi", "TZ": "Europe/Paris"})
            seen = json.loads((await pool.invoke(invocation(fn))).payload)
            assert seen["GREETING"] == "hi"
            assert seen["TZ"] == "Europe/Paris"  # not reserved: the function may set it
            assert seen["AWS_LAMBDA_FUNCTION_NAME"] == "env-fn"
            assert seen["AWS_LAMBDA_FUNCTION_VERSION"] == "$LATEST"
            assert seen["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "128"
            assert seen["AWS_LAMBDA_LOG_GROUP_NAME"] == "/aws/lambda/env-fn"
            assert "[$LATEST]" in seen["AWS_LAMBDA_LOG_STREAM_NAME"]
            assert seen["_HANDLER"] == "app.environ"
            assert seen["LAMBDA_TASK_ROOT"] == "/var/task"
            assert seen["AWS_REGION"] == seen["AWS_DEFAULT_REGION"] == REGION
            assert seen["AWS_EXECUTION_ENV"] == "AWS_Lambda_python3.11"
            assert seen["AWS_LAMBDA_RUNTIME_API"].startswith("127.0.0.1:")
            assert seen["AWS_ENDPOINT_URL"] == "http://127.0.0.1:9000"
            assert (seen["AWS_ACCESS_KEY_ID"], seen["AWS_SECRET_ACCESS_KEY"]) == ("KEY-env-fn", "secret")  # its own
        run(test)


class TestFunctionErrors:
    def test_a_raising_handler_is_unhandled_with_its_error_type(self, run: Runner) -> None:
        async def test(pool: Pool, code: Path) -> None:
            document = error(await pool.invoke(invocation(function(code, handler="app.fail"))))
            assert document["errorType"] == "ValueError"
            assert document["errorMessage"] == "the handler refuses"
        run(test)

    def test_a_timeout_kills_the_environment_in_lambdas_words(self, run: Runner) -> None:
        async def test(pool: Pool, code: Path) -> None:
            fn = function(code, handler="app.sleep", timeout=1)
            call = invocation(fn)
            result = await pool.invoke(call)
            assert error(result) == {
                "errorType": "Sandbox.Timedout",
                "errorMessage": f"RequestId: {call.request_id} Error: Task timed out after 1.00 seconds"}
            assert b"Status: timeout" in result.log_tail
            assert result.log_tail.endswith(f"{call.request_id} Task timed out after 1.00 seconds\n".encode())
            assert pool.environments == 0
        run(test)

    @pytest.mark.parametrize(("handler", "reason"), [("app.exit", "exit status 1"), ("app.kill", "signal: killed")])
    def test_a_runtime_exit_is_an_exit_error(self, run: Runner, handler: str, reason: str) -> None:
        async def test(pool: Pool, code: Path) -> None:
            call = invocation(function(code, handler=handler))
            result = await pool.invoke(call)
            assert error(result) == {
                "errorType": "Runtime.ExitError",
                "errorMessage": f"RequestId: {call.request_id} Error: Runtime exited with error: {reason}"}
            assert b"Error Type: Runtime.ExitError" in result.log_tail
            echoed = await pool.invoke(invocation(function(code, handler="app.echo"), b"1"))
            assert echoed.payload == b"1"
        run(test)

    def test_a_handler_leaving_by_sys_exit_with_a_message_has_it_logged(self, run: Runner) -> None:
        """As the interpreter ends on a SystemExit whose code is no number: the message on stderr, status 1."""
        async def test(pool: Pool, code: Path) -> None:
            call = invocation(function(code, handler="app.leave"))
            result = await pool.invoke(call)
            assert error(result)["errorMessage"] == \
                f"RequestId: {call.request_id} Error: Runtime exited with error: exit status 1"
            assert f"\nthe handler leaves\nRequestId: {call.request_id} Error: ".encode() in result.log_tail
        run(test)

    @pytest.mark.parametrize("status", [130, 137])
    def test_a_runtime_exit_status_above_128_is_no_signal(self, run: Runner, status: int) -> None:
        """A runtime that exits 137 was not killed: Lambda words it as the exit status it is."""
        async def test(pool: Pool, code: Path) -> None:
            call = invocation(function(code, handler="app.leave"), b'{"status": %d}' % status)
            assert error(await pool.invoke(call)) == {
                "errorType": "Runtime.ExitError",
                "errorMessage": f"RequestId: {call.request_id} Error: Runtime exited with error: exit status {status}"}
        run(test)

    def test_a_handler_raising_what_the_runtime_does_not_catch_has_its_traceback_logged(self, run: Runner) -> None:
        """A BaseException (asyncio's CancelledError, a library's own) ends the runtime as it ends
        any Python program: its traceback on stderr, exit status 1."""
        async def test(pool: Pool, code: Path) -> None:
            call = invocation(function(code, handler="app.stop"))
            result = await pool.invoke(call)
            assert error(result)["errorMessage"] == \
                f"RequestId: {call.request_id} Error: Runtime exited with error: exit status 1"
            tail = result.log_tail.decode()
            assert "Traceback (most recent call last):\n" in tail
            assert "app.Stop: nothing catches this\nRequestId: " in tail
            assert "envprocs.py" not in tail  # no frame of strato's runtime process
        run(test)

    def test_an_init_error_is_the_triggering_invokes_error_and_the_environment_goes(self, run: Runner) -> None:
        async def test(pool: Pool, code: Path) -> None:
            broken = write_code(run.tmp_path / "broken", "import no_such_module\n")
            result = await pool.invoke(invocation(function(broken, "broken")))
            document = error(result)
            assert document["errorType"] == "Runtime.ImportModuleError"
            assert "no_such_module" in document["errorMessage"]
            assert b"Init Duration: " in result.log_tail
            assert pool.environments == 0
        run(test)

    @pytest.mark.parametrize(("module", "error_type", "said"), [
        ("import no_such_module\n", "Runtime.ImportModuleError", "no_such_module"),
        ("import os\nos._exit(3)\n", "Runtime.ExitError", "Runtime exited with error: exit status 3")])
    def test_a_failed_init_is_reported_and_retried_within_the_invocation(
            self, run: Runner, module: str, error_type: str, said: str) -> None:
        """Lambda logs a failed init (INIT_REPORT ... Phase: init, Status: error, its Error Type),
        retries it in a new environment as part of the invocation (Phase: invoke), and answers
        with the retry's error; the REPORT's Duration covers the retried init (no Init Duration)."""
        async def test(pool: Pool, code: Path) -> None:
            broken = write_code(run.tmp_path / "broken", module + "def handler(e, c): pass\n")
            call = invocation(function(broken, "broken"))
            result = await pool.invoke(call)
            document = error(result)
            assert document["errorType"] == error_type
            assert said in document["errorMessage"]
            assert run.launcher is not None
            assert len(run.launcher.processes) == 2
            log = read_logs(run.tmp_path / "logs", "broken").decode()
            report = rf"INIT_REPORT Init Duration: \d+\.\d\d ms\tPhase: %s\tStatus: error\tError Type: {error_type}\n"
            assert re.search(report % "init" + r"(.*\n)*" + report % "invoke" + f"START RequestId: {call.request_id} ",
                             log), log
            assert log.count("INIT_START Runtime Version") == 1  # the retry goes on in the same log stream
            assert re.search(report % "init", result.log_tail.decode())  # the tail has both attempts
            last = log.rsplit("REPORT ", 1)[1]
            assert f"Status: error\tError Type: {error_type}\t" in last
            assert "Init Duration" not in last
            assert pool.environments == 0
        run(test)

    def test_memory_exhaustion_under_the_isolated_launchers_limit_is_out_of_memory(
            self, tmp_path: Path, shared: Shared) -> None:
        async def test(pool: Pool, code: Path) -> None:
            call = invocation(function(code, handler="app.hog", memory_size=128), b'{"mb": 300}')
            result = await pool.invoke(call)
            assert error(result) == {
                "errorType": "Runtime.OutOfMemory",
                "errorMessage": f"RequestId: {call.request_id} Error: Runtime exited with error: signal: killed"}
            assert b"Max Memory Used: 128 MB" in result.log_tail
        Runner(tmp_path, shared)(test)

    def test_an_init_longer_than_its_limit_times_out(self, run: Runner) -> None:
        async def test(pool: Pool, code: Path) -> None:
            slow = write_code(run.tmp_path / "slow", "import time\ntime.sleep(30)\ndef handler(e, c): pass\n")
            call = invocation(function(slow, "slow"))
            assert error(await pool.invoke(call)) == {
                "errorType": "Sandbox.Timedout",
                "errorMessage": f"RequestId: {call.request_id} Error: Task timed out after 3.00 seconds"}
            assert pool.environments == 0
        run(test, init_timeout=0.5)

    def test_an_init_that_outlasts_its_limit_is_retried_within_the_functions_timeout(self, run: Runner) -> None:
        """Lambda reports an init that outlasted its limit (INIT_REPORT ... Status: timeout) and
        retries it as part of the invocation, under the function's timeout (the deadline the
        handler is told counts it); the REPORT's Duration covers that init (no Init Duration)."""
        async def test(pool: Pool, code: Path) -> None:
            slow = write_code(run.tmp_path / "slow", """
import os, time
print(os.environ["AWS_LAMBDA_LOG_STREAM_NAME"])
time.sleep(1)
def handler(e, c):
    return c.get_remaining_time_in_millis(), c.log_stream_name
""")
            result = await pool.invoke(invocation(function(slow, "slow", timeout=10)))
            assert result.function_error is None
            remaining, stream = json.loads(result.payload)
            assert 0 < remaining <= 9000  # the 10 s less the init's second
            assert pool.environments == 1
            report = result.log_tail.decode().rsplit("REPORT ", 1)[1]
            assert float(report.split("Duration: ")[1].split(" ms")[0]) >= 1000
            assert "Init Duration" not in report
            log = read_logs(run.tmp_path / "logs", "slow").decode()
            # the retry goes on in the same log stream, under the one INIT_START
            assert re.search(r"\nINIT_REPORT Init Duration: \d+\.\d\d ms\tPhase: init\tStatus: timeout\n"
                             rf"{re.escape(stream)}\nSTART RequestId: ", log), log
            assert log.count("INIT_START Runtime Version") == 1
            assert b"\tPhase: init\tStatus: timeout\n" in result.log_tail  # the tail has both attempts
        run(test, init_timeout=0.5)

    def test_a_six_megabyte_result_passes_and_a_larger_one_is_refused(self, run: Runner) -> None:
        async def test(pool: Pool, code: Path) -> None:
            fn = function(code, handler="app.big")
            result = await pool.invoke(invocation(fn, b'{"size": %d}' % (MAX_PAYLOAD - 2)))
            assert (len(result.payload), result.function_error) == (MAX_PAYLOAD, None)
            document = error(await pool.invoke(invocation(fn, b'{"size": %d}' % (7 * 1024 * 1024))))
            assert document["errorType"] == "Function.ResponseSizeTooLarge"
            assert "exceeded maximum allowed payload size (6291556 bytes)" in document["errorMessage"]
            # awslambdaric exits when its result is refused: the next invoke still succeeds
            assert (await pool.invoke(invocation(fn, b'{"size": 1}'))).payload == b'"x"'
        run(test)


class TestLogs:
    def test_the_tail_holds_the_invocations_output_between_start_end_and_report(self, run: Runner) -> None:
        async def test(pool: Pool, code: Path) -> None:
            fn = function(code, "logged", handler="app.token")
            first, second = invocation(fn, b'"one"'), invocation(fn, b'"two"')
            cold, warm = await pool.invoke(first), await pool.invoke(second)
            lines = warm.log_tail.decode().splitlines()
            assert lines[0] == f"START RequestId: {second.request_id} Version: $LATEST"
            assert lines[1] == "token handler says hello two"
            assert lines[2] == f"END RequestId: {second.request_id}"
            fields = lines[3].split("\t")
            assert fields[0] == f"REPORT RequestId: {second.request_id}"
            assert [field.split(":")[0] for field in fields[1:]] == [
                "Duration", "Billed Duration", "Memory Size", "Max Memory Used", ""]
            assert fields[3] == "Memory Size: 128 MB"
            assert b"Init Duration: " in cold.log_tail
            assert b"hello one" in cold.log_tail
            written = read_logs(run.tmp_path / "logs", "logged").decode()
            assert written.index("hello one") < written.index(f"START RequestId: {second.request_id}")
            assert written.count("REPORT RequestId: ") == 2
        run(test)

    def test_no_tail_unless_asked(self, run: Runner) -> None:
        async def test(pool: Pool, code: Path) -> None:
            result = await pool.invoke(invocation(function(code, handler="app.token"), log_tail=False))
            assert result.log_tail == b""
        run(test)

    def test_a_record_logged_during_init_names_no_request(self, run: Runner) -> None:
        """awslambdaric stamps records with the invocation in hand: none yet while the module loads."""
        async def test(pool: Pool, code: Path) -> None:
            loud = write_code(run.tmp_path / "loud", "import logging\nlogging.warning('loading')\n"
                                                     "def handler(e, c): logging.warning('handling')\n")
            call = invocation(function(loud, "loud"))
            await pool.invoke(call)
            log = read_logs(run.tmp_path / "logs", "loud").decode()
            assert re.search(r"\n\[WARNING\]\t[0-9T:.-]+Z\t\tloading\n", log), log
            assert re.search(rf"\n\[WARNING\]\t[0-9T:.-]+Z\t{call.request_id}\thandling\n", log), log
        run(test)


class TestEnvironments:
    def test_a_warm_environment_is_reused(self, run: Runner) -> None:
        async def test(pool: Pool, code: Path) -> None:
            fn = function(code, handler="app.token")
            first, second = await pool.invoke(invocation(fn)), await pool.invoke(invocation(fn))
            assert first.payload == second.payload
            assert b"Init Duration" not in second.log_tail
            assert pool.environments == 1
        run(test)

    def test_an_environment_tells_its_launcher_when_its_cold_start_has_been_answered(self, run: Runner) -> None:
        """Then the launcher may do what it put off so as not to slow it (make a new spare)."""
        async def test(pool: Pool, code: Path) -> None:
            fn = function(code, handler="app.gate")
            launched = run.launcher.processes if run.launcher else []
            async with Gate() as gate:
                call = asyncio.ensure_future(pool.invoke(invocation(fn, gate.event())))
                await gate.arrived.wait()
                assert [process.settles for process in launched] == [0]  # its first invocation runs
                gate.open()
                first = await call
            await asyncio.sleep(0)  # the caller's callback (which sends the answer on) goes first
            assert [process.settles for process in launched] == [1]
            async with Gate(count=1) as gate:
                assert (await pool.invoke(invocation(fn, gate.event()))).payload == first.payload  # warm
            assert [process.settles for process in launched] == [1]
        run(test)

    def test_concurrent_invocations_scale_out(self, run: Runner) -> None:
        async def test(pool: Pool, code: Path) -> None:
            fn = function(code, handler="app.gate")
            async with Gate(count=3) as gate:
                results = await asyncio.gather(*(pool.invoke(invocation(fn, gate.event())) for _ in range(3)))
            assert len({result.payload for result in results}) == 3
            assert pool.environments == 3
        run(test)

    def test_a_new_revision_retires_the_old_environments(self, run: Runner) -> None:
        async def test(pool: Pool, code: Path) -> None:
            old = (await pool.invoke(invocation(function(code, handler="app.token", revision_id="r1")))).payload
            new = (await pool.invoke(invocation(function(code, handler="app.token", revision_id="r2")))).payload
            assert old != new
            await run.exited(0)
            await settled(lambda: pool.environments == 1)
        run(test)

    def test_a_caller_that_goes_away_takes_its_environment_with_it(self, run: Runner) -> None:
        async def test(pool: Pool, code: Path) -> None:
            async with Gate() as gate:
                call = asyncio.ensure_future(pool.invoke(invocation(function(code, handler="app.gate"), gate.event())))
                await gate.arrived.wait()
                call.cancel()
                with pytest.raises(asyncio.CancelledError):
                    await call
            await run.exited(0)
            await settled(lambda: (pool.environments, pool.in_flight) == (0, 0))
        run(test)

    def test_a_lent_environment_that_dies_is_recalled_from_its_borrower_and_frees_its_slot(
            self, run: Runner) -> None:
        """The borrower hears of the death (an idle loan would otherwise wait to be taken)."""
        async def test(pool: Pool, code: Path) -> None:
            fn = function(code, handler="app.token")
            await pool.invoke(invocation(fn))
            recalls: list[str] = []
            environment = pool.lend(fn, lambda: recalls.append("recall"))
            assert environment is not None
            assert pool.in_flight == 1, "a lent environment holds its slot"
            environment.kill()
            await settled(lambda: (recalls, pool.in_flight, pool.environments) == (["recall"], 0, 0))
        run(test)

    def test_idle_environments_are_reaped(self, run: Runner) -> None:
        async def test(pool: Pool, code: Path) -> None:
            await pool.invoke(invocation(function(code, handler="app.token")))
            await run.exited(0)
            await settled(lambda: pool.environments == 0)
        run(test, idle_timeout=0.2)


class TestThrottling:
    def test_reserved_concurrency_caps_the_function(self, run: Runner) -> None:
        async def test(pool: Pool, code: Path) -> None:
            fn = function(code, handler="app.gate", reserved=1)
            async with Gate() as gate:
                running = asyncio.ensure_future(pool.invoke(invocation(fn, gate.event())))
                await gate.arrived.wait()
                with pytest.raises(TooManyRequests) as refused:
                    await pool.invoke(invocation(fn))
                assert refused.value.reason == "ReservedFunctionConcurrentInvocationLimitExceeded"
            assert (await running).function_error is None
            assert (await pool.invoke(invocation(function(code, handler="app.echo", reserved=1), b"2"))).payload == b"2"
        run(test)

    def test_reserved_concurrency_zero_refuses_every_invoke(self, run: Runner) -> None:
        async def test(pool: Pool, code: Path) -> None:
            with pytest.raises(TooManyRequests) as refused:
                await pool.invoke(invocation(function(code, handler="app.echo", reserved=0)))
            assert refused.value.reason == "ReservedFunctionConcurrentInvocationLimitExceeded"
        run(test)

    def test_the_account_limit_caps_unreserved_functions(self, run: Runner) -> None:
        async def test(pool: Pool, code: Path) -> None:
            async with Gate() as gate:
                running = asyncio.ensure_future(pool.invoke(invocation(function(code, "a", handler="app.gate"),
                                                                       gate.event())))
                await gate.arrived.wait()
                with pytest.raises(TooManyRequests) as refused:
                    await pool.invoke(invocation(function(code, "b", handler="app.echo")))
                assert refused.value.reason == "ConcurrentInvocationLimitExceeded"
            assert (await running).function_error is None
        run(test, account_concurrency=1)

    def test_reservations_are_kept_out_of_the_shared_pool(self, run: Runner) -> None:
        async def test(pool: Pool, code: Path) -> None:
            reserving = function(code, "reserving", handler="app.echo", reserved=2)
            assert (await pool.invoke(invocation(reserving, b"1"))).payload == b"1"
            with pytest.raises(TooManyRequests) as refused:
                await pool.invoke(invocation(function(code, "other", handler="app.echo")))
            assert refused.value.reason == "ConcurrentInvocationLimitExceeded"
        run(test, account_concurrency=2)

    def test_a_deleted_functions_reservation_goes_back_to_the_shared_pool(self, run: Runner) -> None:
        async def test(pool: Pool, code: Path) -> None:
            reserving = function(code, "reserving", handler="app.echo", reserved=2)
            assert (await pool.invoke(invocation(reserving, b"1"))).payload == b"1"
            pool.retire("reserving")
            assert (await pool.invoke(invocation(function(code, "other", handler="app.echo"), b"2"))).payload == b"2"
        run(test, account_concurrency=2)

    def test_reservations_made_before_the_pool_began_are_kept_out_of_the_shared_pool(self, run: Runner) -> None:
        """After a restart, a function reserving concurrency need not be invoked for it to count."""
        async def test(pool: Pool, code: Path) -> None:
            pool.know_reservations({"reserving": 2})
            with pytest.raises(TooManyRequests) as refused:
                await pool.invoke(invocation(function(code, "other", handler="app.echo")))
            assert refused.value.reason == "ConcurrentInvocationLimitExceeded"
        run(test, account_concurrency=2)

    def test_a_removed_reservation_goes_back_to_the_shared_pool_at_once(self, run: Runner) -> None:
        """DeleteFunctionConcurrency: the function need not be invoked again for it to count."""
        async def test(pool: Pool, code: Path) -> None:
            assert (await pool.invoke(invocation(function(code, "reserving", handler="app.echo", reserved=2)))).payload
            pool.limits_changed(function(code, "reserving", handler="app.echo"))
            assert (await pool.invoke(invocation(function(code, "other", handler="app.echo"), b"2"))).payload == b"2"
        run(test, account_concurrency=2)


class TestRetire:
    def test_retiring_a_function_stops_its_environments(self, run: Runner) -> None:
        async def test(pool: Pool, code: Path) -> None:
            fn = function(code, "deleted", handler="app.token")
            first = (await pool.invoke(invocation(fn))).payload
            pool.retire("deleted")
            await run.exited(0)
            await settled(lambda: pool.environments == 0)
            assert (await pool.invoke(invocation(fn))).payload != first
        run(test)
