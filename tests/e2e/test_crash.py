"""Crash consistency: `kill -9` the server in the middle of writes, restart it on the same
data dir, and every object is whole (old or new, never torn), every acknowledged write is
there, and recovery has swept what the crash left behind."""

from __future__ import annotations

import hashlib
import os
import random
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import BotoCoreError, ClientError

from tests.conftest import make_client
from tests.servers import StratoServer, request_head, sign_v4

pytestmark = pytest.mark.slow

MiB = 1024 * 1024
BUCKET = "crash"
WRITERS = 4
KEYS_PER_WRITER = 2
ROUNDS = 6


def make_body(key: str, seq: int, rng: random.Random) -> bytes:
    """A body that proves itself whole: its own key and sequence number, then filler, then
    the sha256 of everything before it."""
    size = rng.choice([100, 3_000, 70_000, 400_000, 1_500_000])
    content = f"{key}|{seq:08d}|".encode() + rng.randbytes(size)
    return content + hashlib.sha256(content).hexdigest().encode()


def parse_body(body: bytes) -> tuple[str, int]:
    content, digest = body[:-64], body[-64:]
    assert hashlib.sha256(content).hexdigest().encode() == digest, "torn or corrupted body"
    key, seq, _ = content.split(b"|", 2)
    return key.decode(), int(seq)


@dataclass
class KeyState:
    acked: int | None = None  # the last sequence number a PUT returned 200 for
    attempted: int | None = None  # a PUT sent but not answered when the server died
    next_seq: int = 1


@dataclass
class Ledger:
    keys: dict[str, KeyState] = field(default_factory=dict)
    acks: int = 0
    errors: list[BaseException] = field(default_factory=list)
    lock: threading.Condition = field(default_factory=threading.Condition)

    def wait_for_acks(self, count: int, timeout: float = 120.0) -> None:
        with self.lock:
            reached = self.lock.wait_for(lambda: self.acks >= count or self.errors, timeout)
        assert not self.errors, self.errors
        assert reached, "writers stalled"


def writer(server: StratoServer, keys: list[str], ledger: Ledger, seed: int) -> None:
    """PUTs to its own keys until the server dies under it."""
    rng = random.Random(seed)
    client = make_client(server.url, retries={"max_attempts": 1}, connect_timeout=5, read_timeout=30)
    while True:
        key = rng.choice(keys)
        state = ledger.keys[key]
        seq = state.next_seq
        state.next_seq += 1
        body = make_body(key, seq, rng)
        state.attempted = seq
        try:
            etag = client.put_object(Bucket=BUCKET, Key=key, Body=body)["ETag"]
            assert etag == '"' + hashlib.md5(body).hexdigest() + '"'
        except BotoCoreError:
            return  # the connection died with the server: this PUT may or may not have committed
        except (ClientError, AssertionError) as error:  # an answer, but a wrong one
            with ledger.lock:
                ledger.errors.append(error)
                ledger.lock.notify_all()
            return
        with ledger.lock:
            state.acked, state.attempted = seq, None
            ledger.acks += 1
            ledger.lock.notify_all()


def verify_and_settle(client: Any, ledger: Ledger) -> None:
    """Every key holds a whole object: the last acknowledged write or the one in flight."""
    stored_keys = {item["Key"] for item in client.list_objects_v2(Bucket=BUCKET).get("Contents", [])}
    for key, state in ledger.keys.items():
        allowed = {seq for seq in (state.acked, state.attempted) if seq is not None}
        if key not in stored_keys:
            assert state.acked is None, f"{key}: acknowledged write {state.acked} lost"
            state.attempted = None
            continue
        got = client.get_object(Bucket=BUCKET, Key=key)
        body = got["Body"].read()
        stored_key, seq = parse_body(body)
        assert stored_key == key
        assert got["ETag"] == '"' + hashlib.md5(body).hexdigest() + '"'
        assert seq in allowed, f"{key}: found write {seq}, expected one of {sorted(allowed)}"
        state.acked, state.attempted = seq, None


def blob_files(data_dir: Path) -> list[Path]:
    return [p for p in (data_dir / "blobs").rglob("*") if p.is_file()]


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def servers() -> Iterator[list[StratoServer]]:
    """Every server a test starts; whatever is still running at the end is stopped."""
    started: list[StratoServer] = []
    yield started
    for server in started:
        if server.alive():
            server.kill()


def start(data_dir: Path, servers: list[StratoServer]) -> StratoServer:
    server = StratoServer(data_dir).start()
    servers.append(server)
    return server


def test_kill_9_during_writes_never_loses_an_acknowledged_write_or_tears_an_object(
    data_dir: Path, servers: list[StratoServer]
) -> None:
    seed = int.from_bytes(os.urandom(4), "big")
    rng = random.Random(seed)
    ledger = Ledger({f"w{w}/k{k}": KeyState() for w in range(WRITERS) for k in range(KEYS_PER_WRITER)})
    server = start(data_dir, servers)
    make_client(server.url).create_bucket(Bucket=BUCKET)
    in_flight_at_kill = 0
    for round_number in range(ROUNDS):
        threads = [
            threading.Thread(target=writer, args=(server, own_keys, ledger, rng.getrandbits(32)))
            for own_keys in ([f"w{w}/k{k}" for k in range(KEYS_PER_WRITER)] for w in range(WRITERS))
        ]
        for thread in threads:
            thread.start()
        ledger.wait_for_acks(ledger.acks + rng.randint(3, 40))
        server.kill()  # SIGKILL while the writers are mid-request
        for thread in threads:
            thread.join(60)
            assert not thread.is_alive()
        assert not ledger.errors, ledger.errors
        in_flight_at_kill += sum(state.attempted is not None for state in ledger.keys.values())
        server = start(data_dir, servers)
        assert os.listdir(data_dir / "tmp") == [], f"round {round_number}, seed {seed}"
        verify_and_settle(make_client(server.url), ledger)
    assert all(state.acked is not None for state in ledger.keys.values()), f"seed {seed}"
    # No orphans survive recovery: at most one blob per key is referenced.
    assert len(blob_files(data_dir)) <= len(ledger.keys), f"seed {seed}"
    assert in_flight_at_kill > 0, "no kill ever landed during a PUT"
    assert server.stop() == 0


def _send_partial_part(server: StratoServer, upload_id: str, part: bytes, sent: int) -> socket.socket:
    path = f"/{BUCKET}/big.bin?partNumber=4&uploadId={upload_id}"
    signed = sign_v4("PUT", server.url + path, {"Content-Length": str(len(part))})
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=30)
    sock.sendall(request_head("PUT", path, signed.headers) + part[:sent])
    return sock


def upload_part(client: Any, upload_id: str, number: int, data: bytes) -> str:
    etag: str = client.upload_part(Bucket=BUCKET, Key="big.bin", UploadId=upload_id, PartNumber=number,
                                   Body=data)["ETag"]
    return etag


def test_kill_9_during_a_50_mib_multipart_upload_keeps_the_old_object_and_the_acknowledged_parts(
    data_dir: Path, servers: list[StratoServer]
) -> None:
    server = start(data_dir, servers)
    client = make_client(server.url, retries={"max_attempts": 1})
    client.create_bucket(Bucket=BUCKET)
    old = os.urandom(300_000)
    client.put_object(Bucket=BUCKET, Key="big.bin", Body=old)
    parts = [os.urandom(8 * MiB) for _ in range(6)] + [os.urandom(2 * MiB)]  # 50 MiB
    upload_id = client.create_multipart_upload(Bucket=BUCKET, Key="big.bin")["UploadId"]
    etags = {}
    for number in (1, 2, 3):
        etags[number] = upload_part(client, upload_id, number, parts[number - 1])
    # Part 4 is half sent when the server dies: its bytes are in a temp file, not yet a part.
    sock = _send_partial_part(server, upload_id, parts[3], 5 * MiB)
    try:
        deadline = time.monotonic() + 60
        while not os.listdir(data_dir / "tmp"):
            assert time.monotonic() < deadline, "the part never reached a temp file"
            time.sleep(0.01)
        server.kill()
    finally:
        sock.close()

    server = start(data_dir, servers)
    assert os.listdir(data_dir / "tmp") == []
    client = make_client(server.url, retries={"max_attempts": 1})
    assert client.get_object(Bucket=BUCKET, Key="big.bin")["Body"].read() == old
    listed = client.list_parts(Bucket=BUCKET, Key="big.bin", UploadId=upload_id)["Parts"]
    assert [(p["PartNumber"], p["ETag"], p["Size"]) for p in listed] == [
        (n, etags[n], 8 * MiB) for n in (1, 2, 3)
    ]
    for number in range(4, 8):
        etags[number] = upload_part(client, upload_id, number, parts[number - 1])
    client.complete_multipart_upload(
        Bucket=BUCKET, Key="big.bin", UploadId=upload_id,
        MultipartUpload={"Parts": [{"PartNumber": n, "ETag": etags[n]} for n in range(1, 8)]},
    )
    digest = hashlib.sha256()
    for chunk in client.get_object(Bucket=BUCKET, Key="big.bin")["Body"].iter_chunks(MiB):
        digest.update(chunk)
    assert digest.digest() == hashlib.sha256(b"".join(parts)).digest()
    assert server.stop() == 0


def test_kill_9_during_a_large_put_keeps_the_previous_version(
    data_dir: Path, servers: list[StratoServer]
) -> None:
    server = start(data_dir, servers)
    client = make_client(server.url, retries={"max_attempts": 1})
    client.create_bucket(Bucket=BUCKET)
    old = os.urandom(2 * MiB)
    client.put_object(Bucket=BUCKET, Key="doc", Body=old)
    new = os.urandom(20 * MiB)
    signed = sign_v4("PUT", f"{server.url}/{BUCKET}/doc", {"Content-Length": str(len(new))})
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
        sock.sendall(request_head("PUT", f"/{BUCKET}/doc", signed.headers) + new[: len(new) - 1])
        deadline = time.monotonic() + 60
        while not os.listdir(data_dir / "tmp"):
            assert time.monotonic() < deadline, "the body never reached a temp file"
            time.sleep(0.01)
        server.kill()  # everything but the last byte was sent
    server = start(data_dir, servers)
    assert os.listdir(data_dir / "tmp") == []
    client = make_client(server.url, retries={"max_attempts": 1})
    got = client.get_object(Bucket=BUCKET, Key="doc")
    assert got["Body"].read() == old
    assert got["ETag"] == '"' + hashlib.md5(old).hexdigest() + '"'
    assert len(blob_files(data_dir)) == 1
    assert server.stop() == 0
