"""Worker metrics as Prometheus scrapes them, and the Faust sensor behind lag and pantau_faust_*."""

from __future__ import annotations

import asyncio

import pytest
from faust.exceptions import ConsumerNotStarted
from faust.types import TP
from prometheus_client import REGISTRY, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from streams.rules.packs import load_ruleset
from streams.settings import DEFAULT_PACK
from streams.validate import BadRecord, parse_record
from streams.worker import metrics
from streams.worker.sensors import FaustMetrics

BOUNDED_LABELS = {
    "reason",
    "rule_id",
    "severity",
    "outcome",
    "topic",
    "partition",
    "version",
    "what",
    "verdict",
}
SUFFIXES = {
    "counter": ("_total",),
    "gauge": ("",),
    "histogram": ("_bucket", "_sum", "_count"),
    "info": ("_info",),
}


def exposed_names() -> set[str]:
    """Every sample name a worker's /metrics can expose for the pantau_* families."""
    return {
        family.name + suffix
        for family in REGISTRY.collect()
        if family.name.startswith("pantau_")
        for suffix in SUFFIXES[family.type]
    }


def sample(name: str, **labels: str) -> float | None:
    return REGISTRY.get_sample_value(name, labels)


class FakeConsumer:
    """The three calls the lag refresh makes on Faust's consumer."""

    def __init__(self, highwaters: dict[TP, int | None], positions: dict[TP, int]):
        self.highwaters, self.positions = highwaters, positions

    def assignment(self) -> set[TP]:
        return set(self.highwaters)

    def highwater(self, tp: TP) -> int | None:
        return self.highwaters[tp]

    async def position(self, tp: TP) -> int:
        return self.positions[tp]


def exercise_every_labelled_metric() -> None:
    metrics.rules_loaded(load_ruleset([DEFAULT_PACK]))
    metrics.RULE_RELOADS.labels("ok")
    metrics.SEND_RETRIES.labels("alert")
    sensor = FaustMetrics(lag_topics={"t-exercise"})
    tp = TP("t-exercise", 0)
    sensor.on_message_in(tp, 0, None)
    sensor.on_message_out(tp, 0, None)
    sensor.on_topic_buffer_full(tp)
    asyncio.run(sensor.refresh_lag(FakeConsumer({tp: 3}, {})))


def test_exposition_follows_prometheus_conventions():
    exercise_every_labelled_metric()
    families = [
        f
        for f in text_string_to_metric_families(generate_latest(REGISTRY).decode())
        if f.name.startswith("pantau_")
    ]
    assert len(families) >= 20
    for family in families:
        assert family.documentation, family.name
        names = {s.name for s in family.samples}
        if family.type == "counter":
            assert names <= {f"{family.name}_total", f"{family.name}_created"}, family.name
            assert not family.name.endswith("_total")
        if family.type == "histogram":
            assert family.name.endswith("_seconds"), f"{family.name}: durations in seconds"
        labels = {k for s in family.samples for k in s.labels} - {"le"}
        assert labels <= BOUNDED_LABELS, f"{family.name} has unbounded labels {labels}"


def test_rule_set_is_published_with_a_zero_series_per_rule():
    ruleset = load_ruleset([DEFAULT_PACK])
    metrics.rules_loaded(ruleset)
    assert sample("pantau_rules_loaded") == len(ruleset.rules)
    assert sample("pantau_ruleset_info", version=ruleset.version) == 1
    for compiled in ruleset.rules:
        rule = compiled.rule
        value = sample("pantau_alerts_published_total", rule_id=rule.id, severity=rule.severity)
        assert value is not None, f"{rule.id} has no series before its first alert"


@pytest.mark.parametrize(
    "raw",
    [b"\xff\xfe", b"{not json", b"[1, 2]", b'{"id": "x", "title": "", "body": ""}', b'{"id": 5}'],
)
def test_dead_letter_reasons_are_exported_before_the_first_one(raw):
    with pytest.raises(BadRecord) as caught:
        parse_record(raw, 1000)
    assert caught.value.reason in metrics.DEAD_LETTER_REASONS
    assert sample("pantau_articles_dead_lettered_total", reason=caught.value.reason) is not None


def test_lag_is_highwater_minus_the_next_offset_to_process():
    processed, stuck, fresh, unfetched, other = (
        TP("t-lag", 0),
        TP("t-lag", 1),
        TP("t-lag", 2),
        TP("t-lag", 3),
        TP("t-other", 0),
    )
    sensor = FaustMetrics(lag_topics={"t-lag"})
    sensor.on_message_in(processed, 10, None)
    sensor.on_message_out(processed, 10, None)
    sensor.on_message_in(processed, 11, None)  # fetched, not processed: still counts as lag
    sensor.on_message_in(stuck, 20, None)  # delivered, never finished
    consumer = FakeConsumer(
        {processed: 15, stuck: 30, fresh: 9, unfetched: None, other: 100}, {fresh: 7}
    )

    asyncio.run(sensor.refresh_lag(consumer))

    assert sample("pantau_consumer_lag", topic="t-lag", partition="0") == 4
    assert sample("pantau_consumer_lag", topic="t-lag", partition="1") == 10
    assert sample("pantau_consumer_lag", topic="t-lag", partition="2") == 2
    assert sample("pantau_consumer_lag", topic="t-lag", partition="3") is None
    assert sample("pantau_consumer_lag", topic="t-other", partition="0") is None
    assert sample("pantau_faust_assigned_partitions") == 5

    del consumer.highwaters[processed]  # revoked by a rebalance
    asyncio.run(sensor.refresh_lag(consumer))
    assert sample("pantau_consumer_lag", topic="t-lag", partition="0") is None
    assert processed not in sensor.positions
    assert sample("pantau_consumer_lag", topic="t-lag", partition="1") == 10


def test_lag_refresh_waits_quietly_for_the_consumer_to_start():
    class NotStarted(FakeConsumer):
        def assignment(self) -> set[TP]:
            raise ConsumerNotStarted("not yet")

    asyncio.run(FaustMetrics(lag_topics={"t"}).refresh_lag(NotStarted({}, {})))


def test_faust_events_become_pantau_faust_metrics():
    sensor = FaustMetrics(lag_topics=())
    tp = TP("t-events", 0)
    before = {
        name: sample(name) or 0.0
        for name in (
            "pantau_faust_commit_latency_seconds_count",
            "pantau_faust_send_latency_seconds_count",
            "pantau_faust_send_errors_total",
            "pantau_faust_rebalances_total",
            "pantau_faust_rebalance_seconds_count",
        )
    }
    sensor.on_commit_completed(None, sensor.on_commit_initiated(None))
    sensor.on_send_completed(None, sensor.on_send_initiated(None, "t", None, 1, 2), None)
    sensor.on_send_error(
        None, RuntimeError("down"), sensor.on_send_initiated(None, "t", None, 1, 2)
    )
    sensor.on_message_in(tp, 4, None)
    sensor.on_message_out(tp, 4, None)
    state = sensor.on_rebalance_start(None)
    sensor.on_rebalance_end(None, state)

    for name, value in before.items():
        assert sample(name) == value + 1, name
    assert sample("pantau_faust_messages_received_total", topic="t-events") == 1
    assert sample("pantau_faust_messages_processed_total", topic="t-events") == 1
    assert sensor.positions == {}, "a rebalance must forget positions another worker may move"
