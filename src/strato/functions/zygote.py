"""A pre-initialised interpreter per runtime that forks each new environment (python -m
strato.functions.zygote CONTROL_FD POLICY_JSON, started by isolated.py).

Process tree of one environment, all of it made ahead of time (a spare) but the last steps:
  zygote (a child subreaper, so environments become its children and their statuses reach it)
   └─ first fork: joins the cgroup (the slow part), unshares namespaces, forks pid 1, exits
      └─ init (pid 1): mounts /proc, prepares the filesystem (its private /tmp included),
         forks the runtime process, then reaps orphans and exits with the runtime's status
         (128+N when killed by signal N), which it first tells the zygote exactly (on the
         socket it was told "adopted" on); its death ends the namespace
         └─ runtime process: rehearses a launch (rehearsal.rehearse), waits for the
            launch; then mounts the code (and resizes /tmp), drops privileges, sets the
            environment, runs runtime_client (python) or execs /var/task/bootstrap (provided)

Control messages (messages.py). A ready spare's runtime-process socket is handed to the
launcher, which launches it directly (the spec and log fd go straight to the waiting process).
  out: {"op": "spare", "pid", "cgroup"} + the socket | {"op": "failed", "error"}
       {"op": "exited", "pid", "status", "peak"} (for spares and launched environments alike)
  in:  {"op": "used", "pid"} (launched: its cold start is under way) | {"op": "settled", "pid"}
       (that cold start is over) | {"op": "want"} (a launch waits: make one now) | {"op": "kill", "pid"}
EOF on the control socket means the launcher is gone: every environment is killed.
Only the standard library (plus boto3 when the interpreter has it, preloaded for user code).
"""

from __future__ import annotations

import contextlib
import gc
import json
import os
import select
import signal
import socket
import sys
import time
from dataclasses import dataclass, replace

from . import sandbox, syscalls
from .cgroups import Group
from .envprocs import SIGNAL_EXIT, Init
from .messages import receive, send

SPARES = 3  # environments kept ready (forked, in their cgroup and namespaces) for the next launches


def preload() -> None:
    """What user code is likely to import, loaded once here instead of in every environment."""
    import http.client  # noqa: F401

    socket.getaddrinfo("127.0.0.1", 9000)  # loads the resolver's modules and configuration

    try:
        import boto3
        import boto3.session  # noqa: F401
        import botocore.client
        import botocore.session  # noqa: F401
    except ImportError:
        pass


def spares_due(ready: int, making: int, starting: int, wanted: bool) -> int:
    """How many spares to start making now, with `ready` held by the launcher, `making` being
    made, `starting` launched environments in their cold start, and a launch `wanted` one.

    Up to SPARES, all that are missing at once: each spends most of its ~10-15 ms waiting in its
    cgroup join for an RCU grace period (~10 ms here), which joins made together share. Making
    one also takes ~5 ms of a CPU (three forks of this big process, namespaces, mounts, the
    rehearsal), and every fork and exit on the host waits while a join waits: the spare a
    launch used is replaced once that environment's cold start is over, unless none is left
    or a launch waits."""
    missing = SPARES - ready - making
    if missing > 0 and (wanted or ready == 0 or starting == 0):
        return missing
    return 0


@dataclass
class Pending:
    """A spare being made. On `pipe` its first fork writes "pid:N" (the init) and the init
    "ok" or "error:..." once prepared; they and the runtime process (once it has rehearsed)
    close it, so EOF means the report is complete and the spare ready."""

    fork_pid: int
    pipe: int
    sock: socket.socket  # to the runtime process: handed to the launcher once the spare is ready
    init_sock: socket.socket  # to the init: told when the zygote has adopted it, tells its runtime's status
    group: Group | None
    report: bytes = b""


class Zygote:
    def __init__(self, control: socket.socket, policy: sandbox.Policy) -> None:
        self.control = control
        self.policy = policy
        self.inits: dict[int, Group | None] = {}  # every environment's init (spare or launched)
        self.told: dict[int, socket.socket] = {}  # each init's socket, on which it says how its runtime ended
        self.unused: set[int] = set()  # the spares the launcher holds and has not launched
        self.starting: set[int] = set()  # launched spares whose cold start is not over yet
        self.pending: dict[int, Pending] = {}  # spares being made, by their report pipe
        self.wanted = False  # a launch waits for a spare
        self.leftover: list[Group] = []  # groups to remove once their tasks are gone
        self.counter = 0
        self.wakeup_read, wakeup_write = os.pipe()
        os.set_blocking(wakeup_write, False)
        signal.set_wakeup_fd(wakeup_write)
        signal.signal(signal.SIGCHLD, lambda *_: None)

    # -- the loop --------------------------------------------------------------------------

    def serve(self) -> None:
        """Until the launcher is gone: its end of the control socket closes (EOF, or a reset
        when it left messages unread), then every environment is ended."""
        with contextlib.suppress(ConnectionError):
            while self._step():
                pass
        self._shutdown()

    def _step(self) -> bool:
        self._replenish()
        watched = [self.control.fileno(), self.wakeup_read, *self.pending]
        ready, _, _ = select.select(watched, [], [], self._timeout())
        if self.wakeup_read in ready:
            os.read(self.wakeup_read, 4096)
        self._reap()
        for pipe in [pipe for pipe in self.pending if pipe in ready]:
            self._spare_ready(self.pending[pipe])
        if self.control.fileno() in ready and not self._command():
            return False
        self.leftover = [group for group in self.leftover if not group.remove()]
        return True

    def _command(self) -> bool:
        message, _ = receive(self.control)
        if message is None:
            return False
        if message["op"] == "used":
            self.unused.discard(int(message["pid"]))
            self.starting.add(int(message["pid"]))
        elif message["op"] == "settled":
            self.starting.discard(int(message["pid"]))
        elif message["op"] == "want":
            self.wanted = True
        elif message["op"] == "kill":
            self._kill(int(message["pid"]))
        return True

    def _replenish(self) -> None:
        due = spares_due(len(self.unused), len(self.pending), len(self.starting), self.wanted)
        self.wanted = False
        for _ in range(due):
            self._start_spare()

    def _timeout(self) -> float | None:
        """How long the loop may sleep: until removals are retried."""
        return 0.05 if self.leftover else None

    def _shutdown(self) -> None:
        """Kill every environment and spare, wait for them all, remove their groups."""
        groups = list(self.inits.values())
        for pid in self.inits:
            self._kill(pid)
        for group in groups:
            if group is not None:
                group.kill()
        for pending in self.pending.values():
            groups.append(pending.group)
            pending.sock.close()  # the runtime process and init see the end and exit
            pending.init_sock.close()
        with contextlib.suppress(ChildProcessError):
            while True:
                os.waitpid(-1, 0)
        for sock in self.told.values():
            sock.close()
        leftover = [group for group in [*groups, *self.leftover] if group is not None]
        deadline = time.monotonic() + 2
        while leftover and time.monotonic() < deadline:
            leftover = [group for group in leftover if not group.remove()]
            time.sleep(0.01)

    # -- environments ----------------------------------------------------------------------

    def _kill(self, pid: int) -> None:
        if pid in self.inits:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)

    def _reap(self) -> None:
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            if pid in self.inits:
                group = self.inits.pop(pid)
                self.unused.discard(pid)
                self.starting.discard(pid)
                code = _runtime_status(self.told.pop(pid), os.waitstatus_to_exitcode(status))
                peak = group.peak_bytes() if group else None
                self._retire(group)
                send(self.control, {"op": "exited", "pid": pid, "status": code, "peak": peak})

    def _retire(self, group: Group | None) -> None:
        if group is not None:
            group.kill()
            if not group.remove():
                self.leftover.append(group)

    # -- spares ----------------------------------------------------------------------------

    def _start_spare(self) -> None:
        self.counter += 1
        tree = self.policy.cgroups
        group = tree.group(f"env-{os.getpid()}-{self.counter}") if tree else None
        if group is not None:
            group.create()
        runtime_ours, runtime_theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        init_ours, init_theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        read_end, write_end = os.pipe()
        gc.freeze()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - runs in the forked child
            os.close(read_end)
            runtime_ours.close()
            init_ours.close()
            self._first_fork(init_theirs, runtime_theirs, group, write_end)
        os.close(write_end)
        runtime_theirs.close()
        init_theirs.close()
        self.pending[read_end] = Pending(pid, read_end, runtime_ours, init_ours, group)

    def _first_fork(self, init_sock: socket.socket, runtime_sock: socket.socket, group: Group | None,
                    report: int) -> None:
        """Join the cgroup, unshare, fork the init, say its pid, exit (the init is adopted by
        the zygote, a subreaper)."""
        try:
            if group is not None:
                group.join()
            if self.policy.namespaces:
                sandbox.enter_namespaces(self.policy.root)
            init = os.fork()
            if init == 0:
                Init(self.policy, init_sock, runtime_sock, report).prepare()
            os.write(report, f"pid:{init}\n".encode())
        except BaseException as e:
            os.write(report, f"error:{e!r}\n".encode())
        os._exit(0)

    def _spare_ready(self, pending: Pending) -> None:
        chunk = os.read(pending.pipe, 4096)
        pending.report += chunk
        if chunk:
            return
        os.close(pending.pipe)
        del self.pending[pending.pipe]
        with contextlib.suppress(ChildProcessError):  # init's parent must be us before it is told
            os.waitpid(pending.fork_pid, 0)
        lines = dict(line.split(":", 1) for line in pending.report.decode().splitlines() if ":" in line)
        pid = int(lines["pid"]) if "pid" in lines else None
        try:
            if "error" in lines or pid is None or b"ok" not in pending.report.splitlines():
                raise OSError(lines.get("error", "the environment did not start"))
            if os.waitpid(pid, os.WNOHANG) != (0, 0):
                raise OSError("the environment's init exited while starting")
            pending.init_sock.send(b"adopted")
        except OSError as e:
            print(f"strato zygote: cannot make an environment: {e}", file=sys.stderr)
            self._retire(pending.group)
            pending.sock.close()
            pending.init_sock.close()
            send(self.control, {"op": "failed", "error": str(e)})
            return
        self.inits[pid] = pending.group
        self.told[pid] = pending.init_sock
        self.unused.add(pid)
        cgroup = pending.group.dirs if pending.group else None
        try:
            send(self.control, {"op": "spare", "pid": pid, "cgroup": cgroup}, [pending.sock.fileno()])
        finally:
            pending.sock.close()


def _runtime_status(told: socket.socket, code: int) -> int:
    """How the runtime ended, as its init said (its own exit status folds a signal N into 128+N,
    which a runtime may exit with too); else (killed before it could say) read from that status."""
    with told, contextlib.suppress(OSError, ValueError):
        return int(told.recv(16, socket.MSG_DONTWAIT))
    return SIGNAL_EXIT - code if SIGNAL_EXIT < code < SIGNAL_EXIT + 65 else code


def main() -> None:
    control = socket.socket(fileno=int(sys.argv[1]))
    policy = sandbox.Policy.from_json(json.loads(sys.argv[2]))
    paths = [sys.prefix, sys.base_prefix, sys.exec_prefix, *(p for p in sys.path if os.path.isdir(p))]
    policy = replace(policy, keep_in_tmp=tuple(sandbox.under_tmp(paths, policy.hide)))
    if policy.root:
        policy = replace(policy, reveal=tuple(sandbox.closed_parents(paths)))
    syscalls.prctl(syscalls.PR_SET_CHILD_SUBREAPER, 1)
    preload()
    Zygote(control, policy).serve()


if __name__ == "__main__":
    main()
