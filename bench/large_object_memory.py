"""A 5 GiB object up (single PUT) and down through strato, with the server's peak resident
memory (supervisor plus workers) sampled throughout. The suite does the same with 1 GiB.

    python bench/large_object_memory.py [--gib 5]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.conftest import make_client
from tests.e2e.test_memory import GeneratedBody, PeakRss, download_sha256
from tests.servers import StratoServer

MiB = 1024 * 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--gib", type=int, default=5)
    size = parser.parse_args().gib * 1024 * MiB
    with tempfile.TemporaryDirectory(dir=Path(__file__).parent) as scratch:
        server = StratoServer(Path(scratch) / "data").start()
        try:
            client = make_client(server.url, read_timeout=900)
            client.create_bucket(Bucket="large")
            source = GeneratedBody(size, seed=5)
            expected = source.sha256()
            started = time.perf_counter()
            with PeakRss(server.pid) as up:
                client.put_object(Bucket="large", Key="object", Body=source)
            put_s = time.perf_counter() - started
            started = time.perf_counter()
            with PeakRss(server.pid) as down:
                assert download_sha256(client, "large", "object") == (expected, size)
            get_s = time.perf_counter() - started
        finally:
            server.stop()
    print(f"{size / MiB / 1024:.0f} GiB: PUT {put_s:.1f} s ({size / MiB / put_s:.0f} MiB/s), "
          f"peak server RSS {up.peak / MiB:.0f} MiB; GET {get_s:.1f} s ({size / MiB / get_s:.0f} MiB/s), "
          f"peak {down.peak / MiB:.0f} MiB")


if __name__ == "__main__":
    main()
