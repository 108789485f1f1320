"""The JavaScript engine CloudFront Functions run on: QuickJS (the PyPI package `quickjs`), one
fresh runtime per invocation, so nothing one invocation leaves in its globals is seen by the
next. Each run is bounded as CloudFront bounds its functions
(DeveloperGuide/cloudfront-function-restrictions.html): CPU time (TIME_LIMIT for the whole run,
measured by the engine's interrupt handler, which counts each call into the engine from zero: each
call gets what the run has left), memory (MEMORY_LIMIT) and stack. The code defines
`handler(event)`, which returns a value or a promise of one (cloudfront-js-2.0 allows async
handlers); `console.log` lines are kept (truncated at 10 KB, as CloudFront truncates them).

Values cross as JSON text: this module knows nothing of HTTP or of the event's shape."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

import quickjs

TIME_LIMIT = 0.005  # seconds of CPU per invocation
MEMORY_LIMIT = 4 * 1024 * 1024
STACK_LIMIT = 256 * 1024
MAX_LOGS = 10 * 1024
MAX_PENDING_JOBS = 10_000  # promise reactions run per invocation, within the time limit too
# console.log lines stay in the runtime until the run ends (the engine cannot call into Python
# while a time limit is set).
_PRELUDE = """
var __strato_logs = [];
var console = (function (logs, room) {
  function text(value) {
    if (typeof value === 'string') return value;
    try { var encoded = JSON.stringify(value); return encoded === undefined ? String(value) : encoded; }
    catch (e) { return String(value); }
  }
  function write() {
    var line = Array.prototype.map.call(arguments, text).join(' ');
    if (room > 0) logs.push(line.substring(0, room));
    room -= line.length;
  }
  return {log: write, info: write, warn: write, error: write, debug: write};
})(__strato_logs, MAX_LOGS);
""".replace("MAX_LOGS", str(MAX_LOGS))
_INVOKE = """
(function () {
  try {
    Promise.resolve(handler(JSON.parse(__strato_event))).then(
      function (value) { __strato_output = JSON.stringify(value === undefined ? null : value); },
      function (error) { __strato_error = String(error); });
  } catch (error) { __strato_error = String(error); }
})();
"""


class FunctionError(Exception):
    """The code failed: it threw, returned nothing JSON can carry, or ran out of memory or stack."""


class FunctionThrottled(FunctionError):
    """The code ran past its CPU time limit."""


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a run produced: the handler's value (decoded from JSON) or the error it failed with;
    its console.log lines; and the CPU it used, in seconds."""

    value: Any
    error: FunctionError | None
    logs: tuple[str, ...]
    cpu_seconds: float


def compile_error(code: str) -> str | None:
    """Why `code` does not compile as a function's source (a SyntaxError's message), or None.
    It is compiled, not run: `new Function(code)` parses the source as a function body."""
    context = _context()
    context.set("__strato_source", code)
    try:
        context.eval("new Function(__strato_source); undefined")
    except quickjs.JSException as exc:
        return _message(exc)
    return None


def run(code: str, event: Any, *, time_limit: float = TIME_LIMIT) -> Outcome:
    """Run `handler(event)` in `code`, in a runtime of its own, within the limits."""
    started = time.process_time()
    context = _context()
    context.set("__strato_event", json.dumps(event))
    error: FunctionError | None = None
    value: Any = None

    def budgeted() -> quickjs.Context:
        """The context, with what is left of the run's CPU time as the next call's limit."""
        left = time_limit - (time.process_time() - started)
        if left <= 0:
            raise FunctionThrottled("InternalError: interrupted")
        context.set_time_limit(left)
        return context

    try:
        budgeted().eval(_PRELUDE)
        budgeted().eval(code)
        budgeted().eval(_INVOKE)
        for _ in range(MAX_PENDING_JOBS):
            if not budgeted().execute_pending_job():
                break
        failure, output = context.get("__strato_error"), context.get("__strato_output")
        if isinstance(failure, str):
            error = FunctionError(failure)
        elif isinstance(output, str):
            value = json.loads(output)
        else:
            error = FunctionError("The handler did not return (or resolve to) a value.")
    except quickjs.JSException as exc:
        message = _message(exc)
        error = FunctionThrottled(message) if "interrupted" in message else FunctionError(message)
    except quickjs.StackOverflow as exc:
        error = FunctionError(f"InternalError: stack overflow ({exc})")
    except FunctionThrottled as exc:
        error = exc
    context.set_time_limit(time_limit)  # for reading the logs
    return Outcome(value, error, _logs(context), time.process_time() - started)


def _logs(context: quickjs.Context) -> tuple[str, ...]:
    """The console.log lines a run wrote (none if its runtime can no longer say: out of memory)."""
    try:
        text = context.eval("JSON.stringify(typeof __strato_logs === 'object' ? __strato_logs : [])")
    except (quickjs.JSException, quickjs.StackOverflow):
        return ()
    lines = json.loads(text) if isinstance(text, str) else []
    return tuple(str(line) for line in lines)


def _context() -> quickjs.Context:
    context = quickjs.Context()
    context.set_memory_limit(MEMORY_LIMIT)
    context.set_max_stack_size(STACK_LIMIT)
    return context


def _message(exc: quickjs.JSException) -> str:
    """The JavaScript error's first line ('SyntaxError: unexpected token...'); the engine gives
    none when it ran out of memory."""
    text = str(exc.args[0]) if exc.args else ""
    first = text.strip().splitlines()[0] if text.strip() else ""
    if not first or first == "null" or first.startswith("(Failed obtaining"):
        return "InternalError: out of memory"
    return first
