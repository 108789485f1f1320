"""Functions benchmark: cold starts, warm invokes and throughput, each beside its reference.

- cold start: the first invoke of a new environment through boto3, against a bare
  `python -c pass` spawn of the runtime's interpreter measured in the same run;
- warm invoke: a boto3 `invoke` of an echo function, against boto3's own floor (the same call
  answered by a canned local HTTP server), the two alternating call by call;
- throughput: echo invokes/s driven by wrk with one signed request, on this machine's cores.

Run: `python bench/functions_bench.py [--quick]`. Prints a table with ratios and writes
bench/.work/functions-results.json.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
import zipfile
from collections.abc import Callable
from typing import Any

import boto3
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

from harness import WORK, WrkResult, run_wrk_script
from servers import ACCESS_KEY, REGION, SECRET_KEY, Server, start_strato, strato_source

ECHO = b"def handler(event, context):\n    return event\n"
PAYLOAD = b'{"hello": "world"}'


def lambda_client(endpoint: str) -> Any:
    config = Config(retries={"max_attempts": 1, "mode": "standard"}, max_pool_connections=4,
                    read_timeout=60)
    return boto3.client("lambda", endpoint_url=endpoint, aws_access_key_id=ACCESS_KEY,
                        aws_secret_access_key=SECRET_KEY, region_name=REGION, config=config)


def echo_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("handler.py", ECHO)
    return buffer.getvalue()


def deploy_echo(client: Any) -> None:
    """The benchmarks' function `echo` (128 MB, this interpreter's Python runtime)."""
    client.create_function(FunctionName="echo", Runtime=f"python{sys.version_info[0]}.{sys.version_info[1]}",
                           Role="arn:aws:iam::000000000000:role/bench", Handler="handler.handler",
                           Code={"ZipFile": echo_zip()}, MemorySize=128, Timeout=10)


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) * 1000


def interleaved(first: Callable[[], object], second: Callable[[], object],
                rounds: int) -> tuple[list[float], list[float]]:
    """Times of both, call by call in turn: this machine's speed drifts (CPU frequency, the
    host's other guests), and alternating puts each pair under the same conditions."""
    times: tuple[list[float], list[float]] = ([], [])
    for _ in range(rounds):
        times[0].append(timed(first))
        times[1].append(timed(second))
    return times


def spawn_baseline(python: str, rounds: int) -> list[float]:
    return [timed(lambda: subprocess.run([python, "-c", "pass"], check=True)) for _ in range(rounds)]


def invoke(client: Any, name: str) -> None:
    answer = client.invoke(FunctionName=name, Payload=PAYLOAD)
    body = answer["Payload"].read()
    if answer.get("FunctionError") or json.loads(body) != json.loads(PAYLOAD):
        raise RuntimeError(f"invoke failed: {answer.get('FunctionError')} {body[:300]!r}")


def cold_starts(client: Any, name: str, rounds: int) -> list[float]:
    """Each round changes the configuration (a new revision retires the warm environment), so
    the invoke that follows starts a new environment."""
    times = []
    for index in range(rounds):
        client.update_function_configuration(FunctionName=name, Environment={"Variables": {"ROUND": str(index)}})
        times.append(timed(lambda: invoke(client, name)))
    return times


class CannedLambda:
    """A local HTTP server answering every request with a fixed Invoke response: boto3's floor."""

    RESPONSE = (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Amz-Executed-Version: $LATEST\r\n"
                b"X-Amzn-Requestid: 0\r\nContent-Length: %d\r\n\r\n%s" % (len(PAYLOAD), PAYLOAD))

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            conn, _ = self.sock.accept()
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        buffer = b""
        with conn:
            while True:
                while b"\r\n\r\n" not in buffer:
                    chunk = conn.recv(65536)
                    if not chunk:
                        return
                    buffer += chunk
                head, buffer = buffer.split(b"\r\n\r\n", 1)
                length = 0
                for line in head.split(b"\r\n")[1:]:
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value)
                while len(buffer) < length:
                    buffer += conn.recv(65536)
                buffer = buffer[length:]
                conn.sendall(self.RESPONSE)


def signed_invoke_headers(endpoint: str, name: str) -> dict[str, str]:
    """One SigV4-signed Invoke request's headers; it stays valid for the run (15 minutes)."""
    request = AWSRequest("POST", f"{endpoint}/2015-03-31/functions/{name}/invocations", data=PAYLOAD)
    SigV4Auth(Credentials(ACCESS_KEY, SECRET_KEY), "lambda", REGION).add_auth(request)
    return {key: str(value) for key, value in request.headers.items()}


def throughput(server: Server, name: str, duration: float, connections: int) -> WrkResult:
    headers = signed_invoke_headers(server.base_url, name)
    return run_wrk_script(server.base_url, f"/2015-03-31/functions/{name}/invocations", "POST", headers,
                          PAYLOAD, duration=duration, connections=connections, server_pid=server.pid)


def median(values: list[float]) -> float:
    return statistics.median(values)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer rounds and a shorter load run")
    parser.add_argument("--ref", help="benchmark this git ref's src/ (default: the installed strato)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    opts = parser.parse_args(argv)
    rounds = 8 if opts.quick else 30
    duration = 5.0 if opts.quick else 10.0
    python = sys.executable
    src, provenance = strato_source(opts.ref, python)
    server = start_strato(opts.workers, python, src)
    results: dict[str, Any] = {"provenance": provenance, "cpus": os.cpu_count()}
    try:
        client = lambda_client(server.base_url)
        deploy_echo(client)
        invoke(client, "echo")
        spawn = spawn_baseline(python, rounds)
        cold = cold_starts(client, "echo", rounds)
        canned = CannedLambda()
        floor_client = lambda_client(canned.url)
        invoke(client, "echo")
        invoke(floor_client, "echo")
        warm, floor = interleaved(lambda: invoke(client, "echo"), lambda: invoke(floor_client, "echo"), rounds * 20)
        load = throughput(server, "echo", duration, connections=32)
    finally:
        server.child.stop()
    results.update({
        "spawn_ms": median(spawn), "cold_ms": median(cold), "warm_ms": median(warm), "floor_ms": median(floor),
        "invokes_per_s": load.rps, "load": load.as_json(),
    })
    rows = [
        ("cold start (boto3, new environment)", f"{median(cold):.2f} ms",
         f"`python -c pass` {median(spawn):.2f} ms", median(cold) / median(spawn), "<= 1.0"),
        ("warm invoke (boto3)", f"{median(warm):.2f} ms", f"boto3 floor {median(floor):.2f} ms",
         median(warm) / median(floor), "<= 1.3"),
        ("echo invokes/s (wrk, 32 connections)", f"{load.rps:,.0f}/s", "target 3,000/s", load.rps / 3000, ">= 1.0"),
    ]
    print(f"{'metric':40} {'strato':>14} {'reference':>28} {'ratio':>7}  target")
    for metric, value, reference, ratio, target in rows:
        print(f"{metric:40} {value:>14} {reference:>28} {ratio:>6.2f}x  {target}")
    if load.failed:
        print(f"wrk saw errors: {load.errors}")
    out = WORK / "functions-results.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2))
    print(f"results: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

