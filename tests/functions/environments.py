"""Running one environment by hand for the sandbox, zygote and runtime client tests: a real
Runtime API listener (functions/runtime_api) per environment, a launcher, invocations."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import textwrap
import uuid
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

import strato
from strato.functions.launcher import Launcher, LaunchSpec, Process
from strato.functions.runtime_api import Delivery, RuntimeApiListener, RuntimeChannel

T = TypeVar("T")
ARN = "arn:aws:lambda:us-east-1:000000000000:function:fn"
RUN_CLIENT = "import sys; from strato.functions import runtime_client; sys.exit(runtime_client.run())"
SOURCE = str(Path(strato.__file__).parents[1])  # the runtime client run is the one under test
WAIT = 20.0  # seconds: only a bound against hanging, never a measurement


class Recorder:
    """RuntimeEvents that queue what the runtime did."""

    def __init__(self) -> None:
        self.ready = asyncio.Event()
        self.outcomes: asyncio.Queue[tuple[str, bytes, str | None]] = asyncio.Queue()

    def runtime_ready(self) -> None:
        self.ready.set()

    def invocation_started(self, request_id: str) -> None:
        return None

    def runtime_waiting(self) -> None:
        return None

    def invocation_done(self, request_id: str, payload: bytes, error_type: str | None) -> None:
        self.outcomes.put_nowait((request_id, payload, error_type))

    def init_failed(self, payload: bytes, error_type: str | None) -> None:
        self.outcomes.put_nowait(("init", payload, error_type))


class Outcome:
    def __init__(self, request_id: str, payload: bytes, error_type: str | None, exit_status: int | None) -> None:
        self.request_id = request_id
        self.raw = payload
        self.error_type = error_type
        self.exit_status = exit_status  # set when the environment ended instead of answering

    @property
    def body(self) -> Any:
        return json.loads(self.raw)


class Environment:
    def __init__(self, process: Process, listener: RuntimeApiListener, channel: RuntimeChannel,
                 recorder: Recorder, log: Path) -> None:
        self.process = process
        self.listener = listener
        self.channel = channel
        self.recorder = recorder
        self.log = log

    async def invoke(self, event: Any = None, *, timeout_ms: int = 10_000, client_context: str | None = None,
                     identity: str | None = None) -> Outcome:
        request_id = str(uuid.uuid4())
        self.channel.submit(Delivery(request_id, json.dumps(event).encode(), ARN + ":$LATEST", timeout_ms,
                                     client_context, identity))
        return await self.outcome()

    async def outcome(self) -> Outcome:
        """The next answer (or init error) from the runtime, or its exit status if it died first."""
        answer = asyncio.ensure_future(self.recorder.outcomes.get())
        exited = asyncio.ensure_future(self.process.wait())
        done, _ = await asyncio.wait([answer, exited], timeout=WAIT, return_when=asyncio.FIRST_COMPLETED)
        if answer in done:
            exited.cancel()
            return Outcome(*answer.result(), None)
        answer.cancel()
        if exited in done:
            return Outcome("", b"", None, exited.result())
        exited.cancel()
        raise TimeoutError("the environment neither answered nor exited")

    def output(self) -> str:
        """What the runtime wrote, as written (carriage returns kept)."""
        return self.log.read_bytes().decode(errors="replace")

    async def stop(self) -> int:
        self.process.kill()
        status = await asyncio.wait_for(self.process.wait(), WAIT)
        self.listener.close()
        return status


class Runner:
    """An event loop and a launcher kept for a whole test module (a zygote starts once)."""

    def __init__(self, launcher: Launcher, root: Path, loop: asyncio.AbstractEventLoop) -> None:
        self.launcher = launcher
        self.root = root
        self.loop = loop

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return self.loop.run_until_complete(coroutine)

    def code(self, source: str, *, module: str | None = "app", files: dict[str, str] | None = None) -> Path:
        """A code directory: `source` as MODULE.py (none when module is None) and `files`."""
        directory = self.root / f"code-{uuid.uuid4().hex[:8]}"
        directory.mkdir(mode=0o755)
        if module is not None:
            (directory / f"{module}.py").write_text(textwrap.dedent(source))
        for name, text in (files or {}).items():
            (directory / name).parent.mkdir(mode=0o755, exist_ok=True)
            (directory / name).write_text(textwrap.dedent(text))
            os.chmod(directory / name, 0o755)
        return directory

    async def start(self, code_dir: Path, handler: str = "app.handler", *, runtime: str = "python3.11",
                    memory_mb: int = 128, tmp_mb: int = 16, environment: dict[str, str] | None = None) -> Environment:
        recorder = Recorder()
        channel = RuntimeChannel(recorder)
        listener = await RuntimeApiListener.open(channel)
        log = self.root / f"log-{uuid.uuid4().hex[:8]}"
        variables = {
            "AWS_LAMBDA_RUNTIME_API": listener.address, "_HANDLER": handler, "LAMBDA_TASK_ROOT": "/var/task",
            "AWS_LAMBDA_FUNCTION_NAME": "fn", "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(memory_mb), "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/fn",
            "AWS_LAMBDA_LOG_STREAM_NAME": "2026/11/27/[$LATEST]0123", "AWS_REGION": "us-east-1",
            **(environment or {}),
        }
        sink = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            spec = LaunchSpec(runtime, handler, code_dir, variables, memory_mb, tmp_mb, sink)
            process = await self.launcher.launch(spec)
        finally:
            os.close(sink)
        listener.owner = process.pid  # only the environment's processes may talk to its Runtime API
        listener.owner_uid = process.uid
        return Environment(process, listener, channel, recorder, log)


async def launch_in_child(command: list[str], base: Path, runtime: str, event: Any,
                          **spawn: Any) -> tuple[dict[str, Any], bytes, dict[str, Any]]:
    """Launch one environment from another process (launch_one.py run by `command`, with
    `spawn`'s user or environment) on base/work, base/hidden and base/code, invoke it once with
    `event`, stop it. Returns what the child said at start (protections), the answer, and what
    it said at the end (the exit status)."""
    recorder = Recorder()
    channel = RuntimeChannel(recorder)
    listener = await RuntimeApiListener.open(channel, restricted=False)  # the pid is the child's to know
    child = await asyncio.create_subprocess_exec(
        *command, str(Path(__file__).with_name("launch_one.py")), str(base / "work"), str(base / "hidden"),
        str(base / "code"), listener.address, runtime,
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, **spawn)
    assert child.stdin is not None
    assert child.stdout is not None
    try:
        started = json.loads(await asyncio.wait_for(child.stdout.readline(), WAIT))
        channel.submit(Delivery("r-1", json.dumps(event).encode(), ARN, 10_000))
        _, payload, _ = await asyncio.wait_for(recorder.outcomes.get(), WAIT)
        child.stdin.close()
        ended = json.loads(await asyncio.wait_for(child.stdout.readline(), WAIT))
    finally:
        if child.returncode is None:
            child.kill()
        await child.wait()
        listener.close()
    return started, payload, ended


class PlainProcess:
    """The runtime client as an ordinary subprocess (no sandbox): for testing the client alone."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self._process = process
        self.pid = process.pid
        self.uid: int | None = None  # strato's own, shared by every such runtime

    async def wait(self) -> int:
        return await self._process.wait()

    def kill(self) -> None:
        if self._process.returncode is None:
            self._process.kill()

    def settled(self) -> None:
        return None  # nothing is put off: no spares

    def max_memory_used_mb(self) -> int:
        return 0


class PlainLauncher:
    """Runs strato's runtime client with strato's interpreter in the code directory."""

    protections = "none (tests of the runtime client alone)"

    def runtimes(self) -> frozenset[str]:
        return frozenset({"python3.11"})

    async def launch(self, spec: LaunchSpec) -> PlainProcess:
        environment = {**spec.environment, "LAMBDA_TASK_ROOT": str(spec.code_dir), "PATH": os.environ["PATH"],
                       "PYTHONPATH": SOURCE}
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-c", RUN_CLIENT,
            cwd=spec.code_dir, env=environment, stdin=asyncio.subprocess.DEVNULL, stdout=spec.log_fd,
            stderr=spec.log_fd)
        return PlainProcess(process)

    async def close(self) -> None:
        return None
