"""Burst detection on synthetic alert streams: steady rates stay quiet, spikes are reported once."""

from __future__ import annotations

import copy
import json
import math
import random
from datetime import UTC, datetime, timedelta

from streams.bursts import (
    DEFAULT_BURST_THRESHOLDS,
    BurstEvent,
    BurstThresholds,
    detect,
    observe,
    window_start,
)

T0 = datetime(2025, 4, 1, 8, 0, tzinfo=UTC)  # on a 5-minute boundary
WINDOW = timedelta(seconds=DEFAULT_BURST_THRESHOLDS.window_seconds)


def stream(per_window: list[int], rng: random.Random) -> list[datetime]:
    """Alert times: per_window[i] alerts spread at random over window i, in time order."""
    times = []
    for i, count in enumerate(per_window):
        offsets = sorted(rng.uniform(0, WINDOW.total_seconds() - 1) for _ in range(count))
        times += [T0 + i * WINDOW + timedelta(seconds=s) for s in offsets]
    return times


def run(times: list[datetime], rule_id: str = "treaty_ratified", **options):
    state, events = None, []
    for at in times:
        state, event = observe(state, rule_id=rule_id, at=at, **options)
        if event:
            events.append((at, event))
    return state, events


def test_a_spike_after_a_steady_rate_is_one_burst_at_the_crossing_alert():
    rng = random.Random(7)
    steady = [rng.choice([1, 2, 2, 3]) for _ in range(24)]
    times = stream([*steady, 20, 2, 2], rng)
    state, events = run(times)
    [(at, event)] = events
    history = steady[-12:]
    expected = max(5, 4 * sum(history) / 12)
    assert event.window_start == T0 + 24 * WINDOW and event.window_end == T0 + 25 * WINDOW
    assert event.count == math.ceil(expected)  # the first alert at or above the threshold
    assert event.baseline == sum(history) / 12 and event.threshold == expected
    assert event.ratio == event.count / event.baseline
    spike = [t for t in times if T0 + 24 * WINDOW <= t < T0 + 25 * WINDOW]
    assert at == spike[event.count - 1]  # reported while the window is still open
    assert state["history"][-2:] == [20, 2] and state["count"] == 2


def test_a_busy_rule_at_its_usual_rate_never_bursts():
    rng = random.Random(11)
    _, events = run(stream([rng.randint(15, 25) for _ in range(60)], rng))
    assert events == []


def test_a_quiet_rule_needs_min_count_however_high_the_ratio():
    per_window = [0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 4]
    _, events = run(stream(per_window, random.Random(1)))
    assert events == []
    _, events = run(stream([*per_window[:-1], 5], random.Random(1)))
    assert [e.count for _, e in events] == [5]
    assert events[0][1].ratio == 5 / (2 / 11)  # history starts at the rule's first alert


def test_no_burst_before_warmup_windows_of_history():
    rng = random.Random(3)
    _, events = run(stream([30, 30, 30], rng))
    assert events == []  # the worker has just met this rule: no usual rate to exceed yet
    _, events = run(stream([1, 0, 0, 30], rng))
    assert [e.window_start for _, e in events] == [T0 + 3 * WINDOW]


def test_silent_windows_count_as_zero_in_the_baseline():
    times = stream([10] * 12, random.Random(5))
    times += [T0 + 20 * WINDOW + timedelta(seconds=i) for i in range(14)]  # after 8 empty
    state, events = run(times)
    assert state["history"] == [10] * 4 + [0] * 8
    [(_, event)] = events  # 14 >= 4 x 40/12; with the empty windows left out it would not be
    assert event.count == 14 and event.baseline == 40 / 12


def test_a_late_alert_counts_in_history_but_is_not_reported():
    times = stream([2] * 6, random.Random(9))
    state, _ = run(times)
    late = T0 + 3 * WINDOW + timedelta(seconds=10)
    before = copy.deepcopy(state)
    after, event = observe(state, rule_id="r", at=late)
    assert event is None and state == before  # the input state is left alone
    assert after["history"][3] == 3 and after["count"] == before["count"]
    too_late, _ = observe(after, rule_id="r", at=T0 - timedelta(days=1))
    assert too_late == after


def test_state_survives_a_json_round_trip_like_a_table_changelog():
    rng = random.Random(13)
    times = stream([2] * 15 + [12], rng)
    live, live_events = run(times)
    stored, stored_events = None, []
    for at in times:
        stored, event = observe(stored, rule_id="treaty_ratified", at=at)
        stored = json.loads(json.dumps(stored))
        if event:
            stored_events.append((at, BurstEvent.model_validate_json(event.model_dump_json())))
    assert stored == live and stored_events == live_events and len(live_events) == 1


def test_detect_works_on_counts_read_from_a_windowed_table():
    start = window_start((T0 + timedelta(seconds=299)).timestamp(), 300)
    assert start == T0.timestamp()
    thresholds = BurstThresholds(history=4, factor=3.0, min_count=2, warmup=4)
    assert detect("r", start, 5, [1, 2, 3, 2], thresholds) is None  # 5 < 3 x 2
    event = detect("r", start, 6, [9, 9, 1, 2, 3, 2], thresholds)  # only the last 4 count
    assert event is not None and event.baseline == 2.0 and event.ratio == 3.0
    assert detect("r", start, 50, [1, 1, 1], thresholds) is None  # still warming up
