"""CDN edge benchmark: strato's edge, nginx `proxy_cache` and Varnish in front of the SAME
origin, in one run, interleaved (every round runs each edge once, in turn; strato and a --baseline
build trade places every other round).

    python bench/edge_bench.py --ref HEAD            # full run (about 11 minutes)
    python bench/edge_bench.py --quick               # smoke run (about 3 minutes)
    python bench/edge_bench.py --ref HEAD --profile  # + py-spy of strato's edge (hits, ranges, misses)
    python bench/edge_bench.py --ref HEAD --only misses,collapse   # some scenarios only
    python bench/edge_bench.py --baseline HEAD~3 --only misses     # A/B: + strato at HEAD~3, same run
    python bench/edge_bench.py --edges strato --only misses --profile   # py-spy of the misses alone

The origin is nginx serving static files with `Cache-Control: max-age=3600` added, on its own
port, logging every request it serves (that log counts origin fetches). Scenarios:
  1 KiB hits           wrk, 64 connections, cycling through 100 warmed URLs, req/s
  64 KiB / 1 MiB / 32 MiB hits   wrk, fewer connections, warmed URLs, MB/s
  64 KiB ranges        wrk sending `Range: bytes=a-b` at random offsets of a cached 32 MiB object
  miss-heavy           wrk over 10,000 distinct keys never requested before (each 1 to 3 times,
                       shuffled: ~2/3 of requests are misses), req/s until the last is answered
  collapsed misses     200 connections ask for one uncached object at once: origin fetches and
                       the time until every waiter has its whole answer (a 1 KiB object the origin
                       answers at once, and a 1 MiB object the origin sends over ~1 s)

Prints a table with ratios and the targets, writes bench/.work/edge-results.json, and stops every
process it started by PID.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness import (
    WORK,
    Child,
    WrkResult,
    cpu_seconds,
    free_port,
    fresh_dir,
    parse_wrk,
    process_tree,
    pyspy_record,
    summarize_profile,
    wait_for,
)
from s3_bench import Results, fmt, log, ratio, record, value_of, write_lines
from servers import strato_env, strato_source

EDGE_WORK = WORK / "edge"
KIB = 1024
MIB = 1024 * 1024
# name -> (object size, objects, wrk connections)
HIT_CLASSES: dict[str, tuple[int, int, int]] = {
    "1k": (KIB, 100, 64),
    "64k": (64 * KIB, 100, 16),
    "1m": (MIB, 32, 8),
    "32m": (32 * MIB, 2, 4),
}
RANGE_SIZE = 64 * KIB
MISS_KEYS = 10_000
COLLAPSE_WAITERS = 200
# bytes/s the origin sends the slow collapse object at (nginx limit_rate, which lets the first
# second's worth out at once): half of 1 MiB at once, the rest over about a second
SLOW_RATE = "512k"
EDGES = ("strato", "nginx", "varnish")
BASELINE = "strato-base"  # the edge --baseline adds
SCENARIOS = ("hits", "ranges", "misses", "collapse")

# wrk Lua: cycle through paths (one stride per thread, as harness.LUA), optionally with a random
# byte range per request, optionally stopping each thread after `limit` responses (it then
# prints THREAD_DONE; the script interrupts wrk once every thread has).
LUA = r"""
-- args: paths_file step offset limit range_size object_size
local counter = 0
function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
end

local paths = {}
local idx = 0
local step = 1
local limit = 0
local range_size = 0
local object_size = 0
local answered = 0

function init(args)
  for line in io.lines(args[1]) do paths[#paths + 1] = line end
  step = tonumber(args[2])
  idx = tonumber(args[3]) + tid
  limit = tonumber(args[4])
  range_size = tonumber(args[5])
  object_size = tonumber(args[6])
  math.randomseed(7919 * (tid + 1))
end

function request()
  local path = paths[(idx % #paths) + 1]
  idx = idx + step
  if range_size > 0 then
    local first = math.random(0, object_size - range_size)
    return wrk.format("GET", path, {["Range"] = "bytes=" .. first .. "-" .. (first + range_size - 1)})
  end
  return wrk.format("GET", path)
end
%RESPONSE%
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "RESULT requests=%d duration_us=%d bytes=%d status=%d connect=%d read=%d write=%d timeout=%d " ..
    "p50_us=%d p99_us=%d\n",
    summary.requests, summary.duration, summary.bytes, e.status, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
"""

LUA_LIMIT = r"""
function response(status, headers, body)
  answered = answered + 1
  if answered == limit then
    io.write("THREAD_DONE\n")
    io.flush()
    wrk.thread:stop()
  end
end
"""


class Options(argparse.Namespace):
    quick: bool
    rounds: int
    duration: float
    collapse_rounds: int
    profile: bool
    native: bool
    python: str
    out: Path
    ref: str | None
    baseline: str | None
    only: set[str]
    edges: list[str]


def parse(argv: list[str] | None) -> Options:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="short runs: a smoke test")
    parser.add_argument("--rounds", type=int, help="interleaved rounds per scenario (default 3; quick 1)")
    parser.add_argument("--duration", type=float, help="seconds per wrk run (default 10; quick 3)")
    parser.add_argument("--collapse-rounds", type=int, help="collapsed misses per edge and object (default 5)")
    parser.add_argument("--profile", action="store_true",
                        help="py-spy strato's edge under 1 KiB hits, ranges and misses")
    parser.add_argument("--native", action="store_true", help="py-spy --native (C frames too)")
    parser.add_argument("--python", default=sys.executable, help="python that runs `-m strato`")
    parser.add_argument("--out", type=Path, default=WORK / "edge-results.json", help="where to write the JSON")
    parser.add_argument("--ref", help="run strato's src/ at this git commit (exported to bench/.work), "
                        "not the installed one")
    parser.add_argument("--baseline", help="A/B: also run strato's src/ at this git commit, as a fourth edge "
                        f"({BASELINE}), side by side with the others in every round")
    parser.add_argument("--only", default=",".join(SCENARIOS),
                        help=f"comma-separated scenarios to run, of {','.join(SCENARIOS)} (default: all)")
    parser.add_argument("--edges", default=",".join(EDGES),
                        help=f"comma-separated edges to run, of {','.join(EDGES)} (default: all)")
    opts = parser.parse_args(argv, namespace=Options())
    opts.edges = str(opts.edges).split(",")
    if not set(opts.edges) <= set(EDGES):
        parser.error(f"--edges takes {','.join(EDGES)}")
    opts.only = set(str(opts.only).split(","))
    if not opts.only <= set(SCENARIOS):
        parser.error(f"--only takes {','.join(SCENARIOS)}")
    opts.rounds = opts.rounds or (1 if opts.quick else 3)
    opts.duration = opts.duration or (3.0 if opts.quick else 10.0)
    opts.collapse_rounds = opts.collapse_rounds or (2 if opts.quick else 5)
    return opts


# -- the servers ---------------------------------------------------------------------------------


@dataclass
class Edge:
    name: str
    base_url: str
    child: Child
    is_hit: Callable[[Mapping[str, str]], bool]
    paths: dict[str, Path] = field(default_factory=dict)

    @property
    def pid(self) -> int:
        return self.child.pid


def get(url: str, headers: Mapping[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers=dict(headers or {}))
    with urllib.request.urlopen(request, timeout=60) as response:
        return response.status, {k.lower(): v for k, v in response.headers.items()}, response.read()


def start_nginx_process(name: str, root: Path, conf_text: str, probe: str) -> Child:
    for sub in ("tmp", "logs"):
        (root / sub).mkdir(exist_ok=True)
    conf = root / "nginx.conf"
    conf.write_text(conf_text)
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    child = Child.start(name, [nginx, "-p", str(root), "-e", str(root / "error.log"), "-c", str(conf)])

    def ready() -> bool:
        if not child.alive():
            raise RuntimeError(f"{name} exited:\n{child.output()}")
        return get(probe)[0] == 200

    wait_for(ready, 20, name)
    return child


NGINX_COMMON = """
daemon off;
{user}
worker_processes 2;
pid {root}/nginx.pid;
error_log {root}/error.log warn;
events {{ worker_connections 8192; }}
http {{
    sendfile on;
    # tcp_nopush (TCP_CORK) stalls nginx 1.22's 64 KiB proxy_cache answers for a delayed ACK (40 ms
    # each: 26 MB/s, 880 ranges/s); without it those run at ~2 GB/s and ~31,000 ranges/s here.
    tcp_nopush off;
    tcp_nodelay on;
    keepalive_requests 10000000;
    keepalive_timeout 60s;
    client_body_temp_path {root}/tmp/body;
    proxy_temp_path {root}/tmp/proxy;
    fastcgi_temp_path {root}/tmp/fastcgi;
    uwsgi_temp_path {root}/tmp/uwsgi;
    scgi_temp_path {root}/tmp/scgi;
    default_type application/octet-stream;
{body}
}}
"""

ORIGIN_HTTP = """
    log_format counted '$request_uri $status $body_bytes_sent';
    access_log {root}/access.log counted;
    server {{
        listen 127.0.0.1:{port};
        root {root}/www;
        add_header Cache-Control "max-age=3600";
        location /miss/ {{ try_files /objects/miss-1k =404; }}
        location /collapse/small/ {{ try_files /objects/collapse-1k =404; }}
        location /collapse/slow/ {{ limit_rate {slow_rate}; try_files /objects/collapse-1m =404; }}
    }}
"""

NGINX_EDGE_HTTP = """
    access_log off;
    proxy_cache_path {root}/cache levels=1:2 keys_zone=edge:64m max_size=8g inactive=1d use_temp_path=off;
    upstream origin {{
        server {origin};
        keepalive 64;
    }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://origin;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_cache edge;
            proxy_cache_lock on;
            proxy_cache_lock_timeout 60s;
            proxy_cache_lock_age 60s;
            add_header X-Cache $upstream_cache_status;
        }}
    }}
"""


@dataclass
class Origin:
    url: str
    child: Child
    root: Path
    files: dict[str, bytes]

    @property
    def access_log(self) -> Path:
        return self.root / "access.log"

    def fetches(self, predicate: Callable[[str], bool]) -> int:
        """Requests the origin logged whose path satisfies `predicate`."""
        count = 0
        with self.access_log.open(errors="replace") as f:
            for line in f:
                path = line.split(" ", 1)[0]
                if predicate(path):
                    count += 1
        return count


def start_origin(files: dict[str, bytes]) -> Origin:
    root = fresh_dir("origin", EDGE_WORK)
    for path, data in files.items():
        target = root / "www" / path.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    port = free_port()
    user = "user root;" if os.geteuid() == 0 else ""
    body = ORIGIN_HTTP.format(root=root, port=port, slow_rate=SLOW_RATE)
    url = f"http://127.0.0.1:{port}"
    child = start_nginx_process("edge-origin", root, NGINX_COMMON.format(user=user, root=root, body=body),
                                f"{url}/objects/miss-1k")
    return Origin(url, child, root, files)


def start_strato_edge(origin: Origin, python: str, src: Path | None, name: str = "strato") -> Edge:
    cache = fresh_dir(f"{name}-cache", EDGE_WORK)
    argv = [python, "-m", "strato", "edge", "--origin", origin.url, "--port", "0", "--cache-dir", str(cache),
            "--cache-size", "8G", "--log-level", "warning"]
    child = Child.start(f"edge-{name}", argv, env=strato_env(src))
    found: list[str] = []

    def announced() -> bool:
        if not child.alive():
            raise RuntimeError(f"strato edge exited:\n{child.output()}")
        match = re.search(r"edge:\s+(http://127\.0\.0\.1:\d+)", child.output())
        if match:
            found.append(match.group(1))
        return bool(found)

    wait_for(announced, 30, "strato edge to announce its port")
    wait_for(lambda: get(f"{found[0]}/_strato/health")[0] == 200, 30, "strato edge health")
    return Edge(name, found[0], child, lambda h: h.get("cache-status", "").split(";")[1:2] == [" hit"])


def start_nginx_edge(origin: Origin) -> Edge:
    root = fresh_dir("nginx-edge", EDGE_WORK)
    port = free_port()
    user = "user root;" if os.geteuid() == 0 else ""
    body = NGINX_EDGE_HTTP.format(root=root, port=port, origin=origin.url.removeprefix("http://"))
    url = f"http://127.0.0.1:{port}"
    child = start_nginx_process("edge-nginx", root, NGINX_COMMON.format(user=user, root=root, body=body),
                                f"{url}/objects/miss-1k")
    return Edge("nginx", url, child, lambda h: h.get("x-cache") == "HIT")


def start_varnish(origin: Origin) -> Edge:
    root = fresh_dir("varnish", EDGE_WORK)
    port = free_port()
    varnishd = shutil.which("varnishd") or "/usr/sbin/varnishd"
    argv = [varnishd, "-F", "-j", "none", "-n", str(root / "instance"), "-a", f"127.0.0.1:{port}",
            "-b", origin.url.removeprefix("http://"), "-s", "malloc,8G", "-p", "thread_pool_min=200",
            "-p", "default_ttl=3600"]
    child = Child.start("edge-varnish", argv)
    url = f"http://127.0.0.1:{port}"

    def ready() -> bool:
        if not child.alive():
            raise RuntimeError(f"varnish exited:\n{child.output()}")
        return get(f"{url}/objects/miss-1k")[0] == 200

    wait_for(ready, 30, "varnish")
    # X-Varnish carries two transaction ids on a hit (this request's and the one that stored it)
    return Edge("varnish", url, child, lambda h: len(h.get("x-varnish", "").split()) == 2)


def tool_versions() -> dict[str, str]:
    def first_line(argv: list[str]) -> str:
        out = subprocess.run(argv, capture_output=True, text=True, check=False)
        return (out.stdout + out.stderr).strip().splitlines()[0] if (out.stdout + out.stderr).strip() else ""

    return {"nginx": first_line(["nginx", "-v"]), "varnish": first_line(["varnishd", "-V"]),
            "wrk": first_line(["wrk", "-v"])}


# -- data ----------------------------------------------------------------------------------------


def origin_files() -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    for cls, (size, count, _) in HIT_CLASSES.items():
        for i in range(count):
            files[f"/hit{cls}/o-{i:03d}"] = os.urandom(size)
    files["/objects/miss-1k"] = os.urandom(KIB)
    files["/objects/collapse-1k"] = os.urandom(KIB)
    files["/objects/collapse-1m"] = os.urandom(MIB)
    return files


def warm(edge: Edge, origin: Origin) -> None:
    """Request every hit object twice through the edge; the second must be a hit with the
    origin's bytes. Also checks one range answer."""
    for path, data in origin.files.items():
        if not path.startswith("/hit"):
            continue
        for attempt in range(2):
            status, headers, body = get(edge.base_url + path)
            if status != 200 or body != data:
                raise RuntimeError(f"{edge.name} {path}: {status}, {len(body)} bytes, wrong content")
            if attempt == 1 and not edge.is_hit(headers):
                raise RuntimeError(f"{edge.name} {path}: the second request was not a hit: {headers}")
    big = origin.files["/hit32m/o-000"]
    first = 12_345_678
    status, headers, body = get(f"{edge.base_url}/hit32m/o-000",
                                {"Range": f"bytes={first}-{first + RANGE_SIZE - 1}"})
    if status != 206 or body != big[first : first + RANGE_SIZE] or not edge.is_hit(headers):
        raise RuntimeError(f"{edge.name}: range answer {status}, {len(body)} bytes, {headers}")
    folder = EDGE_WORK / "paths"
    for cls in HIT_CLASSES:
        edge.paths[cls] = write_lines(folder / f"hit{cls}.txt", sorted(p for p in origin.files
                                                                       if p.startswith(f"/hit{cls}/")))
    edge.paths["range"] = write_lines(folder / "range.txt", ["/hit32m/o-000"])


def miss_sequence(prefix: str, seed: int) -> list[str]:
    """MISS_KEYS keys under `prefix`, each requested 1 (60%), 2 (30%) or 3 (10%) times, shuffled."""
    rng = random.Random(seed)
    paths: list[str] = []
    for i in range(MISS_KEYS):
        paths.extend([f"{prefix}k-{i:05d}"] * rng.choices((1, 2, 3), (6, 3, 1))[0])
    rng.shuffle(paths)
    return paths


# -- wrk -----------------------------------------------------------------------------------------


def lua_script(limited: bool) -> Path:
    path = EDGE_WORK / ("edge-limited.lua" if limited else "edge.lua")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(LUA.replace("%RESPONSE%", LUA_LIMIT if limited else ""))
    return path


def run_wrk(base_url: str, paths_file: Path, *, threads: int = 2, connections: int = 32, duration: float = 10.0,
            server_pid: int | None = None, limit: int = 0, range_size: int = 0,
            object_size: int = 0) -> WrkResult:
    """harness.run_wrk with this script's Lua: ranges, and `limit` responses per thread (then the
    run's duration is the time until the last thread had its last answer, not wrk's -d)."""
    wrk = shutil.which("wrk") or "/usr/bin/wrk"
    wall = 600.0 if limit else duration
    argv = [wrk, f"-t{threads}", f"-c{connections}", f"-d{wall:g}s", "--timeout=30s", "-s",
            str(lua_script(bool(limit))), base_url, "--", str(paths_file), str(threads), "0", str(limit),
            str(range_size), str(object_size)]
    pids = process_tree(server_pid) if server_pid else []
    cpu_before = cpu_seconds(pids)
    started = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    finished = 0.0
    lines: list[str] = []
    if limit:
        done = 0
        for line in proc.stdout:
            lines.append(line)
            if line.startswith("THREAD_DONE"):
                done += 1
                if done == threads:
                    finished = time.perf_counter()
                    proc.send_signal(signal.SIGINT)  # wrk stops its wait and prints its summary
                    break
    out, err = proc.communicate(timeout=wall + 60)
    cpu_used = cpu_seconds(pids) - cpu_before
    text = "".join(lines) + out
    if limit and not finished:
        raise RuntimeError(f"wrk ended before its threads answered {limit} requests each: {text}\n{err}")
    return parse_wrk(text, proc.returncode, err, cpu_used, (finished - started, limit * threads) if limit else None)


def wrk_scenario(edges: list[Edge], results: Results, opts: Options, *, metric: str, paths: str,
                 value: Callable[[WrkResult], float], connections: int, range_size: int = 0,
                 object_size: int = 0) -> None:
    """Every round runs each edge once, in turn; the first round is a discarded warm-up."""
    warmup = 1.0 if opts.quick else 2.0
    for rnd in range(-1, opts.rounds):
        for edge in in_turn(edges, rnd):
            load = os.getloadavg()[0]
            result = run_wrk(edge.base_url, edge.paths[paths], connections=connections,
                             duration=warmup if rnd < 0 else opts.duration, server_pid=edge.pid,
                             range_size=range_size, object_size=object_size)
            if result.failed:
                raise RuntimeError(f"{metric} on {edge.name}: wrk saw errors {result.errors}")
            if rnd < 0:
                continue
            report_run(results, metric, edge, result, value, load, rnd)


def in_turn(edges: list[Edge], rnd: int) -> list[Edge]:
    """The edges in the order of round `rnd`: strato and the --baseline build trade places every
    other round (the one that runs first may find the machine quieter); the others keep theirs."""
    names = [edge.name for edge in edges]
    if rnd % 2 or "strato" not in names or BASELINE not in names:
        return edges
    first, second = names.index("strato"), names.index(BASELINE)
    swapped = list(edges)
    swapped[first], swapped[second] = edges[second], edges[first]
    return swapped


def report_run(results: Results, metric: str, edge: Edge, result: WrkResult, value: Callable[[WrkResult], float],
               load: float, rnd: int, extra: dict[str, Any] | None = None) -> None:
    record(results, metric, edge.name, value(result), {**result.as_json(), "loadavg1": load, **(extra or {})})
    per_cpu = value(result) * result.duration_s / result.server_cpu_s if result.server_cpu_s else 0.0
    record(results, f"{metric}_per_cpu", edge.name, per_cpu)
    log(f"  {metric:14} round {rnd + 1} {edge.name:8} {value(result):10.1f}  "
        f"p50 {result.p50_ms:7.2f} ms  p99 {result.p99_ms:7.2f} ms  "
        f"server CPU {result.cpu_percent:4.0f}%  load {load:4.1f}")


def miss_scenario(edges: list[Edge], origin: Origin, results: Results, opts: Options) -> None:
    """10,000 never-seen keys per run (a fresh prefix per edge and round), each 1-3 times."""
    threads = 2
    for rnd in range(-1, opts.rounds):
        for edge in in_turn(edges, rnd):
            prefix = f"/miss/{edge.name}/r{rnd + 1}/"
            sequence = miss_sequence(prefix, seed=rnd + 2)
            usable = len(sequence) - len(sequence) % threads
            paths = write_lines(EDGE_WORK / "paths" / f"miss-{edge.name}-r{rnd + 1}.txt", sequence[:usable])
            load = os.getloadavg()[0]
            result = run_wrk(edge.base_url, paths, threads=threads, connections=64, server_pid=edge.pid,
                             limit=usable // threads)
            if result.failed:
                raise RuntimeError(f"miss-heavy on {edge.name}: wrk saw errors {result.errors}")
            time.sleep(0.5)  # the origin logs a request once its answer is out
            fetched = origin.fetches(lambda p: p.startswith(prefix))  # noqa: B023
            distinct = len(set(sequence[:usable]))
            if rnd < 0:
                continue
            report_run(results, "miss_rps", edge, result, lambda r: r.rps, load, rnd,
                       {"origin_fetches": fetched, "distinct_keys": distinct, "requests_planned": usable})
            record(results, "miss_fetch_per_key", edge.name, fetched / distinct)


# -- collapsed misses ----------------------------------------------------------------------------


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:] if line)}
    if "content-length" in headers:
        return status, await reader.readexactly(int(headers["content-length"]))
    if headers.get("transfer-encoding", "").lower() == "chunked":
        parts: list[bytes] = []
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            if size == 0:
                await reader.readuntil(b"\r\n")
                return status, b"".join(parts)
            parts.append(await reader.readexactly(size))
            await reader.readexactly(2)
    return status, await reader.read()


async def _collapse(base_url: str, path: str, waiters: int) -> list[tuple[int, bytes, float]]:
    """`waiters` connections, opened first; then every one sends its GET at once. Returns each
    one's (status, body, seconds from the first send until its whole answer was in)."""
    host_port = base_url.removeprefix("http://")
    host, port = host_port.rsplit(":", 1)
    conns = await asyncio.gather(*(asyncio.open_connection(host, int(port)) for _ in range(waiters)))
    request = f"GET {path} HTTP/1.1\r\nHost: {host_port}\r\n\r\n".encode()
    start = time.perf_counter()
    for _, writer in conns:
        writer.write(request)

    async def answer(reader: asyncio.StreamReader) -> tuple[int, bytes, float]:
        status, body = await _read_response(reader)
        return status, body, time.perf_counter() - start

    try:
        return list(await asyncio.wait_for(asyncio.gather(*(answer(r) for r, _ in conns)), 120))
    finally:
        for _, writer in conns:
            writer.close()


def collapse_scenario(edges: list[Edge], origin: Origin, results: Results, opts: Options) -> None:
    kinds = {"small": origin.files["/objects/collapse-1k"], "slow": origin.files["/objects/collapse-1m"]}
    for rnd in range(opts.collapse_rounds):
        for kind, expected in kinds.items():
            for edge in edges:
                path = f"/collapse/{kind}/{edge.name}-{rnd}"
                answers = asyncio.run(_collapse(edge.base_url, path, COLLAPSE_WAITERS))
                bad = [(s, len(b)) for s, b, _ in answers if s != 200 or b != expected]
                if bad:
                    raise RuntimeError(f"collapse {kind} on {edge.name}: {len(bad)} wrong answers, e.g. {bad[:3]}")
                time.sleep(0.5)  # the origin logs a request once its answer is out
                fetched = origin.fetches(lambda p: p == path)  # noqa: B023
                times = sorted(t for _, _, t in answers)
                all_ms = times[-1] * 1000
                record(results, f"collapse_{kind}_fetches", edge.name, fetched,
                       {"all_answered_ms": all_ms, "median_ms": statistics.median(times) * 1000})
                entry = results[f"collapse_{kind}_fetches"][edge.name]
                entry["max"] = max(r["value"] for r in entry["runs"])
                record(results, f"collapse_{kind}_ms", edge.name, all_ms)
                log(f"  collapse {kind:5} round {rnd + 1} {edge.name:8} origin fetches {fetched:3d}  "
                    f"all {COLLAPSE_WAITERS} answered in {all_ms:7.1f} ms (median {times[len(times) // 2] * 1000:.1f})")


# -- profile -------------------------------------------------------------------------------------


def profile(edge: Edge, opts: Options) -> dict[str, Any]:
    """py-spy strato's edge while wrk drives 1 KiB hits, then 64 KiB ranges, then misses over new
    keys, each when its scenario is among --only (the rates under the profiler are not results)."""
    folder = EDGE_WORK / "profiles"
    folder.mkdir(parents=True, exist_ok=True)
    duration = max(opts.duration, 20.0)
    sequence = miss_sequence("/miss/strato/profile/", seed=99) + miss_sequence("/miss/strato/profile2/", seed=98)
    misses = write_lines(folder / "miss-paths.txt", sequence)
    loads: dict[str, Callable[[], WrkResult]] = {
        "hit_1k": lambda: run_wrk(edge.base_url, edge.paths["1k"], connections=HIT_CLASSES["1k"][2],
                                  duration=duration),
        "range_64k": lambda: run_wrk(edge.base_url, edge.paths["range"], connections=32, duration=duration,
                                     range_size=RANGE_SIZE, object_size=HIT_CLASSES["32m"][0]),
        # 2 x 10,000 new keys, 1-3 requests each (as the miss-heavy scenario)
        "miss": lambda: run_wrk(edge.base_url, misses, connections=64, limit=len(sequence) // 2),
    }
    wanted = {"hit_1k": "hits", "range_64k": "ranges", "miss": "misses"}
    out: dict[str, Any] = {}
    for name, load in loads.items():
        if wanted[name] not in opts.only:
            continue
        raw = folder / f"strato-edge-{name}.txt"
        raw.unlink(missing_ok=True)
        spy = pyspy_record(edge.pid, raw, duration, native=opts.native)
        time.sleep(0.5)
        result = load()
        spy.wait(timeout=duration + 60)
        summary = summarize_profile(raw, top=30) if raw.exists() else {"self": [], "inclusive": []}
        log(f"  profile {name} ({result.rps:,.0f} req/s under py-spy): {raw}")
        for kind in ("self", "inclusive"):
            print(f"    top {kind}:")
            for func, share in summary[kind][:20]:
                print(f"      {share:5.1f}%  {func}")
        out[name] = {"raw": str(raw), "rate_under_profiler": round(result.rps, 1), **summary}
    return out


# -- report --------------------------------------------------------------------------------------

LABELS = {
    "hit_1k_rps": "1 KiB hits req/s",
    "hit_1k_rps_per_cpu": "1 KiB hits req per edge CPU-s",
    "hit_64k_mbps": "64 KiB hits MB/s",
    "hit_1m_mbps": "1 MiB hits MB/s",
    "hit_32m_mbps": "32 MiB hits MB/s",
    "hit_32m_mbps_per_cpu": "32 MiB hits MB per edge CPU-s",
    "range_64k_rps": "64 KiB ranges of 32 MiB req/s",
    "range_64k_rps_per_cpu": "64 KiB ranges req per edge CPU-s",
    "miss_rps": "miss-heavy req/s (10,000 new keys)",
    "miss_rps_per_cpu": "miss-heavy req per edge CPU-s",
    "miss_fetch_per_key": "miss-heavy origin fetches per key",
    "collapse_small_fetches": "collapsed 1 KiB miss: origin fetches (median)",
    "collapse_small_ms": "collapsed 1 KiB miss: all 200 answered, ms",
    "collapse_slow_fetches": "collapsed 1 MiB slow miss: origin fetches (median)",
    "collapse_slow_ms": "collapsed 1 MiB slow miss: all 200 answered, ms",
}

TARGETS = [
    ("1 KiB hits >= 0.5x nginx req/s", "hit_1k_rps", 0.5),
    ("1 MiB hits >= 0.8x nginx MB/s", "hit_1m_mbps", 0.8),
    ("32 MiB hits >= 0.8x nginx MB/s", "hit_32m_mbps", 0.8),
    ("64 KiB ranges >= 0.5x nginx req/s", "range_64k_rps", 0.5),
    ("miss-heavy >= 1.0x nginx req/s", "miss_rps", 1.0),
]


def table(results: Results) -> str:
    edges = [*EDGES, BASELINE] if any(BASELINE in runs for runs in results.values()) else list(EDGES)
    against = edges[1:]
    header = ["metric", *edges, *(f"strato/{e}" for e in against)]
    rows = [header]
    for metric, label in LABELS.items():
        if metric not in results:
            continue
        values = {e: value_of(results, metric, e) for e in edges}
        cells = [ratio(values["strato"], values[e]) for e in against]
        if metric.endswith("_fetches") or metric == "miss_fetch_per_key":
            cells = [""] * len(against)
        rows.append([label, *(fmt(values[e]) for e in edges), *cells])
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = ["| " + " | ".join(cell.ljust(widths[i]) if i == 0 else cell.rjust(widths[i])
                               for i, cell in enumerate(row)) + " |" for row in rows]
    lines.insert(1, "| " + " | ".join("-" * w for w in widths) + " |")
    return "\n".join(lines)


def targets(results: Results) -> tuple[str, dict[str, Any]]:
    lines: list[str] = []
    verdicts: dict[str, Any] = {}
    for label, metric, goal in TARGETS:
        mine, theirs = value_of(results, metric, "strato"), value_of(results, metric, "nginx")
        if mine is None or theirs is None:
            continue
        r = mine / theirs
        verdicts[label] = {"ratio": round(r, 3), "met": r >= goal}
        lines.append(f"  {'MET ' if r >= goal else 'MISS'}  {label:36} {r:5.2f}x")
    for kind in ("small", "slow"):
        entry = results.get(f"collapse_{kind}_fetches", {}).get("strato")
        if entry is None:
            continue
        counts = [int(r["value"]) for r in entry["runs"]]
        ok = all(c == 1 for c in counts)
        label = f"one origin fetch per collapsed {kind} miss"
        verdicts[label] = {"fetches": counts, "met": ok}
        lines.append(f"  {'MET ' if ok else 'MISS'}  {label:36} {counts}")
    return "\n".join(lines), verdicts


def write_report(results: Results, extra: dict[str, Any], opts: Options, started: float) -> None:
    text = table(results)
    target_text, verdicts = targets(results)
    print("\n" + text + "\n\ntargets (strato against nginx proxy_cache):\n" + target_text)
    report = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(started)),
        "seconds": round(time.time() - started, 1),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version(),
                    "loadavg_at_end": os.getloadavg(), **tool_versions()},
        "options": {k: v for k, v in vars(opts).items() if not k.startswith("_")},
        "metrics": results, "targets": verdicts, "table": text, **extra,
    }
    opts.out.parent.mkdir(parents=True, exist_ok=True)
    opts.out.write_text(json.dumps(report, indent=2, default=str))
    print(f"\nresults: {opts.out}")


# -- main ----------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    opts = parse(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    EDGE_WORK.mkdir(parents=True, exist_ok=True)
    children: list[Child] = []
    results: Results = {}
    extra: dict[str, Any] = {}
    started = time.time()
    try:
        src, about = strato_source(opts.ref, opts.python)
        extra.update(about)
        log(f"strato {extra['strato_commit']} from {extra['strato_origin']}")
        if opts.baseline:
            base_src, base = strato_source(opts.baseline, opts.python)
            extra["baseline"] = base
            log(f"{BASELINE} {base['strato_commit']} from {base['strato_origin']}")
        log("starting the origin and the edges")
        origin = start_origin(origin_files())
        children.append(origin.child)
        edges: list[Edge] = []
        starting: dict[str, Callable[[], Edge]] = {"strato": lambda: start_strato_edge(origin, opts.python, src),
                                                   "nginx": lambda: start_nginx_edge(origin),
                                                   "varnish": lambda: start_varnish(origin)}
        starters = [starting[name] for name in opts.edges]
        if opts.baseline:
            starters.append(lambda: start_strato_edge(origin, opts.python, base_src, BASELINE))
        for start in starters:
            edge = start()
            children.append(edge.child)
            edges.append(edge)
        log(f"  origin   {origin.url}  pid {origin.child.pid}")
        for edge in edges:
            log(f"  {edge.name:8} {edge.base_url}  pid {edge.pid}")
        if opts.only & {"hits", "ranges"}:
            log("warming every edge (each object twice; the second must be a hit)")
            for edge in edges:
                warm(edge, origin)
        for cls, (_, _, connections) in HIT_CLASSES.items() if "hits" in opts.only else ():
            log(f"{cls} hits")
            if cls == "1k":
                wrk_scenario(edges, results, opts, metric="hit_1k_rps", paths=cls, value=lambda r: r.rps,
                             connections=connections)
            else:
                wrk_scenario(edges, results, opts, metric=f"hit_{cls}_mbps", paths=cls, value=lambda r: r.mbps,
                             connections=connections)
        if "ranges" in opts.only:
            log("64 KiB ranges of a cached 32 MiB object")
            wrk_scenario(edges, results, opts, metric="range_64k_rps", paths="range", value=lambda r: r.rps,
                         connections=32, range_size=RANGE_SIZE, object_size=HIT_CLASSES["32m"][0])
        if "misses" in opts.only:
            log("miss-heavy: 10,000 new keys per run")
            miss_scenario(edges, origin, results, opts)
        if "collapse" in opts.only:
            log(f"collapsed misses: {COLLAPSE_WAITERS} requests for one uncached object")
            collapse_scenario(edges, origin, results, opts)
        if opts.profile:
            log("profiling strato's edge")
            extra["profiles"] = profile(next(edge for edge in edges if edge.name == "strato"), opts)
    except BaseException as exc:
        extra["error"] = repr(exc)
        raise
    finally:
        for child in reversed(children):
            with contextlib.suppress(Exception):
                child.stop()
        write_report(results, extra, opts, started)
    return 0


if __name__ == "__main__":
    sys.exit(main())
