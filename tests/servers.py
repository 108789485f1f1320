"""A real `strato serve` process on a free port, for tests and benchmarks."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ACCESS_KEY = "STRATOTESTACCESSKEY1"
SECRET_KEY = "strato-test-secret-key-0123456789abcdef"
REGION = "us-east-1"


class StratoServer:
    def __init__(self, data_dir: Path, *args: str, env: dict[str, str] | None = None) -> None:
        self.data_dir = data_dir
        self.args = list(args)
        self.env = {
            **os.environ,
            "STRATO_ROOT_ACCESS_KEY": ACCESS_KEY,
            "STRATO_ROOT_SECRET_KEY": SECRET_KEY,
            **(env or {}),
        }
        self.process: subprocess.Popen[str] | None = None
        self.port = 0
        self.output: list[str] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def start(self, timeout: float = 20.0) -> StratoServer:
        command = [sys.executable, "-m", "strato", "serve", "--port", "0", "--data-dir", str(self.data_dir),
                   *self.args]
        self.process = subprocess.Popen(command, env=self.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                        text=True)
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
            raise RuntimeError("strato did not announce its port")
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{self.url}/_strato/health", timeout=1) as response:
                    if response.status == 200:
                        return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("strato did not become healthy")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 20.0) -> int:
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(sig)
        code = self.process.wait(timeout=timeout)
        if self.process.stdout is not None:
            self.output.append(self.process.stdout.read())
            self.process.stdout.close()
        return code

    def kill(self) -> None:
        self.stop(signal.SIGKILL)
