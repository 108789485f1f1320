"""The edge process's collector settings (edge/heap.py)."""

from __future__ import annotations

import gc

from strato.edge import heap


def test_settling_moves_what_exists_out_of_the_collectors_sight_and_raises_the_young_threshold() -> None:
    before = gc.get_threshold()
    try:
        heap.settle()
        assert gc.get_freeze_count() > 0
        assert gc.get_threshold() == (heap.YOUNG_THRESHOLD, before[1], before[2])
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)
