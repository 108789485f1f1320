"""Large bodies stream through the server in bounded memory, both ways: a 1 GiB object goes
up and comes back while the server's resident set stays far below the object's size."""

from __future__ import annotations

import contextlib
import hashlib
import io
import random
import threading
from collections.abc import Iterator
from typing import Any

import psutil
import pytest
from boto3.s3.transfer import TransferConfig

from tests.conftest import make_client
from tests.servers import StratoServer

pytestmark = pytest.mark.slow

MiB = 1024 * 1024
GiB = 1024 * MiB
PEAK_RSS_LIMIT = 200 * MiB


class GeneratedBody(io.RawIOBase):
    """`size` bytes of deterministic pseudo-random data, made on demand one MiB block at a
    time: seekable (so botocore can checksum it and send it), never held whole in memory."""

    def __init__(self, size: int, seed: int) -> None:
        super().__init__()
        self.size = size
        self.seed = seed
        self.position = 0
        self._block_index = -1
        self._block = b""
        self._pool_blocks: list[bytes] = []

    def block(self, index: int) -> bytes:
        """Block `index`: its own number, then one of a few random MiBs, so that every block
        differs and a misplaced or repeated block changes the checksum."""
        if index != self._block_index:
            pool = self._pool()
            self._block = index.to_bytes(8, "big") + pool[(index * 7) % len(pool)][8:]
            self._block_index = index
        return self._block

    def _pool(self) -> list[bytes]:
        if not self._pool_blocks:
            rng = random.Random(self.seed)
            self._pool_blocks = [rng.randbytes(MiB) for _ in range(17)]
        return self._pool_blocks

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self.position, io.SEEK_END: self.size}[whence]
        self.position = max(0, base + offset)
        return self.position

    def read(self, size: int | None = -1) -> bytes:
        if size is None or size < 0:
            raise AssertionError("a whole-body read would hold the body in memory")
        size = min(size, self.size - self.position)
        pieces = []
        while size > 0:
            index, offset = divmod(self.position, MiB)
            piece = self.block(index)[offset : offset + size]
            pieces.append(piece)
            self.position += len(piece)
            size -= len(piece)
        return b"".join(pieces)

    def readinto(self, buffer: Any) -> int:
        piece = self.read(len(buffer))
        buffer[: len(piece)] = piece
        return len(piece)

    def __len__(self) -> int:
        return self.size

    def sha256(self) -> bytes:
        digest = hashlib.sha256()
        for index in range((self.size + MiB - 1) // MiB):
            digest.update(self.block(index)[: self.size - index * MiB])
        return digest.digest()


class PeakRss:
    """Samples the memory of a process and all its descendants in a background thread.

    Each process counts its proportional set size (PSS): pages shared between the forked
    workers, the functions controller and its zygote are counted once in all, not once per
    process as summing RSS would."""

    def __init__(self, pid: int) -> None:
        self.process = psutil.Process(pid)
        self.peak = 0
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self) -> None:
        total = 0
        for process in [self.process, *self.process.children(recursive=True)]:
            with contextlib.suppress(psutil.NoSuchProcess):
                total += process.memory_full_info().pss
        self.peak = max(self.peak, total)
        self.samples += 1

    def _run(self) -> None:
        while not self._stop.is_set():
            self._sample()
            self._stop.wait(0.02)  # the sampling rate, not a synchronisation

    def __enter__(self) -> PeakRss:
        self._sample()
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()


@pytest.fixture(scope="module")
def big_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StratoServer]:
    server = StratoServer(tmp_path_factory.mktemp("memory")).start()
    yield server
    server.stop()


def download_sha256(client: Any, bucket: str, key: str) -> tuple[bytes, int]:
    digest, size = hashlib.sha256(), 0
    body = client.get_object(Bucket=bucket, Key=key)["Body"]
    for chunk in body.iter_chunks(MiB):
        digest.update(chunk)
        size += len(chunk)
    return digest.digest(), size


def test_a_1_gib_single_put_and_get_stream_in_bounded_memory(big_server: StratoServer) -> None:
    client = make_client(big_server.url, read_timeout=300)
    client.create_bucket(Bucket="big")
    source = GeneratedBody(GiB, seed=1)
    expected = source.sha256()
    with PeakRss(big_server.pid) as up:
        client.put_object(Bucket="big", Key="one-gib", Body=source)
    assert client.head_object(Bucket="big", Key="one-gib")["ContentLength"] == GiB
    with PeakRss(big_server.pid) as down:
        assert download_sha256(client, "big", "one-gib") == (expected, GiB)
    assert up.samples > 10
    assert down.samples > 10
    assert up.peak < PEAK_RSS_LIMIT, f"upload peak RSS {up.peak / MiB:.0f} MiB"
    assert down.peak < PEAK_RSS_LIMIT, f"download peak RSS {down.peak / MiB:.0f} MiB"


def test_a_1_gib_multipart_upload_from_a_stream_stays_in_bounded_memory(big_server: StratoServer) -> None:
    client = make_client(big_server.url, read_timeout=300, max_pool_connections=16)
    client.create_bucket(Bucket="big-multipart")
    source = GeneratedBody(GiB, seed=2)
    expected = source.sha256()
    config = TransferConfig(multipart_chunksize=16 * MiB, max_concurrency=8)
    with PeakRss(big_server.pid) as up:
        client.upload_fileobj(source, "big-multipart", "one-gib", Config=config)
    head = client.head_object(Bucket="big-multipart", Key="one-gib")
    assert head["ContentLength"] == GiB
    assert head["ETag"].endswith('-64"')
    with PeakRss(big_server.pid) as down:
        assert download_sha256(client, "big-multipart", "one-gib") == (expected, GiB)
    assert up.peak < PEAK_RSS_LIMIT, f"upload peak RSS {up.peak / MiB:.0f} MiB"
    assert down.peak < PEAK_RSS_LIMIT, f"download peak RSS {down.peak / MiB:.0f} MiB"
