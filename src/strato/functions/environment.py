"""One execution environment: a runtime process, its Runtime API listener, its log pipe.

    starting --process launched--> initialising --first GET next--> idle
    idle --invoke--> busy --result or error posted--> idle
    initialising --invoke (cold start)--> initialising: the invocation waits for the first GET next
    any --timeout, exit, init error, kill--> dead

An init that fails (an init error posted, an exit, or `init_timeout` outlasted) with an
invocation waiting is logged (INIT_REPORT) and raises InitRetry to it: Lambda retries that init
within the invoke phase, so the pool starts a `suppressed` environment, whose init and
invocation share the function's timeout from launch (its REPORT's Duration covers both, with
no Init Duration; a failed retry is its invocation's error).

An idle environment can be lent (lending.py): its runtime's connection goes to an API worker,
which runs invocations on it directly and tells this side when each begins and ends, so that
timeouts, exits and the log stay here. While lent it is out of the pool's idle stack.

An environment runs one invocation at a time. Every wait is bounded: initialisation by
`init_timeout`, an invocation by its function's timeout; when either passes, the process is
killed. The process's exit ends whatever was in flight with Lambda's Runtime.ExitError (or
Runtime.OutOfMemory), and releases the listener and the pipe.

A result that needs no log tail is handed to the caller first; its END and REPORT lines (a
pipe drain, a memory read, a log write) follow in the loop's next callback, and always before
anything of the next invocation reaches the log.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import os
import secrets
import socket
import time
from collections.abc import Callable

from strato import jsontext

from . import failures, logs
from .app_log import LevelFilter
from .launcher import Launcher, LaunchSpec, Process
from .logs import EndMarks, LogFiles, Output
from .packages import merge_layers
from .records import FunctionVersion, Invocation, InvokeResult
from .runtime_api import Delivery, RuntimeApiListener, RuntimeChannel
from .runtime_api.channel import Waiter
from .runtimes import strato_client
from .system_log import SystemLog
from .variables import environment_variables

INIT_TIMEOUT = 10.0  # Lambda's limit on the init phase of an on-demand function
_DRAIN_READS = 64  # at most this many pipe reads (of 64 KiB) when a result arrives


class Undelivered(Exception):
    """The environment died before its runtime took the invocation: it can run elsewhere."""


class InitRetry(Exception):
    """The init failed with an invocation waiting: run it where the init is retried
    within the invocation's own timeout (a `suppressed` environment), which goes on with
    this environment's log `stream`, its `tail` the start of the invocation's log tail."""

    def __init__(self, stream: str, tail: bytes) -> None:
        super().__init__(stream)
        self.stream = stream
        self.tail = tail


class InitFailed(Exception):
    """The environment died before its runtime asked for a first invocation; the message says why."""


class State(enum.Enum):
    STARTING = "starting"
    INITIALISING = "initialising"
    IDLE = "idle"
    BUSY = "busy"
    DEAD = "dead"


class Environment:
    def __init__(self, function: FunctionVersion, files: LogFiles, variables: dict[str, str],
                 on_dead: Callable[[Environment], None], init_timeout: float = INIT_TIMEOUT,
                 retrying: InitRetry | None = None) -> None:
        self.function = function
        self.state = State.STARTING
        self.idle_since = 0.0
        self.pid = 0
        self.init_duration_ms: float | None = None
        self.init_error: str | None = None  # the error type of a failed init
        self._initialised: asyncio.Future[None] | None = None  # awaited by `initialised`
        self._variables = variables
        self._on_dead = on_dead
        self._retrying = retrying  # the failed init it retries (suppressed), in whose log stream it goes on
        self._init_timeout = float(function.timeout) if retrying is not None else init_timeout
        self._loop = asyncio.get_running_loop()
        self._channel = RuntimeChannel(self)
        logging = function.logging
        levels = LevelFilter(logging.application_log_level or "INFO") if logging.json else None
        self._output = Output(files, logging.group_of(function.name), levels=levels)
        if retrying is not None:
            self._output.follow(retrying.tail)
        self._system = SystemLog(function, function.arn.split(":")[3])
        self._listener: RuntimeApiListener | None = None
        self._process: Process | None = None
        self._pipe = -1
        self._launched_at = 0.0  # durations use perf_counter: uvloop's clock counts whole milliseconds
        self._started_at = 0.0
        self._timer: asyncio.TimerHandle | None = None
        self._invocation: Invocation | None = None
        self._outcome: asyncio.Future[InvokeResult] | None = None
        self._cold = False  # the invocation in flight waited for init (its REPORT has Init Duration)
        self._begun = False  # its START line is written
        self._delivered = False  # the runtime has it
        self._unlogged: tuple[str, float, float | None] | None = None  # END/REPORT still to write
        self._exited: asyncio.Task[None] | None = None
        self._doomed = False  # killed while starting: the process goes as soon as it exists
        self._lent_to: Waiter | None = None  # the runtime connection a borrower holds
        self._lending: Callable[[int], None] | None = None  # a borrower waits for the runtime to wait
        self._hear: Callable[[], object] | None = None  # reads the borrower's reports (while lent)
        self._answered_at: float | None = None  # when the borrower heard the result
        self._marks: EndMarks | None = None  # the runtime marks where each invocation's output ends

    async def start(self, launcher: Launcher) -> None:
        """starting -> initialising: listen, launch the runtime, read its output."""
        try:
            self._listener = listener = await RuntimeApiListener.open(self._channel)
            function = self.function
            if function.opt_dir is not None and not function.opt_dir.is_dir():  # made when configured, or collected
                await asyncio.to_thread(merge_layers, function.opt_dir, function.layer_dirs)
            theirs = None
            if strato_client(function.runtime):
                ours, theirs = socket.socketpair()
                await listener.adopt(ours)
                self._marks = EndMarks(secrets.token_hex(8))
            read_end, write_end = os.pipe()
            os.set_blocking(read_end, False)
            self._pipe = read_end
            variables = environment_variables(self._variables, function, listener.address,
                                              None if self._retrying is None else self._retrying.stream)
            self._output.stream = variables["AWS_LAMBDA_LOG_STREAM_NAME"]
            if not self._suppressed:
                self._output.note(self._system.init_start())
            spec = LaunchSpec(
                runtime=function.runtime, handler=function.handler, code_dir=function.code_dir,
                environment=variables,
                memory_mb=function.memory_size, tmp_mb=function.ephemeral_storage, log_fd=write_end,
                api_fd=None if theirs is None else theirs.fileno(),
                log_secret=None if self._marks is None else self._marks.secret, opt_dir=function.opt_dir)
            self._launched_at = time.perf_counter()
            try:
                self._process = await launcher.launch(spec)
            finally:
                os.close(write_end)  # the process holds its own copies
                if theirs is not None:
                    theirs.close()
        except BaseException:  # cancelled too: nothing of a half-started environment stays
            self._release()
            raise
        self.pid = self._process.pid
        listener.owner = self.pid
        listener.owner_uid = self._process.uid
        if self._doomed:
            self._process.kill()
        self._loop.add_reader(self._pipe, self._read_output)
        self.state = State.INITIALISING
        self._timer = self._loop.call_later(self._init_timeout, self._init_timed_out)
        self._exited = self._loop.create_task(self._watch_exit(self._process))

    async def initialised(self) -> None:
        """Wait until the runtime has initialised (its first GET next), with no invocation: an
        environment started ahead of demand. Raises InitFailed when it dies first."""
        if self.state is State.DEAD:
            raise InitFailed(self.init_error or failures.EXIT_ERROR)
        if self.state is not State.STARTING and self.state is not State.INITIALISING:
            return
        if self._initialised is None or self._initialised.done():  # done: a waiter was cancelled
            self._initialised = self._loop.create_future()
        await self._initialised

    async def invoke(self, invocation: Invocation) -> InvokeResult:
        """Run one invocation here (the environment must be idle, or initialising and unused).

        Raises Undelivered when a warm environment dies before its runtime takes the invocation."""
        self._log_end()
        deadline = None
        if self.state is State.IDLE:
            self.state = State.BUSY
            self._started_at = time.perf_counter()
            self._timer = self._loop.call_later(self.function.timeout, self._timed_out)
        elif self.state is not State.INITIALISING or self._invocation is not None:
            raise RuntimeError(f"environment is {self.state.value}, cannot invoke")
        else:
            self._cold = True
            if self._suppressed:  # the invocation's timeout runs from launch
                self._started_at = self._launched_at
                deadline = int((time.time() - time.perf_counter() + self._launched_at) * 1000) + \
                    self.function.timeout * 1000
        cold = self._cold
        self._invocation = invocation
        outcome: asyncio.Future[InvokeResult] = self._loop.create_future()
        self._outcome = outcome
        self._channel.submit(Delivery(invocation.request_id, invocation.payload, invocation.invoked_arn,
                                      self.function.timeout * 1000, invocation.client_context,
                                      stream=invocation.stream, deadline_ms=deadline))
        try:
            return await outcome
        finally:
            if cold:  # once the caller's answer is on its way (the rest of this callback sends it)
                self._loop.call_soon(self._settled)

    @property
    def _suppressed(self) -> bool:
        """A retry of a failed init, within an invocation (Lambda's suppressed init)."""
        return self._retrying is not None

    # Lending.

    @property
    def lent(self) -> bool:
        return self._lent_to is not None

    def lend(self, hand: Callable[[int], None], hear: Callable[[], object]) -> None:
        """Lend the runtime's connection as soon as the runtime waits on GET next (at once if it
        does): `hand` gets a duplicate of its descriptor. Nothing happens if the environment dies first.

        The borrower's reports are read when the lender gets round to them; `hear` reads them
        now, and runs before this environment's output or exit is judged, so that both land
        in the right invocation."""
        if self.state is not State.IDLE or self._lent_to is not None:
            raise RuntimeError(f"environment is {self.state.value}, cannot be lent")
        self._lending = hand
        self._hear = hear
        self._lend_if_waiting()

    def hear(self) -> None:
        """Read the borrower's reports now (while lent), so that this side's state is current."""
        if self._hear is not None:
            self._hear()

    def cancel_lending(self) -> None:
        """A lending that has not happened yet will not."""
        self._lending = None

    def begin_lent(self, request_id: str, log_tail: bool, at: float) -> asyncio.Future[InvokeResult]:
        """The borrower handed the runtime an invocation at `at` (perf_counter, one clock for
        every process): its deadline and log run from then.

        The future ends as a controller-run invocation would; its payload matters only when
        the runtime never answered the borrower (a timeout, an exit)."""
        if self._lent_to is None or self.state is not State.IDLE:
            raise RuntimeError(f"environment is {self.state.value}, not lent and idle")
        # The runtime may have this invocation already and some of its output may wait in the
        # pipe: the end marks keep that output for this invocation's START.
        self._log_end()
        self._invocation = Invocation(self.function, "", b"", request_id, log_tail=log_tail)
        outcome: asyncio.Future[InvokeResult] = self._loop.create_future()
        self._outcome = outcome
        self._started_at = at
        left = self.function.timeout - (time.perf_counter() - at)
        self._timer = self._loop.call_later(max(left, 0.0), self._timed_out)
        self.invocation_started(request_id)
        return outcome

    def end_lent(self, request_id: str, error_type: str | None, at: float) -> bool:
        """The runtime answered the borrower at `at`; False when the invocation had already
        ended here (a timeout, an exit)."""
        invocation = self._invocation
        if invocation is None or invocation.request_id != request_id:
            return False
        self._answered_at = at
        self.invocation_done(request_id, b"", error_type)
        return True

    def log_answered(self) -> None:
        """The borrower's reports just read held this environment's `end` and no `begin` after
        it: the runtime's output for the answered invocation is in the pipe (it wrote it before
        it answered) and nothing of the next one yet (`begin` goes before the invocation does),
        so its END and REPORT go in now, after what the pipe holds."""
        self._log_end()

    def take_back(self, waiting: bool) -> None:
        """The borrower is done; `waiting`: the runtime waits on GET next again."""
        waiter = self._lent_to
        self._lent_to = None
        self._hear = None
        if waiter is not None:
            waiter.take_back(waiting)
            self._channel.take_back(waiter, waiting)

    def _settled(self) -> None:
        if self._process is not None:
            self._process.settled()

    def kill(self) -> None:
        """Stop the environment; whatever is in flight ends as a runtime exit (idempotent)."""
        self._doomed = True
        if self._process is not None and self.state is not State.DEAD:
            self._process.kill()

    async def wait_closed(self) -> None:
        if self._exited is not None:
            await asyncio.shield(self._exited)

    # What the runtime tells the channel (RuntimeEvents).

    def runtime_waiting(self) -> None:
        if self._lending is not None:
            self._lend_if_waiting()

    def _lend_if_waiting(self) -> None:
        hand = self._lending
        waiter = self._channel.lend() if hand is not None and self.state is State.IDLE else None
        if hand is None or waiter is None:
            return
        self._lending = None
        self._lent_to = waiter
        hand(waiter.lend())

    def runtime_ready(self) -> None:
        self.init_duration_ms = (time.perf_counter() - self._launched_at) * 1000
        if not (self._suppressed and self._invocation is not None):  # else its timeout runs on
            self._cancel_timer()
        if self._invocation is None:
            self._become_idle()
        if self._initialised is not None and not self._initialised.done():
            self._initialised.set_result(None)

    def invocation_started(self, request_id: str) -> None:
        self.state = State.BUSY
        self._delivered = True
        self._begin()
        if self._timer is None:
            self._timer = self._loop.call_later(self.function.timeout, self._timed_out)

    def invocation_done(self, request_id: str, payload: bytes, error_type: str | None) -> None:
        self._cancel_timer()
        if error_type is not None:
            payload = failures.error_document(payload, error_type)
        function_error = "Unhandled" if error_type is not None else None
        invocation = self._invocation
        if invocation is not None and not invocation.log_tail:
            self._answer_first(invocation, payload, function_error)
        else:
            self._drain_output()
            self._finish(payload, function_error)
        self._become_idle()

    def init_failed(self, payload: bytes, error_type: str | None) -> None:
        self._cancel_timer()
        self._drain_output()
        document = failures.error_document(payload, error_type or "")
        self.init_error = _error_type(document, error_type)
        invocation = self._invocation
        if not self._init_ended("error", self.init_error) and invocation is not None:
            self._begin()
            if self.init_error == failures.INVALID_ENTRYPOINT:
                document, message = failures.invalid_entrypoint(invocation.request_id, document)
                self._output.note(f"{message}\n{self.init_error}\n".encode())
            self._finish(document, "Unhandled", "error", self.init_error)
        self._die()

    # Endings.

    def _timed_out(self) -> None:
        self._timer = None
        if self._hear is not None:
            self._hear()  # the borrower may have heard the result already
            if self._invocation is None:
                return
        invocation = self._invocation
        if invocation is not None:
            self._channel.withdraw()
            self._drain_output()
            self._begin()
            timeout = float(self.function.timeout)
            self._finish(failures.timed_out(invocation.request_id, timeout), "Unhandled", "timeout",
                         after=failures.timeout_log_line(invocation.request_id, timeout))
        self._die()

    def _init_timed_out(self) -> None:
        """Init outlasted its limit: a waiting invocation goes where the init is retried
        (InitRetry); in a suppressed environment, init and invocation time out together, worded
        with the function's timeout."""
        self._timer = None
        self.init_error = failures.TIMED_OUT
        self._drain_output()
        if not self._suppressed and self._init_ended("timeout"):
            return
        if self._invocation is not None:
            self._begin()
            self._started_at = self._launched_at
            self._cold = False
        self._timed_out()

    def _init_ended(self, status: str, error_type: str | None = None) -> bool:
        """The init failed by `status` (timeout, error): INIT_REPORT says so. True when its
        waiting invocation went where the init is retried (InitRetry) and this environment
        died; Lambda retries a failed init once, within the invocation (the retry, in a
        suppressed environment, reports its own failure as the invoke phase's)."""
        self.init_duration_ms = (time.perf_counter() - self._launched_at) * 1000
        phase = "invoke" if self._suppressed else "init"
        self._output.note(self._system.init_report(self.init_duration_ms, status, phase, error_type))
        outcome = self._outcome
        if self._suppressed or self._doomed or self._invocation is None or outcome is None:
            return False
        self._invocation = self._outcome = None
        self._cold = False
        outcome.set_exception(InitRetry(self._output.stream, self._output.flush()))
        self._die()
        return True

    async def _watch_exit(self, process: Process) -> None:
        status = await process.wait()
        self.hear()
        self._log_end()
        self._drain_output()
        invocation = self._invocation
        outcome = self._outcome
        if invocation is not None and outcome is not None and not self._delivered and not self._cold:
            self._invocation = self._outcome = None
            if not outcome.done():
                outcome.set_exception(Undelivered())
        elif invocation is not None:
            error_type = failures.exit_type(status, self._max_memory(), self.function.memory_size)
            # one that died before asking for its first invocation failed its init: retried, if it may be
            if self.state is not State.INITIALISING or not self._init_ended("error", error_type):
                self._begin()
                message = failures.exit_message(invocation.request_id, status)
                self._output.note(f"{message}\n{error_type}\n".encode())
                self._finish(failures.exited(invocation.request_id, error_type, status), "Unhandled",
                             "error", error_type)
        elif self.state is State.INITIALISING and not self._doomed:  # started ahead of demand: its init failed
            self.init_error = failures.exit_type(status, self._max_memory(), self.function.memory_size)
            self._init_ended("error", self.init_error)
        self._die()
        self._release()
        self._rest_of_output()
        self._output.flush()

    def _finish(self, payload: bytes, function_error: str | None, status: str | None = None,
                error_type: str | None = None, after: bytes = b"") -> None:
        """Log END and REPORT for the invocation in flight and hand its result to the caller."""
        invocation = self._invocation
        outcome = self._outcome
        assert invocation is not None
        assert outcome is not None
        self._invocation = None
        self._outcome = None
        duration, init = self._invoke_phase()
        self._write_end(invocation.request_id, duration, init, status, error_type)
        if after:
            self._output.note(after)
        tail = self._output.flush()
        if not outcome.done():
            outcome.set_result(InvokeResult(payload, self.function.version, function_error,
                                            logs.log_tail(tail) if invocation.log_tail else b""))

    def _answer_first(self, invocation: Invocation, payload: bytes, function_error: str | None) -> None:
        """The result goes to the caller now; its END and REPORT are written in the next callback."""
        outcome = self._outcome
        assert outcome is not None
        self._invocation = None
        self._outcome = None
        duration, init = self._invoke_phase()
        if not outcome.done():
            outcome.set_result(InvokeResult(payload, self.function.version, function_error))
        self._unlogged = (invocation.request_id, duration, init)
        self._loop.call_soon(self._log_end)

    def _log_end(self) -> None:
        """Write the END and REPORT an answered invocation still owes the log (if any), after
        what the runtime wrote before it answered (with end marks, output past the invocation's
        mark waits for the next START)."""
        unlogged = self._unlogged
        if unlogged is not None:
            self._drain_output()  # while `_collecting` still names it
            self._unlogged = None
            self._write_end(*unlogged)
            self._output.flush()

    def _invoke_phase(self) -> tuple[float, float | None]:
        """The finished invocation's duration and, for a cold one, the init duration (ms)."""
        ended = self._answered_at if self._answered_at is not None else time.perf_counter()
        self._answered_at = None
        duration = (ended - self._started_at) * 1000
        init = self.init_duration_ms if self._cold and not self._suppressed else None
        self._cold = self._begun = self._delivered = False
        return duration, init

    def _write_end(self, request_id: str, duration: float, init: float | None, status: str | None = None,
                   error_type: str | None = None) -> None:
        output = self._output
        output.note(self._system.end(request_id, duration, status, error_type))
        output.note(self._system.report(request_id, duration, self._max_memory(), init, status, error_type))
        if self._marks is not None:
            self._marks.ended(request_id)

    def _begin(self) -> None:
        """START: the invoke phase of the invocation in flight begins (once); a warm one began
        when it was submitted, a cold one begins now, after init."""
        if not self._begun and self._invocation is not None:
            self._begun = True
            if self._cold and not self._suppressed:
                self._started_at = time.perf_counter()
            self._output.note(self._system.start(self._invocation.request_id))
            if self._marks is not None:
                self._output.add(self._marks.started(self._invocation.request_id))

    def _become_idle(self) -> None:
        if self.state is not State.DEAD:
            self.state = State.IDLE
            self.idle_since = self._loop.time()

    def _die(self) -> None:
        """-> dead: nothing more reaches the runtime; the process is killed."""
        if self.state is State.DEAD:
            return
        self.state = State.DEAD
        self._lending = None
        self._cancel_timer()
        self._channel.close()
        if self._process is not None:
            self._process.kill()
        self._fail_initialised()
        self._on_dead(self)

    def _release(self) -> None:
        if self._listener is not None:
            self._listener.close()
        if self._pipe >= 0:
            self._loop.remove_reader(self._pipe)
            os.close(self._pipe)
            self._pipe = -1
        if self.state is not State.DEAD:
            self.state = State.DEAD
            self._fail_initialised()
            self._on_dead(self)

    def _fail_initialised(self) -> None:
        if self._initialised is not None and not self._initialised.done():
            self._initialised.set_exception(InitFailed(self.init_error or failures.EXIT_ERROR))

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _max_memory(self) -> int:
        return self._process.max_memory_used_mb() if self._process is not None else 0

    # Output.

    def _read_output(self) -> None:
        self.hear()
        try:
            data = os.read(self._pipe, 65536)
        except BlockingIOError:
            return
        if data:
            self._take(data)
        else:  # every writer is gone
            self._loop.remove_reader(self._pipe)

    def _take(self, data: bytes) -> None:
        """Runtime output, to the log of the invocation it belongs to (by its end marks, if the
        runtime writes them: some of it may wait for a later invocation's START)."""
        marks = self._marks
        self._output.add(data if marks is None else marks.take(data, self._collecting()))

    def _collecting(self) -> str | None:
        """The invocation whose START is written and END is not."""
        if self._unlogged is not None:
            return self._unlogged[0]
        invocation = self._invocation
        return invocation.request_id if invocation is not None and self._begun else None

    def _rest_of_output(self) -> None:
        """The runtime is gone: output no invocation claimed goes to the log as it is."""
        if self._marks is not None:
            self._output.add(self._marks.rest())

    def _drain_output(self) -> None:
        """Read what the runtime wrote before it answered, so it lands in this invocation's log."""
        if self._pipe < 0:
            return
        for _ in range(_DRAIN_READS):
            try:
                data = os.read(self._pipe, 65536)
            except BlockingIOError:
                return
            if not data:
                return
            self._take(data)


def _error_type(document: bytes, header_type: str | None) -> str:
    """The errorType of an error document, for the REPORT line."""
    with contextlib.suppress(ValueError, AttributeError):
        found = jsontext.loads(document).get("errorType")
        if isinstance(found, str):
            return found
    return header_type or failures.UNKNOWN
