"""The worker's garbage-collector policy.

A worker builds a large heap at start (Faust, the compiled rules, lingua, the word caches) that
lives as long as the process. With CPython's defaults every full collection re-scans all of it,
and a young collection runs every 700 net allocations, about once per seed-sized article. On
5,000-article drains through Tansu the collector took 4.7-4.8 s of the worker's 32-33 s of
CPU (15%), 3.7 s of it in full collections; with the start-up heap frozen and the thresholds
below it took 0.65 s of 28.5 s, start-up included, and three interleaved pairs of drains went
from 143-163 to 174-188 articles/s (medians 150 and 179). Garbage cycles are still collected,
in larger batches, and a frozen object is still freed when its last reference goes (a rule
set replaced by a reload is: checked).
"""

from __future__ import annotations

import gc

YOUNG_THRESHOLD = 50_000  # net allocations between young collections (CPython: 700)
OLDER_THRESHOLDS = (10, 10)  # young (then middle) collections between older ones (CPython: 10, 10)


def settle() -> None:
    """Freeze what start-up built, so the collector no longer scans it, and collect less often.

    Called once, when the worker has loaded its rules and is about to consume.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG_THRESHOLD, *OLDER_THRESHOLDS)
