"""Stopping: a stop signal whose SystemExit never reached the top (lost in an event-loop
callback) still stops the server, at its next tick. Crashing: a process whose start fails says
why, and is restarted ever more slowly while it keeps failing."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

SCRIPT = textwrap.dedent("""
    import contextlib, signal, socket, sys, time
    import uvicorn, uvloop
    from strato import supervisor
    from strato.server import StoppableServer

    async def app(scope, receive, send):
        raise RuntimeError("no requests here")

    async def main():
        sock = socket.create_server(("127.0.0.1", 0))
        server = StoppableServer(uvicorn.Config(app, lifespan="off", log_level="error"))
        loop = __import__("asyncio").get_running_loop()

        def stop_lost():  # exit_cleanly ran, but its SystemExit went nowhere
            with contextlib.suppress(SystemExit):
                supervisor.exit_cleanly(signal.SIGTERM, None)

        loop.call_later(0.3, stop_lost)
        started = time.monotonic()
        await server.serve(sockets=[sock])
        print("stopped", round(time.monotonic() - started, 1))

    uvloop.run(main())
""")


def test_a_stop_whose_system_exit_was_lost_still_stops_the_server() -> None:
    done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("stopped")


CRASHING = textwrap.dedent("""
    import logging, os, signal
    from strato import supervisor

    class StopAtTheThirdRestart(logging.Handler):
        seen = 0

        def emit(self, record):
            if "restarting in" in record.getMessage():
                StopAtTheThirdRestart.seen += 1
                if StopAtTheThirdRestart.seen == 3:
                    os.kill(os.getpid(), signal.SIGTERM)

    logging.basicConfig(level=logging.INFO, format="%(message)s")
    logging.getLogger().addHandler(StopAtTheThirdRestart())

    async def broken():
        raise RuntimeError("a broken start")

    supervisor.supervise([("broken", broken)])
""")


def test_a_process_whose_start_fails_logs_why_and_restarts_ever_more_slowly() -> None:
    done = subprocess.run([sys.executable, "-c", CRASHING], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "RuntimeError: a broken start" in done.stderr
    restarts = [line for line in done.stderr.splitlines() if line.startswith("broken (pid")]
    assert [line.split("restarting in ")[1] for line in restarts] == ["0.1 s", "0.2 s", "0.4 s"], restarts
    assert all("exited (status 1)" in line for line in restarts)


BACKING_OFF = textwrap.dedent("""
    import logging, os, signal, threading
    from strato import supervisor

    class StopWhileWaiting(logging.Handler):
        def emit(self, record):
            if "restarting in" in record.getMessage():
                threading.Timer(0.5, os.kill, (os.getpid(), signal.SIGTERM)).start()

    logging.basicConfig(level=logging.INFO, format="%(message)s")
    logging.getLogger().addHandler(StopWhileWaiting())
    supervisor.FIRST_RESTART_DELAY = supervisor.MAX_RESTART_DELAY = 3600.0

    async def broken():
        raise RuntimeError("a broken start")

    supervisor.supervise([("broken", broken)])
""")


def test_a_stop_signal_during_a_restarts_wait_stops_at_once() -> None:
    """Not once the wait is over (here an hour; up to MAX_RESTART_DELAY in `strato serve`)."""
    done = subprocess.run([sys.executable, "-c", BACKING_OFF], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "exited (status 1); restarting in 3600.0 s" in done.stderr


EXITING = textwrap.dedent("""
    import logging, os, signal
    from strato import supervisor

    class StopAtTheRestart(logging.Handler):
        def emit(self, record):
            if "restarting" in record.getMessage():
                os.kill(os.getpid(), signal.SIGTERM)

    logging.basicConfig(level=logging.INFO, format="%(message)s")
    logging.getLogger().addHandler(StopAtTheRestart())

    async def refusing():
        raise SystemExit("strato: cannot start: no such thing")

    supervisor.supervise([("refusing", refusing)])
""")


def test_a_process_exiting_with_a_message_says_it_and_fails() -> None:
    """As sys.exit("message") ends any Python program: the message on stderr, status 1."""
    done = subprocess.run([sys.executable, "-c", EXITING], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "strato: cannot start: no such thing\n" in done.stderr
    assert "refusing (pid" in done.stderr
    assert "exited (status 1); restarting" in done.stderr


HELD_BACK = textwrap.dedent("""
    import os, signal, sys, time
    from strato import supervisor

    supervisor.FIRST_RESTART_DELAY = supervisor.MAX_RESTART_DELAY = 3600.0
    marker = sys.argv[1]

    async def broken():
        raise RuntimeError("a broken start")

    async def dies_once():
        if os.path.exists(marker):
            print("started again", file=sys.stderr, flush=True)
            os.kill(os.getppid(), signal.SIGTERM)
            return
        open(marker, "w").close()
        time.sleep(supervisor.SHORT_LIFE + 0.2)  # a long life: it is started again at once
        raise SystemExit(1)

    supervisor.supervise([("broken", broken), ("dies-once", dies_once)])
""")


def test_a_crash_looping_process_holds_back_no_other_restart(tmp_path: Path) -> None:
    """The broken one waits an hour for its next start; the other, which died meanwhile, is
    started again at once (it waited behind the broken one's hour)."""
    done = subprocess.run([sys.executable, "-c", HELD_BACK, str(tmp_path / "died")], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "broken (pid" in done.stderr
    assert "restarting in 3600.0 s" in done.stderr
    assert "started again" in done.stderr
