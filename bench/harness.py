"""Shared machinery for the benchmarks: free ports, child processes that are stopped by PID,
wrk runs driven by a Lua script that cycles through a list of request paths, CPU accounting
of a server's process tree, and py-spy profile summaries.

Nothing here knows about S3; `s3_bench.py` composes it.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any

BENCH = Path(__file__).resolve().parent
WORK = BENCH / ".work"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")

LUA = r"""
-- Cycles through request paths read from a file, one distinct stride per wrk thread.
-- args: paths_file method body_size threads offset
-- wrk calls thread 0's request() once before the run (to count pipelined requests), so
-- thread 0 really starts at offset + threads.
local counter = 0
function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
end

local paths = {}
local idx = 0
local step = 1
local method = "GET"
local body = nil

function init(args)
  for line in io.lines(args[1]) do paths[#paths + 1] = line end
  method = args[2]
  local size = tonumber(args[3])
  if size > 0 then body = string.rep("b", size) end
  step = tonumber(args[4])
  idx = tonumber(args[5]) + tid
end

function request()
  local path = paths[(idx % #paths) + 1]
  idx = idx + step
  return wrk.format(method, path, nil, body)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "RESULT requests=%d duration_us=%d bytes=%d status=%d connect=%d read=%d write=%d timeout=%d " ..
    "p50_us=%d p99_us=%d\n",
    summary.requests, summary.duration, summary.bytes, e.status, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
"""


def fresh_dir(name: str, under: Path = WORK) -> Path:
    """An empty directory for one run (whatever an earlier run left there is removed)."""
    path = under / name
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    return path


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_for(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(Exception):
            if check():
                return
        time.sleep(0.1)
    raise RuntimeError(f"timed out after {timeout:.0f}s waiting for {what}")


def process_tree(pid: int) -> list[int]:
    """`pid` and all its descendants, from /proc/PID/task/TID/children."""
    found = [pid]
    for current in found:
        with contextlib.suppress(OSError):
            for task in os.listdir(f"/proc/{current}/task"):
                with open(f"/proc/{current}/task/{task}/children") as f:
                    found.extend(int(child) for child in f.read().split())
    return found


def cpu_seconds(pids: Sequence[int]) -> float:
    """User + system CPU time of these processes (all their threads)."""
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError), open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / CLOCK_TICKS


@dataclass
class Child:
    """A server this benchmark started; stopped by its PID (and its descendants' PIDs)."""

    name: str
    proc: subprocess.Popen[bytes]
    log: Path
    log_file: IO[bytes]

    @classmethod
    def start(cls, name: str, argv: Sequence[str], env: dict[str, str] | None = None,
              cwd: Path | None = None) -> Child:
        log = WORK / "logs" / f"{name}.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        log_file = log.open("wb")
        proc = subprocess.Popen(list(argv), stdout=log_file, stderr=subprocess.STDOUT, env=env, cwd=cwd,
                                start_new_session=True)
        return cls(name, proc, log, log_file)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self, timeout: float = 15.0) -> None:
        tree = process_tree(self.pid) if self.alive() else []
        if self.alive():
            os.kill(self.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.kill(self.pid, signal.SIGKILL)
                self.proc.wait()
        for pid in tree[1:]:  # descendants the parent failed to take down with it
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self.log_file.close()


@dataclass
class WrkResult:
    requests: int
    duration_s: float
    bytes: int
    errors: dict[str, int]
    p50_ms: float
    p99_ms: float
    server_cpu_s: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def rps(self) -> float:
        return self.requests / self.duration_s

    @property
    def mbps(self) -> float:
        return self.bytes / self.duration_s / 1e6

    @property
    def failed(self) -> int:
        return sum(self.errors.values())

    @property
    def cpu_percent(self) -> float:
        return 100.0 * self.server_cpu_s / self.duration_s

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data.update(rps=round(self.rps, 1), mbps=round(self.mbps, 1),
                    server_cpu_percent=round(self.cpu_percent, 1))
        return data


_RESULT = re.compile(r"RESULT (.*)")


def wrk_script() -> Path:
    path = WORK / "cycle.lua"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(LUA)
    return path


def run_wrk(base_url: str, paths_file: Path, *, method: str = "GET", body_size: int = 0, threads: int = 2,
            connections: int = 32, duration: float = 10.0, offset: int = 0, timeout: float = 30.0,
            server_pid: int | None = None) -> WrkResult:
    """One wrk run; `server_pid`'s process tree is charged the CPU it used meanwhile."""
    wrk = shutil.which("wrk") or "/usr/bin/wrk"
    argv = [wrk, f"-t{threads}", f"-c{connections}", f"-d{duration:g}s", f"--timeout={timeout:g}s",
            "-s", str(wrk_script()), base_url, "--", str(paths_file), method, str(body_size), str(threads),
            str(offset)]
    return _wrk(argv, server_pid)


def _wrk(argv: list[str], server_pid: int | None) -> WrkResult:
    pids = process_tree(server_pid) if server_pid else []
    cpu_before = cpu_seconds(pids)
    out = subprocess.run(argv, capture_output=True, text=True, check=False)
    return parse_wrk(out.stdout, out.returncode, out.stderr, cpu_seconds(pids) - cpu_before)


def parse_wrk(text: str, returncode: int, stderr: str, cpu_used: float,
              timed: tuple[float, int] | None = None) -> WrkResult:
    """The RESULT line the Lua scripts print at wrk's end; `timed`: (seconds, requests) the
    caller measured itself instead of wrk's own duration and count."""
    match = _RESULT.search(text)
    if returncode != 0 or match is None:
        raise RuntimeError(f"wrk failed ({returncode}): {text}\n{stderr}")
    values = {k: int(v) for k, v in (item.split("=") for item in match.group(1).split())}
    errors = {k: values[k] for k in ("status", "connect", "read", "write", "timeout") if values[k]}
    seconds, requests = timed if timed is not None else (values["duration_us"] / 1e6, values["requests"])
    return WrkResult(requests, seconds, values["bytes"], errors, values["p50_us"] / 1000, values["p99_us"] / 1000,
                     cpu_used)


def run_wrk_script(base_url: str, path: str, method: str, headers: dict[str, str], body: bytes, *,
                   threads: int = 2, connections: int = 32, duration: float = 10.0,
                   server_pid: int | None = None) -> WrkResult:
    """A wrk run repeating one fixed request (e.g. one signed API call) instead of cycling paths."""
    lines = [f"wrk.method = {json.dumps(method)}", f"wrk.path = {json.dumps(path)}",
             f"wrk.body = {json.dumps(body.decode())}"]
    lines += [f"wrk.headers[{json.dumps(k)}] = {json.dumps(v)}" for k, v in headers.items()
              if k.lower() not in ("host", "content-length")]
    done = LUA[LUA.index("function done"):]
    script = WORK / "fixed.lua"
    script.parent.mkdir(parents=True, exist_ok=True)
    script.write_text("\n".join(lines) + "\n" + done)
    wrk = shutil.which("wrk") or "/usr/bin/wrk"
    argv = [wrk, f"-t{threads}", f"-c{connections}", f"-d{duration:g}s", "--timeout=30s", "-s", str(script), base_url]
    return _wrk(argv, server_pid)


# -- py-spy ------------------------------------------------------------------------------------


def pyspy_record(pid: int, out: Path, duration: float, native: bool = False) -> subprocess.Popen[bytes]:
    """Start `py-spy record` (raw collapsed stacks) against `pid`; wait on the returned process.
    Only samples of the thread holding the GIL count: the shares are of Python CPU time."""
    pyspy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    argv = [pyspy, "record", "--pid", str(pid), "--duration", str(int(duration)), "--rate", "200", "--gil",
            "--format", "raw", "--output", str(out)]
    if native:
        argv.append("--native")
    return subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


# Frames every sample of a thread passes through; they say nothing about where time goes.
_PLUMBING = ("(threading.py)", "(asyncio/runners.py)", "(asyncio/base_events.py)", "<frozen runpy>",
             "(strato/__main__.py)", "(strato/cli.py)", "serve (strato/server.py)", "(asyncio/events.py)",
             "(futures/thread.py)")


_FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>[^()]*?)(?::\d+)?\)$")


def _short(frame: str) -> str:
    """'func (path/to/pkg/mod.py:12)' -> 'func (pkg/mod.py)'."""
    match = _FRAME.match(frame)
    if match is None:
        return frame
    parts = Path(match["file"]).parts
    return f"{match['func']} ({'/'.join(parts[-2:])})"


def summarize_profile(raw: Path, top: int = 25) -> dict[str, list[tuple[str, float]]]:
    """Self and inclusive shares (percent of samples) per function, from collapsed stacks."""
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [_short(f) for f in stack.split(";")]
        frames = frames[1:] if frames and frames[0].startswith(("process ", "thread ")) else frames
        if not frames:
            continue
        total += count
        own[frames[-1]] += count
        for name in set(frames):
            inclusive[name] += count
    if total == 0:
        return {"self": [], "inclusive": [], "samples": []}
    return {
        "self": [(name, 100.0 * n / total) for name, n in own.most_common(top)],
        "inclusive": [(name, 100.0 * n / total) for name, n in inclusive.most_common()
                      if not name.endswith(_PLUMBING)][:top],
        "samples": [("total", float(total))],
    }
