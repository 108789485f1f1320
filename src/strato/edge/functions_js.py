"""The JavaScript engine CloudFront Functions run on: QuickJS (the PyPI package `quickjs`), one
fresh runtime per invocation, so nothing one invocation leaves in its globals is seen by the
next. Each run is bounded as CloudFront bounds its functions
(DeveloperGuide/cloudfront-function-restrictions.html): CPU time (TIME_LIMIT for the whole run;
the engine's interrupt handler counts each call into the engine from zero, so each call gets what
the run has left, see run), memory (MEMORY_LIMIT) and stack. The code defines
`handler(event)`, which returns a value or a promise of one (cloudfront-js-2.0 allows async
handlers); `console.log` lines are kept (truncated at 10 KB, as CloudFront truncates them).

Values cross as JSON text: this module knows nothing of HTTP or of the event's shape."""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from typing import Any

import quickjs

TIME_LIMIT = 0.005  # seconds of CPU per invocation
ENGINE_SLACK = 2  # the engine's clock is the process's: room for one other busy thread (see run)
MEMORY_LIMIT = 4 * 1024 * 1024
STACK_LIMIT = 256 * 1024
MAX_LOGS = 10 * 1024
MAX_PENDING_JOBS = 10_000  # promise reactions run per invocation, within the time limit too
_HALF_PAIR = re.compile("[\ud800-\udfff]")
# The run, set up before the code is: `control('run')` compiles the code as a function body (as
# compile_error checks it), calls its handler and awaits it; `control('read')` answers the result
# and the console.log lines as JSON. Results and lines live in closures the code cannot reach,
# kept as primitive strings, so reading them runs none of its code. Whatever it throws is caught
# here: only the engine's own uncatchable `InternalError: interrupted` (or out-of-memory) reaches
# the engine's Python side, which turns it into text with no time limit set, so that error's
# prototype is locked first (a toString of the code's own would otherwise run there unbounded).
_SETUP = """
(function (source, eventText) {
  var make = Function, parse = JSON.parse, quote = JSON.stringify, str = String, P = Promise;
  var cut = Function.prototype.call.bind(String.prototype.substring);
  var locked = InternalError.prototype;
  Object.defineProperty(locked, Symbol.toPrimitive, {value: undefined});
  Object.defineProperty(locked, 'toString', {value: Error.prototype.toString});
  Object.freeze(locked);
  var room = MAX_LOGS, logged = '', failure = null, output = null;
  function text(value) {
    try { return str(value); } catch (e) { return 'Error'; }
  }
  function shown(value) {
    if (typeof value === 'string') return value;
    try { var encoded = quote(value); if (typeof encoded === 'string') return encoded; } catch (e) {}
    return text(value);
  }
  function write() {
    var line = '';
    for (var i = 0; i < arguments.length; i++) line += (i ? ' ' : '') + shown(arguments[i]);
    if (room > 0) logged += (logged ? ',' : '') + quote(cut(line, 0, room));
    room -= line.length;
  }
  function resolved(value) {
    try {
      var encoded = quote(value === undefined ? null : value);
      if (typeof encoded === 'string') output = encoded;
    } catch (error) { failure = text(error); }
  }
  function rejected(error) { failure = text(error); }
  globalThis.console = {log: write, info: write, warn: write, error: write, debug: write};
  return function (what) {
    if (what === 'read') {
      return '{"failure":' + quote(failure) + ',"output":' + quote(output) + ',"logs":[' + logged + ']}';
    }
    try {
      var handler = make(source + '\\n;return typeof handler === "function" ? handler : undefined;')();
      if (typeof handler !== 'function') throw new ReferenceError('handler is not defined');
      P.resolve(handler(parse(eventText))).then(resolved, rejected);
    } catch (error) { failure = text(error); }
  };
})
""".replace("MAX_LOGS", str(MAX_LOGS))


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
    """Run `handler(event)` in `code`, in a runtime of its own, within the limits (the time limit
    counting from when the code starts: the setup before it is the engine's own, and bounded).
    The run's CPU is this thread's; the engine's interrupt counts the whole process's, so the
    limit it is given is ENGINE_SLACK times what the run has left: other busy threads of the
    process (the edge's disk writer, SQLite reads) do not throttle a function early, and a
    runaway call is still stopped."""
    context = _context()
    control = context.eval(_SETUP)(code, json.dumps(event))
    started = time.thread_time()
    error: FunctionError | None = None
    value: Any = None

    def budget() -> None:
        """What is left of the run's CPU time, as the next call's limit."""
        left = time_limit - (time.thread_time() - started)
        if left <= 0:
            raise FunctionThrottled("InternalError: interrupted")
        context.set_time_limit(left * ENGINE_SLACK)

    try:
        budget()
        control("run")
        for _ in range(MAX_PENDING_JOBS):
            budget()
            if not context.execute_pending_job():
                break
    except quickjs.JSException as exc:
        message = _message(exc)
        error = FunctionThrottled(message) if "interrupted" in message else FunctionError(message)
    except quickjs.StackOverflow as exc:
        error = FunctionError(f"InternalError: stack overflow ({exc})")
    except FunctionThrottled as exc:
        error = exc
    failure, output, logs = _read(context, control, time_limit)
    if error is None and failure is not None:
        error = FunctionError(failure)
    elif error is None and output is not None:
        try:
            value = json.loads(output)
        except RecursionError:
            error = FunctionError("The handler's value is nested too deeply.")
    elif error is None:
        error = FunctionError("The handler did not return (or resolve to) a value.")
    return Outcome(value, error, logs, time.thread_time() - started)


def _read(context: quickjs.Context, control: quickjs.Object,
          time_limit: float) -> tuple[str | None, str | None, tuple[str, ...]]:
    """The run's failure, its value as JSON and its console.log lines (nothing if its runtime
    can no longer say: out of memory)."""
    context.set_time_limit(time_limit)
    try:
        text = control("read")
    except (quickjs.JSException, quickjs.StackOverflow):
        return None, None, ()
    found = json.loads(text)
    failure = found["failure"]
    return (None if failure is None else _whole(failure)), found["output"], tuple(map(_whole, found["logs"]))


def _whole(text: str) -> str:
    """`text` with each half of a surrogate pair (a JavaScript string cut inside one) replaced by
    U+FFFD, so that it has a UTF-8 form."""
    return _HALF_PAIR.sub("\ufffd", text)


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
