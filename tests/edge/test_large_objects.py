"""A large object passes through the edge, on a miss and on a hit, in bounded memory."""

from __future__ import annotations

import hashlib
import http.client
import threading
from collections.abc import Iterator
from urllib.parse import urlsplit

import psutil
import pytest

from tests.edge.conftest import StratoEdge
from tests.edge.origin import Origin, Route

pytestmark = pytest.mark.slow

MiB = 1024 * 1024
SIZE = 1024 * MiB
PEAK_RSS_LIMIT = 200 * MiB
BLOCK = bytes(range(256)) * 4096  # 1 MiB


def blocks() -> Iterator[bytes]:
    for index in range(SIZE // MiB):
        yield index.to_bytes(8, "big") + BLOCK[8:]


def expected_digest() -> bytes:
    digest = hashlib.sha256()
    for block in blocks():
        digest.update(block)
    return digest.digest()


class PeakRss:
    def __init__(self, pid: int) -> None:
        self.process = psutil.Process(pid)
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.process.memory_info().rss)
            self._stop.wait(0.02)  # the sampling rate, not a synchronisation

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()


def download(edge: StratoEdge, path: str) -> tuple[bytes, int, str]:
    connection = http.client.HTTPConnection("127.0.0.1", urlsplit(edge.url).port, timeout=300)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        digest, size = hashlib.sha256(), 0
        while chunk := response.read(MiB):
            digest.update(chunk)
            size += len(chunk)
        return digest.digest(), size, response.getheader("cache-status") or ""
    finally:
        connection.close()


def test_a_1_gib_object_streams_through_on_a_miss_and_a_hit_in_bounded_memory(origin: Origin, edge: StratoEdge) -> None:
    origin.routes["/big.bin"] = Route(200, {"Cache-Control": "max-age=600", "Content-Type": "application/octet-stream"},
                                      stream=(SIZE, blocks))
    assert edge.process is not None
    expected = expected_digest()
    with PeakRss(edge.process.pid) as miss:
        digest, size, status = download(edge, "/big.bin")
    assert (digest, size) == (expected, SIZE)
    assert "fwd=uri-miss" in status
    with PeakRss(edge.process.pid) as hit:
        digest, size, status = download(edge, "/big.bin")
    assert (digest, size) == (expected, SIZE)
    assert "hit" in status
    assert origin.count("/big.bin") == 1
    assert miss.peak < PEAK_RSS_LIMIT, f"miss peak RSS {miss.peak / MiB:.0f} MiB"
    assert hit.peak < PEAK_RSS_LIMIT, f"hit peak RSS {hit.peak / MiB:.0f} MiB"
