"""The Launcher of sandboxed environments, with the protections sandbox.py found on this host.

A zygote per interpreter (zygote.py) keeps spare environments ready, each a forked process
waiting in its namespaces and cgroup, and hands their sockets over; a launch sends the spec
and log fd straight to a spare, so a cold start costs no fork and no zygote round trip.
The zygote reports every exit and kills on request. A zygote that dies is noticed (its control
socket ends); its environments die with it (their init has PR_SET_PDEATHSIG) and are reported
killed; the next launch starts a new zygote.
"""

from __future__ import annotations

import asyncio
import collections
import functools
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import sysconfig
from pathlib import Path
from typing import Any

from . import cgroups, messages, sandbox
from .launcher import LaunchSpec
from .records import DEFAULT_MEMORY
from .runtimes import available_runtimes, interpreter_for, program_for

MB = 1024 * 1024
DEFAULT_PATH = "/usr/local/bin:/usr/bin:/bin"
UID_SPAN = 1_000_000_000  # environment uids: UID_BASE + (0 .. UID_SPAN), all below 2**31
# The modules a zygote imports, copied so that an interpreter other than strato's own can
# import them without seeing strato's installation (and its site-packages).
ZYGOTE_MODULES = (
    "__init__.py", "zygote.py", "envprocs.py", "messages.py", "sandbox.py", "cgroups.py", "syscalls.py", "seccomp.py",
    "runtime_client.py", "rehearsal.py",
)


class EnvironmentProcess:
    """One environment, as seen from the launcher: its init's pid and its cgroup."""

    def __init__(self, pid: int, group: cgroups.Group | None, owner: ZygoteClient, uid: int | None) -> None:
        self.pid = pid
        self.uid = uid  # None where environments share strato's uid (not root)
        self._group = group
        self._owner = owner
        self._exit: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._peak: int | None = None
        self._peak_fd: int | None = None  # the cgroup's peak counter, kept open while it lives
        self._settled = False

    async def wait(self) -> int:
        return await asyncio.shield(self._exit)

    def kill(self) -> None:
        if self._exit.done():
            return
        if not self._owner.request_kill(self.pid) and self._group is not None:
            self._group.kill()

    def settled(self) -> None:
        if not self._settled:
            self._settled = True
            self._owner.settled(self.pid)

    def max_memory_used_mb(self) -> int:
        peak = self._peak if self._exit.done() else self._current_peak()
        return -(-(peak or 0) // MB)

    def _current_peak(self) -> int | None:
        if self._group is None:
            return _runtime_high_water_mark(self.pid)
        try:
            if self._peak_fd is None:
                path = self._group.peak_file()
                if path is None:
                    return None
                self._peak_fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
            return cgroups.read_number(self._peak_fd)
        except (OSError, ValueError):
            return None

    def exited(self, status: int, peak: int | None) -> None:
        if not self._exit.done():
            self._peak = peak if peak is not None else self._current_peak()
            self._exit.set_result(status)
        if self._peak_fd is not None:
            os.close(self._peak_fd)
            self._peak_fd = None


def _runtime_high_water_mark(init_pid: int) -> int | None:
    """Without a memory cgroup: the runtime process's (init's child's) peak resident size."""
    try:
        children = Path(f"/proc/{init_pid}/task/{init_pid}/children").read_text().split()
        for line in Path(f"/proc/{children[0]}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except (OSError, IndexError):
        return None
    return None


@functools.lru_cache(maxsize=1024)
def _real_path(path: Path) -> str:
    """A code directory's real path (the runtime process finds it from /, where an absolute
    symlink would lead elsewhere), found once: code directories are immutable, named by their
    package's SHA-256, and the walk (a lstat per component) costs ~70 µs on a cold start."""
    return str(path.resolve())


def _python_path(interpreter: str, module_root: Path) -> str:
    """The zygote's modules first; another interpreter also gets strato's pure-Python packages
    (boto3 and botocore among them) after its own, as Lambda's runtimes include boto3."""
    if interpreter == sys.executable:
        return str(module_root)
    return os.pathsep.join([str(module_root), sysconfig.get_path("purelib")])


class Uids:
    """The environments' uids, handed out for every zygote of a launcher: no two environments
    alive at once share one, whichever interpreters run them. Each launcher starts at a random
    point of the span, so that two strato servers on one host do not hand out the same uids
    (the Runtime API tells an environment's connections by their uid)."""

    def __init__(self) -> None:
        self._used: set[int] = set()
        self._counter = secrets.randbelow(UID_SPAN)

    def take(self) -> int:
        while True:
            self._counter += 1
            uid = sandbox.UID_BASE + self._counter % UID_SPAN
            if uid not in self._used:
                self._used.add(uid)
                return uid

    def release(self, uid: int) -> None:
        self._used.discard(uid)


class ZygoteClient:
    """The launcher's end of one zygote's control socket."""

    def __init__(self, interpreter: str, module_root: Path, policy: sandbox.Policy, uids: Uids) -> None:
        self._sock, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        path = os.environ.get("PATH", DEFAULT_PATH)
        environment = {"PYTHONPATH": _python_path(interpreter, module_root), "PATH": path}
        with theirs:
            self._process = subprocess.Popen(
                [interpreter, "-m", "strato.functions.zygote", str(theirs.fileno()), json.dumps(policy.to_json())],
                pass_fds=[theirs.fileno()],
                env=environment,
                stdin=subprocess.DEVNULL,
                cwd="/",
                # Out of the terminal's process group, which a Ctrl-C interrupts whole: the zygote
                # and its environments end when the controller closes its socket, after the
                # invokes in flight.
                start_new_session=True,
            )
        self._cgroup_version = policy.cgroups.version if policy.cgroups else 0
        self._own_uids = policy.root  # each environment runs as the uid it is given
        self._spares: collections.deque[tuple[int, cgroups.Group | None, socket.socket]] = collections.deque()
        self._spare_arrived: asyncio.Event | None = None
        self._failure: str | None = None  # why the last spare could not be made
        self._running: dict[int, EnvironmentProcess] = {}
        self._free_uids = uids  # shared with the launcher's other zygotes
        self._uids: dict[int, int] = {}  # init pid -> the environment's uid
        self._loop: asyncio.AbstractEventLoop | None = None  # attached at the first launch
        self.alive = True

    async def launch(self, spec: LaunchSpec) -> EnvironmentProcess:
        """Hand the spec straight to a spare's waiting runtime process (no zygote round trip)."""
        if self._loop is None:
            self._loop = asyncio.get_running_loop()
            self._spare_arrived = asyncio.Event()
            self._loop.add_reader(self._sock.fileno(), self._readable)
            self._readable()
        assert self._spare_arrived is not None
        while True:
            if not self.alive:
                raise OSError("the zygote exited")
            if not self._spares:
                self._failure = None
                self._spare_arrived.clear()
                self._tell({"op": "want"})
                await self._spare_arrived.wait()
                if self._failure is not None and not self._spares:
                    raise OSError(f"cannot start an environment: {self._failure}")
                continue
            pid, group, sock = self._spares.popleft()
            with sock:
                if group is not None:
                    group.limit(spec.memory_mb)
                uid = self._free_uids.take()
                try:
                    fds = [spec.log_fd] if spec.api_fd is None else [spec.log_fd, spec.api_fd]
                    messages.send(sock, self._spec(spec, uid), fds)
                except OSError:  # the spare died: its exit report is on its way
                    self._free_uids.release(uid)
                    continue
            self._tell({"op": "used", "pid": pid})
            self._uids[pid] = uid
            process = EnvironmentProcess(pid, group, self, uid if self._own_uids else None)
            self._running[pid] = process
            return process

    @staticmethod
    def _spec(spec: LaunchSpec, uid: int) -> dict[str, Any]:
        return {
            "runtime": spec.runtime,
            "handler": spec.handler,
            "code_dir": _real_path(spec.code_dir),
            "opt_dir": None if spec.opt_dir is None else _real_path(spec.opt_dir),
            "environment": spec.environment,
            "memory_mb": spec.memory_mb,
            "tmp_mb": spec.tmp_mb,
            "uid": uid,
            "argv": program_for(spec.runtime),
            "log_secret": spec.log_secret,
        }

    def _tell(self, message: dict[str, Any]) -> None:
        try:
            messages.send(self._sock, message)
        except OSError:
            self._lost()

    def settled(self, pid: int) -> None:
        """The cold start of the environment launched from spare `pid` is over: the zygote may
        replace that spare now without slowing it."""
        if self.alive and pid in self._running:
            self._tell({"op": "settled", "pid": pid})

    def request_kill(self, pid: int) -> bool:
        """Ask the zygote to kill an environment; False when the zygote is gone."""
        if self.alive:
            self._tell({"op": "kill", "pid": pid})
        return self.alive

    def _readable(self) -> None:
        while self.alive:
            try:
                message, fds = messages.receive(self._sock, socket.MSG_DONTWAIT)
            except BlockingIOError:
                return
            except OSError:
                message, fds = None, []
            if message is None:
                self._lost()
                return
            self._dispatch(message, fds)

    def _dispatch(self, message: dict[str, Any], fds: list[int]) -> None:
        op = message["op"]
        if op == "spare":
            dirs = message["cgroup"]
            group = cgroups.Group(self._cgroup_version, dirs) if dirs else None
            if group is not None:
                # Limits for Lambda's default memory now, while nothing waits: a launch of that
                # size then writes no cgroup knob (six writes to the cgroup filesystem, on a cold
                # start's path), others only the knobs that differ.
                group.limit(DEFAULT_MEMORY)
            self._spares.append((message["pid"], group, socket.socket(fileno=fds[0])))
            self._wake()
        elif op == "failed":
            self._failure = str(message["error"])
            self._wake()
        elif op == "exited":
            pid = message["pid"]
            uid = self._uids.pop(pid, None)
            if uid is not None:
                self._free_uids.release(uid)
            process = self._running.pop(pid, None)
            if process is not None:
                process.exited(message["status"], message["peak"])
            for spare in [s for s in self._spares if s[0] == pid]:
                self._spares.remove(spare)
                spare[2].close()

    def _wake(self) -> None:
        if self._spare_arrived is not None:
            self._spare_arrived.set()

    def _lost(self) -> None:
        """The zygote is gone: its environments die with it (PDEATHSIG); make sure of it."""
        if not self.alive:
            return
        self.alive = False
        if self._loop is not None:
            self._loop.remove_reader(self._sock.fileno())
        self._sock.close()
        self._wake()
        for _, _, sock in self._spares:
            sock.close()
        self._spares.clear()
        for process in self._running.values():
            process.kill()
            process.exited(-9, None)
        self._running.clear()
        for uid in self._uids.values():
            self._free_uids.release(uid)
        self._uids.clear()

    async def close(self) -> None:
        self._lost()
        await asyncio.to_thread(self._process.wait)


class IsolatedLauncher:
    """Launcher: sandboxed environments forked from a zygote per interpreter.

    `work_dir` holds the zygotes' module copy; it and every path in `hide` (the data dir) are
    covered inside environments.
    """

    def __init__(self, work_dir: Path, hide: list[Path]) -> None:
        self._module_root = work_dir / "zygote"
        package = Path(__file__).parent
        target = self._module_root / "strato" / "functions"
        target.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(package.parent / "__init__.py", target.parent / "__init__.py")
        for name in ZYGOTE_MODULES:
            shutil.copyfile(package / name, target / name)
        self._tree = cgroups.make_tree(f"strato-{os.getpid()}-{id(self):x}")
        hidden = [str(p.resolve()) for p in (work_dir, *hide)]
        self.policy = sandbox.probe(self._tree, hidden)
        self.protections = self.policy.describe()
        # strato's own interpreter serves its Python version and the provided runtimes: its
        # zygote starts now, so that the first cold start does not pay for importing boto3.
        self._uids = Uids()
        self._zygotes = {sys.executable: ZygoteClient(sys.executable, self._module_root, self.policy, self._uids)}

    def runtimes(self) -> frozenset[str]:
        return available_runtimes()

    async def launch(self, spec: LaunchSpec) -> EnvironmentProcess:
        if spec.runtime not in available_runtimes():
            raise ValueError(f"runtime {spec.runtime} is not available on this host")
        interpreter = interpreter_for(spec.runtime)
        client = self._zygotes.get(interpreter)
        if client is None or not client.alive:
            if client is not None:
                await client.close()
            client = ZygoteClient(interpreter, self._module_root, self.policy, self._uids)
            self._zygotes[interpreter] = client
        return await client.launch(spec)

    async def close(self) -> None:
        for client in self._zygotes.values():
            await client.close()
        self._zygotes.clear()
        if self._tree is not None:
            self._tree.remove()
