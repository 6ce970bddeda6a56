"""How long the worker waits before trying again: one schedule for every retry loop.

Sends the broker did not acknowledge, the rules-topic follower and the wait for the brokers at
start all back off by it, so an outage is retried quickly at first and then every 30 s.
"""

from __future__ import annotations

from collections.abc import Iterator

FIRST_DELAY = 1.0
LONGEST_DELAY = 30.0


def backoff(first: float = FIRST_DELAY, longest: float = LONGEST_DELAY) -> Iterator[float]:
    """Seconds to wait before each next attempt: doubling from ``first`` up to ``longest``."""
    delay = first
    while True:
        yield delay
        delay = min(delay * 2, longest)
