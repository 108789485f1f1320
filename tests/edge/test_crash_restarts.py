"""A real `strato edge` killed (SIGKILL) and started again on its cache directory: what it
serves afterwards is what the origin sent, and it starts whatever state the directory is in."""

from __future__ import annotations

import json
import os
import shutil
import signal
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.edge.conftest import StratoEdge
from tests.edge.origin import Origin, Route

CACHED = {"cache-control": "max-age=3600"}


def get(edge: StratoEdge, path: str) -> tuple[bytes, str]:
    """The body and the Cache-Status of a GET through the edge, for one site whatever the
    edge's port (the Host field is part of the cache key)."""
    request = urllib.request.Request(edge.url + path, headers={"host": "site.test"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.read(), response.headers["cache-status"]


def test_an_edge_whose_index_cannot_be_compacted_at_start_still_starts_and_keeps_what_it_stores(
    origin: Origin, tmp_path: Path,
) -> None:
    """A full disk at start (here: the compacted index's temporary name taken by a directory)
    must not stop the edge; the index it then appends to, behind a record a kill cut short,
    must still hold what is stored after the start."""
    for name in ("before", "after"):
        origin.routes[f"/{name}"] = Route(200, CACHED, name.encode() * 100)
    cache = tmp_path / "cache"
    edge = StratoEdge(origin.url, cache).start()
    get(edge, "/before")
    edge.stop()
    with (cache / "index.log").open("ab") as index:
        index.write(b"\x40\x00\x00\x00torn")  # a record a kill cut short
    (cache / "index.log.tmp").mkdir()

    edge = StratoEdge(origin.url, cache).start()
    body, status = get(edge, "/before")
    assert (body, "hit" in status) == (b"before" * 100, True)
    get(edge, "/after")
    edge.stop()
    (cache / "index.log.tmp").rmdir()

    edge = StratoEdge(origin.url, cache).start()
    try:
        for name in ("before", "after"):
            body, status = get(edge, f"/{name}")
            assert (body, "hit" in status) == (name.encode() * 100, True)
        assert origin.count("/after") == 1
    finally:
        edge.stop()


def test_a_body_the_disk_writer_cannot_write_whole_is_never_served_cut_short(origin: Origin, tmp_path: Path) -> None:
    """A body received in memory and too large for a slab goes to a file of its own; when that
    write fails part way (a full disk; here the edge's file size limit), its hits must not
    stream the part written, now nor after a restart."""
    body = bytes(range(256)) * 2000  # 512,000 bytes: more than a slab body, less than the limit
    origin.routes["/large"] = Route(200, CACHED, body)
    cache = tmp_path / "cache"
    edge = StratoEdge(origin.url, cache, "--memory-size", "1", max_file_size=len(body) // 2).start()
    try:
        for _ in range(3):
            assert get(edge, "/large")[0] == body
    finally:
        edge.stop()
    assert list(cache.glob("entries/*/*.body")) == []  # no part of a body left behind
    edge = StratoEdge(origin.url, cache, "--memory-size", "1").start()
    try:
        assert get(edge, "/large")[0] == body
        hit, status = get(edge, "/large")
        assert (hit, "hit" in status) == (body, True)  # stored whole now that it can be written
    finally:
        edge.stop()


def test_a_large_miss_whose_body_file_cannot_be_made_is_relayed_uncached(origin: Origin, tmp_path: Path) -> None:
    """The cache directory removed under a running edge (or a full disk, or no descriptors
    left): a body too large to receive in memory cannot be written, and the client gets the
    origin's answer instead of a 502."""
    body = bytes(range(256)) * 8192  # 2 MiB, streamed to its file as it arrives
    origin.routes["/large"] = Route(200, CACHED, body)
    cache = tmp_path / "cache"
    edge = StratoEdge(origin.url, cache).start()
    try:
        shutil.rmtree(cache / "entries")
        for _ in range(2):
            assert get(edge, "/large")[0] == body
    finally:
        edge.stop()


def purge(edge: StratoEdge, path: str) -> bytes:
    request = urllib.request.Request(edge.url + "/_strato/purge", data=json.dumps({"paths": [path]}).encode(),
                                     headers={"authorization": f"Bearer {edge.token}"}, method="POST")
    with urllib.request.urlopen(request, timeout=60) as response:
        return bytes(response.read())


def entries(edge: StratoEdge) -> int:
    with urllib.request.urlopen(edge.url + "/_strato/health", timeout=10) as response:
        return int(json.loads(response.read())["entries"])


def test_a_purge_is_answered_only_once_its_drop_would_survive_a_kill(origin: Origin, tmp_path: Path) -> None:
    """The disk writer held up (here: the slab it writes next is a FIFO nobody reads) when a purge comes:
    the purge drops the entry at once but is answered only once its drop is in the index. The
    edge killed before then has confirmed nothing, and the purged response it serves again
    was never said to be gone; once the writer goes on, the purge is answered and it stays gone."""
    origin.routes["/purged"] = Route(200, CACHED, b"old" * 100)
    origin.routes["/filler"] = Route(200, CACHED, b"filler")
    cache = tmp_path / "cache"
    edge = StratoEdge(origin.url, cache).start()
    get(edge, "/purged")
    edge.stop()
    stall = cache / "slabs" / "00000001.slab"  # where a restarted edge puts the bodies it stores
    answers: list[bytes | Exception] = []

    def purging() -> None:
        try:
            answers.append(purge(edge, "/purged"))
        except OSError as exc:
            answers.append(exc)

    edge = StratoEdge(origin.url, cache).start()
    try:
        os.mkfifo(stall)
        get(edge, "/filler")  # its body waits for the FIFO's reader, in memory, and the writer with it
        asker = threading.Thread(target=purging)
        asker.start()
        deadline = time.monotonic() + 20
        while entries(edge) == 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert entries(edge) == 1  # purged in memory
    finally:
        assert edge.process is not None
        edge.process.send_signal(signal.SIGKILL)
        edge.stop()
    asker.join(60)
    assert [type(answer) for answer in answers] != [bytes]  # not confirmed

    stall.unlink()
    edge = StratoEdge(origin.url, cache).start()
    try:
        os.mkfifo(stall)
        get(edge, "/filler")
        threading.Thread(target=drain, args=(stall,), daemon=True).start()
        assert purge(edge, "/purged") == b'{"purged": 1}'
    finally:
        assert edge.process is not None
        edge.process.send_signal(signal.SIGKILL)
        edge.stop()
    stall.unlink()
    edge = StratoEdge(origin.url, cache).start()
    try:
        assert get(edge, "/purged")[1] == "strato; fwd=uri-miss; stored"
    finally:
        edge.stop()


def drain(fifo: Path) -> None:
    """Read a FIFO until its writers are gone."""
    with fifo.open("rb") as reader:
        while reader.read(65536):
            pass


def test_a_cache_directory_that_cannot_be_used_stops_the_edge_with_a_message(origin: Origin, tmp_path: Path) -> None:
    """A --cache-dir that is a file (or read-only, or on a disk gone): one line saying so, no traceback."""
    taken = tmp_path / "a-file"
    taken.write_text("not a directory")
    edge = StratoEdge(origin.url, taken)
    with pytest.raises(RuntimeError, match="exited") as exited:
        edge.start()
    assert edge.stop() != 0
    assert f"strato: cannot use the edge cache {taken}" in str(exited.value)
    assert "Traceback" not in str(exited.value)


def test_a_response_larger_than_the_whole_cache_is_streamed_through_without_a_body_file(
    origin: Origin, tmp_path: Path,
) -> None:
    """A declared length beyond --cache-size can never be kept: it goes to the client without
    being written to the cache's disk first (which it would fill, only to drop it)."""
    first, rest = b"a" * 1024 * 1024, b"b" * 2 * 1024 * 1024
    released = threading.Event()

    def chunks() -> Iterator[bytes]:
        yield first
        released.wait(30)
        yield rest

    origin.routes["/huge"] = Route(200, CACHED, stream=(len(first) + len(rest), chunks))
    cache = tmp_path / "cache"
    edge = StratoEdge(origin.url, cache, "--cache-size", "1m").start()
    try:
        request = urllib.request.Request(edge.url + "/huge", headers={"host": "site.test"})
        with urllib.request.urlopen(request, timeout=30) as response:
            assert response.read(len(first)) == first  # the rest held back at the origin
            assert list(cache.glob("entries/*/*.body")) == []
            released.set()
            assert response.read() == rest
    finally:
        released.set()
        edge.stop()
