"""The edge process's garbage collector settings. The cache index is a large population of
long-lived objects, and every request allocates many short-lived ones (frames, futures, field
dicts): with CPython's default of a young-generation pass every 700 allocations, collecting
took about a tenth of a miss-heavy run (a threshold of 10,000: +9-21% req per CPU-second in
side-by-side runs, docs/performance.md)."""

from __future__ import annotations

import gc

YOUNG_THRESHOLD = 10_000  # allocations between passes over the youngest generation


def settle() -> None:
    """Once the index is loaded: what exists now (the loaded entries, modules) is moved out of
    the collector's sight, so that its full passes do not walk a large cache again and again
    (objects moved still go by reference counting when dropped), and the young threshold is
    raised."""
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, middle, old)
