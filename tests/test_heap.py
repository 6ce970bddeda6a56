"""The worker's collector policy: start-up heap frozen, young collections rare, cycles freed."""

import gc
import weakref

import pytest

from streams import heap


@pytest.fixture
def restored_gc():
    thresholds = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*thresholds)


class Node:
    def __init__(self):
        self.other = self


def test_settle_moves_the_start_up_heap_out_of_the_collectors_sight(restored_gc):
    built_at_start = [Node() for _ in range(100)]
    frozen_before = gc.get_freeze_count()
    heap.settle()
    assert gc.get_freeze_count() >= frozen_before + len(built_at_start)
    assert gc.get_threshold() == (heap.YOUNG_THRESHOLD, *heap.OLDER_THRESHOLDS)


def test_cycles_made_after_settle_are_still_collected(restored_gc):
    heap.settle()
    cycle = Node()
    gone = weakref.ref(cycle)
    del cycle
    assert gone() is not None  # a cycle: reference counting alone cannot free it
    gc.collect()
    assert gone() is None
