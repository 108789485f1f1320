"""S3 benchmark: strato side by side with SeaweedFS and nginx, in one run, interleaved.

    python bench/s3_bench.py            # full run (about 10 minutes)
    python bench/s3_bench.py --quick    # smoke run (about 2 minutes)
    python bench/s3_bench.py --profile  # also py-spy strato (1 worker) under 4 KiB GET and PUT

Scenarios (each round runs every server once, in turn, so drift hits all of them alike):
  4 KiB GET req/s   wrk, SigV4 presigned URLs (one per object, 100 objects), nginx: static files
  64 MiB GET MB/s   wrk, few connections, one presigned URL
  4 KiB PUT req/s   wrk, SigV4 presigned PUT URLs (UNSIGNED-PAYLOAD), a distinct key per request;
                    nginx: WebDAV PUT (no fsync, not an object store: a ceiling, not a peer)
  list page         boto3 list_objects_v2(MaxKeys=1000) over a 10,000-key bucket, median page time;
                    the same page as a raw presigned HTTP GET; a delimiter listing of 500 prefixes

Prints a table with ratios and the targets, writes bench/.work/results.json, and stops every
process it started by PID.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import signal
import statistics
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from harness import WORK, WrkResult, pyspy_record, run_wrk, summarize_profile
from presign import Presigner
from servers import (
    ACCESS_KEY,
    REGION,
    SECRET_KEY,
    Server,
    find_weed,
    start_nginx,
    start_seaweedfs,
    start_strato,
    strato_source,
)

BUCKET = "bench"
FLAT_BUCKET = "bench-list"
TREE_BUCKET = "bench-tree"
SMALL = 4096
LARGE = 64 * 1024 * 1024
SMALL_OBJECTS = 100
PAGE = 1000
PER_DIR = 20
EXPIRES = 7 * 24 * 3600


class Options(argparse.Namespace):
    quick: bool
    workers: str
    rounds: int
    duration: float
    list_keys: int
    put_urls: int
    profile: bool
    native: bool
    weed: str | None
    python: str
    out: Path
    ref: str | None


def parse(argv: list[str] | None) -> Options:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="short runs, fewer keys: a smoke test")
    parser.add_argument("--workers", default="1,2", help="strato worker counts to compare (default 1,2)")
    parser.add_argument("--rounds", type=int, help="interleaved rounds per scenario (default 3; quick 1)")
    parser.add_argument("--duration", type=float, help="seconds per wrk run (default 10; quick 3)")
    parser.add_argument("--list-keys", type=int, help="keys per listing bucket (default 10000; quick 2000)")
    parser.add_argument("--put-urls", type=int, help="PUT URLs per server (default 200000; quick 30000)")
    parser.add_argument("--profile", action="store_true", help="py-spy the first strato under load")
    parser.add_argument("--native", action="store_true", help="py-spy --native (C frames too)")
    parser.add_argument("--weed", help="path to the SeaweedFS `weed` binary")
    parser.add_argument("--python", default=sys.executable, help="python that runs `-m strato`")
    parser.add_argument("--out", type=Path, default=WORK / "results.json", help="where to write the JSON")
    parser.add_argument("--ref", help="run strato's src/ at this git commit (exported to bench/.work), "
                        "not the installed one")
    opts = parser.parse_args(argv, namespace=Options())
    opts.rounds = opts.rounds or (1 if opts.quick else 3)
    opts.duration = opts.duration or (3.0 if opts.quick else 10.0)
    opts.list_keys = opts.list_keys or (2000 if opts.quick else 10000)
    opts.put_urls = opts.put_urls or (30000 if opts.quick else 200000)
    return opts


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


def write_lines(path: Path, lines: list[str]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")
    return path


# -- preparing data ------------------------------------------------------------------------------


def presigner(server: Server) -> Presigner:
    return Presigner(server.base_url, ACCESS_KEY, SECRET_KEY, REGION, expires=EXPIRES)


def put_all(server: Server, bucket: str, keys: list[str], body: bytes, threads: int = 8) -> None:
    """Upload `keys` through presigned PUT URLs over keep-alive connections (cheap for the client)."""
    signer = presigner(server)
    urls = [signer.path("PUT", bucket, k) for k in keys]
    host = urlsplit(server.base_url).netloc

    def worker(share: list[str]) -> None:
        conn = http.client.HTTPConnection(host, timeout=60)
        for url in share:
            conn.request("PUT", url, body=body, headers={"Content-Length": str(len(body))})
            response = conn.getresponse()
            text = response.read()
            if response.status != 200:
                raise RuntimeError(f"{server.name} PUT {url} -> {response.status} {text[:300]!r}")
        conn.close()

    with ThreadPoolExecutor(threads) as pool:
        for future in [pool.submit(worker, urls[i::threads]) for i in range(threads)]:
            future.result()


def prepare_s3(server: Server, small: list[bytes], large: bytes, opts: Options) -> None:
    client = server.client
    for bucket in (BUCKET, FLAT_BUCKET, TREE_BUCKET):
        client.create_bucket(Bucket=bucket)
    keys = [f"small/obj-{i:03d}" for i in range(SMALL_OBJECTS)]
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda k, body: client.put_object(Bucket=BUCKET, Key=k, Body=body), keys, small))
    client.put_object(Bucket=BUCKET, Key="large/obj-64m", Body=large)

    def presign(method: str, key: str) -> str:
        params = {"Bucket": BUCKET, "Key": key}
        return str(client.generate_presigned_url(method, Params=params, ExpiresIn=EXPIRES))

    small_urls = [presign("get_object", k) for k in keys]
    with urllib_get(small_urls[0]) as response:
        if response.read() != small[0]:
            raise RuntimeError(f"{server.name}: presigned GET returned the wrong bytes")
    d = WORK / "paths" / server.name
    server.paths["small_get"] = write_lines(d / "small_get.txt", [path_of(u) for u in small_urls])
    large_url = path_of(presign("get_object", "large/obj-64m"))
    server.paths["large_get"] = write_lines(d / "large_get.txt", [large_url])
    signer = presigner(server)
    server.paths["put"] = write_lines(d / "put.txt", [signer.path("PUT", BUCKET, f"put/{i:07d}")
                                                      for i in range(opts.put_urls)])
    server.put_keys = opts.put_urls
    log(f"  {server.name}: filling {FLAT_BUCKET} and {TREE_BUCKET} with {opts.list_keys} keys each")
    put_all(server, FLAT_BUCKET, flat_keys(opts.list_keys), b"x" * 100)
    put_all(server, TREE_BUCKET, tree_keys(opts.list_keys), b"x" * 100)


def urllib_get(url: str) -> Any:
    import urllib.request

    return urllib.request.urlopen(url, timeout=30)


def flat_keys(n: int) -> list[str]:
    return [f"key-{i:06d}" for i in range(n)]


def tree_keys(n: int) -> list[str]:
    return [f"dir-{i // PER_DIR:04d}/obj-{i % PER_DIR:02d}" for i in range(n)]


def static_files(small: list[bytes], large: bytes, opts: Options) -> dict[str, bytes]:
    files = {f"/{BUCKET}/small/obj-{i:03d}": data for i, data in enumerate(small)}
    files[f"/{BUCKET}/large/obj-64m"] = large
    return files


def prepare_static(server: Server, files: dict[str, bytes], opts: Options) -> None:
    d = WORK / "paths" / server.name
    small = [p for p in files if "/small/" in p]
    server.paths["small_get"] = write_lines(d / "small_get.txt", small)
    server.paths["large_get"] = write_lines(d / "large_get.txt", [p for p in files if "/large/" in p])
    server.paths["put"] = write_lines(d / "put.txt", [f"/{BUCKET}/put/{i:07d}" for i in range(opts.put_urls)])
    server.put_keys = opts.put_urls


# -- scenarios -----------------------------------------------------------------------------------

Results = dict[str, dict[str, dict[str, Any]]]


def record(results: Results, metric: str, server: str, value: float,
           run: dict[str, Any] | None = None) -> None:
    entry = results.setdefault(metric, {}).setdefault(server, {"runs": []})
    entry["runs"].append({"value": value, **(run or {})})
    entry["value"] = statistics.median(r["value"] for r in entry["runs"])


def wrk_scenario(servers: list[Server], results: Results, opts: Options, *, metric: str, paths: str,
                 value: Callable[[WrkResult], float], method: str = "GET", body: int = 0, threads: int = 2,
                 connections: int = 32, firsts: dict[str, list[int]] | None = None) -> None:
    """Every round runs each server once, in turn; the first round is a discarded warm-up."""
    warmup = 1.0 if opts.quick else 2.0
    for rnd in range(-1, opts.rounds):
        for server in servers:
            if firsts is not None:  # thread 1's first key, thread 0's second (see harness.LUA)
                firsts.setdefault(server.name, []).extend([server.put_offset + 1, server.put_offset + 2])
            load = os.getloadavg()[0]
            result = run_wrk(server.base_url, server.paths[paths], method=method, body_size=body,
                             threads=threads, connections=connections,
                             duration=warmup if rnd < 0 else opts.duration,
                             offset=server.put_offset if method == "PUT" else 0, server_pid=server.pid)
            if method == "PUT":
                server.put_offset += result.requests
            if result.failed:
                raise RuntimeError(f"{metric} on {server.name}: wrk saw errors {result.errors}")
            if rnd < 0:
                continue
            record(results, metric, server.name, value(result), {**result.as_json(), "loadavg1": load})
            per_cpu = value(result) * result.duration_s / result.server_cpu_s if result.server_cpu_s else 0.0
            record(results, f"{metric}_per_cpu", server.name, per_cpu)
            log(f"  {metric:14} round {rnd + 1} {server.name:10} {value(result):10.1f}  "
                f"p50 {result.p50_ms:6.2f} ms  p99 {result.p99_ms:7.2f} ms  "
                f"server CPU {result.cpu_percent:4.0f}%  load {load:4.1f}")


def check_puts(servers: list[Server], firsts: dict[str, list[int]]) -> list[str]:
    """The PUTs really landed: the first key each wrk thread sent in every run is there, 4 KiB
    long. (Later keys of a run are not known exactly: in-flight requests are cut at the end.)"""
    problems = []
    for server in servers:
        for index in firsts.get(server.name, []):
            key = f"put/{index % server.put_keys:07d}"
            try:
                if server.kind == "s3":
                    size = int(server.client.head_object(Bucket=BUCKET, Key=key)["ContentLength"])
                else:
                    size = (WORK / "nginx" / "www" / BUCKET / key).stat().st_size
            except Exception as exc:
                problems.append(f"{server.name}: {key}: {exc}")
                continue
            if size != SMALL:
                problems.append(f"{server.name}: {key} has {size} bytes")
    return problems


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    out = fn()
    return (time.perf_counter() - start) * 1000, out


def raw_get(conn: http.client.HTTPConnection, url: str) -> bytes:
    conn.request("GET", url)
    response = conn.getresponse()
    body = response.read()
    if response.status != 200:
        raise RuntimeError(f"GET {url} -> {response.status} {body[:300]!r}")
    return body


def list_scenario(servers: list[Server], results: Results, opts: Options) -> None:
    keys = flat_keys(opts.list_keys)
    starts: list[str | None] = [None, *(keys[i - 1] for i in range(PAGE, len(keys), PAGE))]
    prefixes = opts.list_keys // PER_DIR
    plans: dict[str, tuple[http.client.HTTPConnection, list[str], str]] = {}
    for server in servers:
        client = server.client
        page_urls = [path_of(client.generate_presigned_url(
            "list_objects_v2", ExpiresIn=EXPIRES,
            Params={"Bucket": FLAT_BUCKET, "MaxKeys": PAGE, **({"StartAfter": s} if s else {})}))
            for s in starts]
        delim_url = path_of(client.generate_presigned_url(
            "list_objects_v2", ExpiresIn=EXPIRES,
            Params={"Bucket": TREE_BUCKET, "MaxKeys": PAGE, "Delimiter": "/"}))
        plans[server.name] = (http.client.HTTPConnection(urlsplit(server.base_url).netloc, timeout=60),
                              page_urls, delim_url)
        client.list_objects_v2(Bucket=FLAT_BUCKET, MaxKeys=PAGE)  # warm the connection pool
    reps = 2 if opts.quick else 5
    for _ in range(reps):
        for server in servers:
            client = server.client
            conn, page_urls, delim_url = plans[server.name]
            for start, url in zip(starts, page_urls, strict=True):
                extra = {"StartAfter": start} if start else {}
                ms, page = timed(lambda: client.list_objects_v2(Bucket=FLAT_BUCKET, MaxKeys=PAGE, **extra))  # noqa: B023
                expected = min(PAGE, len(keys) - (keys.index(start) + 1 if start else 0))
                if page["KeyCount"] != expected:
                    raise RuntimeError(f"{server.name}: page after {start} has {page['KeyCount']} keys")
                record(results, "list_page_ms", server.name, ms)
                ms, body = timed(lambda: raw_get(conn, url))  # noqa: B023
                if body.count(b"<Key>") != expected:
                    raise RuntimeError(f"{server.name}: raw page after {start} is short")
                record(results, "list_page_raw_ms", server.name, ms)
                if start is None:
                    record(results, "list_page_bytes", server.name, len(body))
            for _ in range(5):
                ms, page = timed(
                    lambda: client.list_objects_v2(Bucket=TREE_BUCKET, MaxKeys=PAGE, Delimiter="/"))  # noqa: B023
                found = len(page.get("CommonPrefixes", []))
                if found != min(prefixes, PAGE):
                    raise RuntimeError(f"{server.name}: delimiter listing has {found} prefixes")
                record(results, "list_delimiter_ms", server.name, ms)
                ms, _ = timed(lambda: raw_get(conn, delim_url))  # noqa: B023
                record(results, "list_delimiter_raw_ms", server.name, ms)
    for server in servers:
        plans[server.name][0].close()
        log(f"  list {server.name:10} page {results['list_page_ms'][server.name]['value']:6.2f} ms  "
            f"raw {results['list_page_raw_ms'][server.name]['value']:6.2f} ms  "
            f"delimiter {results['list_delimiter_ms'][server.name]['value']:6.2f} ms")


def list_load(server: Server, duration: float) -> float:
    """Pages/s of 1,000-key raw list requests over one connection, for `duration` seconds."""
    url = path_of(server.client.generate_presigned_url(
        "list_objects_v2", ExpiresIn=EXPIRES, Params={"Bucket": FLAT_BUCKET, "MaxKeys": PAGE}))
    conn = http.client.HTTPConnection(urlsplit(server.base_url).netloc, timeout=60)
    pages, start = 0, time.perf_counter()
    while time.perf_counter() - start < duration:
        raw_get(conn, url)
        pages += 1
    conn.close()
    return pages / (time.perf_counter() - start)


def profile(server: Server, opts: Options) -> dict[str, Any]:
    """py-spy strato while wrk drives 4 KiB GETs, then 4 KiB PUTs, then while one client lists
    1,000-key pages back to back (rates under the profiler are not reported as results)."""
    out: dict[str, Any] = {}
    folder = WORK / "profiles"
    folder.mkdir(parents=True, exist_ok=True)
    duration = max(opts.duration, 15.0)

    def wrk_load(paths: str, method: str, body: int) -> Callable[[], float]:
        def load() -> float:
            result = run_wrk(server.base_url, server.paths[paths], method=method, body_size=body,
                             duration=duration, offset=server.put_offset if method == "PUT" else 0)
            if method == "PUT":
                server.put_offset += result.requests
            return result.rps
        return load

    def list_pages() -> float:
        return list_load(server, duration)

    loads: dict[str, Callable[[], float]] = {
        "get_4k": wrk_load("small_get", "GET", 0),
        "put_4k": wrk_load("put", "PUT", SMALL),
        "list_page": list_pages,
    }
    for name, load in loads.items():
        raw = folder / f"{server.name}-{name}.txt"
        spy = pyspy_record(server.pid, raw, duration, native=opts.native)
        time.sleep(0.5)
        rate = load()
        spy.wait(timeout=duration + 60)
        summary = summarize_profile(raw) if raw.exists() else {"self": [], "inclusive": []}
        out[name] = {"raw": str(raw), "rate_under_profiler": round(rate, 1), **summary}
        log(f"  profile {name}: {raw}")
        for kind in ("self", "inclusive"):
            print(f"    top {kind}:")
            for func, share in summary[kind][:15]:
                print(f"      {share:5.1f}%  {func}")
    return out


# -- report --------------------------------------------------------------------------------------

HIGHER_IS_BETTER = {"get_4k_rps", "get_64m_mbps", "put_4k_rps", "get_4k_rps_per_cpu", "put_4k_rps_per_cpu",
                    "get_64m_mbps_per_cpu"}
LABELS = {
    "get_4k_rps": "4 KiB GET req/s",
    "get_4k_rps_per_cpu": "4 KiB GET req per server CPU-s",
    "get_64m_mbps": "64 MiB GET MB/s",
    "get_64m_mbps_per_cpu": "64 MiB GET MB per server CPU-s",
    "put_4k_rps": "4 KiB PUT req/s",
    "put_4k_rps_per_cpu": "4 KiB PUT req per server CPU-s",
    "list_page_ms": "1,000-key list page ms (boto3)",
    "list_page_raw_ms": "1,000-key list page ms (raw HTTP)",
    "list_delimiter_ms": "delimiter list ms (boto3)",
    "list_delimiter_raw_ms": "delimiter list ms (raw HTTP)",
    "list_page_bytes": "1,000-key list page bytes",
}


def value_of(results: Results, metric: str, server: str) -> float | None:
    entry = results.get(metric, {}).get(server)
    return None if entry is None else float(entry["value"])


def ratio(a: float | None, b: float | None) -> str:
    return "-" if a is None or b is None or b == 0 else f"{a / b:.2f}x"


def fmt(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:,.0f}" if value >= 100 else f"{value:.2f}"


def table(results: Results, stratos: list[str]) -> str:
    columns = [*stratos, "seaweedfs", "nginx"]
    header = ["metric", *columns, *(f"{s}/seaweedfs" for s in stratos), *(f"{s}/nginx" for s in stratos)]
    rows = [header]
    for metric, label in LABELS.items():
        if metric not in results:
            continue
        values = {c: value_of(results, metric, c) for c in columns}
        rows.append([label, *(fmt(values[c]) for c in columns),
                     *(ratio(values[s], values["seaweedfs"]) for s in stratos),
                     *(ratio(values[s], values["nginx"]) for s in stratos)])
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = ["| " + " | ".join(cell.ljust(widths[i]) if i == 0 else cell.rjust(widths[i])
                               for i, cell in enumerate(row)) + " |" for row in rows]
    lines.insert(1, "| " + " | ".join("-" * w for w in widths) + " |")
    return "\n".join(lines)


TARGETS = [
    ("4 KiB GET >= 1.0x SeaweedFS", "get_4k_rps", "seaweedfs", 1.0),
    ("4 KiB PUT >= 1.0x SeaweedFS", "put_4k_rps", "seaweedfs", 1.0),
    ("64 MiB GET >= 0.8x nginx", "get_64m_mbps", "nginx", 0.8),
    # The server's own time for a page (what NOTES.md measured SeaweedFS at). Through boto3
    # most of the time is boto3 parsing the XML, which is larger for strato because it lists
    # each object's ChecksumAlgorithm and ChecksumType, as AWS does: reported, not a target.
    ("list page <= SeaweedFS time", "list_page_raw_ms", "seaweedfs", 1.0),
]


def targets(results: Results, stratos: list[str]) -> tuple[str, dict[str, Any]]:
    lines, verdicts = [], {}
    for label, metric, ref, goal in TARGETS:
        for strato in stratos:
            mine, theirs = value_of(results, metric, strato), value_of(results, metric, ref)
            if mine is None or theirs is None:
                continue
            r = mine / theirs
            ok = r >= goal if metric in HIGHER_IS_BETTER else r <= goal
            verdicts[f"{label} [{strato}]"] = {"ratio": round(r, 3), "met": ok}
            lines.append(f"  {'MET ' if ok else 'MISS'}  {label:30} {strato:10} {r:5.2f}x")
    return "\n".join(lines), verdicts


# -- main ----------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    opts = parse(argv)
    worker_counts = [int(w) for w in opts.workers.split(",") if w.strip()]
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    WORK.mkdir(parents=True, exist_ok=True)
    small = [os.urandom(SMALL) for _ in range(SMALL_OBJECTS)]
    large = os.urandom(LARGE)
    servers: list[Server] = []
    results: Results = {}
    extra: dict[str, Any] = {}
    started = time.time()
    try:
        src, about = strato_source(opts.ref, opts.python)
        extra.update(about)
        log(f"strato {extra['strato_commit']} from {extra['strato_origin']}")
        log("starting servers")
        for workers in worker_counts:
            servers.append(start_strato(workers, opts.python, src))
        servers.append(start_seaweedfs(find_weed(opts.weed)))
        files = static_files(small, large, opts)
        servers.append(start_nginx(files, workers=2))
        for server in servers:
            log(f"  {server.name:10} {server.base_url}  pid {server.pid}")
        log("preparing data")
        s3_servers = [s for s in servers if s.kind == "s3"]
        for server in s3_servers:
            prepare_s3(server, small, large, opts)
        prepare_static(servers[-1], files, opts)
        log("4 KiB GET")
        wrk_scenario(servers, results, opts, metric="get_4k_rps", paths="small_get", value=lambda r: r.rps,
                     connections=32)
        log("64 MiB GET")
        wrk_scenario(servers, results, opts, metric="get_64m_mbps", paths="large_get", value=lambda r: r.mbps,
                     threads=2, connections=4)
        log("list")
        list_scenario(s3_servers, results, opts)
        log("4 KiB PUT")
        firsts: dict[str, list[int]] = {}
        wrk_scenario(servers, results, opts, metric="put_4k_rps", paths="put", value=lambda r: r.rps,
                     method="PUT", body=SMALL, connections=32, firsts=firsts)
        extra["put_check_problems"] = problems = check_puts(servers, firsts)
        for problem in problems:
            log(f"  PUT CHECK FAILED {problem}")
        extra["put_keys_wrapped"] = {s.name: s.put_offset > s.put_keys for s in servers}
        if opts.profile:
            log("profiling strato")
            extra["profiles"] = profile(s3_servers[0], opts)
    except BaseException as exc:
        extra["error"] = repr(exc)
        raise
    finally:
        for server in reversed(servers):
            server.child.stop()
        write_report(results, extra, opts, worker_counts, started)
    return 0


def write_report(results: Results, extra: dict[str, Any], opts: Options, worker_counts: list[int],
                 started: float) -> None:
    """The table, the targets and results.json (also for a run that failed half-way)."""
    stratos = [f"strato-w{w}" for w in worker_counts]
    text = table(results, stratos)
    target_text, verdicts = targets(results, stratos)
    print("\n" + text + "\n\ntargets:\n" + target_text)
    report = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(started)),
        "seconds": round(time.time() - started, 1),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(),
                    "python": platform.python_version(), "loadavg_at_end": os.getloadavg()},
        "options": {k: v for k, v in vars(opts).items() if not k.startswith("_")},
        "metrics": results, "targets": verdicts, "table": text, **extra,
    }
    out = opts.out
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2, default=str))
    print(f"\nresults: {out}")


if __name__ == "__main__":
    sys.exit(main())
