"""Scale-out on a real broker: three workers in one group share 8 partitions and produce exactly
the alerts one worker (or the offline classifier) produces."""

from __future__ import annotations

import json
import re
import time

import pytest
from kafka import KafkaConsumer
from kafka.admin import KafkaAdminClient, NewTopic

from streams.engine import Classifier
from streams.models import Article
from streams.rules.packs import load_ruleset
from streams.settings import DEFAULT_PACK
from streams.tools.replay import articles_from, make_producer, publish

from .conftest import SEEDS, read_topic, settings_for

pytestmark = pytest.mark.integration

PARTITIONS = 8
WORKERS = 3
COPIES = 8  # 5 seeds x 8 = 40 articles, keyed by distinct ids so they spread over the partitions

# aiokafka logs the member's whole assignment after each join, and a revocation before the next.
ASSIGNED = re.compile(r"^Setting newly assigned partitions (.*) for group ")
TOPIC_PARTITION = re.compile(r"TopicPartition\(topic='([^']+)', partition=(\d+)\)")


def log_events(text: str) -> list[dict]:
    """The worker's JSON log lines (the fixture runs it with PANTAU_LOG_FORMAT=json)."""
    events = []
    for line in text.splitlines():
        if line.startswith("{"):
            try:
                events.append(json.loads(line))
            except ValueError:
                continue  # a line cut short while the worker writes it
    return events


def current_assignment(text: str, topic: str) -> set[int] | None:
    """The partitions of ``topic`` the worker holds now; None while it is between assignments."""
    held = None
    for event in log_events(text):
        message = str(event.get("event", ""))
        if message.startswith("Revoking previously assigned partitions"):
            held = None
        elif match := ASSIGNED.match(message):
            held = {int(p) for t, p in TOPIC_PARTITION.findall(match.group(1)) if t == topic}
    return held


def spread(assignments: list[set[int] | None]) -> bool:
    """Every worker holds some partitions, none twice, and together all of them."""
    if any(not held for held in assignments):
        return False
    return sum(map(len, assignments)) == PARTITIONS and set().union(*assignments) == set(
        range(PARTITIONS)
    )


def scaled_articles() -> list[dict]:
    seeds = list(articles_from([SEEDS]))
    return [dict(seed, id=f"{seed['id']}-copy{n}") for n in range(COPIES) for seed in seeds]


def offline_alert_ids(articles: list[dict]) -> set[str]:
    """What the stream must produce: the worker calls this same classifier."""
    classifier = Classifier(load_ruleset([DEFAULT_PACK]))
    return {
        alert.alert_id
        for article in articles
        for alert in classifier.classify(Article.model_validate(article))
    }


def test_three_workers_share_eight_partitions_and_find_exactly_the_alerts_of_one(
    broker_url, topics, start_worker, capsys
):
    settings = settings_for(broker_url, topics)
    articles_topic = settings.articles_topic

    # Tansu would auto-create the topic with 4 partitions on first touch: create it first.
    admin = KafkaAdminClient(bootstrap_servers=settings.bootstrap_servers)
    try:
        admin.create_topics([NewTopic(articles_topic, PARTITIONS, 1)])
    finally:
        admin.close()
    probe = KafkaConsumer(bootstrap_servers=settings.bootstrap_servers)
    try:
        assert probe.partitions_for_topic(articles_topic) == set(range(PARTITIONS))
    finally:
        probe.close()

    # Start the workers a little apart: Tansu mishandles members joining at the same instant.
    started = time.monotonic()
    workers = []
    for _ in range(WORKERS):
        workers.append(start_worker(PANTAU_LOG_FORMAT="json"))
        time.sleep(1.0)

    assignments: list[set[int] | None] = []
    deadline = started + 60
    while time.monotonic() < deadline:
        for worker in workers:
            assert worker.process.poll() is None, worker.log()[-3000:]
        assignments = [current_assignment(w.log(), articles_topic) for w in workers]
        if spread(assignments):
            break
        time.sleep(0.2)
    stable_after = time.monotonic() - started
    assert spread(assignments), "\n\n".join(w.log()[-2000:] for w in workers) + f"\n{assignments}"
    assert sorted(map(len, assignments)) == [2, 3, 3]  # as even as 8 over 3 can be

    articles = scaled_articles()
    expected = offline_alert_ids(articles)
    # Copies classify like their originals, so the expectation is not vacuous.
    assert len(expected) == COPIES * len(offline_alert_ids(articles[: len(articles) // COPIES]))
    assert expected

    producer = make_producer(settings)
    published = time.monotonic()
    assert publish(producer, articles_topic, articles) == len(articles)
    producer.close()

    def complete(records) -> bool:
        return expected <= {json.loads(r.value)["alert_id"] for r in records}

    records = read_topic(settings, settings.alerts_topic, until=complete, timeout=150)
    alerts_after = time.monotonic() - published
    produced = [json.loads(r.value)["alert_id"] for r in records]
    assert set(produced) <= expected, "alerts that one worker would not produce"
    missing = expected - set(produced)
    assert not missing, f"{len(missing)} of {len(expected)} alerts not published within 150 s"

    # Which partition each article went to, as the broker stored it.
    stored = read_topic(settings, articles_topic, until=lambda r: len(r) >= len(articles))
    partition_of = {json.loads(r.value)["id"]: r.partition for r in stored}
    assert len(set(partition_of.values())) == PARTITIONS, "the keys should cover every partition"

    # Alerts are published by the story stage, which owns rules (the internal matches topic
    # is keyed by rule id), so the work is shared by rule, not by article partition.
    alerts_by_worker: list[dict[str, str]] = []
    log_deadline = time.monotonic() + 10  # a log line may trail its acknowledged alert
    while True:
        alerts_by_worker = [
            {e["alert_id"]: e["rule_id"] for e in log_events(w.log()) if e.get("event") == "alert"}
            for w in workers
        ]
        logged = set().union(*alerts_by_worker)
        if logged >= expected or time.monotonic() > log_deadline:
            break
        time.sleep(0.2)
    assert logged == expected
    assert sum(1 for alerts in alerts_by_worker if alerts) >= 2, "the stage is shared"
    rule_owners: dict[str, set[int]] = {}
    for index, alerts in enumerate(alerts_by_worker):
        for rule in alerts.values():
            rule_owners.setdefault(rule, set()).add(index)
    assert all(len(owners) == 1 for owners in rule_owners.values()), rule_owners

    with capsys.disabled():
        print(
            f"\nscale-out: {WORKERS} workers x {PARTITIONS} partitions, group spread "
            f"{stable_after:.1f} s after the first start ({[sorted(a) for a in assignments]}); "
            f"{len(articles)} articles -> {len(expected)} alerts in {alerts_after:.1f} s, "
            f"{len(produced) - len(expected)} duplicates; "
            f"alerts per worker {[len(a) for a in alerts_by_worker]}"
        )
