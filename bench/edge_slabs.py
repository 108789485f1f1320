"""What packing small bodies into slab files costs in hit ratio (strato.edge.slabs): the same
synthetic CDN traces as bench/edge_eviction.py (Zipf popularity, scans of one-hit wonders),
with sizes drawn small enough that every body goes to a slab, replayed

  - through S3-FIFO alone at the whole cache size: a store with a file per body, whose disk
    use is exactly its live bytes (strato before slabs);
  - through the real EdgeStore (slabs on disk, its disk writer thread), which keeps an eighth
    of the cache for slabs' dead bytes and reclaims the sparsest slabs, its disk writer copying
    their live bodies into the open slab; with a memory tier a 32nd of the cache (the edge's
    defaults: 256 MiB in memory for 8 GiB on disk).

A hit reads the body as the edge does (from memory, or from its slab into the memory tier); a
miss commits the body. Every request counts, from a cold cache.

    python bench/edge_slabs.py            # about 2 minutes
    python bench/edge_slabs.py --quick    # traces 4x smaller

Writes bench/.work/edge-slabs.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import edge_eviction
from edge_eviction import Trace, TraceSpec, make_trace
from harness import WORK
from s3_bench import log
from strato.edge.entry import Entry
from strato.edge.eviction import S3Fifo
from strato.edge.slabs import SLAB_BODY_MAX
from strato.edge.store import EdgeStore

CACHE_SHARES = (0.02, 0.05, 0.10)
SIZE_MEDIAN = 4 * 1024
SIZE_SIGMA = 1.0
# The edge's loop waits on sockets between misses; this loop must not outrun the disk writer
# (whose refusals would leave bodies unstored and lower the hit ratio for no reason of slabs').
PENDING_MAX = 256
STORES = ("file per body", "slabs")


def small_size(rng: random.Random) -> int:
    return max(64, min(SLAB_BODY_MAX, int(rng.lognormvariate(math.log(SIZE_MEDIAN), SIZE_SIGMA))))


def by_file(trace: Trace, capacity: int) -> tuple[float, float]:
    policy = S3Fifo(capacity)
    return _replay(trace, lambda name, size: _policy_step(policy, name, size))


def _policy_step(policy: S3Fifo, name: str, size: int) -> bool:
    if name in policy:
        policy.hit(name)
        return True
    policy.insert(name, size)
    return False


def by_slabs(trace: Trace, capacity: int) -> tuple[float, float, int, float]:
    """Hit ratios through the real store, the most bytes it had on disk at any time, and the
    bytes its reclaiming copied per byte stored."""
    folder = Path(tempfile.mkdtemp(prefix="edge-slabs-", dir=WORK))
    store = EdgeStore(folder, capacity, capacity // 32)
    store.load()
    most = stored = 0

    def step(name: str, size: int) -> bool:
        nonlocal most, stored
        entry = store.lookup(name, {})
        if entry is not None:
            store.hit(entry)
            if store.body_now(entry) is None:
                asyncio.run(store.open(entry))
            return True
        store.commit(_entry(name, size), bytes(size), written=False)
        stored += size
        most = max(most, store.used)
        while len(store.writer.pending) > PENDING_MAX:
            time.sleep(0.001)
        return False

    try:
        objects, byte_ratio = _replay(trace, step)
    finally:
        store.close()
        shutil.rmtree(folder)
    return objects, byte_ratio, most, store.slabs.copied / stored


def _entry(name: str, size: int) -> Entry:
    return Entry(key=name, variant="", vary=(), host="bench", target=name, status=200,
                 headers={"content-length": str(size)}, request_time=0.0, response_time=0.0, size=size)


def _replay(trace: Trace, step: Callable[[str, int], bool]) -> tuple[float, float]:
    hits = hit_bytes = total_bytes = 0
    for name, size in zip(trace.names, trace.sizes, strict=True):
        total_bytes += size
        if step(name, size):
            hits += 1
            hit_bytes += size
    return hits / len(trace.names), hit_bytes / total_bytes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="traces 4x smaller")
    parser.add_argument("--seeds", type=int, default=2, help="traces drawn per spec, averaged")
    parser.add_argument("--out", type=Path, default=WORK / "edge-slabs.json")
    args = parser.parse_args(argv)
    edge_eviction.object_size = small_size  # the traces' sizes: all slab bodies
    scale = 4 if args.quick else 1
    specs = [
        TraceSpec("zipf-0.9 + scans", 0.9, 40_000 // scale, 400_000 // scale, 20_000 // scale, 4_000 // scale),
        TraceSpec("zipf-0.9, no scans", 0.9, 40_000 // scale, 400_000 // scale, 0, 0),
    ]
    rows: list[dict[str, Any]] = []
    for index, spec in enumerate(specs):
        for share in CACHE_SHARES:
            results: dict[str, list[tuple[float, ...]]] = {store: [] for store in STORES}
            for seed in range(1, args.seeds + 1):
                trace = make_trace(spec, seed * 1000 + index)
                capacity = int(trace.working_set * share)
                started = time.perf_counter()
                results[STORES[0]].append(by_file(trace, capacity))
                results[STORES[1]].append(by_slabs(trace, capacity))
                log(f"{spec.name} {share:.0%} (seed {seed}, {len(trace.names):,} requests, cache "
                    f"{capacity / 1e6:.1f} MB): " + ", ".join(
                        f"{store} {outcome[-1][0]:.1%}" for store, outcome in results.items())
                    + f" ({time.perf_counter() - started:.0f} s)")
                if results[STORES[1]][-1][2] > capacity:
                    raise RuntimeError(f"{results[STORES[1]][-1][2]} bytes on disk, over the cache's {capacity}")
            rows.append({"trace": spec.name, "share": share,
                         "copied": statistics.mean(o[3] for o in results[STORES[1]]), **{
                store: {"object_hit_ratio": statistics.mean(o[0] for o in outcomes),
                        "byte_hit_ratio": statistics.mean(o[1] for o in outcomes)}
                for store, outcomes in results.items()}})
    print("\n| trace | cache | " + " | ".join(f"{store}: objects (bytes)" for store in STORES)
          + " | copied per byte stored |")
    print("| --- | ---: | " + " | ".join("---:" for _ in STORES) + " | ---: |")
    for row in rows:
        print(f"| {row['trace']} | {row['share']:.0%} | " + " | ".join(
            f"{row[store]['object_hit_ratio']:.1%} ({row[store]['byte_hit_ratio']:.1%})" for store in STORES)
            + f" | {row['copied']:.2f} |")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"rows": rows, "size_median": SIZE_MEDIAN, "size_sigma": SIZE_SIGMA}, indent=2))
    log(f"results: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
