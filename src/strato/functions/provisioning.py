"""The controller's side of provisioned concurrency: for each configuration the registry holds
(provisioned.py), that many environments of its version started ahead of demand and kept by
the pool, their count and status reported back to the registry, where the API reads them.

A target's life: IN_PROGRESS while its environments start (a few at a time, in the background,
never on an API call's path) -> READY when all are initialised -> IN_PROGRESS again while one
that died is replaced; FAILED (with the init's error type) when one fails to initialise, or
cannot be launched at all, after which no more are started for that configuration until it is
put again. A configuration replaced by one for the same version takes over its environments (a
smaller count lets the surplus go); a deleted one's environments become ordinary, reaped when
idle.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable
from dataclasses import dataclass, field
from typing import Protocol

from .environment import Environment, InitFailed
from .pool import Pool
from .provisioned import FAILED, IN_PROGRESS, READY, ProvisionedConfig
from .records import FunctionVersion

log = logging.getLogger("strato.functions")

STARTS_AT_ONCE = 2  # environments initialising at once for all configurations (a core each)
INIT_FAILURE = "FUNCTION_ERROR_INIT_FAILURE"
LAUNCH_FAILURE = "INTERNAL_ERROR: the environments could not be launched"  # the host's fault, in its log
TargetKey = tuple[str, str]  # (function name, qualifier)


class ProvisionedSource(Protocol):
    """What the provisioner reads and writes in the registry."""

    def provisioned_targets(self, name: str | None = None) -> Awaitable[list[tuple[ProvisionedConfig,
                                                                                 FunctionVersion]]]: ...

    def report_provisioned(self, name: str, qualifier: str, generation: str, allocated: int, status: str,
                           reason: str | None = None) -> Awaitable[None]: ...


@dataclass(eq=False)
class _Target:
    config: ProvisionedConfig
    function: FunctionVersion
    environments: set[Environment] = field(default_factory=set)
    stopped: bool = False  # no more environments are started for it: it failed, went or was replaced
    filling: asyncio.Task[None] | None = None


class Provisioner:
    def __init__(self, source: ProvisionedSource, pool: Pool) -> None:
        self._source = source
        self._pool = pool
        self._targets: dict[TargetKey, _Target] = {}
        self._owners: dict[Environment, _Target] = {}
        self._starts = asyncio.Semaphore(STARTS_AT_ONCE)
        self._refreshing = asyncio.Lock()  # one refresh at a time: each applies what it read
        self._tasks: set[asyncio.Task[None]] = set()
        pool.on_kept_lost = self._lost

    def refresh_soon(self, name: str | None = None) -> None:
        """Read the function's configurations (every one with None) and act on them, in the background."""
        self._track(asyncio.ensure_future(self.refresh(name)))

    async def refresh(self, name: str | None = None) -> None:
        async with self._refreshing:
            try:
                found = await self._source.provisioned_targets(name)
            except Exception:
                log.exception("provisioned concurrency: the configurations of %s could not be read", name or "all")
                return
            wanted = {(config.function_name, config.qualifier): (config, function) for config, function in found}
            for key in [key for key in self._targets if (name is None or key[0] == name) and key not in wanted]:
                self._drop(self._targets.pop(key))
            for key, (config, function) in wanted.items():
                current = self._targets.get(key)
                if current is not None and current.config.generation == config.generation and \
                        current.function.revision == function.revision:
                    continue
                self._targets[key] = target = _Target(config, function)
                if current is not None:
                    self._hand_over(current, target)
                self._fill(target)

    def forget(self, name: str, version: str | None = None) -> None:
        """The function, or that version of it, is going (its environments are retired with
        it): nothing of it is kept."""
        for key in [key for key, target in self._targets.items()
                    if key[0] == name and version in (None, target.function.version)]:
            self._drop(self._targets.pop(key))

    async def close(self) -> None:
        """Stop starting environments (the pool stops those it has)."""
        self._pool.on_kept_lost = None
        for target in self._targets.values():
            self._stop(target)
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def _hand_over(self, old: _Target, new: _Target) -> None:
        """A new configuration of the same key: the same version's environments carry over, up
        to its count; the rest (and any of another version) are no longer kept."""
        self._stop(old)
        same = old.function.revision == new.function.revision
        carried = sorted(old.environments, key=lambda environment: environment.pid)[:new.config.requested] \
            if same else []
        for environment in carried:
            new.environments.add(environment)
            self._owners[environment] = new
        self._release(old.environments.difference(carried))

    def _drop(self, target: _Target) -> None:
        self._stop(target)
        self._release(target.environments)
        target.environments = set()

    def _stop(self, target: _Target) -> None:
        target.stopped = True
        if target.filling is not None:
            target.filling.cancel()

    def _release(self, environments: set[Environment]) -> None:
        for environment in environments:
            self._owners.pop(environment, None)
        self._pool.unkeep(environments)

    def _fill(self, target: _Target) -> None:
        if target.filling is None or target.filling.done():
            target.filling = asyncio.ensure_future(self._keep(target))
            self._track(target.filling)

    def _lost(self, environment: Environment) -> None:
        """A kept environment died: another replaces it (unless its target is stopped)."""
        target = self._owners.pop(environment, None)
        if target is None:
            return
        target.environments.discard(environment)
        if not target.stopped:
            self._fill(target)

    async def _keep(self, target: _Target) -> None:
        """Start environments until the target has its count, reporting as they come (one that
        dies while READY is written is replaced here: this task was still running then)."""
        requested = target.config.requested
        try:
            while True:
                while len(target.environments) < requested:
                    await self._report(target, IN_PROGRESS)
                    async with self._starts:
                        environment = await self._pool.provision(target.function)
                    target.environments.add(environment)
                    self._owners[environment] = target
                await self._report(target, READY)
                if len(target.environments) >= requested:
                    break
        except InitFailed as exc:
            target.stopped = True
            await self._report(target, FAILED, f"{INIT_FAILURE}: {exc}")
        except RuntimeError as exc:  # the pool is closing
            log.info("provisioned concurrency of %s:%s stopped: %s", target.config.function_name,
                     target.config.qualifier, exc)
        except Exception:  # the launch itself failed (no runtime, no sandbox): no use trying again
            log.exception("provisioned concurrency of %s:%s could not start an environment",
                          target.config.function_name, target.config.qualifier)
            target.stopped = True
            await self._report(target, FAILED, LAUNCH_FAILURE)

    async def _report(self, target: _Target, status: str, reason: str | None = None) -> None:
        config = target.config
        try:
            await self._source.report_provisioned(config.function_name, config.qualifier, config.generation,
                                                  len(target.environments), status, reason)
        except Exception:
            log.exception("provisioned concurrency: could not record the status of %s:%s",
                          config.function_name, config.qualifier)

    def _track(self, task: asyncio.Task[None]) -> None:
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
