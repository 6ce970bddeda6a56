"""Feedback on alerts: the record, and on a real broker the worker's counts, exactly, through a
changed verdict, bad records and a restart."""

from __future__ import annotations

import json
import time

import pytest
from aiokafka.partitioner import DefaultPartitioner

from streams.models import Feedback
from streams.settings import Settings
from streams.tools.broker import free_port
from streams.tools.replay import make_producer
from streams.validate import BadRecord, parse_feedback

from .conftest import read_topic, scrape, settings_for
from .test_guarantees import cli_env, pantau
from .test_observability_integration import seed_alerts

ALERT = "0123456789abcdef0123456789abcdef"
UNKNOWN = "f" * 32
FEEDBACK_SERIES = ("pantau_alert_feedback_total", "pantau_alert_feedback_withdrawn_total")


def verdict(alert_id: str, value: str, **fields) -> bytes:
    return json.dumps({"alert_id": alert_id, "verdict": value, **fields}).encode()


@pytest.mark.parametrize(
    ("raw", "key", "reason"),
    [
        (b"not json", None, "not_json"),
        (b'["a"]', None, "not_object"),
        (verdict(ALERT, "maybe"), ALERT.encode(), "bad_verdict"),
        (verdict("A1", "wrong"), b"A1", "invalid_fields"),
        (verdict(ALERT, "wrong"), UNKNOWN.encode(), "invalid_fields"),
    ],
)
def test_a_bad_feedback_record_says_why(raw, key, reason):
    with pytest.raises(BadRecord) as caught:
        parse_feedback(raw, key)
    assert caught.value.reason == reason


def test_a_feedback_record_needs_only_the_alert_and_the_verdict():
    record = parse_feedback(verdict(ALERT, "wrong", reason="a drill", extra=1), ALERT.encode())
    assert (record.alert_id, record.verdict, record.reason, record.by) == (
        ALERT,
        "wrong",
        "a drill",
        None,
    )
    assert parse_feedback(Feedback(alert_id=ALERT, verdict="correct").model_dump_json(), None)


def feedback_metrics(port: int) -> dict[str, float]:
    """The feedback series that are not zero, as ``name{rule_id,verdict}``."""
    return {
        key: value
        for key, value in scrape(port).items()
        if key.startswith(FEEDBACK_SERIES) and value
    }


def series(name: str, rule_id: str, verdict: str) -> str:
    return f"{name}{{rule_id={rule_id},verdict={verdict}}}"


def settle(port: int, expected: dict[str, float], settings: Settings, letters: int) -> list:
    """Wait until the counts and the dead letters are what the test expects, then a little
    longer, so that a count that should not happen has had its chance."""
    deadline = time.monotonic() + 60
    while feedback_metrics(port) != expected and time.monotonic() < deadline:
        time.sleep(0.3)
    found = read_topic(settings, settings.dead_letter_topic, until=lambda r: len(r) >= letters)
    time.sleep(1.0)
    assert feedback_metrics(port) == expected
    return found


def test_feedback_counts_each_alert_once_by_its_latest_verdict(broker_url, topics, start_worker):
    settings = settings_for(broker_url, topics)
    env = cli_env(broker_url, topics)
    port = free_port()
    worker = start_worker(PANTAU_METRICS_PORT=str(port))
    records = seed_alerts(settings, worker)
    producer = make_producer(settings)
    alerts = {r.key.decode(): json.loads(r.value)["rule_id"] for r in records}
    t1, t2, t3 = sorted(a for a, rule in alerts.items() if rule == "troop_deployment")[:3]
    (r1, *_) = sorted(a for a, rule in alerts.items() if rule == "treaty_ratified")
    topic = settings.alert_feedback_topic

    def send(*values: tuple[str | None, bytes]) -> None:
        for key, value in values:
            producer.send(topic, key=key and key.encode(), value=value)
        producer.flush()

    # Round 1: one verdict through the CLI, the rest as any Kafka client would send them.
    cli = pantau(env, "feedback", t1, "correct", "--by", "analyst", "--reason", "a real move")
    assert cli.returncode == 0, cli.stderr
    send(
        (t2, verdict(t2, "correct")),
        (t3, verdict(t3, "wrong")),
        (r1, verdict(r1, "wrong")),
        (t1, verdict(t1, "correct")),  # the same verdict again: counted once
        (t2, verdict(t2, "wrong")),  # a changed verdict: counted under the new one
        (UNKNOWN, verdict(UNKNOWN, "correct")),
        (t3, verdict(t3, "maybe")),
        (t3, b"{not json"),
    )
    troop, treaty = "troop_deployment", "treaty_ratified"
    given, withdrawn = FEEDBACK_SERIES
    letters = settle(
        port,
        {
            series(given, troop, "correct"): 2,
            series(given, troop, "wrong"): 2,
            series(withdrawn, troop, "correct"): 1,
            series(given, treaty, "wrong"): 1,
        },
        settings,
        letters=3,
    )
    reasons = {dict(r.headers)["pantau.reason"].decode(): r for r in letters}
    assert sorted(reasons) == ["bad_verdict", "not_json", "unknown_alert"]
    for reason, record in reasons.items():
        assert dict(record.headers)["pantau.topic"].decode() == topic, reason
    assert reasons["unknown_alert"].value == verdict(UNKNOWN, "correct")  # kept byte for byte
    assert reasons["unknown_alert"].key == UNKNOWN.encode()
    assert reasons["not_json"].value == b"{not json"
    assert worker.process.poll() is None
    assert '"by": "analyst"' in worker.log() and '"reason": "a real move"' in worker.log()

    # Every alert's index entry went to the partition its verdicts go to.
    index = read_topic(settings, f"{topics['app']}-feedback", lambda r: len(r) >= 5, timeout=10)
    partitioner = DefaultPartitioner()
    partitions = sorted({r.partition for r in index})
    for record in index:
        for alert_id in json.loads(record.value).get("alerts", {}):
            every = list(range(settings.partitions))
            assert partitioner(alert_id.encode(), every, every) == record.partition
    assert partitions, "no index records"

    # Round 2, after a restart: counters start again, the verdicts they counted are remembered.
    worker.stop()
    start_worker(PANTAU_METRICS_PORT=str(port)).wait_ready()
    send(
        (t1, verdict(t1, "correct")),  # as before the restart: nothing to count
        (t1, verdict(t1, "wrong")),
        (r1, verdict(r1, "correct")),
    )
    settle(
        port,
        {
            series(given, troop, "wrong"): 1,
            series(withdrawn, troop, "correct"): 1,
            series(given, treaty, "correct"): 1,
            series(withdrawn, treaty, "wrong"): 1,
        },
        settings,
        letters=3,
    )
    producer.close()
