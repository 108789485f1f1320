"""The seam between the pool (which decides when environments exist) and the sandbox (which
makes them): a launcher starts one isolated runtime process for a function version."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol


@dataclass(frozen=True, slots=True)
class LaunchSpec:
    runtime: str  # "python3.11", "provided.al2023", ...
    handler: str
    code_dir: Path  # seen as /var/task (LAMBDA_TASK_ROOT) inside the environment
    environment: dict[str, str]  # every variable, AWS_LAMBDA_RUNTIME_API included
    memory_mb: int
    tmp_mb: int
    log_fd: int  # the environment's stdout and stderr both go here
    # A connected socket to the Runtime API for runtimes.strato_client runtimes: cheaper than
    # the loopback TCP they would dial. A launcher that cannot pass it may leave it unused.
    api_fd: int | None = None
    # For the same runtimes: the secret of the end marks their client writes into its output
    # after each invocation's (logs.EndMarks), so that output is told apart exactly (an
    # invocation that printed nothing owes its mark until the runtime next prints).
    log_secret: str | None = None
    opt_dir: Path | None = None  # seen as /opt: the function's layers (None: it has none)


class Process(Protocol):
    """One running environment process (and everything it started)."""

    pid: int
    uid: int | None  # the uid only this environment's processes run as (None: it has none of its own)

    async def wait(self) -> int:
        """Wait for the exit; returns the status as subprocess does (negative: killed by signal)."""
        ...

    def kill(self) -> None:
        """Kill the environment's whole process tree at once (idempotent)."""
        ...

    def settled(self) -> None:
        """The environment's cold start is over (its first invocation answered): work the
        launcher put off so as not to slow it (replacing a spare) may run now."""
        ...

    def max_memory_used_mb(self) -> int:
        """The peak memory of the environment so far, in MB (for REPORT lines)."""
        ...


class Launcher(Protocol):
    protections: str  # one line saying which isolation is active, printed at startup

    def runtimes(self) -> frozenset[str]:
        """The runtimes this host can run; others are refused at CreateFunction."""
        ...

    async def launch(self, spec: LaunchSpec) -> Process: ...

    async def close(self) -> None: ...
