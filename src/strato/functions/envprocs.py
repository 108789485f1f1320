"""The two processes of every environment, forked by the zygote as a spare: its init and its
runtime process (see zygote.py for the whole tree). Only the standard library."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import sys
import tempfile
import traceback
from pathlib import Path
from typing import Any

from . import rehearsal, runtime_client, sandbox, syscalls
from .messages import receive

WRAPPER = "AWS_LAMBDA_EXEC_WRAPPER"  # a script the python and nodejs runtimes are started through
CLIENT_SOURCE = Path(runtime_client.__file__).read_text()  # only the standard library: it runs alone
SIGNAL_EXIT = 128  # init exits 128+N when the runtime died of signal N (the shell's convention)


class Init:
    """pid 1 of an environment (or its session leader without a pid namespace): prepares the
    filesystem, forks the runtime process, reaps orphans, exits with the runtime's status."""

    def __init__(self, policy: sandbox.Policy, sock: socket.socket, runtime_sock: socket.socket, report: int) -> None:
        self.policy = policy
        self.sock = sock
        self.runtime_sock = runtime_sock
        self.report = report

    def prepare(self) -> None:
        os.setsid()
        signal.set_wakeup_fd(-1)
        for signum in (signal.SIGCHLD, signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, signal.SIG_DFL)
        keep = sorted({0, 1, 2, self.sock.fileno(), self.runtime_sock.fileno(), self.report})
        for low, high in zip(keep, [*keep[1:], 1 << 16], strict=True):
            os.closerange(low + 1, high)
        try:
            host = None
            if self.policy.namespaces:
                sandbox.seal_host()
                sandbox.mount_proc()
                host = sandbox.prepare_filesystem(self.policy)
            runtime = os.fork()
            if runtime == 0:
                self.sock.close()
                Runtime(self.policy, self.runtime_sock, host).wait_for_launch(self.report)
            self.runtime_sock.close()
            if host is not None:
                os.close(host)
            os.write(self.report, b"ok\n")
        except BaseException as e:
            os.write(self.report, f"error:{e!r}\n".encode())
            os._exit(1)
        os.close(self.report)
        if self.sock.recv(16) != b"adopted":  # the zygote went away before adopting us
            os._exit(0)
        syscalls.prctl(syscalls.PR_SET_PDEATHSIG, signal.SIGKILL)
        code = self._reap_until(runtime)
        with contextlib.suppress(OSError):  # the exact status: 128+N is an exit status too
            self.sock.send(str(code).encode(), socket.MSG_NOSIGNAL)
        os._exit(SIGNAL_EXIT - code if code < 0 else code)

    @staticmethod
    def _reap_until(runtime: int) -> int:
        """The runtime's status, as subprocess has it (negative: killed by that signal)."""
        while True:
            pid, status = os.waitpid(-1, 0)
            if pid == runtime:
                return os.waitstatus_to_exitcode(status)


class Runtime:
    """The runtime process: waits for its launch, finishes the filesystem, becomes an ordinary
    user, then runs the function's runtime."""

    def __init__(self, policy: sandbox.Policy, sock: socket.socket, host: int | None) -> None:
        self.policy = policy
        self.sock = sock
        self.host = host  # the kept host tree (with namespaces), where the code is found
        self.running = False  # the runtime client runs: what ends it ends a Python program

    def wait_for_launch(self, report: int) -> None:
        """Rehearse, then close `report` (the spare is ready once every writer has closed it),
        then wait."""
        code = 1
        try:
            with contextlib.suppress(OSError, runtime_client.FaultError):  # only ever a loss of speed
                rehearsal.rehearse(tempfile.mkdtemp(prefix="strato-rehearsal-"))
            os.close(report)
            spec, fds = receive(self.sock)
            if spec is None:
                os._exit(0)
            os.dup2(fds[0], 1)
            os.dup2(fds[0], 2)
            null = os.open(os.devnull, os.O_RDONLY)
            os.dup2(null, 0)
            for fd in (fds[0], null):
                os.close(fd)
            self.sock.close()
            api = socket.socket(fileno=fds[1]) if len(fds) > 1 else None
            code = self.run(spec, api)
        except SystemExit as e:  # as the interpreter ends on one: a code that is no number is printed, status 1
            code = e.code if isinstance(e.code, int) else 0 if e.code is None else 1
            if e.code is not None and not isinstance(e.code, int):
                print(e.code, file=sys.stderr)
        except BaseException as e:
            if self.running:
                _print_uncaught(e)
            else:
                print(f"strato: the runtime failed to start: {e!r}", file=sys.stderr)
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)

    def run(self, spec: dict[str, Any], api: socket.socket | None) -> int:
        opt_dir = spec.get("opt_dir")
        if self.host is not None:
            sandbox.finish_filesystem(self.host, spec["code_dir"], int(spec["tmp_mb"]), opt_dir)
        elif opt_dir:
            raise RuntimeError("layers need mount namespaces, which this host does not allow strato: "
                               "a function with layers cannot run here")
        task_root = sandbox.TASK_ROOT if self.policy.namespaces else spec["code_dir"]
        environment = {**spec["environment"], "LAMBDA_TASK_ROOT": task_root}
        os.chdir(task_root)
        sandbox.drop_privileges(self.policy, int(spec["uid"]))
        sandbox.apply_rlimits(self.policy, int(spec["memory_mb"]), int(spec["tmp_mb"]))
        signal.signal(signal.SIGINT, signal.default_int_handler)
        # Tested here rather than with runtimes.strato_client: that module cannot be imported
        # inside the environment.
        runtime = spec["runtime"]
        wrapper = environment.get(WRAPPER) if runtime.startswith(("python", "nodejs")) else None
        if runtime.startswith("python") and not wrapper:  # the forked interpreter runs it
            os.environ.clear()
            os.environ.update(environment)
            self.running = True
            return runtime_client.run(api, spec.get("log_secret"))
        # A program of its own: the zip's bootstrap, node, or Python afresh through a wrapper.
        if api is not None:  # strato's runtime client takes the connection and the secret from these
            os.set_inheritable(api.fileno(), True)
            environment[runtime_client.API_FD_VARIABLE] = str(api.detach())
            environment[runtime_client.LOG_SECRET_VARIABLE] = spec.get("log_secret") or ""
        custom = not spec.get("argv") and not runtime.startswith("python")  # it runs its bootstrap
        argv = spec.get("argv") or (_fresh_python() if runtime.startswith("python") else [_bootstrap(task_root)])
        if wrapper:  # Lambda starts the runtime through it: it gets the runtime's command line
            argv = [wrapper, *argv]
        elif custom and not os.path.exists(argv[0]):
            return _invalid_entrypoint(environment, f"Couldn't find valid bootstrap(s): "
                                                    f"[{os.path.join(task_root, 'bootstrap')} {sandbox.OPT}/bootstrap]")
        try:
            os.execve(argv[0], argv, environment)
        except OSError as e:
            if wrapper or not custom:
                raise
            reason = os.strerror(e.errno or 0)
            return _invalid_entrypoint(environment, f"fork/exec {argv[0]}: {reason[:1].lower()}{reason[1:]}")


def _print_uncaught(e: BaseException) -> None:
    """What ends the runtime, reported as the interpreter reports what ends a program, without
    strato's own frames (nor the paths they would show)."""
    ours = os.path.dirname(__file__)
    report = traceback.TracebackException.from_exception(e)
    report.stack = traceback.StackSummary.from_list([frame for frame in report.stack
                                                     if not frame.filename.startswith(ours)])
    print("".join(report.format()), end="", file=sys.stderr)


def _invalid_entrypoint(environment: dict[str, str], reason: str) -> int:
    """The bootstrap cannot be started: Lambda says so itself (Runtime.InvalidEntrypoint, in Go's
    words of the failure), through the Runtime API as an init error; exit status 1."""
    client = runtime_client.RuntimeClient(environment["AWS_LAMBDA_RUNTIME_API"])
    client.fail_init({"errorType": runtime_client.INVALID_ENTRYPOINT, "errorMessage": reason})
    return 1


def _bootstrap(task_root: str) -> str:
    """A custom runtime's program: the function's own `bootstrap`, else a layer's (Lambda looks
    in /var/task, then /opt)."""
    own = os.path.join(task_root, "bootstrap")
    layers = os.path.join(sandbox.OPT, "bootstrap")
    return layers if not os.path.exists(own) and os.path.exists(layers) else own


def _fresh_python() -> list[str]:
    """This interpreter running strato's runtime client from the start (for a wrapper script),
    from the source read when the zygote started: an environment cannot see strato's files."""
    return [sys.executable, "-c", f"{CLIENT_SOURCE}\nsys.exit(main())\n"]
