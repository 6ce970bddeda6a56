"""Tell when a rule fires far more than usual: per-rule counts in tumbling windows against the
mean of the rule's recent windows.

A window's count is a burst when ``count >= max(min_count, factor * baseline)``, where the
baseline is the mean count of the last ``history`` closed windows (empty windows count as 0).
``min_count`` keeps a quiet rule from "bursting" on two alerts; ``warmup`` windows of history
are needed first, so a worker that has just met a rule does not call its first busy window a
burst. Each (rule, window) bursts at most once, at the alert that crosses the threshold, so an
analyst hears of it while it is happening rather than when the window closes.

The per-rule state is a small JSON dict for a Faust table keyed by rule id; windows are
aligned to the epoch like Faust's tumbling windows, so ``detect`` also works on counts read
from a Faust windowed table.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from pydantic import BaseModel, Field


@dataclass(frozen=True, slots=True)
class BurstThresholds:
    """When a window's count is a burst; the defaults suit 5-minute windows."""

    window_seconds: float = 300.0
    history: int = 12  # closed windows in the baseline: one hour
    factor: float = 4.0  # count must reach factor x baseline ...
    min_count: int = 5  # ... and at least this many alerts
    warmup: int = 3  # closed windows of history needed before any burst


DEFAULT_BURST_THRESHOLDS = BurstThresholds()


class BurstEvent(BaseModel):
    """A rule firing far above its usual rate; published on the bursts topic."""

    rule_id: str
    window_start: datetime
    window_end: datetime
    count: int = Field(ge=0, description="Alerts of the rule in the window so far.")
    baseline: float = Field(ge=0, description="Mean alerts per window over the history.")
    ratio: float = Field(ge=0, description="count / baseline (baseline floored, see docs).")
    threshold: float = Field(ge=0, description="The count that made it a burst.")


def window_start(at: float, size: float) -> float:
    """Start of the tumbling window holding epoch second ``at`` (Faust's alignment)."""
    return at - at % size


def baseline(history: Sequence[int]) -> float:
    """Mean count per window; 0 with no history."""
    return sum(history) / len(history) if history else 0.0


def threshold(history: Sequence[int], thresholds: BurstThresholds) -> float:
    return max(float(thresholds.min_count), thresholds.factor * baseline(history))


def ratio(count: int, history: Sequence[int], thresholds: BurstThresholds) -> float:
    """count / baseline, the baseline floored at one alert per whole history, so a rule that
    was silent gets a finite ratio that still grows with the count."""
    return count / max(baseline(history), 1.0 / thresholds.history)


def detect(
    rule_id: str,
    start: float,
    count: int,
    history: Sequence[int],
    thresholds: BurstThresholds = DEFAULT_BURST_THRESHOLDS,
) -> BurstEvent | None:
    """A burst event if ``count`` in the window at ``start`` is one, given the counts of the
    windows before it (oldest first; only the last ``history`` are used)."""
    recent = list(history)[-thresholds.history :]
    if len(recent) < thresholds.warmup:
        return None
    limit = threshold(recent, thresholds)
    if count < limit:
        return None
    return BurstEvent(
        rule_id=rule_id,
        window_start=datetime.fromtimestamp(start, UTC),
        window_end=datetime.fromtimestamp(start + thresholds.window_seconds, UTC),
        count=count,
        baseline=baseline(recent),
        ratio=ratio(count, recent, thresholds),
        threshold=limit,
    )


def count_alerts(
    counts,
    watch,
    rule_id: str,
    at: float,
    added: int,
    thresholds: BurstThresholds = DEFAULT_BURST_THRESHOLDS,
) -> BurstEvent | None:
    """Count ``added`` alerts of ``rule_id`` in the tumbling window holding epoch second ``at``;
    a burst event when they are the ones that take the window over the threshold.

    ``counts`` is a windowed table of alerts per rule (the worker's Faust tumbling table:
    ``+=`` counts into the current window, ``.current()`` and ``.delta(seconds)`` read a window
    back) and ``watch`` a table of the window in which each rule was first counted, so that
    windows before it are not taken for quiet ones.
    """
    counts[rule_id] += added
    windows = counts[rule_id]
    size = thresholds.window_seconds
    start = window_start(at, size)
    since = watch.get(rule_id)
    if since is None:
        watch[rule_id] = since = start
    watched = int((start - since) // size)
    back_to = min(watched, thresholds.history)  # detect() reads no further back
    history = [windows.delta(size * back) for back in range(back_to, 0, -1)]
    count = windows.current()
    burst = detect(rule_id, start, count, history, thresholds)
    if burst is None or detect(rule_id, start, count - added, history, thresholds):
        return None  # below the threshold, or already reported for this window
    return burst


def observe(
    state: dict | None,
    *,
    rule_id: str,
    at: datetime,
    thresholds: BurstThresholds = DEFAULT_BURST_THRESHOLDS,
) -> tuple[dict, BurstEvent | None]:
    """Count one alert of ``rule_id`` at ``at``; returns the new state (the input is left as
    it was) and a burst event when this alert makes its window one.

    An alert for an earlier window that is still in the history is added to that window's
    count but never reported: that moment has passed. Older ones are ignored.
    """
    size = thresholds.window_seconds
    start = window_start(at.timestamp(), size)
    if not state:
        state = {"window_start": start, "count": 0, "history": [], "burst": False}
    current = state["window_start"]
    history = list(state["history"])
    if start < current:
        back = round((current - start) / size)
        if back <= len(history):
            history[-back] += 1
        return {**state, "history": history}, None
    count, burst = state["count"], state["burst"]
    if start > current:
        gap = round((start - current) / size)
        history.extend([count, *[0] * min(gap - 1, thresholds.history)])
        history = history[-thresholds.history :]
        count, burst = 0, False
    count += 1
    event = None if burst else detect(rule_id, start, count, history, thresholds)
    new = {"window_start": start, "count": count, "history": history, "burst": burst or bool(event)}
    return new, event
