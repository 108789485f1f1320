"""Edge fixtures: a real origin, and a real `strato edge` process in front of it."""

from __future__ import annotations

import os
import re
import resource
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.edge.origin import Origin


class StratoEdge:
    def __init__(
        self, origin: str, cache_dir: Path, *args: str, port: int = 0, max_file_size: int | None = None,
    ) -> None:
        """`origin` "": none (an edge given --config); `max_file_size`: the edge's RLIMIT_FSIZE, so
        that its writes past it fail as on a full disk."""
        self.origin = origin
        self.max_file_size = max_file_size
        self.requested_port = port
        self.cache_dir = cache_dir
        self.args = list(args)
        self.process: subprocess.Popen[str] | None = None
        self.port = 0
        self.output: list[str] = []
        self._drainer: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def token(self) -> str:
        return (self.cache_dir / "admin-token").read_text().strip()

    def start(self) -> StratoEdge:
        command = [sys.executable, "-m", "strato", "edge", *(["--origin", self.origin] if self.origin else []),
                   "--port", str(self.requested_port), "--cache-dir", str(self.cache_dir), *self.args]
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                        env={**os.environ}, preexec_fn=self._limit)
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.output.append(line)
            found = re.search(r"edge:\s+http://[^:]+:(\d+)", line)
            if found:
                self.port = int(found.group(1))
                break
        else:
            raise RuntimeError("strato edge exited:\n" + "".join(self.output))
        self._drainer = threading.Thread(target=self._drain, daemon=True)
        self._drainer.start()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{self.url}/_strato/health", timeout=1):
                    return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("strato edge did not become healthy")

    def _limit(self) -> None:
        if self.max_file_size is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (self.max_file_size, resource.RLIM_INFINITY))

    def _drain(self) -> None:
        assert self.process is not None
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.output.append(line)

    def stop(self) -> int:
        assert self.process is not None
        if self.process.poll() is None:
            self.process.terminate()
        code = self.process.wait(timeout=20)
        if self._drainer is not None:
            self._drainer.join(10)
        if self.process.stdout is not None:
            self.process.stdout.close()
        return code

    def metric(self, name: str) -> float:
        with urllib.request.urlopen(f"{self.url}/_strato/metrics", timeout=10) as response:
            text = response.read().decode()
        found = re.search(rf"^{name} ([0-9.e+-]+)$", text, re.MULTILINE)
        return float(found.group(1)) if found else 0.0


@pytest.fixture
def origin() -> Iterator[Origin]:
    running = Origin()
    yield running
    running.close()


@pytest.fixture
def edge(origin: Origin, tmp_path: Path) -> Iterator[StratoEdge]:
    running = StratoEdge(origin.url, tmp_path / "cache").start()
    yield running
    running.stop()
