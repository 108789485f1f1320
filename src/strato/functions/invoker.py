"""What the Lambda protocol layer calls to run a function.

In `strato serve` the API workers hold a client of the functions controller process (the one
owner of the environment pool); in tests the pool can be called directly (it keeps `invoke`,
`enqueue` and `retire`).
"""

from __future__ import annotations

from typing import Protocol

from .records import Invocation, InvokeResult, Outcome


class Invoker(Protocol):
    async def invoke(self, invocation: Invocation) -> InvokeResult:
        """Run synchronously (RequestResponse). Raises TooManyRequests when throttled."""
        ...

    def start(self, invocation: Invocation, done: Outcome) -> bool:
        """`invoke` without awaiting, when a warm environment is at hand at once: `done` gets
        the result or the exception `invoke` would raise. False when none is (nothing started)."""
        ...

    async def enqueue(self, invocation: Invocation) -> None:
        """Queue an Event invocation durably; returns once it is stored."""
        ...

    async def recall(self, function_name: str) -> None:
        """The function's reserved concurrency changed: the controller applies it at once, and
        asks its environments lent to workers back."""
        ...

    async def provision(self, function_name: str) -> None:
        """The function's provisioned concurrency configurations (or the aliases they name)
        changed: the controller starts or lets go of environments accordingly."""
        ...

    async def retire(self, function_name: str, version: str | None = None) -> None:
        """Stop a deleted function's environments, or a deleted version's alone (idle ones now,
        busy ones when they finish)."""
        ...
