"""Isolation for execution environments: what the host allows (probed once), and the steps the
zygote's forked processes apply before user code runs.

The steps, in the order an environment meets them (see zygote.py for who runs each):
  enter_namespaces   mount, pid, ipc and uts namespaces (and a user namespace when strato is
                     not root); mounts stop propagating to the host
  mount_proc         /proc for the new pid namespace (run by its pid 1)
  prepare_filesystem the data dir and strato's own dirs covered by empty read-only tmpfs,
                     private /dev/shm, /var/tmp and /tmp, ptys of its own, an empty /opt, bash
                     as /bin/sh (all before the launch)
  finish_filesystem  at launch: /var/task read-only, the function's layers read-only at /opt,
                     /tmp resized to the function's size
  drop_privileges    a uid of its own (root) or a nested user namespace (not root), rlimits,
                     no_new_privs, no kernel keyrings (seccomp), a Landlock domain of its own
                     for abstract Unix sockets
Only the standard library: the zygote, which may run on another interpreter, imports it.
"""

from __future__ import annotations

import errno
import os
import resource
import shutil
import sys
from dataclasses import dataclass, field

from . import seccomp, syscalls
from .cgroups import Tree

TASK_ROOT = "/var/task"
OPT = "/opt"  # where a function's layers are
NAMESPACES = syscalls.CLONE_NEWNS | syscalls.CLONE_NEWPID | syscalls.CLONE_NEWIPC | syscalls.CLONE_NEWUTS
UID_BASE = 1_000_000_000  # environment uids: far above any real account
NOFILE = 1024  # Lambda's file descriptor limit
NPROC = 1024  # Lambda's process/thread limit (per uid: each environment has its own uid)
SMALL_TMPFS = "size=16m,mode=1777"
SPARE_TMP_MB = 512  # a spare's /tmp, Lambda's default ephemeral storage: other sizes are a remount
PTYS = 64  # pseudo-terminals an environment may hold at once


@dataclass(frozen=True, slots=True)
class Policy:
    """What the host allows, decided once by probe() and handed to every zygote."""

    root: bool
    namespaces: bool  # mount/pid/ipc/uts namespaces (through a user namespace when not root)
    cgroups: Tree | None
    hide: tuple[str, ...] = ()
    reveal: tuple[str, ...] = field(default=())  # dirs user code must read through closed parents
    keep_in_tmp: tuple[str, ...] = field(default=())  # the runtime's dirs under /tmp (a venv there)
    # Landlock scopes (Linux 6.12): abstract Unix sockets, which every network namespace shares,
    # only within an environment. Without them environments can pass each other descriptors (a
    # file of a /tmp that then outlives its environment and every memory limit).
    scopes: bool = False
    seccomp: bool = False  # seccomp filters: the kernel keyrings denied (seccomp.py)

    def to_json(self) -> dict[str, object]:
        return {
            "root": self.root,
            "namespaces": self.namespaces,
            "cgroups": self.cgroups.to_json() if self.cgroups else None,
            "hide": list(self.hide),
            "reveal": list(self.reveal),
            "keep_in_tmp": list(self.keep_in_tmp),
            "scopes": self.scopes,
            "seccomp": self.seccomp,
        }

    @classmethod
    def from_json(cls, data: dict[str, object]) -> Policy:
        cgroups = data.get("cgroups")
        hide, reveal, keep = data.get("hide"), data.get("reveal"), data.get("keep_in_tmp", [])
        assert isinstance(hide, list)
        assert isinstance(reveal, list)
        assert isinstance(keep, list)
        return cls(
            root=bool(data["root"]),
            namespaces=bool(data["namespaces"]),
            cgroups=Tree.from_json(cgroups) if isinstance(cgroups, dict) else None,
            hide=tuple(str(p) for p in hide),
            reveal=tuple(str(p) for p in reveal),
            keep_in_tmp=tuple(str(p) for p in keep),
            scopes=bool(data.get("scopes", False)),
            seccomp=bool(data.get("seccomp", False)),
        )

    def describe(self) -> str:
        """One line naming the active protections, with a warning for each missing one."""
        active: list[str] = []
        missing: list[str] = []
        if self.namespaces:
            active.append("namespaces mount+pid+ipc+uts" + ("" if self.root else "+user"))
            active.append("read-only /var/task, private size-limited /tmp, data dir hidden")
        else:
            missing.append("no namespaces: functions see the host's files and processes (uid and rlimits only)")
        if self.root:
            active.append("a uid per environment")
        else:
            missing.append("not root: every environment runs as strato's own uid")
        controllers = sorted(self.cgroups.bases) if self.cgroups else []
        if controllers:
            active.append(f"cgroup v{self.cgroups.version if self.cgroups else ''} {'+'.join(controllers)}")
        absent = [c for c in ("memory", "cpu", "pids") if c not in controllers]
        if absent:
            missing.append(f"no {'/'.join(absent)} cgroup: rlimits instead (RLIMIT_AS for memory, RLIMIT_NPROC)")
        if self.scopes:
            active.append("abstract unix sockets only within an environment")
        else:
            missing.append("no Landlock scopes (Linux 6.12): environments can pass each other descriptors "
                           "over abstract unix sockets")
        if self.seccomp:
            active.append("no kernel keyrings (seccomp)")
        else:
            missing.append("no seccomp: functions can leave keys in the kernel's keyrings for good")
        active.append("no_new_privs, rlimits")
        line = "isolation: " + ", ".join(active)
        return line + ("; WARNING: " + "; ".join(missing) if missing else "")


def _try_in_child(action: object) -> bool:
    """Run `action` in a throwaway forked child; True when it returned without error."""
    assert callable(action)
    pid = os.fork()
    if pid == 0:
        try:
            action()
            os._exit(0)
        except BaseException:
            os._exit(1)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status) == 0


def probe(cgroups: Tree | None, hide: list[str]) -> Policy:
    """Find out what this host allows (namespaces by trying them in a child)."""
    root = os.geteuid() == 0
    if root:
        os.makedirs(TASK_ROOT, exist_ok=True)
        os.makedirs(OPT, exist_ok=True)
    namespaces = _try_in_child(lambda: enter_namespaces(root))
    scopes = syscalls.landlock_abi() >= syscalls.LANDLOCK_SCOPES_ABI
    filtered = _try_in_child(_filtered)
    return Policy(root, namespaces, cgroups, tuple(hide), scopes=scopes, seccomp=filtered)


def _filtered() -> None:
    syscalls.prctl(syscalls.PR_SET_NO_NEW_PRIVS, 1)
    seccomp.deny_keyrings()


def closed_parents(paths: list[str]) -> list[str]:
    """The dirs among `paths` (say, the interpreter's prefix) that an unprivileged uid cannot
    reach because an ancestor is not world-searchable (a venv under /root)."""
    needed = []
    for path in paths:
        real = os.path.realpath(path)
        parts = real.split("/")
        for depth in range(2, len(parts)):
            ancestor = "/".join(parts[:depth])
            if not os.stat(ancestor).st_mode & 0o001:
                needed.append(real)
                break
    kept = sorted(set(needed))
    return [p for p in kept if not any(p.startswith(q + "/") for q in kept if q != p)]


def _inside(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def under_tmp(paths: list[str], hidden: tuple[str, ...]) -> list[str]:
    """The dirs among `paths` inside /tmp (an interpreter or venv installed there), which the
    environment's private /tmp would otherwise hide from the runtime; never one inside a
    `hidden` dir (the data dir may be under /tmp too)."""
    found = sorted({real for real in map(os.path.realpath, paths)
                    if _inside(real, "/tmp") and real != "/tmp" and not any(_inside(real, h) for h in hidden)})
    return [p for p in found if not any(p.startswith(q + "/") for q in found if q != p)]


def enter_namespaces(root: bool) -> None:
    """Unshare the namespaces; the caller's next child is pid 1 of the new pid namespace."""
    if root:
        syscalls.unshare(NAMESPACES)
    else:
        uid, gid = os.geteuid(), os.getegid()
        syscalls.unshare(NAMESPACES | syscalls.CLONE_NEWUSER)
        _map_ids(uid, gid)
    syscalls.mount("none", "/", None, syscalls.MS_REC | syscalls.MS_PRIVATE)


def _map_ids(uid: int, gid: int) -> None:
    with open("/proc/self/uid_map", "w") as f:
        f.write(f"{uid} {uid} 1")
    with open("/proc/self/setgroups", "w") as f:
        f.write("deny")
    with open("/proc/self/gid_map", "w") as f:
        f.write(f"{gid} {gid} 1")


def seal_host() -> None:
    """The host's whole mount tree read-only for the environment: function code writes only to
    the private tmpfs mounts made afterwards (/tmp, /dev/shm, /var/tmp). Without this a strato
    that is not root would let functions write whatever its own uid may (its venv, ~/.aws).
    Device files (/dev/null) stay writable: a read-only mount does not bar them."""
    try:
        syscalls.read_only_tree("/")
    except OSError as exc:
        if exc.errno not in (errno.ENOSYS, errno.EINVAL):  # kernels before 5.12: uid and covers only
            raise


def mount_proc() -> None:
    """A /proc showing only this pid namespace (called by its pid 1)."""
    flags = syscalls.MS_NOSUID | syscalls.MS_NODEV | syscalls.MS_NOEXEC
    syscalls.mount("proc", "/proc", "proc", flags)
    syscalls.sethostname("localhost")


def _bind_read_only(source_fd: int, target: str) -> None:
    syscalls.mount(f"/proc/self/fd/{source_fd}", target, None, syscalls.MS_BIND | syscalls.MS_REC)
    flags = syscalls.MS_BIND | syscalls.MS_REMOUNT | syscalls.MS_RDONLY | syscalls.MS_NOSUID | syscalls.MS_NODEV
    syscalls.mount("none", target, None, flags)


def _cover(path: str, options: str, read_only: bool) -> None:
    flags = syscalls.MS_NOSUID | syscalls.MS_NODEV | (syscalls.MS_RDONLY if read_only else 0)
    syscalls.mount("tmpfs", path, "tmpfs", flags, options)


def _ensure_task_root() -> None:
    if not os.path.isdir(TASK_ROOT):  # not root and no /var/task on the host: a tmpfs /var
        _cover("/var", "size=1m,mode=0755", read_only=False)
        os.makedirs(TASK_ROOT)
        os.makedirs("/var/tmp")


def prepare_filesystem(policy: Policy) -> int:
    """Everything of the environment's filesystem that does not depend on the function, done
    while the environment is a spare. The host's tree is first kept at /var/task under an empty
    root-only tmpfs (the function's code is found there at launch), then the data dir and
    strato's dirs are covered, and a private /tmp made, in which the runtime's own dirs under
    /tmp (`keep_in_tmp`) are seen again, read-only. Returns a descriptor of the kept tree, for
    finish_filesystem."""
    reveal_fds = [(path, os.open(path, os.O_PATH | os.O_DIRECTORY)) for path in policy.reveal]
    _ensure_task_root()
    syscalls.mount("/", TASK_ROOT, None, syscalls.MS_BIND | syscalls.MS_REC)
    host = os.open(TASK_ROOT, os.O_PATH | os.O_DIRECTORY)
    _cover(TASK_ROOT, "size=4k,mode=0700", read_only=True)
    covered: set[str] = set()
    for path, fd in reveal_fds:
        parent = next(a for a in _ancestors(path) if not os.stat(a).st_mode & 0o001)
        if parent not in covered:
            _cover(parent, "size=1m,mode=0755", read_only=False)
            covered.add(parent)
        os.makedirs(path, mode=0o755, exist_ok=True)
        _bind_read_only(fd, path)
        os.close(fd)
    for path in policy.hide:
        if os.path.isdir(path):
            _cover(path, "size=4k,mode=0000", read_only=True)
    for shared in ("/dev/shm", "/var/tmp"):
        if os.path.isdir(shared):
            _cover(shared, SMALL_TMPFS, read_only=False)
    _private_ptys()
    _empty_opt()
    _private_tmp(host, policy.keep_in_tmp, policy.hide)
    _bash_as_sh()
    return host


def _private_ptys() -> None:
    """A devpts instance of the environment's own behind /dev/ptmx: the host's is shared by
    every login on the host, and a function holding its 4096 ptys would leave none for them."""
    if not (os.path.isdir("/dev/pts") and os.path.exists("/dev/ptmx")):
        return
    flags = syscalls.MS_NOSUID | syscalls.MS_NOEXEC
    try:
        syscalls.mount("devpts", "/dev/pts", "devpts", flags, f"newinstance,ptmxmode=0666,mode=0620,max={PTYS}")
    except OSError:  # a host that refuses a devpts of one's own: the host's, as before
        return
    try:
        syscalls.mount("/dev/pts/ptmx", "/dev/ptmx", None, syscalls.MS_BIND)
    except OSError:  # a /dev/ptmx of the host's would make ptys /dev/pts does not show
        syscalls.umount("/dev/pts", syscalls.MNT_DETACH)


def _empty_opt() -> None:
    """/opt empty, as in Lambda when a function has no layers (a function's layers are bound
    over it at launch): the host's /opt is neither imported from (/opt/python is on a Python
    function's sys.path) nor run as a custom runtime's bootstrap. Left as it is where a runtime
    lives under it: the interpreter that runs functions, a dir it imports from, or node."""
    runtime = (sys.prefix, sys.base_prefix, sys.exec_prefix, sys.executable, *sys.path, shutil.which("node") or "/")
    if os.path.isdir(OPT) and not any(_inside(os.path.realpath(path), OPT) for path in runtime):
        _cover(OPT, "size=4k,mode=0755", read_only=True)


def _bash_as_sh() -> None:
    """/bin/sh is bash, as on Amazon Linux: custom runtimes' `bootstrap` scripts written for
    Lambda use bash under `#!/bin/sh` (`source`, `function`, `set -o pipefail`, as AWS's own
    tutorial does). Where the host's sh is another shell (dash on Debian), bash is bound over
    it, in the environment's mount namespace only."""
    shell = os.path.realpath("/bin/sh")
    for bash in ("/usr/bin/bash", "/bin/bash"):
        if os.path.isfile(bash):
            if os.path.realpath(bash) != shell:
                fd = os.open(bash, os.O_PATH)
                _bind_read_only(fd, shell)
                os.close(fd)
            return


def _private_tmp(host: int, keep_in_tmp: tuple[str, ...], hide: tuple[str, ...]) -> None:
    kept = [(path, os.open(path.lstrip("/"), os.O_PATH | os.O_DIRECTORY, dir_fd=host)) for path in keep_in_tmp]
    _cover("/tmp", _tmp_options(SPARE_TMP_MB), read_only=False)
    for path, fd in kept:
        os.makedirs(path, mode=0o755, exist_ok=True)
        _bind_read_only(fd, path)
        os.close(fd)
    for path in hide:  # a data dir inside a kept dir (/tmp/checkout/.venv beside /tmp/checkout/data)
        if any(path.startswith(dir.rstrip("/") + "/") for dir in keep_in_tmp) and os.path.isdir(path):
            _cover(path, "size=4k,mode=0000", read_only=True)


def _tmp_options(tmp_mb: int) -> str:
    return f"size={max(1, tmp_mb)}m,mode=1777"


def finish_filesystem(host: int, code_dir: str, tmp_mb: int, opt_dir: str | None = None) -> None:
    """At launch: the function's code (found through the kept host tree, which is then let go)
    read-only at /var/task, its layers (`opt_dir`) read-only at /opt over the host's, and /tmp
    limited to the function's ephemeral storage size."""
    for source, target in ((code_dir, TASK_ROOT), (opt_dir, OPT)):
        if source:
            tree = os.open(source.lstrip("/"), os.O_PATH | os.O_DIRECTORY, dir_fd=host)
            _bind_read_only(tree, target)
            os.close(tree)
    os.close(host)
    if tmp_mb != SPARE_TMP_MB:
        flags = syscalls.MS_REMOUNT | syscalls.MS_NOSUID | syscalls.MS_NODEV
        syscalls.mount("tmpfs", "/tmp", "tmpfs", flags, _tmp_options(tmp_mb))


def _ancestors(path: str) -> list[str]:
    parts = path.split("/")
    return ["/".join(parts[:depth]) for depth in range(2, len(parts))]


def drop_privileges(policy: Policy, uid: int) -> None:
    """From here on the process is an ordinary user that cannot regain privileges."""
    if policy.root:
        os.setgroups([])
        os.setresgid(uid, uid, uid)
        os.setresuid(uid, uid, uid)
    elif policy.namespaces:  # a nested user namespace: no power over the mounts made above
        own_uid, own_gid = os.geteuid(), os.getegid()
        syscalls.unshare(syscalls.CLONE_NEWUSER)
        _map_ids(own_uid, own_gid)
        syscalls.drop_capabilities()  # the new namespace's full set would override file modes
    syscalls.prctl(syscalls.PR_SET_NO_NEW_PRIVS, 1)
    if policy.seccomp:
        seccomp.deny_keyrings()
    if policy.scopes:
        syscalls.scope_abstract_unix_sockets()


def apply_rlimits(policy: Policy, memory_mb: int, tmp_mb: int) -> None:
    """Lambda's descriptor and process limits; memory and file size where nothing else bounds them."""
    resource.setrlimit(resource.RLIMIT_NOFILE, (NOFILE, NOFILE))
    if policy.root or not (policy.cgroups and "pids" in policy.cgroups.bases):
        resource.setrlimit(resource.RLIMIT_NPROC, (NPROC, NPROC))
    if not (policy.cgroups and "memory" in policy.cgroups.bases):
        # Address space is a crude stand-in for resident memory: allow the runtime's own mappings.
        limit = memory_mb * 1024 * 1024 + _address_space()
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    if not policy.namespaces:
        size = tmp_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))


def _address_space() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    return 0
