"""Provisioned concurrency in the engine: the registry's configurations (provisioned.py), the
pool's kept environments, and the controller's provisioner that starts them from the registry
and reports back. Real registry files, real runtimes (awslambdaric in plain subprocesses)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import shutil
import sqlite3
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import pytest

from strato import migrations
from strato.functions.environment import INIT_TIMEOUT, InitFailed
from strato.functions.logs import read_logs
from strato.functions.pool import IDLE_TIMEOUT, Pool
from strato.functions.provisioned import FAILED, IN_PROGRESS, READY, ProvisionedConfig, server_starting
from strato.functions.provisioning import LAUNCH_FAILURE, Provisioner
from strato.functions.records import FunctionVersion
from strato.functions.registry import Registry
from strato.functions.registry_tables import MIGRATIONS
from tests.functions.support import REGION, SubprocessLauncher, function, invocation, write_code
from tests.functions.test_registry import CONFIG, create, package

HANDLERS = """
import os, uuid

TOKEN = uuid.uuid4().hex  # one per environment

def handler(event, context):
    if event.get("exit"):
        os._exit(1)
    return {"type": os.environ["AWS_LAMBDA_INITIALIZATION_TYPE"], "token": TOKEN}
"""


@pytest.fixture
def registry(tmp_path: Path) -> Iterator[Registry]:
    opened = Registry(tmp_path / "functions", REGION)
    yield opened
    opened.close()


def run_with_pool(tmp_path: Path, test: Callable[[Pool], Awaitable[None]], idle_timeout: float = IDLE_TIMEOUT,
                  init_timeout: float = INIT_TIMEOUT) -> None:
    async def main() -> None:
        pool = Pool(SubprocessLauncher(), logs_dir=tmp_path / "logs", region=REGION, idle_timeout=idle_timeout,
                    init_timeout=init_timeout)
        try:
            await test(pool)
        finally:
            await pool.close()
    asyncio.run(main())


async def until(condition: Callable[[], Awaitable[bool]]) -> None:
    """Until `condition` holds (what the controller does happens in the background)."""
    for _ in range(2000):
        if await condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the condition never held")


class TestRegistry:
    def test_a_configuration_starts_in_progress_and_takes_the_controllers_reports(self, registry: Registry) -> None:
        create(registry, publish=True)
        stored = asyncio.run(registry.put_provisioned("fn", "1", 2, 1000))
        assert (stored.requested, stored.allocated, stored.status) == (2, 0, IN_PROGRESS)
        asyncio.run(registry.report_provisioned("fn", "1", stored.generation, 2, READY))
        assert asyncio.run(registry.get_provisioned("fn", "1")).status == READY

    def test_a_report_about_a_replaced_configuration_is_dropped(self, registry: Registry) -> None:
        create(registry, publish=True)
        first = asyncio.run(registry.put_provisioned("fn", "1", 2, 1000))
        asyncio.run(registry.put_provisioned("fn", "1", 3, 1000))
        asyncio.run(registry.report_provisioned("fn", "1", first.generation, 2, READY))
        current = asyncio.run(registry.get_provisioned("fn", "1"))
        assert (current.requested, current.allocated, current.status) == (3, 0, IN_PROGRESS)

    def test_a_starting_server_reports_nothing_kept_yet(self, registry: Registry, tmp_path: Path) -> None:
        create(registry, publish=True)
        stored = asyncio.run(registry.put_provisioned("fn", "1", 1, 1000))
        asyncio.run(registry.report_provisioned("fn", "1", stored.generation, 1, READY))
        server_starting(tmp_path / "functions")
        assert asyncio.run(registry.get_provisioned("fn", "1")).status == IN_PROGRESS

    def test_targets_name_an_aliases_primary_version(self, registry: Registry) -> None:
        create(registry, publish=True)
        asyncio.run(registry.create_alias("fn", "live", "1"))
        asyncio.run(registry.put_provisioned("fn", "live", 1, 1000))
        [(config, version)] = asyncio.run(registry.provisioned_targets("fn"))
        assert (config.qualifier, version.name, version.version) == ("live", "fn", "1")

    def test_a_version_published_after_the_last_one_was_deleted_takes_the_next_number(
            self, registry: Registry) -> None:
        create(registry, publish=True)
        asyncio.run(registry.delete("fn", "1"))
        assert asyncio.run(registry.publish_version("fn")).version == "2"

    def test_a_version_6_file_upgrades_with_no_configurations(self, tmp_path: Path) -> None:
        root = tmp_path / "old"
        root.mkdir()
        migrations.migrate(root / "functions.db", MIGRATIONS, target=6)
        with contextlib.closing(sqlite3.connect(root / "functions.db")) as conn, conn:
            conn.execute("INSERT INTO functions (name) VALUES ('old')")
        upgraded = Registry(root, REGION)
        try:
            assert asyncio.run(upgraded.list_provisioned("old", None, 50)) == ([], None)
        finally:
            upgraded.close()


class TestKeptEnvironments:
    def test_a_kept_environment_serves_the_next_invocation_warm_as_provisioned_concurrency(
            self, tmp_path: Path) -> None:
        code = write_code(tmp_path / "code", HANDLERS)

        async def test(pool: Pool) -> None:
            fn = function(code)
            await pool.provision(fn)
            result = await pool.invoke(invocation(fn))
            assert json.loads(result.payload)["type"] == "provisioned-concurrency"
            assert b"Init Duration" not in result.log_tail
            other = function(code, name="other")
            cold = await pool.invoke(invocation(other))
            assert json.loads(cold.payload)["type"] == "on-demand"
            assert b"Init Duration" in cold.log_tail
        run_with_pool(tmp_path, test)

    def test_kept_environments_are_never_reaped_and_are_once_let_go(self, tmp_path: Path) -> None:
        code = write_code(tmp_path / "code", HANDLERS)

        async def test(pool: Pool) -> None:
            kept = await pool.provision(function(code))
            await pool.invoke(invocation(function(code, name="other")))
            assert pool.environments == 2

            async def only_the_kept_one_left() -> bool:
                return pool.environments == 1
            await until(only_the_kept_one_left)
            pool.unkeep({kept})

            async def none_left() -> bool:
                return pool.environments == 0
            await until(none_left)
        run_with_pool(tmp_path, test, idle_timeout=0.2)

    def test_a_kept_environment_that_dies_is_reported(self, tmp_path: Path) -> None:
        code = write_code(tmp_path / "code", HANDLERS)

        async def test(pool: Pool) -> None:
            lost: list[object] = []
            pool.on_kept_lost = lost.append
            fn = function(code)
            kept = await pool.provision(fn)
            await pool.invoke(invocation(fn, b'{"exit": true}'))
            assert lost == [kept]
        run_with_pool(tmp_path, test)

    def test_a_kept_environments_init_may_outlast_the_on_demand_limit(self, tmp_path: Path) -> None:
        """Lambda's 10 s init limit is not for provisioned concurrency: its init may take 130 s, or
        the function's timeout if longer."""
        code = write_code(tmp_path / "code", "import time\ntime.sleep(1)\n" + HANDLERS)

        async def test(pool: Pool) -> None:
            fn = function(code)
            await pool.provision(fn)
            result = await pool.invoke(invocation(fn))
            assert json.loads(result.payload)["type"] == "provisioned-concurrency"
        run_with_pool(tmp_path, test, init_timeout=0.5)

    @pytest.mark.parametrize(("module", "error_type"), [
        ("raise ValueError('no')\n", "ValueError"), ("import os\nos._exit(3)\n", "Runtime.ExitError")])
    def test_an_init_that_fails_is_init_failed_with_its_error_type(
            self, tmp_path: Path, module: str, error_type: str) -> None:
        """...and logged so (INIT_REPORT), whether the runtime posted the error or exited."""
        code = write_code(tmp_path / "code", module)

        async def test(pool: Pool) -> None:
            with pytest.raises(InitFailed, match=error_type):
                await pool.provision(function(code))
            assert pool.environments == 0

            async def reported() -> bool:  # once the process is gone, its log is written
                return f"\tPhase: init\tStatus: error\tError Type: {error_type}\n" in read_logs(
                    tmp_path / "logs", "fn").decode()
            await until(reported)
        run_with_pool(tmp_path, test)


class TestProvisioner:
    def test_it_keeps_the_count_reports_ready_replaces_the_dead_and_lets_go_when_deleted(
            self, tmp_path: Path, registry: Registry) -> None:
        stored = registry.packages.store_sync(package(HANDLERS))
        asyncio.run(registry.create("fn", CONFIG, stored, publish=True))
        asyncio.run(registry.put_provisioned("fn", "1", 2, 1000))

        async def test(pool: Pool) -> None:
            provisioner = Provisioner(registry, pool)

            async def status() -> ProvisionedConfig:
                return await registry.get_provisioned("fn", "1")

            async def ready() -> bool:
                config = await status()
                return (config.status, config.allocated) == (READY, 2) and pool.environments == 2
            try:
                await provisioner.refresh()
                await until(ready)
                version = registry.resolve("fn", "1")
                await pool.invoke(invocation(version, b'{"exit": true}'))
                await until(ready)  # a replacement
                await registry.delete_provisioned("fn", "1")
                await provisioner.refresh("fn")

                async def reaped() -> bool:
                    return pool.environments == 0
                await until(reaped)
            finally:
                await provisioner.close()
        run_with_pool(tmp_path, test, idle_timeout=0.2)

    def test_environments_that_cannot_be_launched_turn_the_configuration_failed(
            self, tmp_path: Path, registry: Registry) -> None:
        stored = registry.packages.store_sync(package(HANDLERS))
        asyncio.run(registry.create("fn", CONFIG, stored, publish=True))
        asyncio.run(registry.put_provisioned("fn", "1", 1, 1000))
        shutil.rmtree(registry.packages.code_dir(stored.sha256_hex))  # the launch itself fails

        async def test(pool: Pool) -> None:
            provisioner = Provisioner(registry, pool)

            async def failed() -> bool:
                return (await registry.get_provisioned("fn", "1")).status == FAILED
            try:
                await provisioner.refresh()
                await until(failed)
                config = await registry.get_provisioned("fn", "1")
                assert (config.allocated, config.status_reason) == (0, LAUNCH_FAILURE)
                assert pool.environments == 0
            finally:
                await provisioner.close()
        run_with_pool(tmp_path, test)

    def test_an_environment_that_dies_while_ready_is_reported_is_replaced(
            self, tmp_path: Path, registry: Registry) -> None:
        stored = registry.packages.store_sync(package(HANDLERS))
        asyncio.run(registry.create("fn", CONFIG, stored, publish=True))
        asyncio.run(registry.put_provisioned("fn", "1", 1, 1000))

        async def test(pool: Pool) -> None:
            provisioner = Provisioner(DyingAtReady(registry, pool), pool)

            async def ready() -> bool:
                config = await registry.get_provisioned("fn", "1")
                return (config.status, config.allocated) == (READY, 1) and pool.environments == 1
            try:
                await provisioner.refresh()
                await until(ready)
                result = await pool.invoke(invocation(registry.resolve("fn", "1")))
                assert json.loads(result.payload)["type"] == "provisioned-concurrency"
                assert b"Init Duration" not in result.log_tail
            finally:
                await provisioner.close()
        run_with_pool(tmp_path, test)


class DyingAtReady:
    """The registry, where the kept environment dies while the first READY is being written."""

    def __init__(self, registry: Registry, pool: Pool) -> None:
        self._registry = registry
        self._pool = pool
        self._died = False

    async def provisioned_targets(self, name: str | None = None) -> list[tuple[ProvisionedConfig, FunctionVersion]]:
        return await self._registry.provisioned_targets(name)

    async def report_provisioned(self, name: str, qualifier: str, generation: str, allocated: int, status: str,
                                 reason: str | None = None) -> None:
        if status == READY and not self._died:
            self._died = True
            await self._pool.invoke(invocation(self._registry.resolve(name, qualifier), b'{"exit": true}'))
        await self._registry.report_provisioned(name, qualifier, generation, allocated, status, reason)
