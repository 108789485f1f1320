"""The environment pool: warm reuse per (name, version, revision), scale-out up to the
concurrency limits, idle reaping, retirement of old revisions. Implements `Invoker.invoke`
(the `enqueue` half belongs to the controller's event queue).

Concurrency, as Lambda counts it: invocations in flight. A function with reserved concurrency
runs at most that many at once (beyond: ReservedFunctionConcurrentInvocationLimitExceeded);
the others share the account limit minus every reservation the pool knows of (beyond:
ConcurrentInvocationLimitExceeded): it learns one from an invocation of its function, or at once
when it changes (`limits_changed`), and forgets it with its function.

A lent environment (lending.py) keeps one concurrency slot of its function until it is given
back, busy or not: a limit is never exceeded by invocations the pool does not see. When a
limit would refuse an invocation, idle lent environments are recalled first; so is one of the
revision's when an invocation finds none idle here (a warm one beats a cold start).

Kept environments (`provision`: provisioned concurrency, provisioning.py) are started ahead of
demand and serve invocations like any other, but are never reaped or evicted for idleness; when
one dies the pool tells `on_kept_lost`, and `unkeep` makes them ordinary again. Their init is not
held to the on-demand limit (KEPT_INIT_TIMEOUT, as Lambda's provisioned concurrency).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .environment import INIT_TIMEOUT, Environment, InitFailed, InitRetry, State, Undelivered
from .launcher import Launcher
from .logs import LogFiles
from .records import FunctionVersion, Invocation, InvokeResult, RevisionKey, TooManyRequests
from .variables import Credentials, function_variables

ACCOUNT_CONCURRENCY = 1000  # Lambda's default account limit
IDLE_TIMEOUT = 300.0
CLOSE_TIMEOUT = 5.0
RECALL_WAIT = 0.5  # how long a refused invocation waits for recalled environments
REUSE_WAIT = 0.05  # how long an invocation waits for a recalled warm environment before a cold start
THROTTLED = "Rate Exceeded."
INITIALIZATION_TYPE = "AWS_LAMBDA_INITIALIZATION_TYPE"  # on-demand, or provisioned-concurrency when kept
KEPT_INIT_TIMEOUT = 130.0  # a kept environment's init may last this long, or its function's timeout if longer


@dataclass(eq=False)
class _Loan:
    """A lent environment: its slot (reserved or not), how to ask for it back, its return."""

    reserved: bool
    recall: Callable[[], None]
    returned: asyncio.Future[None]


@dataclass(eq=False)
class _Group:
    """The environments of one function revision; `idle` is a stack (the warmest on top).
    `replaces`: the revision it superseded, retired once this one's first invocation has been
    answered (killing and recalling its environments would otherwise share the CPUs with
    that cold start)."""

    variables: dict[str, str]
    idle: list[Environment] = field(default_factory=list)
    live: set[Environment] = field(default_factory=set)
    retired: bool = False
    replaces: RevisionKey | None = None


class Pool:
    def __init__(self, launcher: Launcher, *, logs_dir: Path, region: str, endpoint_url: str | None = None,
                 keys: Callable[[str], Credentials] | None = None, account_concurrency: int = ACCOUNT_CONCURRENCY,
                 idle_timeout: float = IDLE_TIMEOUT, init_timeout: float = INIT_TIMEOUT,
                 max_environments: int | None = None) -> None:
        self._launcher = launcher
        self._files = LogFiles(logs_dir)
        self._region = region
        self._endpoint_url = endpoint_url
        self._keys = keys  # a function's own keys, by its name
        self._account = account_concurrency
        self._idle_timeout = idle_timeout
        self._init_timeout = init_timeout
        self._max_environments = max_environments or account_concurrency
        self._groups: dict[RevisionKey, _Group] = {}
        self._current: dict[tuple[str, str], RevisionKey] = {}  # (name, version) -> its newest revision
        self._environments = 0
        self._in_flight: dict[str, int] = {}
        self._unreserved_in_flight = 0
        self._reserved: dict[str, int] = {}
        self._reserved_sum = 0
        self._exiting: set[asyncio.Future[None]] = set()  # dead environments still winding down
        self._lent: dict[Environment, _Loan] = {}
        self._kept: set[Environment] = set()
        self.on_kept_lost: Callable[[Environment], None] | None = None  # a kept environment died
        self._reaper: asyncio.Task[None] | None = None
        self._closed = False

    @property
    def environments(self) -> int:
        """Live environments, idle and busy."""
        return self._environments

    async def invoke(self, invocation: Invocation) -> InvokeResult:
        if self._closed:
            raise RuntimeError("the pool is closed")
        function = invocation.function
        try:
            reserved = self._admit(function)
        except TooManyRequests:
            if not await self._reclaim(function):
                raise
            reserved = self._admit(function)
        group = None
        retrying: InitRetry | None = None  # a failed init to retry
        try:
            group = self._group(function)
            while True:
                environment = (self._take_idle(group) or await self._recall_one(group)
                               or self._new(function, group, retrying=retrying))
                try:
                    if environment.state is State.STARTING:
                        await environment.start(self._launcher)
                    result = await environment.invoke(invocation)
                except Undelivered:  # it died idle; a cold environment never raises this
                    continue
                except InitRetry as retry:
                    retrying = retry
                    continue
                except asyncio.CancelledError:
                    environment.kill()
                    raise
                break
            if environment.state is State.IDLE:
                if self._serves(group):
                    group.idle.append(environment)
                else:
                    environment.kill()
            return result
        finally:
            self._release(function.name, reserved)
            if group is not None and group.replaces is not None:  # after the answer leaves (the caller's callback)
                asyncio.get_running_loop().call_soon(self._retire, group.replaces)
                group.replaces = None

    def lend(self, function: FunctionVersion, recall: Callable[[], None]) -> Environment | None:
        """An idle environment of this revision for a borrower, with its concurrency slot
        taken until `give_back` (None: none idle, or a limit says no)."""
        group = self._groups.get(function.revision)
        if group is None or not self._serves(group):
            return None
        environment = self._take_idle(group)
        if environment is None:
            return None
        try:
            reserved = self._admit(function)
        except TooManyRequests:
            group.idle.append(environment)
            return None
        self._lent[environment] = _Loan(reserved, recall, asyncio.get_running_loop().create_future())
        return environment

    def give_back(self, environment: Environment, keep: bool = True) -> None:
        """The borrower is done: the slot is free, and the environment idle again unless
        `keep` is False, its revision is retired, it idled past the timeout or died (idempotent)."""
        loan = self._lent.pop(environment, None)
        if loan is None:
            return
        self._release(environment.function.name, loan.reserved)
        if not loan.returned.done():
            loan.returned.set_result(None)
        if environment.state is State.DEAD:
            return
        group = self._groups.get(environment.function.revision)
        expired = environment.idle_since <= asyncio.get_running_loop().time() - self._idle_timeout \
            and environment not in self._kept
        if keep and group is not None and self._serves(group) and not expired \
                and environment.state is State.IDLE and environment in group.live:
            group.idle.append(environment)
        else:
            environment.kill()

    async def provision(self, function: FunctionVersion) -> Environment:
        """Start an environment of this version ahead of demand and keep it; returns once its
        runtime is initialised and it waits, idle, on top of the version's stack (the next
        invocation takes it). Raises InitFailed when it dies first (the reason in its message)."""
        if self._closed:
            raise RuntimeError("the pool is closed")
        group = self._revived(function)
        environment = self._new(function, group, {**group.variables, INITIALIZATION_TYPE: "provisioned-concurrency"},
                                init_timeout=max(KEPT_INIT_TIMEOUT, float(function.timeout)))
        self._kept.add(environment)
        try:
            await environment.start(self._launcher)
            await environment.initialised()
        except BaseException:
            environment.kill()
            raise
        if not self._serves(group) or environment.state is not State.IDLE:
            environment.kill()
            raise InitFailed("the version's environments were retired")
        group.idle.append(environment)
        return environment

    def unkeep(self, environments: set[Environment]) -> None:
        """These environments are no longer kept: reaped when idle, as any other."""
        self._kept.difference_update(environments)

    @property
    def in_flight(self) -> int:
        """Invocations running now."""
        return sum(self._in_flight.values())

    def know_reservations(self, reservations: dict[str, int]) -> None:
        """Reservations made before this pool began (a restart): kept out of the shared pool now,
        not from each function's next invocation."""
        for name, reserved in reservations.items():
            self._reserve(name, reserved)

    def limits_changed(self, function: FunctionVersion) -> None:
        """The function's reserved concurrency changed: the shared pool counts it at once (not at
        its next invocation), and its environments lent to workers come back (idle ones now,
        busy ones when their invocation ends), so that the next ones are lent under the new
        limits (a lent environment holds its slot while lent)."""
        self._reserve(function.name, function.reserved_concurrency)
        for environment, loan in list(self._lent.items()):
            if environment.function.name == function.name:
                loan.recall()

    def retire(self, name: str, version: str | None = None) -> None:
        """The function, or that version of it, is gone (DeleteFunction): its environments go,
        busy ones when they finish; a deleted function's reservation goes back to the shared pool."""
        if version is None:
            self._reserve(name, None)
        for key in [key for key in self._groups if key[0] == name and version in (None, key[1])]:
            self._retire(key)
        for current in [current for current in self._current if current[0] == name and version in (None, current[1])]:
            del self._current[current]

    async def close(self) -> None:
        """Stop every environment and the reaper."""
        self._closed = True
        if self._reaper is not None:
            self._reaper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reaper
        environments = [environment for group in self._groups.values() for environment in group.live]
        for environment in environments:
            environment.kill()
        waits: list[asyncio.Future[None]] = [asyncio.ensure_future(e.wait_closed()) for e in environments]
        waits += self._exiting
        if waits:
            await asyncio.wait(waits, timeout=CLOSE_TIMEOUT)
        self._files.close()

    # Concurrency.

    def _admit(self, function: FunctionVersion) -> bool:
        """Count the invocation in, or raise TooManyRequests; returns whether it uses a reservation."""
        name = function.name
        reserved = function.reserved_concurrency
        if self._reserved.get(name) != reserved:
            self._reserve(name, reserved)
        in_flight = self._in_flight.get(name, 0)
        if reserved is not None:
            if in_flight >= reserved:
                raise TooManyRequests("ReservedFunctionConcurrentInvocationLimitExceeded", THROTTLED)
        elif self._unreserved_in_flight >= self._account - self._reserved_sum:
            raise TooManyRequests("ConcurrentInvocationLimitExceeded", THROTTLED)
        else:
            self._unreserved_in_flight += 1
        self._in_flight[name] = in_flight + 1
        return reserved is not None

    def _reserve(self, name: str, reserved: int | None) -> None:
        """The function's reservation is this now (None: it has none)."""
        self._reserved_sum += (reserved or 0) - self._reserved.pop(name, 0)
        if reserved is not None:
            self._reserved[name] = reserved

    def _release(self, name: str, reserved: bool) -> None:
        left = self._in_flight[name] - 1
        if left:
            self._in_flight[name] = left
        else:
            del self._in_flight[name]
        if not reserved:
            self._unreserved_in_flight -= 1

    # Environments.

    def _group(self, function: FunctionVersion) -> _Group:
        key = function.revision
        group = self._groups.get(key)
        if group is None:
            group = self._groups[key] = _Group(
                function_variables(function, self._region, self._endpoint_url,
                                   None if self._keys is None else self._keys(function.name)),
                replaces=self._current.get(key[:2]))
            self._current[key[:2]] = key
        return group

    def _revived(self, function: FunctionVersion) -> _Group:
        """The version's group, in service again if it was retired (a published version's
        environments are retired with its function's other versions when one is deleted)."""
        group = self._group(function)
        group.retired = False
        return group

    def _serves(self, group: _Group) -> bool:
        """Whether the group's environments may wait for more invocations (its revision is not
        retired, the pool not closed)."""
        return not (self._closed or group.retired)

    def _retire(self, key: RevisionKey) -> None:
        """A newer revision has answered: idle environments go now, busy ones when they finish."""
        group = self._groups.get(key)
        if group is None:
            return
        group.retired = True
        for environment in group.idle:
            environment.kill()
        group.idle.clear()
        for environment in group.live:
            loan = self._lent.get(environment)
            if loan is not None:
                loan.recall()
        if not group.live:
            del self._groups[key]

    def _take_idle(self, group: _Group) -> Environment | None:
        idle = group.idle
        while idle:
            environment = idle.pop()
            if environment.state is State.IDLE:
                return environment
        return None

    def _new(self, function: FunctionVersion, group: _Group, variables: dict[str, str] | None = None,
             retrying: InitRetry | None = None, init_timeout: float | None = None) -> Environment:
        if self._reaper is None:
            self._reaper = asyncio.get_running_loop().create_task(self._reap())
        if self._environments >= self._max_environments:
            self._evict_one()
        environment = Environment(function, self._files, group.variables if variables is None else variables,
                                  self._on_dead, init_timeout or self._init_timeout, retrying)
        group.live.add(environment)
        self._environments += 1
        return environment

    async def _recall_one(self, group: _Group) -> Environment | None:
        """No idle environment of this revision here, but maybe one lent out and idle: it comes
        back (in a millisecond or two, or at once if it was not handed over yet) rather than
        a cold start beside it, as Lambda would reuse it."""
        self._hear([environment for environment in self._lent if environment in group.live])
        idle = [loan for environment, loan in self._lent.items()
                if environment in group.live and environment.state is State.IDLE]
        if idle:
            idle[0].recall()
            await asyncio.wait([idle[0].returned], timeout=REUSE_WAIT)
        return self._take_idle(group)

    async def _reclaim(self, function: FunctionVersion) -> bool:
        """Recall the idle lent environments holding slots the refused invocation needs (its
        function's, for a reservation; unreserved ones, for the account limit); False: there
        are none, and the borrowers' latest reports gave none back either."""
        lent = list(self._lent)
        self._hear(lent)
        if any(environment not in self._lent for environment in lent):
            return True
        reserved = function.reserved_concurrency is not None
        loans = [loan for environment, loan in self._lent.items() if environment.state is State.IDLE and (
            environment.function.name == function.name if reserved else not loan.reserved)]
        if not loans:
            return False
        for loan in loans:
            loan.recall()
        await asyncio.wait([loan.returned for loan in loans], timeout=RECALL_WAIT)
        return True

    @staticmethod
    def _hear(lent: list[Environment]) -> None:
        """Bring these lent environments up to their borrowers' latest reports (given back,
        idle, busy) before judging them."""
        for environment in lent:
            environment.hear()

    def _on_dead(self, environment: Environment) -> None:
        if environment in self._kept:
            self._kept.discard(environment)
            if self.on_kept_lost is not None:
                self.on_kept_lost(environment)
        loan = self._lent.get(environment)
        if loan is not None:
            loan.recall()  # the borrower drops it (an idle one would otherwise wait to be taken)
        self.give_back(environment, keep=False)
        closing = asyncio.ensure_future(environment.wait_closed())
        if not closing.done():
            self._exiting.add(closing)
            closing.add_done_callback(self._exiting.discard)
        function = environment.function
        key = function.revision
        group = self._groups.get(key)
        if group is None or environment not in group.live:
            return
        group.live.discard(environment)
        self._environments -= 1
        if environment in group.idle:
            group.idle.remove(environment)
        if group.retired and not group.live:
            del self._groups[key]

    def _evict_one(self) -> None:
        """Make room: the environment idle the longest goes (never a kept one)."""
        firsts = [next((e for e in group.idle if e not in self._kept), None) for group in self._groups.values()]
        candidates = [environment for environment in firsts if environment is not None]
        if candidates:
            oldest = min(candidates, key=lambda environment: environment.idle_since)
            oldest.kill()

    async def _reap(self) -> None:
        """Kill environments idle longer than the idle timeout (kept ones stay)."""
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(max(self._idle_timeout / 2, 0.05))
            expired = loop.time() - self._idle_timeout
            for group in list(self._groups.values()):
                stale = [e for e in group.idle if e.idle_since <= expired and e not in self._kept]
                for environment in stale:
                    group.idle.remove(environment)
                    environment.kill()
            for environment, loan in list(self._lent.items()):
                if environment.state is State.IDLE and environment.idle_since <= expired \
                        and environment not in self._kept:
                    loan.recall()
