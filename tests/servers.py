"""A real `strato serve` process on a free port, for tests and benchmarks."""

from __future__ import annotations

import contextlib
import datetime
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

import psutil
from botocore.auth import SIGV4_TIMESTAMP, S3SigV4Auth, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

ACCESS_KEY = "STRATOTESTACCESSKEY1"
SECRET_KEY = "strato-test-secret-key-0123456789abcdef"
REGION = "us-east-1"


class StratoServer:
    """`strato serve --port 0` in a subprocess. Its output is read continuously (so a chatty
    server never blocks on a full pipe) and kept in `output`, one line per item."""

    def __init__(
        self, data_dir: Path, *args: str, env: dict[str, str] | None = None, root_keys: bool = True,
        own_group: bool = False,
    ) -> None:
        """`root_keys=False` starts it without STRATO_ROOT_*, as a first-time user would;
        `own_group` in a process group of its own, as a terminal starts it (`interrupt`)."""
        self.data_dir = data_dir
        self.args = list(args)
        base = {k: v for k, v in os.environ.items() if not k.startswith("STRATO_ROOT_")}
        if root_keys:
            base.update({"STRATO_ROOT_ACCESS_KEY": ACCESS_KEY, "STRATO_ROOT_SECRET_KEY": SECRET_KEY})
        self.env = {**base, **(env or {})}
        self.own_group = own_group
        self.process: subprocess.Popen[str] | None = None
        self.port = 0
        self.output: list[str] = []
        self._reader: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def edge_url(self) -> str:
        """The CDN edge `strato serve` started (on a free port), from what it announced."""
        found = re.search(r"CDN edge:\s+(http://\S+)", self.text)
        assert found, self.text
        return found.group(1)

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    @property
    def text(self) -> str:
        """Everything the server printed so far."""
        return "".join(self.output)

    def start(self, timeout: float = 60.0) -> StratoServer:
        edge = [] if "--edge-port" in self.args else ["--edge-port", "0"]
        command = [sys.executable, "-m", "strato", "serve", "--port", "0", "--data-dir", str(self.data_dir),
                   *edge, *self.args]
        self.output = []
        self.process = subprocess.Popen(
            command, env=self.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            process_group=0 if self.own_group else None,
        )
        assert self.process.stdout is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            line = self.process.stdout.readline()
            if not line:
                raise RuntimeError("strato exited during startup:\n" + "".join(self.output))
            self.output.append(line)
            found = re.search(r"AWS API \(S3\):\s+http://[^:]+:(\d+)", line)
            if found:
                self.port = int(found.group(1))
                break
        else:
            self.kill()
            raise RuntimeError("strato did not announce its port")
        self._reader = threading.Thread(target=self._drain, args=(self.process.stdout,), daemon=True)
        self._reader.start()
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            try:
                with urllib.request.urlopen(f"{self.url}/_strato/health", timeout=1) as response:
                    if response.status == 200:
                        return self
            except OSError:
                time.sleep(0.05)
        self.kill()
        raise RuntimeError("strato did not become healthy:\n" + self.text)

    def _drain(self, stream: IO[str]) -> None:
        for line in stream:
            self.output.append(line)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 20.0) -> int:
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(sig)
        code = self.process.wait(timeout=timeout)
        if self._reader is not None:
            self._reader.join(timeout)
            self._reader = None
        if self.process.stdout is not None:
            self.process.stdout.close()
        return code

    def kill(self) -> None:
        """SIGKILL the whole process tree at once, workers first: a crash, not a shutdown."""
        assert self.process is not None
        with contextlib.suppress(psutil.NoSuchProcess):
            for child in psutil.Process(self.process.pid).children(recursive=True):
                with contextlib.suppress(psutil.NoSuchProcess):
                    child.kill()
        self.stop(signal.SIGKILL)

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None


# -- raw requests: what real clients never send, signed the way botocore signs ------------


class _FixedTimeSigner(S3SigV4Auth):  # type: ignore[misc]
    """botocore's own S3 SigV4 signer, with the payload hash and request time chosen by the test."""

    def __init__(self, payload_hash: str, when: datetime.datetime, secret_key: str, access_key: str) -> None:
        super().__init__(Credentials(access_key, secret_key), "s3", REGION)
        self.payload_hash = payload_hash
        self.when = when
        self.signature_value = ""

    def payload(self, request: Any) -> str:
        return self.payload_hash

    def add_auth(self, request: Any) -> None:
        request.context["timestamp"] = self.when.strftime(SIGV4_TIMESTAMP)
        self._modify_request_before_signing(request)
        canonical = self.canonical_request(request)
        self.signature_value = self.signature(self.string_to_sign(request, canonical), request)
        self._inject_signature_to_request(request, self.signature_value)


@dataclass(frozen=True)
class SignedRequest:
    headers: dict[str, str]
    signature: str
    amz_date: str


def sign_v4(
    method: str, url: str, headers: dict[str, str] | None = None, *, payload_hash: str = "UNSIGNED-PAYLOAD",
    when: datetime.datetime | None = None, secret_key: str = SECRET_KEY, access_key: str = ACCESS_KEY,
) -> SignedRequest:
    """SigV4 header auth for a request the test sends itself; the returned headers include Host."""
    request = AWSRequest(method=method, url=url, headers=dict(headers or {}))
    when = when or datetime.datetime.now(datetime.UTC)
    signer = _FixedTimeSigner(payload_hash, when, secret_key, access_key)
    signer.add_auth(request)
    out = {"Host": urlsplit(url).netloc, **dict(request.headers.items())}
    return SignedRequest(out, signer.signature_value, request.context["timestamp"])


def signed_headers(method: str, url: str, service: str, body: bytes = b"", headers: dict[str, str] | None = None,
                   *, secret_key: str = SECRET_KEY) -> dict[str, str]:
    """`headers` with the SigV4 auth botocore gives a request of `service` (Lambda, Logs: not S3)
    signed now with the test's access key and `secret_key`."""
    request = AWSRequest(method, url, data=body, headers=dict(headers or {}))
    SigV4Auth(Credentials(ACCESS_KEY, secret_key), service, REGION).add_auth(request)
    return {name: str(value) for name, value in request.headers.items()}


@dataclass(frozen=True)
class RawResponse:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def code(self) -> str:
        """The S3 error code in the body, or ''."""
        found = re.search(rb"<Code>([^<]*)</Code>", self.body)
        return found.group(1).decode() if found else ""


def read_response(sock: socket.socket) -> RawResponse:
    """One HTTP/1.1 response (Content-Length framed, or until close) from a raw socket."""
    data = b""
    while b"\r\n\r\n" not in data:
        piece = sock.recv(65536)
        if not piece:
            raise ConnectionError(f"connection closed before a response: {data!r}")
        data += piece
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "-1"))
    while length < 0 or len(body) < length:
        piece = sock.recv(65536)
        if not piece:
            break
        body += piece
    return RawResponse(status, headers, body if length < 0 else body[:length])


def raw_exchange(port: int, data: bytes, timeout: float = 10.0) -> RawResponse:
    """Send bytes exactly as given on a fresh connection and read one response."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(data)
        return read_response(sock)


def request_head(method: str, target: str, headers: dict[str, str]) -> bytes:
    lines = [f"{method} {target} HTTP/1.1", *(f"{name}: {value}" for name, value in headers.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
