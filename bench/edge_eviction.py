"""Hit ratios of the edge's eviction policies, S3-FIFO against LRU (strato.edge.eviction), on
synthetic CDN-like traces: Zipf popularity over a catalogue of objects, periodic scans of
one-hit wonders (objects requested once and never again, as a crawler or a long-tail burst
makes them), log-normal object sizes. Both policies see the same trace, through the same
interface the store uses (`name in policy`, `hit(name)`, `insert(name, size)`).

    python bench/edge_eviction.py             # full run (about 2 minutes)
    python bench/edge_eviction.py --quick     # traces 5x smaller, one seed

Cache sizes are 1%, 5% and 10% of the trace's working set: the bytes of every distinct object
it requests (one-hit wonders included). Every request counts, from a cold cache. Each trace is
drawn with several seeds (which objects are large changes the byte hit ratio noticeably); the
table shows the mean over seeds. Writes bench/.work/edge-eviction.json.
"""

from __future__ import annotations

import argparse
import bisect
import itertools
import json
import math
import random
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from harness import WORK
from s3_bench import log
from servers import git_describe
from strato.edge.eviction import Lru, S3Fifo

CACHE_SHARES = (0.01, 0.05, 0.10)
SIZE_MEDIAN = 32 * 1024  # bytes
SIZE_SIGMA = 1.5  # log-normal shape: mean ~3x the median, 1 in 1,000 objects above ~3 MB
SIZE_MAX = 64 * 1024 * 1024


class Policy(Protocol):
    def __contains__(self, name: str) -> bool: ...
    def hit(self, name: str) -> None: ...
    def insert(self, name: str, size: int, *, warm: bool = False) -> list[str]: ...


POLICIES: dict[str, Callable[[int], Policy]] = {"S3-FIFO": S3Fifo, "LRU": Lru}


@dataclass(frozen=True)
class TraceSpec:
    name: str
    alpha: float  # Zipf exponent of the catalogue's popularity
    catalogue: int  # objects drawn from by popularity
    requests: int  # popularity-driven requests (scans come on top)
    scan_every: int  # a scan after this many popularity-driven requests (0: no scans)
    scan_length: int  # one-hit wonders per scan


@dataclass
class Trace:
    spec: TraceSpec
    names: list[str]
    sizes: list[int]  # per request (an object's size is the same at every request)
    working_set: int  # bytes of the distinct objects requested
    distinct: int

    @property
    def one_hit_share(self) -> float:
        return (self.spec.requests // self.spec.scan_every * self.spec.scan_length / len(self.names)
                if self.spec.scan_every else 0.0)


def object_size(rng: random.Random) -> int:
    return max(64, min(SIZE_MAX, int(rng.lognormvariate(math.log(SIZE_MEDIAN), SIZE_SIGMA))))


def make_trace(spec: TraceSpec, seed: int) -> Trace:
    rng = random.Random(seed)
    cumulative = list(itertools.accumulate(1.0 / (rank + 1) ** spec.alpha for rank in range(spec.catalogue)))
    total = cumulative[-1]
    catalogue_sizes = [object_size(rng) for _ in range(spec.catalogue)]
    catalogue_names = [f"o{rank}" for rank in range(spec.catalogue)]
    names: list[str] = []
    sizes: list[int] = []
    seen: set[int] = set()
    working_set = 0
    wonders = 0
    for i in range(spec.requests):
        rank = bisect.bisect_left(cumulative, rng.random() * total)
        rank = min(rank, spec.catalogue - 1)
        names.append(catalogue_names[rank])
        sizes.append(catalogue_sizes[rank])
        if rank not in seen:
            seen.add(rank)
            working_set += catalogue_sizes[rank]
        if spec.scan_every and (i + 1) % spec.scan_every == 0:
            for _ in range(spec.scan_length):
                size = object_size(rng)
                names.append(f"w{wonders}")
                sizes.append(size)
                working_set += size
                wonders += 1
    return Trace(spec, names, sizes, working_set, len(seen) + wonders)


@dataclass
class Outcome:
    policy: str
    share: float
    capacity: int
    object_hit_ratio: float
    byte_hit_ratio: float
    seconds: float


def simulate(trace: Trace, policy_name: str, share: float) -> Outcome:
    capacity = int(trace.working_set * share)
    policy = POLICIES[policy_name](capacity)
    hits = hit_bytes = total_bytes = 0
    started = time.perf_counter()
    for name, size in zip(trace.names, trace.sizes, strict=True):
        total_bytes += size
        if name in policy:
            policy.hit(name)
            hits += 1
            hit_bytes += size
        else:
            policy.insert(name, size)
    return Outcome(policy_name, share, capacity, hits / len(trace.names), hit_bytes / total_bytes,
                   time.perf_counter() - started)


def traces(quick: bool) -> list[TraceSpec]:
    scale = 5 if quick else 1
    catalogue, requests = 200_000 // scale, 2_000_000 // scale
    every, length = 100_000 // scale, 20_000 // scale
    return [
        TraceSpec("zipf-0.8 + scans", 0.8, catalogue, requests, every, length),
        TraceSpec("zipf-0.9 + scans", 0.9, catalogue, requests, every, length),
        TraceSpec("zipf-1.0 + scans", 1.0, catalogue, requests, every, length),
        TraceSpec("zipf-0.9, no scans", 0.9, catalogue, requests, 0, 0),
    ]


def table(rows: list[dict[str, Any]]) -> str:
    header = ["trace", "cache", "S3-FIFO objects", "LRU objects", "S3-FIFO bytes", "LRU bytes",
              "object misses vs LRU", "byte misses vs LRU"]
    lines = [header]
    for row in rows:
        s3, lru = row["S3-FIFO"], row["LRU"]

        def fewer(key: str, s3: dict[str, Any] = s3, lru: dict[str, Any] = lru) -> str:
            ours, theirs = 1 - s3[key], 1 - lru[key]
            return f"{(ours - theirs) / theirs * 100:+.1f}%" if theirs else "-"

        lines.append([row["trace"], f"{row['share'] * 100:.0f}%",
                      f"{s3['object_hit_ratio'] * 100:.1f}%", f"{lru['object_hit_ratio'] * 100:.1f}%",
                      f"{s3['byte_hit_ratio'] * 100:.1f}%", f"{lru['byte_hit_ratio'] * 100:.1f}%",
                      fewer("object_hit_ratio"), fewer("byte_hit_ratio")])
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    out = ["| " + " | ".join(c.ljust(widths[i]) if i == 0 else c.rjust(widths[i]) for i, c in enumerate(line))
           + " |" for line in lines]
    out.insert(1, "| " + " | ".join("-" * w for w in widths) + " |")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="traces 5x smaller")
    parser.add_argument("--seed", type=int, default=1, help="first random seed of the traces")
    parser.add_argument("--seeds", type=int, help="traces drawn per spec, averaged (default 3; quick 1)")
    parser.add_argument("--out", type=Path, default=WORK / "edge-eviction.json")
    args = parser.parse_args(argv)
    seeds = [args.seed + i for i in range(args.seeds or (1 if args.quick else 3))]
    rows: list[dict[str, Any]] = []
    described: list[dict[str, Any]] = []
    started = time.time()
    for index, spec in enumerate(traces(args.quick)):
        runs: dict[tuple[float, str], list[Outcome]] = {}
        for seed in seeds:
            trace = make_trace(spec, seed * 1000 + index)
            log(f"{spec.name} (seed {seed}): {len(trace.names):,} requests, {trace.distinct:,} distinct objects, "
                f"working set {trace.working_set / 1e9:.2f} GB, one-hit-wonder requests {trace.one_hit_share:.0%}")
            described.append({"name": spec.name, "seed": seed, **vars(spec), "requests_total": len(trace.names),
                              "distinct_objects": trace.distinct, "working_set_bytes": trace.working_set,
                              "one_hit_wonder_request_share": trace.one_hit_share})
            for share in CACHE_SHARES:
                for policy in POLICIES:
                    outcome = simulate(trace, policy, share)
                    runs.setdefault((share, policy), []).append(outcome)
                    log(f"  {share * 100:3.0f}% {policy:8} objects {outcome.object_hit_ratio * 100:5.1f}%  "
                        f"bytes {outcome.byte_hit_ratio * 100:5.1f}%  "
                        f"({outcome.seconds / len(trace.names) * 1e6:.2f} us per request)")
        for share in CACHE_SHARES:
            row: dict[str, Any] = {"trace": spec.name, "share": share}
            for policy in POLICIES:
                outcomes = runs[(share, policy)]
                row[policy] = {
                    "object_hit_ratio": statistics.mean(o.object_hit_ratio for o in outcomes),
                    "byte_hit_ratio": statistics.mean(o.byte_hit_ratio for o in outcomes),
                    "runs": [vars(o) for o in outcomes],
                }
            rows.append(row)
    text = table(rows)
    print("\n" + text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({
        "when": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(started)),
        "seeds": seeds, "quick": args.quick, "strato_commit": git_describe(),
        "size_median": SIZE_MEDIAN, "size_sigma": SIZE_SIGMA,
        "traces": described, "results": rows, "table": text,
    }, indent=2))
    print(f"\nresults: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
