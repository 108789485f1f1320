"""What a function can and cannot do inside a sandboxed environment, proven by trying from
inside one: its own uid, pid namespace and /tmp, a hidden data dir, read-only code, memory,
/tmp and process limits, and a kill that takes everything the function started."""

from __future__ import annotations

import asyncio
import errno
import os
import platform
import random
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from strato.functions import isolated, sandbox
from strato.functions.isolated import IsolatedLauncher
from tests.functions.environments import Environment, Outcome, Runner

HANDLERS = '''
import os, pathlib, socket, subprocess, sys, threading

def identity(event, context):
    status = pathlib.Path("/proc/self/status").read_text()
    flags = dict(line.split(":", 1) for line in status.splitlines())
    return {
        "uid": os.getuid(), "gid": os.getgid(), "groups": os.getgroups(), "pid": os.getpid(),
        "pids": sorted(int(p) for p in os.listdir("/proc") if p.isdigit()),
        "no_new_privs": flags["NoNewPrivs"].strip(), "capabilities": flags["CapEff"].strip(),
        "hostname": os.uname().nodename,
    }

def read(event, context):
    try:
        path = pathlib.Path(event["path"])
        return {"listing": sorted(os.listdir(path)), "content": (path / event["file"]).read_text()}
    except OSError as e:
        return {"errno": e.errno}

def write(event, context):
    try:
        with open(event["path"], "wb") as f:
            for _ in range(event["mb"]):
                f.write(b"x" * (1 << 20))
        return {"written": event["mb"]}
    except OSError as e:
        return {"errno": e.errno}

def allocate(event, context):
    blocks = [bytearray(1 << 20) for _ in range(event["mb"])]
    return len(blocks)

def threads(event, context):
    stop, started, error = threading.Event(), [], None
    try:
        for _ in range(event["max"]):
            thread = threading.Thread(target=stop.wait)
            thread.start()
            started.append(thread)
    except RuntimeError as e:
        error = str(e)
    stop.set()
    for thread in started:
        thread.join()
    return {"started": len(started), "error": error}

def imports(event, context):
    import colorsys, sqlite3, wave, xml.dom.minidom  # not preloaded by the zygote
    import boto3
    boto3.client("s3", region_name="us-east-1")
    return sorted(m for m in ("colorsys", "sqlite3", "wave", "xml.dom.minidom") if m in __import__("sys").modules)

def tmp(event, context):
    stat = os.statvfs("/tmp")
    return {"mb": stat.f_blocks * stat.f_frsize // (1 << 20), "entries": os.listdir("/tmp"),
            "traces": [name for name in [*sys.modules, *sys.path, *os.environ]
                       if "rehearsal" in name.lower() and name != "strato.functions.rehearsal"]}  # strato's own code

def spawn(event, context):
    return subprocess.Popen(["sleep", event["marker"]], start_new_session=True).pid

LISTENING = []

def listen(event, context):
    LISTENING.append(socket.socket(socket.AF_UNIX, socket.SOCK_STREAM))
    LISTENING[-1].bind("\\0" + event["name"])
    LISTENING[-1].listen()
    mine = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    mine.connect("\\0" + event["name"])  # its own environment may
    return "listening"

def buffers(event, context):
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(512)
    held, queued, chunk, taken = [], 0, b"x" * 65536, 1 << 20
    while queued < event["mb"] << 20 and taken >= 1 << 20:  # until a connection takes under 1 MB
        sender = socket.create_connection(server.getsockname())
        held.append((sender, server.accept()[0]))
        sender.setblocking(False)
        taken = 0
        try:
            while True:
                taken += sender.send(chunk)
        except BlockingIOError:
            queued += taken
    return queued >> 20

def ptys(event, context):
    leader, follower = os.openpty()
    name = os.ttyname(follower)
    held = []
    try:
        while len(held) < event["max"]:
            held.append(os.open("/dev/ptmx", os.O_RDWR | os.O_NOCTTY))
    except OSError as e:
        error = e.errno
    else:
        error = 0
    return {"first": name, "held": len(held) + 1, "error": error}

def keyrings(event, context):
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    add_key, request_key, keyctl = event["numbers"]
    calls = [(add_key, b"user", b"leftover", b"secret", 6, ctypes.c_long(-4)),  # into the user keyring
             (keyctl, 0, ctypes.c_long(-3), 0),  # the session keyring's id
             (request_key, b"user", b"leftover", None, 0)]
    errors = []
    for call in calls:
        ctypes.set_errno(0)
        errors.append(0 if libc.syscall(*call) >= 0 else ctypes.get_errno())
    return errors

def connect(event, context):
    attempt = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        attempt.connect("\\0" + event["name"])
        return 0
    except OSError as e:
        return e.errno
'''

BOOTSTRAP = """\
#!/bin/sh
exec /usr/bin/python3 -c '
import json, os, urllib.request
api = "http://" + os.environ["AWS_LAMBDA_RUNTIME_API"] + "/2018-06-01/runtime/invocation/"
while True:
    with urllib.request.urlopen(api + "next") as answer:
        request_id = answer.headers["Lambda-Runtime-Aws-Request-Id"]
        event = json.loads(answer.read())
    body = json.dumps({"echo": event, "uid": os.getuid(), "handler": os.environ["_HANDLER"]}).encode()
    urllib.request.urlopen(urllib.request.Request(api + request_id + "/response", body, method="POST")).read()
'
"""


@pytest.fixture(scope="module")
def hidden() -> Iterator[Path]:
    """A stand-in for the data dir, outside /tmp (so that the private /tmp is not what hides it)."""
    if not os.access("/run", os.W_OK):
        pytest.skip("needs a writable /run for a data dir outside /tmp")
    directory = Path(tempfile.mkdtemp(prefix="strato-hidden-", dir="/run"))
    directory.chmod(0o755)
    (directory / "secret").write_text("the data dir's secret")
    (directory / "secret").chmod(0o644)
    yield directory
    shutil.rmtree(directory)


@pytest.fixture(scope="module")
def runner(tmp_path_factory: pytest.TempPathFactory, hidden: Path) -> Iterator[Runner]:
    loop = asyncio.new_event_loop()
    root = tmp_path_factory.mktemp("sandbox")
    root.chmod(0o755)
    launcher = IsolatedLauncher(root / "work", [hidden])
    yield Runner(launcher, root, loop)
    loop.run_until_complete(launcher.close())
    loop.close()


def policy(runner: Runner) -> IsolatedLauncher:
    assert isinstance(runner.launcher, IsolatedLauncher)
    return runner.launcher


def needs_namespaces(runner: Runner) -> None:
    if not policy(runner).policy.namespaces:
        pytest.skip("this host allows no namespaces")


def needs_root(runner: Runner) -> None:
    if not policy(runner).policy.root:
        pytest.skip("a uid per environment needs root")


def needs_cgroup(runner: Runner, controller: str) -> None:
    cgroups = policy(runner).policy.cgroups
    if cgroups is None or controller not in cgroups.bases:
        pytest.skip(f"no writable {controller} cgroup on this host")


def invoke(runner: Runner, handler: str, event: object = None, *, memory_mb: int = 128,
           tmp_mb: int = 16) -> tuple[Outcome, Environment]:
    async def go() -> tuple[Outcome, Environment]:
        environment = await runner.start(runner.code(HANDLERS), handler, memory_mb=memory_mb, tmp_mb=tmp_mb)
        outcome = await environment.invoke(event)
        await environment.stop()
        return outcome, environment

    return runner.run(go())


class TestWhoTheFunctionIs:
    def test_each_environment_runs_as_its_own_unprivileged_uid(self, runner: Runner) -> None:
        needs_root(runner)
        first, _ = invoke(runner, "app.identity")
        second, _ = invoke(runner, "app.identity")
        assert first.body["uid"] not in (0, os.getuid())
        assert first.body["uid"] != second.body["uid"]
        assert first.body["groups"] == []

    def test_environments_of_different_interpreters_never_share_a_uid(
            self, tmp_path: Path, hidden: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        """Each interpreter has a zygote of its own; the uids are the launcher's to hand out."""
        if os.geteuid() != 0:
            pytest.skip("a uid per environment needs root")
        other = tmp_path / "python"  # another interpreter, as far as the launcher can tell
        other.symlink_to(sys.executable)
        interpreters = iter([sys.executable, str(other)])
        monkeypatch.setattr(isolated, "interpreter_for", lambda runtime: next(interpreters))
        tmp_path.chmod(0o755)
        runner = Runner(IsolatedLauncher(tmp_path / "work", [hidden]), tmp_path, asyncio.new_event_loop())

        async def go() -> list[int]:
            code = runner.code(HANDLERS)
            environments = [await runner.start(code, "app.identity") for _ in range(2)]
            outcomes = [await environment.invoke() for environment in environments]
            for environment in environments:
                await environment.stop()
            return [outcome.body["uid"] for outcome in outcomes]

        try:
            first, second = runner.run(go())
        finally:
            runner.run(runner.launcher.close())
            runner.loop.close()
        assert first != second

    def test_two_launchers_on_one_host_hand_out_different_uids(self) -> None:
        """Two strato servers on one host: their environments must not share uids either."""
        first, second = isolated.Uids(), isolated.Uids()
        assert first.take() != second.take()

    def test_it_has_its_own_pid_namespace_and_hostname(self, runner: Runner) -> None:
        needs_namespaces(runner)
        outcome, _ = invoke(runner, "app.identity")
        assert outcome.body["pid"] == 2  # pid 1 is the environment's init
        assert outcome.body["pids"] == [1, 2]
        assert outcome.body["hostname"] == "localhost"

    def test_it_cannot_gain_privileges(self, runner: Runner) -> None:
        outcome, _ = invoke(runner, "app.identity")
        assert outcome.body["no_new_privs"] == "1"
        assert int(outcome.body["capabilities"], 16) == 0

    def test_the_protections_line_names_what_is_active(self, runner: Runner) -> None:
        line = runner.launcher.protections
        assert line.startswith("isolation: ")
        assert ("namespaces" in line) == policy(runner).policy.namespaces
        found = policy(runner).policy
        assert ("WARNING" in line) == (not found.root or found.cgroups is None or not found.scopes)


class TestWhatTheFunctionSees:
    def test_it_cannot_read_the_data_dir(self, runner: Runner, hidden: Path) -> None:
        needs_namespaces(runner)
        outcome, _ = invoke(runner, "app.read", {"path": str(hidden), "file": "secret"})
        assert outcome.body["errno"] in (errno.EACCES, errno.ENOENT)

    def test_it_cannot_read_another_environments_tmp(self, runner: Runner) -> None:
        needs_namespaces(runner)

        async def go() -> tuple[Outcome, Outcome]:
            code = runner.code(HANDLERS)
            writer = await runner.start(code, "app.write")
            reader = await runner.start(code, "app.read")
            written = await writer.invoke({"path": "/tmp/private", "mb": 1})
            seen = await reader.invoke({"path": "/tmp", "file": "private"})
            await writer.stop()
            await reader.stop()
            return written, seen

        written, seen = runner.run(go())
        assert written.body == {"written": 1}
        assert seen.body["errno"] == errno.ENOENT

    def test_it_cannot_reach_another_environments_abstract_unix_socket(self, runner: Runner) -> None:
        """Environments share the host's network namespace, abstract socket names included:
        over one, a function could hand another a descriptor of its /tmp, which would then
        outlive its environment and every memory limit."""
        if not policy(runner).policy.scopes:
            pytest.skip("no Landlock scopes (Linux 6.12) on this host")
        name = f"strato-test-{random.randint(10_000, 99_999)}"

        async def go() -> tuple[Outcome, Outcome]:
            code = runner.code(HANDLERS)
            listener = await runner.start(code, "app.listen")
            stranger = await runner.start(code, "app.connect")
            listening = await listener.invoke({"name": name})
            reached = await stranger.invoke({"name": name})
            await listener.stop()
            await stranger.stop()
            return listening, reached

        listening, reached = runner.run(go())
        assert listening.body == "listening"
        assert reached.body == errno.EPERM

    def test_it_has_no_kernel_keyrings(self, runner: Runner) -> None:
        """Keyrings are not namespaced: keys in a uid's keyring outlive its environment (each
        environment's uid a new one: kernel memory never given back), and a session keyring
        inherited from whoever started strato would be the function's to read."""
        numbers = {"x86_64": (248, 249, 250), "aarch64": (217, 218, 219)}.get(platform.machine())
        if numbers is None or not policy(runner).policy.seccomp:
            pytest.skip("no seccomp, or an architecture whose keyring calls this test does not know")
        outcome, _ = invoke(runner, "app.keyrings", {"numbers": numbers})
        assert outcome.body == [errno.EPERM] * 3

    def test_it_can_import_the_standard_library_and_boto3_wherever_the_interpreter_lives(
            self, runner: Runner) -> None:
        outcome, _ = invoke(runner, "app.imports")
        assert outcome.body == ["colorsys", "sqlite3", "wave", "xml.dom.minidom"]

    def test_its_code_is_read_only(self, runner: Runner) -> None:
        needs_namespaces(runner)
        outcome, _ = invoke(runner, "app.write", {"path": "/var/task/app.py", "mb": 1})
        assert outcome.body["errno"] in (errno.EROFS, errno.EACCES)

    @pytest.mark.parametrize("tmp_mb", [sandbox.SPARE_TMP_MB, 8])
    def test_tmp_has_the_ephemeral_storage_size_and_nothing_of_the_spares_rehearsal(
            self, runner: Runner, tmp_mb: int) -> None:
        needs_namespaces(runner)
        outcome, _ = invoke(runner, "app.tmp", tmp_mb=tmp_mb)
        assert outcome.body["mb"] == tmp_mb
        assert not [entry for entry in outcome.body["entries"] if "rehearsal" in entry]
        assert outcome.body["traces"] == []

    def test_tmp_is_limited_to_the_ephemeral_storage_size(self, runner: Runner) -> None:
        needs_namespaces(runner)
        fits, _ = invoke(runner, "app.write", {"path": "/tmp/fits", "mb": 4}, tmp_mb=8)
        too_big, _ = invoke(runner, "app.write", {"path": "/tmp/too-big", "mb": 12}, tmp_mb=8)
        assert fits.body == {"written": 4}
        assert too_big.body["errno"] in (errno.ENOSPC, errno.EFBIG)


class TestLimits:
    def test_exceeding_the_memory_limit_kills_the_environment_and_the_peak_is_reported(self, runner: Runner) -> None:
        needs_cgroup(runner, "memory")
        outcome, environment = invoke(runner, "app.allocate", {"mb": 256}, memory_mb=64)
        assert outcome.exit_status == -9
        assert environment.process.max_memory_used_mb() in (63, 64)  # what Runtime.OutOfMemory is told by

    def test_the_peak_memory_of_a_healthy_environment_is_reported(self, runner: Runner) -> None:
        async def go() -> tuple[Outcome, int]:
            environment = await runner.start(runner.code(HANDLERS), "app.allocate")
            outcome = await environment.invoke({"mb": 40})
            peak = environment.process.max_memory_used_mb()
            await environment.stop()
            return outcome, peak

        outcome, peak = runner.run(go())
        assert outcome.body == 40
        assert 40 <= peak < 128

    def test_it_has_ptys_of_its_own_and_only_a_few(self, runner: Runner) -> None:
        """The host's ptys are shared by every login on the host: a function must not take them all."""
        needs_namespaces(runner)
        outcome, _ = invoke(runner, "app.ptys", {"max": 200})
        assert outcome.body == {"first": "/dev/pts/0", "held": sandbox.PTYS, "error": errno.ENOSPC}

    def test_socket_buffers_count_against_the_memory_limit(self, runner: Runner) -> None:
        """Else a function holds the host's TCP memory, outside its limit, until every TCP
        socket on the host is under pressure."""
        needs_cgroup(runner, "memory")
        outcome, _ = invoke(runner, "app.buffers", {"mb": 400}, memory_mb=128)
        assert outcome.exit_status == -9 or outcome.body < 2 * 128  # a connection may always queue a little

    def test_the_number_of_tasks_is_limited(self, runner: Runner) -> None:
        outcome, _ = invoke(runner, "app.threads", {"max": 1500}, memory_mb=512)
        assert outcome.body["started"] < 1024
        assert outcome.body["error"]


class TestKill:
    def test_kill_ends_everything_the_function_started(self, runner: Runner) -> None:
        marker = f"{random.randint(10_000, 99_999)}.5"

        async def go() -> int:
            environment = await runner.start(runner.code(HANDLERS), "app.spawn")
            await environment.invoke({"marker": marker})
            return await environment.stop()

        assert runner.run(go()) == -9
        assert not [p for p in psutil.process_iter(["cmdline"]) if p.info["cmdline"] == ["sleep", marker]]


class TestCustomRuntime:
    def test_a_provided_runtime_runs_its_bootstrap_in_the_sandbox(self, runner: Runner) -> None:
        code = runner.code("", module=None, files={"bootstrap": BOOTSTRAP})

        async def go() -> Outcome:
            environment = await runner.start(code, "function.handler", runtime="provided.al2023")
            outcome = await environment.invoke({"hello": "bootstrap"})
            await environment.stop()
            return outcome

        outcome = runner.run(go())
        assert outcome.body["echo"] == {"hello": "bootstrap"}
        assert outcome.body["handler"] == "function.handler"
        if policy(runner).policy.root:
            assert outcome.body["uid"] not in (0, os.getuid())


def test_the_runtimes_own_dirs_under_tmp_stay_visible_but_never_the_hidden_data_dir() -> None:
    """A strato installed under /tmp (a CI checkout's venv) must still be importable inside the
    environment's private /tmp; a data dir under /tmp must stay hidden all the same."""
    paths = ["/usr/lib/python3", "/tmp/ci/.venv", "/tmp/ci/.venv/lib/python3.11/site-packages",
             "/tmp/data/functions/run/zygote", "/tmp"]
    assert sandbox.under_tmp(paths, hidden=("/tmp/data",)) == ["/tmp/ci/.venv"]
