"""strato's Python runtime client against the real Runtime API server: the handler's event and
context, results, errors and init errors in the very form AWS's awslambdaric produces (the two
are run side by side on the same handlers)."""

from __future__ import annotations

import asyncio
import json
import re
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from strato.functions.runtime_client import RuntimeClient
from tests.functions.environments import ARN, Outcome, PlainLauncher, Runner
from tests.functions.support import SubprocessLauncher

HANDLERS = '''
import decimal, os, sys
calls = 0

def context(event, context):
    global calls
    calls += 1
    cc = context.client_context
    return {
        "event": event, "calls": calls, "function_name": context.function_name,
        "function_version": context.function_version, "memory": context.memory_limit_in_mb,
        "request_id": context.aws_request_id, "arn": context.invoked_function_arn,
        "remaining": context.get_remaining_time_in_millis(), "log_group": context.log_group_name,
        "log_stream": context.log_stream_name,
        "custom": cc.custom if cc else None, "env": cc.env if cc else None,
        "installation_id": cc.client.installation_id if cc and cc.client else None,
        "identity_id": context.identity.cognito_identity_id,
        "identity_pool": context.identity.cognito_identity_pool_id,
        "trace": os.environ.get("_X_AMZN_TRACE_ID", ""), "cwd": os.getcwd(),
    }

def talk(event, context):
    print("printed by the handler")
    sys.stderr.write("written to stderr\\n")
    return "ok"

def fail(event, context):
    raise ValueError("the handler refuses")

def unserialisable(event, context):
    return {"a set": {1, 2}}

def number(event, context):
    return decimal.Decimal("1.5")

def numbers(event, context):
    return {"count": decimal.Decimal("5"), "id": decimal.Decimal("12345678901234567890.123"),
            "price": decimal.Decimal("1.10"), "exponent": decimal.Decimal("1E+2"), "nan": decimal.Decimal("NaN")}

def leave(event, context):
    sys.exit(3)

def describe(event, context):
    return [repr(context), context.tenant_id]

def fail_quietly(event, context):
    raise ValueError()

def log(event, context):
    import logging
    logging.getLogger().setLevel(logging.INFO)
    logging.getLogger("app").info("logged at %s", "info")
    logging.warning("logged\\nover two lines")
    logging.debug("below the level")
    return "ok"

def structured(event, context):
    import logging
    logger = logging.getLogger("app")
    logger.debug("debugging %d", 1)
    logger.info("logged at %s", "info", extra={"order": 7})
    logger.info({"a": "dict", "kept": True})
    try:
        raise KeyError("missing")
    except KeyError:
        logger.exception("it failed\\nbadly")
    print("printed as it is")
    return "ok"
'''
JSON = {"AWS_LAMBDA_LOG_FORMAT": "JSON", "AWS_LAMBDA_LOG_LEVEL": "INFO"}


@pytest.fixture(scope="module")
def runners(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Runner, Runner]]:
    """strato's client and awslambdaric, each started as a plain subprocess."""
    loop = asyncio.new_event_loop()
    root = tmp_path_factory.mktemp("runtime-client")
    yield Runner(PlainLauncher(), root, loop), Runner(SubprocessLauncher(), root, loop)
    loop.close()


@pytest.fixture
def strato(runners: tuple[Runner, Runner]) -> Runner:
    return runners[0]


def invoke_once(runner: Runner, code: Path, handler: str, event: Any = None, *,
                variables: dict[str, str] | None = None, **kwargs: Any) -> tuple[Outcome, str]:
    """One invocation in an environment started for it (`variables` added to its own)."""
    async def go() -> tuple[Outcome, str]:
        environment = await runner.start(code, handler, environment=variables)
        try:
            outcome = await environment.invoke(event, **kwargs)
        finally:
            await environment.stop()
        return outcome, environment.output()

    return runner.run(go())


class TestEventAndContext:
    def test_the_handler_gets_the_event_and_a_context_like_awslambdaric(self, strato: Runner) -> None:
        code = strato.code(HANDLERS)
        client_context = json.dumps({"custom": {"k": "v"}, "env": {"e": "1"}, "client": {"installation_id": "i-1"}})
        identity = json.dumps({"cognitoIdentityId": "id-1", "cognitoIdentityPoolId": "pool-1"})
        outcome, _ = invoke_once(strato, code, "app.context", {"x": [1, 2]}, timeout_ms=5000,
                                 client_context=client_context, identity=identity)
        body = outcome.body
        assert outcome.error_type is None
        assert body["event"] == {"x": [1, 2]}
        assert (body["function_name"], body["function_version"], body["memory"]) == ("fn", "$LATEST", "128")
        assert body["request_id"] == outcome.request_id
        assert body["arn"] == ARN + ":$LATEST"
        assert 0 < body["remaining"] <= 5000
        assert (body["log_group"], body["log_stream"]) == ("/aws/lambda/fn", "2026/11/27/[$LATEST]0123")
        assert (body["custom"], body["env"], body["installation_id"]) == ({"k": "v"}, {"e": "1"}, "i-1")
        assert (body["identity_id"], body["identity_pool"]) == ("id-1", "pool-1")
        assert body["trace"].startswith("Root=1-")

    def test_a_client_context_that_is_not_ascii_reaches_the_handler_as_awslambdaric_reads_it(
            self, runners: tuple[Runner, Runner]) -> None:
        """The Runtime API carries the client context's JSON as UTF-8; awslambdaric reads its
        headers as UTF-8."""
        client_context = json.dumps({"custom": {"name": "Jos\u00e9 \u2603"}}, ensure_ascii=False)
        ours, theirs = (invoke_once(runner, runner.code(HANDLERS), "app.context", client_context=client_context)[0]
                        for runner in runners)
        assert ours.body["custom"] == theirs.body["custom"] == {"name": "Jos\u00e9 \u2603"}

    def test_the_context_prints_as_awslambdarics_does(self, runners: tuple[Runner, Runner]) -> None:
        client_context = json.dumps({"custom": {"k": "v"}, "env": {"e": "1"}, "client": {"installation_id": "i-1"}})
        identity = json.dumps({"cognitoIdentityId": "id-1", "cognitoIdentityPoolId": "pool-1"})
        ours, theirs = (invoke_once(runner, runner.code(HANDLERS), "app.describe", client_context=client_context,
                                    identity=identity)[0] for runner in runners)
        assert ours.body[1] is None  # no tenant
        assert ours.body[0].replace(ours.request_id, "ID") == theirs.body[0].replace(theirs.request_id, "ID")
        assert ours.body[0].startswith(f"LambdaContext([aws_request_id={ours.request_id},log_group_name=")

    def test_the_handler_module_is_loaded_once_and_reused_across_invocations(self, strato: Runner) -> None:
        code = strato.code(HANDLERS)

        async def go() -> list[int]:
            environment = await strato.start(code, "app.context")
            counts = [(await environment.invoke(i)).body["calls"] for i in range(3)]
            await environment.stop()
            return counts

        assert strato.run(go()) == [1, 2, 3]

    def test_output_written_before_the_result_is_in_the_log_when_the_result_arrives(self, strato: Runner) -> None:
        code = strato.code(HANDLERS)

        async def go() -> tuple[Outcome, str]:
            environment = await strato.start(code, "app.talk")
            outcome = await environment.invoke()
            output = environment.output()  # read before the environment stops
            await environment.stop()
            return outcome, output

        outcome, output = strato.run(go())
        assert outcome.body == "ok"
        assert "printed by the handler\n" in output
        assert "written to stderr\n" in output

    def test_the_logging_module_writes_lines_as_awslambdaric_does(self, runners: tuple[Runner, Runner]) -> None:
        """Lambda's Python runtime puts a handler on the root logger: level, UTC time to the
        millisecond, request id, message; a handler that sets its level to INFO has its
        logger.info lines in the log."""
        (ours, our_output), (theirs, their_output) = (
            invoke_once(runner, runner.code(HANDLERS), "app.log") for runner in runners)
        assert ours.body == theirs.body == "ok"

        def logged(output: str, request_id: str) -> str:
            return re.sub(r"\t\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\t" + request_id + r"\t", "\tTIME\tID\t",
                          output)

        expected = "[INFO]\tTIME\tID\tlogged at info\n[WARNING]\tTIME\tID\tlogged\nover two lines\n"
        assert expected in logged(their_output, theirs.request_id)
        # Lambda keeps a record as one event (awslambdaric sends it framed): its lines joined by \r
        assert expected.replace("logged\nover", "logged\rover") in logged(our_output, ours.request_id)
        assert "below the level" not in our_output

    def test_a_logged_exception_is_one_line_its_traceback_joined_by_carriage_returns(self, strato: Runner) -> None:
        _, output = invoke_once(strato, strato.code(HANDLERS), "app.structured")
        line = next(line for line in output.split("\n") if "it failed" in line)
        assert line.startswith("[ERROR]\t")
        assert line.endswith("\rKeyError: 'missing'")
        assert "it failed\rbadly\rTraceback (most recent call last):\r" in line

    def test_a_decimal_result_is_a_json_number(self, strato: Runner) -> None:
        outcome, _ = invoke_once(strato, strato.code(HANDLERS), "app.number")
        assert outcome.body == 1.5

    def test_decimals_are_written_digit_for_digit_as_awslambdaric_does(self, runners: tuple[Runner, Runner]) -> None:
        """DynamoDB hands numbers out as Decimals: a handler returning an item keeps its integers
        integers and its long numbers whole."""
        ours, theirs = (invoke_once(runner, runner.code(HANDLERS), "app.numbers")[0] for runner in runners)
        assert ours.raw == theirs.raw
        assert ours.raw == (b'{"count": 5, "id": 12345678901234567890.123, "price": 1.10, "exponent": 1E+2, '
                                b'"nan": NaN}')


class TestJsonLogs:
    """AWS_LAMBDA_LOG_FORMAT=JSON (LoggingConfig JSON): the logging module's records as
    awslambdaric's JsonFormatter writes them, filtered at AWS_LAMBDA_LOG_LEVEL; print() as it is."""

    @staticmethod
    def lines(runner: Runner, handler: str, level: str = "INFO") -> tuple[Outcome, list[str]]:
        outcome, output = invoke_once(runner, runner.code(HANDLERS), handler,
                                      variables={**JSON, "AWS_LAMBDA_LOG_LEVEL": level})
        output = re.sub(r"code-[0-9a-f]{8}", "code", output.replace(outcome.request_id, "ID"))
        return outcome, [re.sub(r'"timestamp": "\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"', '"timestamp": "T"', line)
                         for line in output.splitlines()]

    def test_records_are_the_json_objects_awslambdaric_writes(self, runners: tuple[Runner, Runner]) -> None:
        (_, ours), (_, theirs) = (self.lines(runner, "app.structured") for runner in runners)
        assert ours == theirs
        records = [json.loads(line) for line in ours if line.startswith("{")]
        assert records[0] == {"timestamp": "T", "level": "INFO", "message": "logged at info", "logger": "app",
                              "requestId": "ID", "order": 7}
        assert records[1]["message"] == {"a": "dict", "kept": True}
        failed = records[2]
        assert (failed["level"], failed["message"], failed["errorType"], failed["errorMessage"]) == (
            "ERROR", "it failed\nbadly", "KeyError", "'missing'")
        assert failed["stackTrace"][-1].endswith('raise KeyError("missing")\n')
        assert failed["location"].endswith("app.py:structured:66")
        assert "printed as it is" in ours

    @pytest.mark.parametrize(("level", "shown"), [
        ("TRACE", ["DEBUG", "INFO", "INFO", "ERROR"]),
        ("INFO", ["INFO", "INFO", "ERROR"]),
        ("ERROR", ["ERROR"]),
        ("FATAL", []),
    ])
    def test_records_below_the_application_log_level_are_left_out(self, strato: Runner, level: str,
                                                                  shown: list[str]) -> None:
        _, lines = self.lines(strato, "app.structured", level)
        assert [json.loads(line)["level"] for line in lines if line.startswith("{")] == shown
        assert "printed as it is" in lines

    def test_an_unhandled_error_is_one_json_object_as_awslambdaric_logs_it(self, runners: tuple[Runner, Runner]
                                                                           ) -> None:
        (outcome, ours), (_, theirs) = (self.lines(runner, "app.fail") for runner in runners)
        assert ours == theirs
        logged = json.loads(ours[-1])
        assert logged == {"timestamp": "T", "level": "ERROR", **_with_id(outcome.body)}


class TestErrorsAsAwslambdaricReportsThem:
    """Each case runs under awslambdaric and under strato's client: the documents must agree."""

    @pytest.mark.parametrize(("handler", "error_type"), [
        ("app.fail", "ValueError"),
        ("app.unserialisable", "Runtime.MarshalError"),
    ])
    def test_a_failed_invocation(self, runners: tuple[Runner, Runner], handler: str, error_type: str) -> None:
        ours, theirs = (invoke_once(runner, runner.code(HANDLERS), handler) for runner in runners)
        assert ours[0].body["errorType"] == theirs[0].body["errorType"] == error_type
        assert ours[0].body["requestId"] == ours[0].request_id
        assert _comparable(ours[0].body) == _comparable(theirs[0].body)
        assert f"[ERROR] {error_type}: " in ours[1]

    def test_an_exception_without_a_message_is_logged_by_its_type_alone(self, runners: tuple[Runner, Runner]) -> None:
        outputs = [invoke_once(runner, runner.code(HANDLERS), "app.fail_quietly")[1] for runner in runners]
        ours, theirs = (re.sub(r"code-[0-9a-f]{8}", "code", output) for output in outputs)
        assert ours == theirs
        assert ours.splitlines()[:2] == ["[ERROR] ValueError", "Traceback (most recent call last):"]

    def test_a_raising_handler_reports_its_message_and_stack(self, strato: Runner) -> None:
        outcome, _ = invoke_once(strato, strato.code(HANDLERS), "app.fail")
        assert outcome.body["errorMessage"] == "the handler refuses"
        assert outcome.body["stackTrace"][-1].endswith('raise ValueError("the handler refuses")\n')
        assert "app.py" in outcome.body["stackTrace"][-1]

    @pytest.mark.parametrize(("source", "handler", "error_type", "message"), [
        (HANDLERS, "missing.handler", "Runtime.ImportModuleError",
         "Unable to import module 'missing': No module named 'missing'"),
        (HANDLERS, "app.nope", "Runtime.HandlerNotFound", "Handler 'nope' missing on module 'app'"),
        ("def handler(event, context):\n    return (\n", "app.handler", "Runtime.UserCodeSyntaxError", None),
        ("raise RuntimeError('init went wrong')\n", "app.handler", "RuntimeError", "init went wrong"),
        (HANDLERS, "nodot", "Runtime.MalformedHandlerName", None),
    ])
    def test_an_initialisation_failure(self, runners: tuple[Runner, Runner], source: str, handler: str,
                                       error_type: str, message: str | None) -> None:
        async def go(runner: Runner) -> tuple[Outcome, int]:
            environment = await runner.start(runner.code(source), handler)
            outcome = await environment.outcome()
            status = await environment.process.wait()
            environment.listener.close()
            return outcome, status

        (ours, our_status), (theirs, their_status) = (runner.run(go(runner)) for runner in runners)
        assert ours.request_id == theirs.request_id == "init"
        assert ours.error_type == theirs.error_type == error_type  # Lambda-Runtime-Function-Error-Type
        assert _comparable(ours.body) == _comparable(theirs.body)
        if message is not None:
            assert ours.body["errorMessage"] == message
        assert our_status == their_status == 1

    def test_sys_exit_in_a_handler_ends_the_runtime_with_its_status(self, strato: Runner) -> None:
        outcome, _ = invoke_once(strato, strato.code(HANDLERS), "app.leave")
        assert outcome.exit_status == 3


class TestWaiting:
    def test_a_runtime_waiting_for_its_next_invocation_sleeps_until_it_comes(self) -> None:
        """The Runtime API reading the runtime's request does not wake it: on a unix socket, a
        reader asleep in recv(2) would be woken by that read, once per invocation."""
        api, lent = socket.socketpair()
        client = RuntimeClient("127.0.0.1:9001", lent)
        got: list[bytes] = []
        runtime = threading.Thread(target=lambda: got.append(client.next()[0]))
        runtime.start()
        try:
            while not _asleep(runtime) or not _pending(api):
                time.sleep(0.001)
            before = _wakeups(runtime)
            assert api.recv(65536).startswith(b"GET /2018-06-01/runtime/invocation/next ")
            time.sleep(0.2)  # time for a wakeup to happen, were there one
            assert _wakeups(runtime) == before
        finally:
            api.sendall(b"HTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Request-Id: r1\r\nContent-Length: 2\r\n\r\n{}")
            runtime.join(5)
            api.close()
            lent.close()
        assert got == [b"{}"]


def _task(thread: threading.Thread) -> str:
    return f"/proc/self/task/{thread.native_id}"


def _asleep(thread: threading.Thread) -> bool:
    return Path(_task(thread), "stat").read_text().rsplit(")", 1)[1].split()[0] == "S"


def _wakeups(thread: threading.Thread) -> int:
    status = Path(_task(thread), "status").read_text()
    return int(re.search(r"voluntary_ctxt_switches:\s+(\d+)", status).group(1))  # type: ignore[union-attr]


def _pending(sock: socket.socket) -> bool:
    return bool(sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT))


def _with_id(error: dict[str, Any]) -> dict[str, Any]:
    return {**error, "requestId": "ID", "stackTrace": [re.sub(r"code-[0-9a-f]{8}", "code", line)
                                                      for line in error["stackTrace"]]}


def _comparable(document: dict[str, Any]) -> Any:
    """An error document with its code directory's random name and request id blanked."""
    text = re.sub(r"code-[0-9a-f]{8}", "code", json.dumps({**document, "requestId": ""}))
    return json.loads(text)
