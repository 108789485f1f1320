"""The pool running AWS's own runtime client (awslambdaric) in plain subprocesses: invoke
semantics, errors in Lambda's words, warm reuse, scale-out, throttling, retirement, reaping."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import psutil
import pytest
import uvloop

from strato.functions.logs import read_logs
from strato.functions.pool import Pool
from strato.functions.records import MAX_PAYLOAD, InvokeResult, TooManyRequests
from tests.functions.support import REGION, SubprocessLauncher, function, invocation, write_code

HANDLERS = '''
import json, os, pathlib, signal, time

def echo(event, context):
    return event

def pid(event, context):
    print("pid handler says hello", event)
    return os.getpid()

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

def kill(event, context):
    os.kill(os.getpid(), signal.SIGKILL)

def gate(event, context):
    """Arrive (a file named by pid), then wait until `count` have arrived or the gate opens."""
    directory = pathlib.Path(event["dir"])
    (directory / str(os.getpid())).touch()
    while len(list(directory.glob("[0-9]*"))) < event.get("count", 1 << 30) and not (directory / "open").exists():
        time.sleep(0.005)
    return os.getpid()

def big(event, context):
    return "x" * event["size"]
'''


def run(tmp_path: Path, test: Callable[[Pool, Path], Awaitable[None]], uvloop_run: bool = False,
        **settings: Any) -> None:
    code = write_code(tmp_path / "code", HANDLERS)

    async def main() -> None:
        pool = Pool(SubprocessLauncher(), logs_dir=tmp_path / "logs", region=REGION,
                    endpoint_url="http://127.0.0.1:9000", credentials=("AKIDEXAMPLE", "secret"), **settings)
        try:
            await test(pool, code)
        finally:
            await pool.close()
    if uvloop_run:
        uvloop.run(main())
    else:
        asyncio.run(main())


def error(result: InvokeResult) -> dict[str, Any]:
    assert result.function_error == "Unhandled"
    document = json.loads(result.payload)
    assert isinstance(document, dict)
    return document


async def wait_until(condition: Callable[[], bool]) -> None:
    for _ in range(500):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the condition never came true")


class TestInvoke:
    def test_echo(self, tmp_path: Path) -> None:
        async def test(pool: Pool, code: Path) -> None:
            result = await pool.invoke(invocation(function(code, handler="app.echo"), b'{"hello": ["world", 1]}'))
            assert json.loads(result.payload) == {"hello": ["world", 1]}
            assert (result.function_error, result.executed_version) == (None, "$LATEST")
        run(tmp_path, test)

    def test_echo_on_uvloop(self, tmp_path: Path) -> None:
        """`strato serve` runs on uvloop, whose transports are not asyncio's classes."""
        async def test(pool: Pool, code: Path) -> None:
            fn = function(code, handler="app.echo")
            payloads = [(await pool.invoke(invocation(fn, b"[%d]" % n))).payload for n in range(3)]
            assert payloads == [b"[0]", b"[1]", b"[2]"]
        run(tmp_path, test, uvloop_run=True)

    def test_the_handler_sees_its_event_and_context(self, tmp_path: Path) -> None:
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
        run(tmp_path, test)

    def test_the_environment_has_lambdas_variables_and_the_functions_own(self, tmp_path: Path) -> None:
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
            assert (seen["AWS_ACCESS_KEY_ID"], seen["AWS_SECRET_ACCESS_KEY"]) == ("AKIDEXAMPLE", "secret")
        run(tmp_path, test)


class TestFunctionErrors:
    def test_a_raising_handler_is_unhandled_with_its_error_type(self, tmp_path: Path) -> None:
        async def test(pool: Pool, code: Path) -> None:
            document = error(await pool.invoke(invocation(function(code, handler="app.fail"))))
            assert document["errorType"] == "ValueError"
            assert document["errorMessage"] == "the handler refuses"
        run(tmp_path, test)

    def test_a_timeout_kills_the_environment_in_lambdas_words(self, tmp_path: Path) -> None:
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
        run(tmp_path, test)

    @pytest.mark.parametrize(("handler", "reason"), [("app.exit", "exit status 1"), ("app.kill", "signal: killed")])
    def test_a_runtime_exit_is_an_exit_error(self, tmp_path: Path, handler: str, reason: str) -> None:
        async def test(pool: Pool, code: Path) -> None:
            call = invocation(function(code, handler=handler))
            result = await pool.invoke(call)
            assert error(result) == {
                "errorType": "Runtime.ExitError",
                "errorMessage": f"RequestId: {call.request_id} Error: Runtime exited with error: {reason}"}
            assert b"Error Type: Runtime.ExitError" in result.log_tail
            echoed = await pool.invoke(invocation(function(code, handler="app.echo"), b"1"))
            assert echoed.payload == b"1"
        run(tmp_path, test)

    def test_an_init_error_is_the_triggering_invokes_error_and_the_environment_goes(self, tmp_path: Path) -> None:
        async def test(pool: Pool, code: Path) -> None:
            broken = write_code(tmp_path / "broken", "import no_such_module\n")
            result = await pool.invoke(invocation(function(broken, "broken")))
            document = error(result)
            assert document["errorType"] == "Runtime.ImportModuleError"
            assert "no_such_module" in document["errorMessage"]
            assert b"Init Duration: " in result.log_tail
            assert pool.environments == 0
        run(tmp_path, test)

    def test_a_six_megabyte_result_passes_and_a_larger_one_is_refused(self, tmp_path: Path) -> None:
        async def test(pool: Pool, code: Path) -> None:
            fn = function(code, handler="app.big")
            result = await pool.invoke(invocation(fn, b'{"size": %d}' % (MAX_PAYLOAD - 2)))
            assert (len(result.payload), result.function_error) == (MAX_PAYLOAD, None)
            document = error(await pool.invoke(invocation(fn, b'{"size": %d}' % (7 * 1024 * 1024))))
            assert document["errorType"] == "Function.ResponseSizeTooLarge"
            assert "exceeded maximum allowed payload size (6291556 bytes)" in document["errorMessage"]
        run(tmp_path, test)


class TestLogs:
    def test_the_tail_holds_the_invocations_output_between_start_end_and_report(self, tmp_path: Path) -> None:
        async def test(pool: Pool, code: Path) -> None:
            fn = function(code, "logged", handler="app.pid")
            first, second = invocation(fn, b'"one"'), invocation(fn, b'"two"')
            cold, warm = await pool.invoke(first), await pool.invoke(second)
            lines = warm.log_tail.decode().splitlines()
            assert lines[0] == f"START RequestId: {second.request_id} Version: $LATEST"
            assert lines[1] == "pid handler says hello two"
            assert lines[2] == f"END RequestId: {second.request_id}"
            fields = lines[3].split("\t")
            assert fields[0] == f"REPORT RequestId: {second.request_id}"
            assert [field.split(":")[0] for field in fields[1:]] == [
                "Duration", "Billed Duration", "Memory Size", "Max Memory Used", ""]
            assert fields[3] == "Memory Size: 128 MB"
            assert b"Init Duration: " in cold.log_tail
            assert b"hello one" in cold.log_tail
            written = read_logs(tmp_path / "logs", "logged").decode()
            assert written.index("hello one") < written.index(f"START RequestId: {second.request_id}")
            assert written.count("REPORT RequestId: ") == 2
        run(tmp_path, test)

    def test_no_tail_unless_asked(self, tmp_path: Path) -> None:
        async def test(pool: Pool, code: Path) -> None:
            result = await pool.invoke(invocation(function(code, handler="app.pid"), log_tail=False))
            assert result.log_tail == b""
        run(tmp_path, test)


class TestEnvironments:
    def test_a_warm_environment_is_reused(self, tmp_path: Path) -> None:
        async def test(pool: Pool, code: Path) -> None:
            fn = function(code, handler="app.pid")
            first, second = await pool.invoke(invocation(fn)), await pool.invoke(invocation(fn))
            assert first.payload == second.payload
            assert b"Init Duration" not in second.log_tail
            assert pool.environments == 1
        run(tmp_path, test)

    def test_concurrent_invocations_scale_out(self, tmp_path: Path) -> None:
        async def test(pool: Pool, code: Path) -> None:
            fn = function(code, handler="app.gate")
            arrivals = tmp_path / "arrivals"
            arrivals.mkdir()
            event = json.dumps({"dir": str(arrivals), "count": 3}).encode()
            results = await asyncio.gather(*(pool.invoke(invocation(fn, event)) for _ in range(3)))
            assert len({result.payload for result in results}) == 3
            assert pool.environments == 3
        run(tmp_path, test)

    def test_a_new_revision_retires_the_old_environments(self, tmp_path: Path) -> None:
        async def test(pool: Pool, code: Path) -> None:
            old = int((await pool.invoke(invocation(function(code, handler="app.pid", revision_id="r1")))).payload)
            new = int((await pool.invoke(invocation(function(code, handler="app.pid", revision_id="r2")))).payload)
            assert old != new
            await wait_until(lambda: not psutil.pid_exists(old) or psutil.Process(old).status() == "zombie")
            assert pool.environments == 1
        run(tmp_path, test)

    def test_idle_environments_are_reaped(self, tmp_path: Path) -> None:
        async def test(pool: Pool, code: Path) -> None:
            pid = int((await pool.invoke(invocation(function(code, handler="app.pid")))).payload)
            await wait_until(lambda: pool.environments == 0)
            await wait_until(lambda: not psutil.pid_exists(pid) or psutil.Process(pid).status() == "zombie")
        run(tmp_path, test, idle_timeout=0.2)


class TestThrottling:
    def test_reserved_concurrency_caps_the_function(self, tmp_path: Path) -> None:
        async def test(pool: Pool, code: Path) -> None:
            gate = tmp_path / "gate"
            gate.mkdir()
            fn = function(code, handler="app.gate", reserved=1)
            running = asyncio.ensure_future(pool.invoke(invocation(fn, json.dumps({"dir": str(gate)}).encode())))
            await wait_until(lambda: any(gate.iterdir()))
            with pytest.raises(TooManyRequests) as refused:
                await pool.invoke(invocation(fn))
            assert refused.value.reason == "ReservedFunctionConcurrentInvocationLimitExceeded"
            (gate / "open").touch()
            assert (await running).function_error is None
            assert (await pool.invoke(invocation(function(code, handler="app.echo", reserved=1), b"2"))).payload == b"2"
        run(tmp_path, test)

    def test_reserved_concurrency_zero_refuses_every_invoke(self, tmp_path: Path) -> None:
        async def test(pool: Pool, code: Path) -> None:
            with pytest.raises(TooManyRequests) as refused:
                await pool.invoke(invocation(function(code, handler="app.echo", reserved=0)))
            assert refused.value.reason == "ReservedFunctionConcurrentInvocationLimitExceeded"
        run(tmp_path, test)

    def test_the_account_limit_caps_unreserved_functions(self, tmp_path: Path) -> None:
        async def test(pool: Pool, code: Path) -> None:
            gate = tmp_path / "gate"
            gate.mkdir()
            running = asyncio.ensure_future(pool.invoke(
                invocation(function(code, "a", handler="app.gate"), json.dumps({"dir": str(gate)}).encode())))
            await wait_until(lambda: any(gate.iterdir()))
            with pytest.raises(TooManyRequests) as refused:
                await pool.invoke(invocation(function(code, "b", handler="app.echo")))
            assert refused.value.reason == "ConcurrentInvocationLimitExceeded"
            (gate / "open").touch()
            await running
        run(tmp_path, test, account_concurrency=1)

    def test_reservations_are_kept_out_of_the_shared_pool(self, tmp_path: Path) -> None:
        async def test(pool: Pool, code: Path) -> None:
            reserving = function(code, "reserving", handler="app.echo", reserved=2)
            assert (await pool.invoke(invocation(reserving, b"1"))).payload == b"1"
            with pytest.raises(TooManyRequests) as refused:
                await pool.invoke(invocation(function(code, "other", handler="app.echo")))
            assert refused.value.reason == "ConcurrentInvocationLimitExceeded"
        run(tmp_path, test, account_concurrency=2)
