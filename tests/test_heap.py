"""The worker's collector policy: start-up heap frozen, young collections rare, cycles freed."""

import gc
import json
import weakref

import pytest

from benchmarks.workload import article_events
from streams.tools.broker import free_port
from streams.worker import heap

from .conftest import scrape_once_consumed, send, settings_for

YOUNG_COLLECTIONS = "python_gc_collections_total{generation=0}"


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


@pytest.mark.integration
def test_a_running_worker_collects_young_objects_rarely(broker_url, topics, start_worker):
    """Through a real worker: with CPython's defaults it ran 72 young collections over these
    60 seed-sized articles; settled, none."""
    settings = settings_for(broker_url, topics)
    port = free_port()
    start_worker(PANTAU_METRICS_PORT=str(port))
    warm_up, measured = article_events(1, prefix="warm"), article_events(60, prefix="gc")

    send(settings, [json.dumps(event).encode() for event in warm_up])
    before = scrape_once_consumed(port, 1)[YOUNG_COLLECTIONS]
    send(settings, [json.dumps(event).encode() for event in measured])
    after = scrape_once_consumed(port, 1 + len(measured))[YOUNG_COLLECTIONS]
    assert after - before < len(measured) / 6
