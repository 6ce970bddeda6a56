"""How a reference process tells the harness how far it got, with exact in-process timestamps.

The references are fast enough (thousands of records a second) that polling them from outside
would blur a one-second run; they stamp their first and last record themselves and write the
figures to a small JSON file, replaced atomically, a few times a second and at the end.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path

WRITE_INTERVAL = 0.25


@dataclass
class Progress:
    count: int = 0
    first: float | None = None  # wall clock when the first record arrived
    last: float | None = None  # wall clock when the latest record was done


class Tracker:
    """Counts records done; writes progress on an interval and the moment ``expected`` is hit."""

    def __init__(self, path: Path, expected: int):
        self.path, self.expected = path, expected
        self.progress = Progress()
        self._written = 0.0

    def started(self) -> None:
        if self.progress.first is None:
            self.progress.first = time.time()

    def done(self, count: int = 1) -> None:
        progress = self.progress
        progress.count += count
        progress.last = time.time()
        if progress.count == self.expected or progress.last - self._written > WRITE_INTERVAL:
            self.write()

    def write(self) -> None:
        self._written = time.time()
        scratch = self.path.with_suffix(".tmp")
        scratch.write_text(json.dumps(asdict(self.progress)))
        os.replace(scratch, self.path)


def read_progress(path: Path) -> Progress:
    try:
        return Progress(**json.loads(path.read_text()))
    except (OSError, ValueError):
        return Progress()
