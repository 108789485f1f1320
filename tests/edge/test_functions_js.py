"""The JavaScript engine CloudFront functions run on: what a handler returns (or resolves to),
its console.log lines, the errors and limits that stop it, and a fresh runtime for every run."""

from __future__ import annotations

import subprocess
import sys

from strato.edge import functions_js
from strato.edge.functions_js import FunctionError, FunctionThrottled, compile_error, run


def test_the_handler_gets_the_event_and_its_value_comes_back() -> None:
    outcome = run("function handler(event) { return {uri: event.request.uri + 'index.html'}; }",
                  {"request": {"uri": "/docs/"}})
    assert outcome.error is None
    assert outcome.value == {"uri": "/docs/index.html"}
    assert outcome.cpu_seconds > 0


def test_an_async_handler_is_awaited() -> None:
    outcome = run("async function handler(event) { var n = await Promise.resolve(41); return {n: n + 1}; }", {})
    assert outcome.value == {"n": 42}


def test_console_log_lines_are_kept_and_bounded() -> None:
    outcome = run("function handler(e) { console.log('seen', {a: 1}, 2); return e; }", {})
    assert outcome.logs == ('seen {"a":1} 2',)
    flood = run("function handler(e) { for (var i = 0; i < 5000; i++) console.log('0123456789'); return e; }", {})
    assert sum(len(line) for line in flood.logs) == functions_js.MAX_LOGS


def test_nothing_set_by_one_run_is_seen_by_the_next() -> None:
    code = """var runs = (typeof runs === 'number') ? runs + 1 : 1;
function handler(e) { globalThis.calls = (globalThis.calls || 0) + 1; return [runs, globalThis.calls]; }"""
    assert [run(code, {}).value for _ in range(3)] == [[1, 1]] * 3


def test_a_thrown_error_or_a_rejected_promise_is_the_functions_error() -> None:
    thrown = run("function handler(e) { throw new TypeError('bad event'); }", {})
    assert isinstance(thrown.error, FunctionError)
    assert str(thrown.error) == "TypeError: bad event"
    rejected = run("function handler(e) { return Promise.reject(new Error('later')); }", {})
    assert str(rejected.error) == "Error: later"
    missing = run("function not_a_handler(e) { return e; }", {})
    assert "handler" in str(missing.error)


def test_an_endless_loop_is_stopped_at_the_time_limit() -> None:
    outcome = run("function handler(e) { console.log('started'); while (true) {} }", {})
    assert isinstance(outcome.error, FunctionThrottled)
    assert outcome.logs == ("started",)


def test_memory_and_stack_are_bounded() -> None:
    hungry = run("function handler(e) { return new ArrayBuffer(16 * 1024 * 1024).byteLength; }", {})
    assert isinstance(hungry.error, FunctionError)
    assert not isinstance(hungry.error, FunctionThrottled)
    deep = run("function handler(e) { return handler(e); }", {})
    assert "stack overflow" in str(deep.error)


def test_code_is_compiled_without_being_run() -> None:
    assert compile_error("function handler(event) { return event; }") is None
    assert compile_error("while (true) {}") is None  # compiled, never run
    error = compile_error("function handler(event { return event; }")
    assert error is not None
    assert error.startswith("SyntaxError")


def test_the_time_limit_is_for_the_whole_run_not_for_each_step() -> None:
    """Each step of an async handler (an await resumed) is short, but together they are past the
    limit: the run is throttled, not let through step by step."""
    code = """function spin(ms) { var end = Date.now() + ms; while (Date.now() < end) {} }
async function handler(e) { for (var i = 0; i < 50; i++) { spin(2); await null; } return 'done'; }"""
    outcome = run(code, {})
    assert isinstance(outcome.error, FunctionThrottled)
    assert outcome.value is None


HOSTILE = {
    "a getter on a global the engine reads": "Object.defineProperty(globalThis, '__strato_error', "
                                             "{get: function () { for (;;) {} }});\nfunction handler(e) { return 1; }",
    "an error's toString replaced": "Error.prototype.toString = function () { for (;;) {} };\n"
                                    "function handler(e) { for (;;) {} }",
    "a thrown object's toString": "throw {toString: function () { for (;;) {} }};\nfunction handler(e) { return 1; }",
    "toPrimitive on every object": "Object.prototype[Symbol.toPrimitive] = function () { for (;;) {} };\n"
                                   "function handler(e) { for (;;) {} }",
    "a value's toJSON throwing such an object": "function handler(e) { return {toJSON: function () { "
                                                "throw {toString: function () { for (;;) {} }}; }}; }",
}


def test_no_code_keeps_the_engine_running_past_its_limit() -> None:
    """What the engine reads back (globals, the error that stopped the code) runs none of the
    code's own functions, which would run with no time limit and never give the process back.
    Each run is in a child process, so that a run that never ends fails this test instead of
    hanging it."""
    script = ("import sys\nfrom strato.edge.functions_js import run\n"
              "outcome = run(sys.stdin.read(), {})\nprint(outcome.error is None or outcome.error.args[0])")
    for case, code in HOSTILE.items():
        ran = subprocess.run([sys.executable, "-c", script], input=code, capture_output=True, text=True, timeout=60,
                             check=True)
        assert ran.stdout.strip(), case


def test_a_value_nested_deeper_than_python_reads_is_the_functions_error() -> None:
    outcome = run("function handler(e) { var a = []; for (var i = 0; i < 1500; i++) a = [a]; return a; }", {},
                  time_limit=5.0)  # the depth is the point, not the time: a loaded machine may take longer than 5 ms
    assert isinstance(outcome.error, FunctionError)
    assert "nested" in str(outcome.error)


def test_a_run_with_no_time_left_is_throttled_not_raised() -> None:
    outcome = run("function handler(e) { return 1; }", {}, time_limit=0)
    assert isinstance(outcome.error, FunctionThrottled)
