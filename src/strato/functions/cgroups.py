"""Memory (socket buffers too), CPU and pids limits for environments through cgroups, v2 or v1 (this host has the
v1 controllers). Only the standard library: the zygote uses it too.

Strato makes one parent group per launcher and one child group per environment. A process is
moved into its group before it runs user code; that first move is slow (~10 ms, an RCU grace
period), so the zygote does it for a spare environment ahead of time.
"""

from __future__ import annotations

import contextlib
import os
import signal
from dataclasses import dataclass, field
from pathlib import Path

CONTROLLERS = ("memory", "cpu", "pids")
PIDS_MAX = 1024  # Lambda's limit on processes and threads per environment
MB_PER_VCPU = 1769  # Lambda gives one vCPU at 1,769 MB
CFS_PERIOD_US = 100_000


def _mounts() -> list[tuple[str, str, list[str]]]:
    """(mount point, filesystem type, options) of every cgroup mount."""
    found = []
    with open("/proc/self/mounts") as table:
        for line in table:
            fields = line.split()
            if len(fields) >= 4 and fields[2] in ("cgroup", "cgroup2"):
                found.append((fields[1], fields[2], fields[3].split(",")))
    return found


def read_number(fd: int, close: bool = False) -> int:
    """A cgroup counter read from an open file with one pread (cheap enough for every invoke)."""
    try:
        return int(os.pread(fd, 64, 0))
    finally:
        if close:
            os.close(fd)


@dataclass(frozen=True, slots=True)
class Group:
    """One environment's cgroup: a directory per controller on v1, one directory on v2."""

    version: int
    dirs: dict[str, str]  # controller -> directory
    # knob path -> the value written there by this process (a knob is written only to change it)
    applied: dict[str, str] = field(default_factory=dict, compare=False)

    def _paths(self) -> list[str]:
        return sorted(set(self.dirs.values()))

    def create(self) -> None:
        for path in self._paths():
            os.makedirs(path, exist_ok=True)

    def join(self) -> None:
        """Move the calling process in (its children are born inside)."""
        for path in self._paths():
            with open(os.path.join(path, "cgroup.procs"), "w") as procs:
                procs.write("0")

    def _write(self, controller: str, name: str, value: str) -> None:
        directory = self.dirs.get(controller)
        if directory is None:
            return
        path = os.path.join(directory, name)
        if self.applied.get(path) == value:
            return
        if os.path.exists(path):
            with open(path, "w") as knob:
                knob.write(value)
        self.applied[path] = value

    def limit(self, memory_mb: int) -> None:
        """Memory as configured, CPU in proportion to memory as Lambda does (but at least one
        whole CPU, so small functions still start quickly), and at most PIDS_MAX tasks."""
        memory = str(memory_mb * 1024 * 1024)
        quota = CFS_PERIOD_US * max(1, memory_mb // MB_PER_VCPU)
        if self.version == 2:
            self._write("memory", "memory.max", memory)
            self._write("memory", "memory.swap.max", "0")
            self._write("cpu", "cpu.max", f"{quota} {CFS_PERIOD_US}")
            self._write("cpu", "cpu.weight", str(max(1, min(10_000, memory_mb * 100 // MB_PER_VCPU))))
            self._write("pids", "pids.max", str(PIDS_MAX))
        else:
            # v1 keeps memory.limit_in_bytes <= memory.memsw.limit_in_bytes at every write (EINVAL
            # otherwise): a limit raised from one set before moves memsw first.
            knobs = ["memory.limit_in_bytes", "memory.memsw.limit_in_bytes"]
            before = self.applied.get(os.path.join(self.dirs.get("memory", ""), knobs[0]))
            if before is not None and int(before) < int(memory):
                knobs.reverse()
            for name in knobs:
                self._write("memory", name, memory)
            # v1 charges socket buffers to a group only once it has a TCP limit (v2 always, to
            # its memory): without one a function holds as much of the host's TCP memory as it
            # likes, outside its limit, until every TCP socket on the host is under pressure.
            with contextlib.suppress(OSError):  # a kernel without TCP accounting: as before
                self._write("memory", "memory.kmem.tcp.limit_in_bytes", memory)
            self._write("cpu", "cpu.cfs_period_us", str(CFS_PERIOD_US))
            self._write("cpu", "cpu.cfs_quota_us", str(quota))
            self._write("cpu", "cpu.shares", str(max(2, memory_mb * 1024 // MB_PER_VCPU)))
            self._write("pids", "pids.max", str(PIDS_MAX))

    def peak_file(self) -> str | None:
        """The file holding the highest memory use seen, or None without a memory controller."""
        directory = self.dirs.get("memory")
        if directory is None:
            return None
        names = ("memory.max_usage_in_bytes",) if self.version == 1 else ("memory.peak", "memory.current")
        for name in names:
            path = os.path.join(directory, name)
            if os.path.exists(path):
                return path
        return None

    def peak_bytes(self) -> int | None:
        """The highest memory use seen, or None without a memory controller."""
        path = self.peak_file()
        try:
            return None if path is None else read_number(os.open(path, os.O_RDONLY), close=True)
        except (OSError, ValueError):
            return None

    def kill(self) -> None:
        """SIGKILL every task in the group (cgroup.kill where the kernel has it)."""
        for path in self._paths():
            kill_file = os.path.join(path, "cgroup.kill")
            if os.path.exists(kill_file):
                with open(kill_file, "w") as knob:
                    knob.write("1")
                continue
            try:
                with open(os.path.join(path, "cgroup.procs")) as procs:
                    pids = [int(line) for line in procs if line.strip()]
            except FileNotFoundError:
                continue
            for pid in pids:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)

    def remove(self) -> bool:
        """Remove the group; False while tasks are still leaving it."""
        done = True
        for path in self._paths():
            try:
                os.rmdir(path)
            except FileNotFoundError:
                pass
            except OSError:
                done = False
        return done


@dataclass(frozen=True, slots=True)
class Tree:
    """Strato's parent group(s): where environment groups are made."""

    version: int
    bases: dict[str, str]  # controller -> the parent directory

    def group(self, name: str) -> Group:
        return Group(self.version, {c: os.path.join(base, name) for c, base in self.bases.items()})

    def to_json(self) -> dict[str, object]:
        return {"version": self.version, "bases": self.bases}

    @classmethod
    def from_json(cls, data: dict[str, object]) -> Tree:
        version = data["version"]
        bases = data["bases"]
        assert isinstance(version, int)
        assert isinstance(bases, dict)
        return cls(version, {str(k): str(v) for k, v in bases.items()})

    def remove(self) -> None:
        """Remove the parent group and whatever environment groups are left in it."""
        for path in sorted(set(self.bases.values())):
            _remove_tree(path)


def _remove_tree(path: str) -> None:
    with contextlib.suppress(OSError):
        for entry in os.scandir(path):
            if entry.is_dir(follow_symlinks=False):
                with contextlib.suppress(OSError):
                    os.rmdir(entry.path)
        os.rmdir(path)


def _remove_stale(parent: str, prefix: str) -> None:
    """Groups left by strato processes that died without cleaning up (named PREFIX-PID-...)."""
    with contextlib.suppress(OSError):
        for entry in os.scandir(parent):
            pid = entry.name.removeprefix(prefix + "-").split("-")[0]
            if entry.name.startswith(prefix + "-") and pid.isdigit() and not os.path.exists(f"/proc/{pid}"):
                _remove_tree(entry.path)


def _v2_tree(name: str) -> Tree | None:
    for point, fstype, _ in _mounts():
        if fstype != "cgroup2":
            continue
        try:
            available = Path(point, "cgroup.controllers").read_text().split()
        except OSError:
            continue
        if not all(c in available for c in CONTROLLERS):
            continue
        base = os.path.join(point, name)
        _remove_stale(point, name.split("-")[0])
        try:
            Path(point, "cgroup.subtree_control").write_text(" ".join(f"+{c}" for c in CONTROLLERS))
            os.makedirs(base, exist_ok=True)
            Path(base, "cgroup.subtree_control").write_text(" ".join(f"+{c}" for c in CONTROLLERS))
        except OSError:
            continue
        return Tree(2, {c: base for c in CONTROLLERS})
    return None


def _v1_tree(name: str) -> Tree | None:
    bases: dict[str, str] = {}
    for point, fstype, options in _mounts():
        for controller in CONTROLLERS:
            if fstype == "cgroup" and controller in options and controller not in bases:
                base = os.path.join(point, name)
                _remove_stale(point, name.split("-")[0])
                try:
                    os.makedirs(base, exist_ok=True)
                except OSError:
                    continue
                bases[controller] = base
    return Tree(1, bases) if bases else None


def make_tree(name: str) -> Tree | None:
    """Create strato's parent group `name` (PREFIX-PID-...) in the best writable hierarchy, or
    None; groups of dead strato processes with the same prefix are removed on the way."""
    return _v2_tree(name) or _v1_tree(name)
