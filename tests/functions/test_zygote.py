"""Environments forked from a zygote: what they inherit (nothing of the zygote's), how their
exits reach the launcher, and what happens when a zygote or the launcher goes away."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import Iterator

import psutil
import pytest

from strato.functions.isolated import IsolatedLauncher
from strato.functions.zygote import SPARES, spares_due
from tests.functions.environments import Environment, Outcome, Runner

HANDLERS = '''
import os, signal

def echo(event, context):
    return {"event": event, "uid": os.getuid()}

def fds(event, context):
    targets = {}
    for fd in os.listdir("/proc/self/fd"):
        try:
            targets[fd] = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:  # the descriptor listdir used
            pass
    return targets

def leave(event, context):
    os._exit(event)

def die(event, context):
    os.kill(os.getpid(), signal.SIGKILL)
'''


@pytest.fixture
def runner(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runner]:
    loop = asyncio.new_event_loop()
    root = tmp_path_factory.mktemp("zygote")
    root.chmod(0o755)
    launcher = IsolatedLauncher(root / "work", [])
    yield Runner(launcher, root, loop)
    loop.run_until_complete(launcher.close())
    loop.close()


def zygotes() -> list[psutil.Process]:
    return [p for p in psutil.Process().children() if "strato.functions.zygote" in p.cmdline()]


def run_one(runner: Runner, handler: str, event: object = None) -> Outcome:
    async def go() -> Outcome:
        environment = await runner.start(runner.code(HANDLERS), handler)
        outcome = await environment.invoke(event)
        await environment.stop()
        return outcome

    return runner.run(go())


def test_the_runtimes_are_those_of_this_host(runner: Runner) -> None:
    runtimes = runner.launcher.runtimes()
    assert {f"python{sys.version_info.major}.{sys.version_info.minor}", "provided", "provided.al2023"} <= runtimes
    assert not {r for r in runtimes if not r.startswith(("python3.", "provided", "nodejs"))}


def test_an_environment_inherits_no_descriptor_of_the_zygote(runner: Runner) -> None:
    targets = run_one(runner, "app.fds").body
    assert targets["0"] == "/dev/null"
    assert targets["1"] == targets["2"]  # the log
    sockets = [t for t in targets.values() if t.startswith("socket:")]
    assert len(sockets) == 1  # the runtime's own Runtime API connection
    assert not [t for t in targets.values() if t.startswith(("pipe:", "anon_inode:"))]


@pytest.mark.parametrize(("handler", "event", "status"), [("app.leave", 3, 3), ("app.die", None, -signal.SIGKILL)])
def test_the_exit_status_reaches_the_launcher(runner: Runner, handler: str, event: object, status: int) -> None:
    assert run_one(runner, handler, event).exit_status == status


def test_environments_start_side_by_side(runner: Runner) -> None:
    async def go() -> list[Outcome]:
        code = runner.code(HANDLERS)
        environments = await asyncio.gather(*(runner.start(code, "app.echo") for _ in range(4)))
        outcomes = await asyncio.gather(*(e.invoke(i) for i, e in enumerate(environments)))
        for environment in environments:
            await environment.stop()
        return list(outcomes)

    outcomes = runner.run(go())
    assert [o.body["event"] for o in outcomes] == [0, 1, 2, 3]
    if os.geteuid() == 0:
        assert len({o.body["uid"] for o in outcomes}) == 4


@pytest.mark.parametrize(("ready", "making", "starting", "wanted", "due"), [
    (SPARES - 1, 0, 0, False, 1),  # all quiet: the spare a launch used is replaced
    (SPARES - 1, 0, 1, False, 0),  # not while the environment it became is starting
    (0, 0, 1, False, SPARES),  # unless none is left: then all of them, together
    (SPARES - 1, 0, 1, True, 1),  # or a launch waits
    (0, 1, 0, False, SPARES - 1),  # counting those being made
    (SPARES, 0, 0, True, 0),  # never more than SPARES
])
def test_spares_are_made_when_none_would_slow_a_cold_start_or_none_is_left(
        ready: int, making: int, starting: int, wanted: bool, due: int) -> None:
    assert spares_due(ready, making, starting, wanted) == due


def test_the_spare_a_launch_used_is_replaced_once_its_environment_settles(runner: Runner) -> None:
    async def go() -> int:
        environment = await runner.start(runner.code(HANDLERS), "app.echo")
        await environment.invoke("cold")
        environment.process.settled()
        (zygote,) = zygotes()
        # The launched environment's init and each spare's (30 s: a loaded CI machine). Counted
        # once per poll: a spare being made shows as its first fork, then as its init, and a
        # second look at /proc can fall between the two.
        for _ in range(6000):
            children = len(zygote.children())
            if children == 1 + SPARES:
                break
            await asyncio.sleep(0.005)
        await environment.stop()
        return children

    assert runner.run(go()) == 1 + SPARES


def test_a_dead_zygote_takes_its_environments_and_is_replaced(runner: Runner) -> None:
    async def go() -> tuple[int, Outcome]:
        code = runner.code(HANDLERS)
        before = await runner.start(code, "app.echo")
        await before.invoke("warm")
        (zygote,) = zygotes()
        zygote.kill()
        status = await asyncio.wait_for(before.process.wait(), 20)
        before.listener.close()
        after = await runner.start(code, "app.echo")
        outcome = await after.invoke("again")
        await after.stop()
        return status, outcome

    status, outcome = runner.run(go())
    assert status == -signal.SIGKILL
    assert outcome.body["event"] == "again"


def test_closing_the_launcher_ends_its_zygote_and_environments(runner: Runner) -> None:
    environment: Environment | None = None

    async def go() -> int:
        nonlocal environment
        environment = await runner.start(runner.code(HANDLERS), "app.echo")
        await environment.invoke(1)
        (zygote,) = zygotes()
        await runner.launcher.close()
        assert not zygote.is_running() or zygote.status() == psutil.STATUS_ZOMBIE
        status = await environment.process.wait()
        environment.listener.close()
        return status

    assert runner.run(go()) == -signal.SIGKILL
