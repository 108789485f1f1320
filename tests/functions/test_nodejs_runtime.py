"""The Node.js runtime (the host's node running runtime_client.js) in a sandboxed environment:
async and callback handlers, the context, console lines, and Lambda's nodejs error documents."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Iterator
from typing import Any

import pytest

from strato.functions.isolated import IsolatedLauncher
from strato.functions.runtime_api import Delivery
from strato.functions.runtimes import available_runtimes
from tests.functions.environments import ARN, Outcome, Runner

NODE = sorted(r for r in available_runtimes() if r.startswith("nodejs"))
pytestmark = pytest.mark.skipif(not NODE, reason="no node (18 or later) on this host")

HANDLERS = """
let calls = 0;
exports.context = async (event, context) => {
  calls += 1;
  console.log("hello from", context.functionName);
  return {
    event, calls, functionName: context.functionName, functionVersion: context.functionVersion,
    memory: context.memoryLimitInMB, requestId: context.awsRequestId, arn: context.invokedFunctionArn,
    remaining: context.getRemainingTimeInMillis(), logGroup: context.logGroupName,
    custom: context.clientContext ? context.clientContext.custom : null, uid: process.getuid(),
  };
};
exports.callback = (event, context, callback) => { setTimeout(() => callback(null, { via: "callback" }), 1); };
exports.fail = async () => { throw new TypeError("the handler refuses"); };
exports.failByCallback = (event, context, callback) => callback(new Error("called back with an error"));
"""


@pytest.fixture(scope="module")
def runner(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runner]:
    loop = asyncio.new_event_loop()
    root = tmp_path_factory.mktemp("nodejs")
    root.chmod(0o755)
    launcher = IsolatedLauncher(root / "work", [])
    yield Runner(launcher, root, loop)
    loop.run_until_complete(launcher.close())
    loop.close()


def run(runner: Runner, handler: str, events: list[Any], *, source: str = HANDLERS,
        client_context: str | None = None, variables: dict[str, str] | None = None) -> tuple[list[Outcome], str]:
    """`events` invoked in turn in one environment (`variables` added to its own)."""
    code = runner.code("", module=None, files={"index.js": source})

    async def go() -> tuple[list[Outcome], str]:
        environment = await runner.start(code, handler, runtime=NODE[-1], environment=variables)
        outcomes = [await environment.invoke(event, client_context=client_context) for event in events]
        if not events:
            outcomes.append(await environment.outcome())
        output = environment.output()
        await environment.stop()
        return outcomes, output

    return runner.run(go())


def test_an_async_handler_gets_the_event_and_the_context(runner: Runner) -> None:
    context = json.dumps({"custom": {"k": "v"}})
    (first, second), output = run(runner, "index.context", [{"n": 1}, {"n": 2}], client_context=context)
    body = first.body
    assert body["event"] == {"n": 1}
    assert (body["functionName"], body["functionVersion"], body["memory"]) == ("fn", "$LATEST", "128")
    assert body["requestId"] == first.request_id
    assert body["arn"] == ARN + ":$LATEST"
    assert 0 < body["remaining"] <= 10_000
    assert body["custom"] == {"k": "v"}
    assert second.body["calls"] == 2  # the module is loaded once
    assert f"\t{first.request_id}\tINFO\thello from fn\n" in output
    if os.geteuid() == 0:
        assert body["uid"] not in (0, os.getuid())


def test_a_client_context_that_is_not_ascii_reaches_the_handler_whole(runner: Runner) -> None:
    context = json.dumps({"custom": {"name": "Jos\u00e9 \u2603"}}, ensure_ascii=False)
    (outcome,), _ = run(runner, "index.context", [None], client_context=context)
    assert outcome.body["custom"] == {"name": "Jos\u00e9 \u2603"}


def test_a_callback_handler_answers_through_its_callback(runner: Runner) -> None:
    (outcome,), _ = run(runner, "index.callback", [None])
    assert outcome.body == {"via": "callback"}


@pytest.mark.parametrize(("handler", "error_type", "message"), [
    ("index.fail", "TypeError", "the handler refuses"),
    ("index.failByCallback", "Error", "called back with an error"),
])
def test_a_failing_handler_reports_lambdas_nodejs_error_document(runner: Runner, handler: str, error_type: str,
                                                                  message: str) -> None:
    (outcome,), _ = run(runner, handler, [None])
    assert outcome.error_type == error_type
    assert outcome.body["errorType"] == error_type
    assert outcome.body["errorMessage"] == message
    assert outcome.body["trace"][0] == f"{error_type}: {message}"


@pytest.mark.parametrize(("handler", "files", "answer"), [
    ("index.handlers.main", {"index.js": "exports.handlers = {main: async () => 'nested'};"}, "nested"),
    ("lib.handler", {"lib/index.js": "exports.handler = async () => 'a directory';"}, "a directory"),
    ("src/app.handler", {"src/app.js": "exports.handler = async () => 'in a folder';"}, "in a folder"),
])
def test_a_handler_is_found_as_lambdas_nodejs_runtime_finds_it(runner: Runner, handler: str, files: dict[str, str],
                                                              answer: str) -> None:
    """The module is named up to the handler's first dot (a folder, or a directory with an index,
    will do), and the rest is a path through its exports."""
    code = runner.code("", module=None, files=files)

    async def go() -> Outcome:
        environment = await runner.start(code, handler, runtime=NODE[-1])
        outcome = await environment.invoke(None)
        await environment.stop()
        return outcome

    assert runner.run(go()).body == answer


@pytest.mark.parametrize(("source", "answer"), [
    ("exports.handler = (event, context) => { setTimeout(() => context.succeed({late: true}), 50); };",
     {"late": True}),
    ("exports.handler = (event, context) => { context.done(null, 'done'); };", "done"),
    ("exports.handler = (event, context, callback) => {\n"
     "  let later = 'not yet';\n"
     "  setTimeout(() => { later = 'ran'; console.log(later); }, 50);\n"
     "  callback(null, 'called back');\n"
     "};", "called back"),
    ("exports.handler = (event) => 'returned, not answered';", None),
    ("exports.handler = async (event) => new Promise(() => {});", None),
])
def test_a_handler_that_is_not_async_answers_as_lambdas_callback_context_does(
        runner: Runner, source: str, answer: Any) -> None:
    """Lambda's nodejs runtime keeps the legacy context.succeed / fail / done; a callback's answer
    waits for node's event loop to empty; a handler that gives no answer (what one that is not
    async returns is none, nor is a promise that never settles) answers null once the loop is empty."""
    (outcome,), output = run(runner, "index.handler", [None], source=source)
    assert outcome.body == answer
    if "later" in source:
        assert "\tINFO\tran\n" in output


def test_a_result_json_cannot_write_is_lambdas_stringify_error(runner: Runner) -> None:
    source = "exports.handler = async () => { const loop = {}; loop.self = loop; return loop; };"
    (outcome,), _ = run(runner, "index.handler", [None], source=source)
    assert (outcome.error_type, outcome.body["errorMessage"]) == ("Error", "Unable to stringify response body")


def test_context_fail_is_the_invocations_error(runner: Runner) -> None:
    (outcome,), _ = run(runner, "index.handler", [None],
                        source="exports.handler = (event, context) => { context.fail(new RangeError('no')); };")
    assert (outcome.error_type, outcome.body["errorMessage"]) == ("RangeError", "no")


def test_an_export_that_is_not_a_function_is_not_a_handler(runner: Runner) -> None:
    (outcome,), _ = run(runner, "index.handler", [], source="exports.handler = 5;")
    assert (outcome.error_type, outcome.body["errorMessage"]) == ("Runtime.HandlerNotFound",
                                                                   "index.handler is not a function")


def test_errors_are_logged_in_lambdas_nodejs_form(runner: Runner) -> None:
    """As Lambda's runtime logs them (Errors.toFormatted): the error's type, message and own
    properties, and its stack as lines, after 'Invoke Error' (a thrown value that is not an
    Error wrapped in one) or, for an init, 'Uncaught Exception'."""
    def logged(outcome: Outcome, output: str) -> Any:
        prefix = f"\t{outcome.request_id}\tERROR\tInvoke Error \t"
        return json.loads(output[output.index(prefix) + len(prefix):].split("\n")[0])

    (outcome,), output = run(runner, "index.fail", [None])
    assert logged(outcome, output) == {"errorType": "TypeError", "errorMessage": "the handler refuses",
                                       "stack": outcome.body["trace"]}
    (outcome,), output = run(runner, "index.handler", [None], source="exports.handler = async () => { throw 'bare'; };")
    assert outcome.body == {"errorType": "string", "errorMessage": "bare", "trace": []}
    assert logged(outcome, output)["errorType"] == "Error"
    assert logged(outcome, output)["stack"][0] == "Error: bare"
    _, output = run(runner, "index.nope", [])
    document = {"errorType": "Runtime.HandlerNotFound", "errorMessage": "index.nope is undefined or not exported",
                "stack": ["Runtime.HandlerNotFound: index.nope is undefined or not exported"]}
    assert f"\tundefined\tERROR\tUncaught Exception \t{json.dumps(document, separators=(',', ':'))}\n" in output


@pytest.mark.parametrize(("handler", "source", "error_type", "message"), [
    ("missing.handler", HANDLERS, "Runtime.ImportModuleError", "Error: Cannot find module 'missing'"),
    ("index.nope", HANDLERS, "Runtime.HandlerNotFound", "index.nope is undefined or not exported"),
    ("index.handler", "exports.handler = async () => {", "Runtime.UserCodeSyntaxError", None),
])
def test_an_initialisation_failure_is_posted_to_init_error(runner: Runner, handler: str, source: str,
                                                           error_type: str, message: str | None) -> None:
    (outcome,), _ = run(runner, handler, [], source=source)
    assert outcome.request_id == "init"
    assert outcome.error_type == error_type
    assert outcome.body["errorType"] == error_type
    if message is not None:
        assert outcome.body["errorMessage"] == message


def test_a_rejection_the_handler_leaves_unhandled_ends_the_runtime_before_it_asks_for_more(runner: Runner) -> None:
    """Node ends the process on an unhandled rejection when the handler's turn is over: after its
    answer, and (as Lambda's runtime, which asks from a setImmediate) before its next GET next,
    so that no invocation is handed to a runtime about to exit."""
    source = """
    exports.handler = async (event) => { Promise.reject(new Error("nobody waits for me")); return "answered"; };
    """
    code = runner.code("", module=None, files={"index.js": source})

    async def go() -> tuple[Outcome, Outcome, bool]:
        environment = await runner.start(code, "index.handler", runtime=NODE[-1])
        answered = await environment.invoke(None)
        environment.channel.submit(Delivery("next", b"{}", ARN, 10_000))
        ended = await environment.outcome()
        handed_out = environment.channel.expects_answer("next")
        await environment.stop()
        return answered, ended, handed_out

    answered, ended, handed_out = runner.run(go())
    assert answered.body == "answered"
    assert ended.exit_status == 128  # as Lambda's runtime exits on an unhandled rejection
    assert not handed_out


# node exits 128 after an unhandled rejection and 129 after an uncaught exception, as Lambda's
# runtime does (an exit status, not signal 1, though the sandbox's init folds signal N into 128+N).
@pytest.mark.parametrize(("source", "error_type", "message", "status"), [
    ("""exports.handler = async () => {
          Promise.reject(new Error("yikes"));
          await new Promise((resolve) => setTimeout(resolve, 200));
          return "never";
        };""", "Runtime.UnhandledPromiseRejection", "Error: yikes", 128),
    ("""exports.handler = (event, context, callback) => {
          setTimeout(() => { throw new TypeError("thrown from a timer"); }, 1);
        };""", "TypeError", "thrown from a timer", 129),
])
def test_an_error_nothing_caught_during_an_invocation_is_its_error_then_the_runtime_ends(
        runner: Runner, source: str, error_type: str, message: str, status: int) -> None:
    """As Lambda's nodejs runtime: the invocation in hand gets the error document (an unhandled
    rejection as Runtime.UnhandledPromiseRejection), then node exits with 128 or 129."""
    code = runner.code("", module=None, files={"index.js": source})

    async def go() -> tuple[Outcome, Outcome]:
        environment = await runner.start(code, "index.handler", runtime=NODE[-1])
        failed = await environment.invoke(None)
        ended = await environment.outcome()
        await environment.stop()
        return failed, ended

    failed, ended = runner.run(go())
    assert failed.error_type == error_type
    assert (failed.body["errorType"], failed.body["errorMessage"]) == (error_type, message)
    assert failed.body["trace"][0] == f"{error_type}: {message}"
    assert ended.exit_status == status


CONSOLE = """
exports.handler = async () => {
  console.trace("tracing");
  console.debug("debugging %d", 1);
  console.info({ order: 7, items: ["a"] });
  console.warn("careful", { left: 2 });
  const failure = new RangeError("out of range");
  failure.code = "E_RANGE";
  console.error("it failed", failure);
  console.fatal("the end");
  return "ok";
};
exports.fail = async () => { throw new TypeError("the handler refuses"); };
"""


class TestJsonConsole:
    """AWS_LAMBDA_LOG_FORMAT=JSON (LoggingConfig JSON): console lines as Lambda's Node.js
    runtime writes them, one JSON object each, those below AWS_LAMBDA_LOG_LEVEL left out."""

    @staticmethod
    def records(runner: Runner, level: str, handler: str = "index.handler") -> tuple[Outcome, list[Any]]:
        (outcome,), output = run(runner, handler, [{}], source=CONSOLE,
                                 variables={"AWS_LAMBDA_LOG_FORMAT": "JSON", "AWS_LAMBDA_LOG_LEVEL": level})
        return outcome, [json.loads(line) for line in output.splitlines() if line.startswith("{")]

    def test_console_methods_write_json_records(self, runner: Runner) -> None:
        outcome, records = self.records(runner, "TRACE")
        assert [record["level"] for record in records] == ["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"]
        assert all(record["requestId"] == outcome.request_id for record in records)
        assert records[1]["message"] == "debugging 1"
        assert records[2]["message"] == {"order": 7, "items": ["a"]}
        assert records[3]["message"] == "careful { left: 2 }"
        failed = records[4]
        assert failed["message"].startswith("it failed RangeError: out of range\n")
        assert (failed["errorType"], failed["errorMessage"]) == ("RangeError", "out of range")
        assert failed["stackTrace"][0] == "RangeError: out of range"

    @pytest.mark.parametrize(("level", "shown"), [("WARN", ["WARN", "ERROR", "FATAL"]), ("FATAL", ["FATAL"])])
    def test_levels_below_the_application_log_level_are_left_out(self, runner: Runner, level: str,
                                                                 shown: list[str]) -> None:
        assert [record["level"] for record in self.records(runner, level)[1]] == shown

    def test_an_invoke_error_is_one_json_record_with_the_error(self, runner: Runner) -> None:
        outcome, records = self.records(runner, "INFO", "index.fail")
        assert outcome.body["errorType"] == "TypeError"
        (logged,) = records
        assert (logged["level"], logged["errorType"], logged["errorMessage"]) == ("ERROR", "TypeError",
                                                                                  "the handler refuses")
        assert logged["message"].startswith("Invoke Error TypeError: the handler refuses")
