"""What the functions tests share: a launcher that starts AWS's own runtime interface client
(`python -m awslambdaric module.handler`) as a plain subprocess, function code written to a
temporary directory, and invocations."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import textwrap
import uuid
from pathlib import Path

import psutil

from strato.functions.launcher import LaunchSpec
from strato.functions.records import FunctionVersion, Invocation

REGION = "us-east-1"
ARN = "arn:aws:lambda:us-east-1:000000000000:function:"


class SubprocessProcess:
    """A runtime in its own session, so that killing it kills everything it started."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self._process = process
        self.pid = process.pid
        self.uid: int | None = None  # strato's own, shared by every such runtime
        self._peak_mb = 0

    async def wait(self) -> int:
        return await self._process.wait()

    def kill(self) -> None:
        if self._process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.pid, signal.SIGKILL)

    def settled(self) -> None:
        return None  # nothing is put off: no spares

    def max_memory_used_mb(self) -> int:
        try:
            peak = psutil.Process(self.pid).memory_info().rss // (1024 * 1024)
        except psutil.Error:
            peak = 0
        self._peak_mb = max(self._peak_mb, peak)
        return self._peak_mb


class SubprocessLauncher:
    protections = "none (a plain subprocess, for tests)"

    def __init__(self) -> None:
        self.specs: list[LaunchSpec] = []

    def runtimes(self) -> frozenset[str]:
        return frozenset({"python3.11"})

    async def launch(self, spec: LaunchSpec) -> SubprocessProcess:
        self.specs.append(spec)
        environment = dict(spec.environment, PYTHONPATH=str(spec.code_dir), PATH=os.environ["PATH"])
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "awslambdaric", spec.handler, cwd=spec.code_dir, env=environment,
            stdin=asyncio.subprocess.DEVNULL, stdout=spec.log_fd, stderr=spec.log_fd, start_new_session=True)
        return SubprocessProcess(process)

    async def close(self) -> None:
        return None


def write_code(directory: Path, source: str, module: str = "app") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / f"{module}.py").write_text(textwrap.dedent(source))
    return directory


def function(code_dir: Path, name: str = "fn", *, handler: str = "app.handler", timeout: int = 3,
             memory_size: int = 128, revision_id: str | None = None, reserved: int | None = None,
             environment: dict[str, str] | None = None) -> FunctionVersion:
    """A $LATEST version; unless given, its revision id changes with its configuration, as Lambda's does."""
    if revision_id is None:
        revision_id = f"{handler}/{timeout}/{memory_size}/{sorted((environment or {}).items())}"
    return FunctionVersion(
        name=name, version="$LATEST", arn=ARN + name, runtime="python3.11", handler=handler,
        memory_size=memory_size, timeout=timeout, environment=environment or {}, code_dir=code_dir,
        code_sha256="", revision_id=revision_id, reserved_concurrency=reserved)


def invocation(fn: FunctionVersion, payload: bytes = b"{}", *, log_tail: bool = True,
               client_context: str | None = None) -> Invocation:
    return Invocation(function=fn, invoked_arn=fn.arn, payload=payload, request_id=str(uuid.uuid4()),
                      client_context=client_context, log_tail=log_tail)
