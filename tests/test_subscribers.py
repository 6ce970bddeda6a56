"""Pantau's outputs as a subscriber meets them, on a real broker: confluent-kafka and
kafka-python consumer groups on the alerts, stories and dead-letter topics, kcat, and the
examples in ``deploy/examples/`` run as a user would run them.

One worker serves the module. Its articles are produced with confluent-kafka: the seeds twice
(the second copy gives the same alert ids again, as a redelivery does) and bad records.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from kafka import KafkaConsumer
from kafka.admin import KafkaAdminClient

from streams.engine import Classifier
from streams.models import Alert, Article
from streams.rules.packs import load_ruleset
from streams.settings import DEFAULT_PACK, Settings
from streams.tools.broker import stop_process
from streams.tools.replay import articles_from

from .conftest import ROOT, SEEDS, Worker, read_topic, settings_for, topic_names, worker_env

pytestmark = pytest.mark.integration
confluent_kafka = pytest.importorskip("confluent_kafka")

EXAMPLES = ROOT / "deploy" / "examples"
BAD = {  # raw record -> the reason it is dead-lettered with
    b"not json": "not_json",
    b'{"id": "x", "title": "\\u0000\\u0000", "body": "\\u0000"}': "empty_text",
    b'{"id": "s", "body": "\\ud800"}': "lone_surrogate",
    b'{"id": "d", "body": "a", "body": "b"}': "duplicate_key",
}
# On the embedded broker a group's first join waits a whole rebalance timeout (README).
CONFLUENT_GROUP = {"session.timeout.ms": 10_000, "max.poll.interval.ms": 10_000}
KAFKA_PYTHON_GROUP = {
    "session_timeout_ms": 10_000,
    "max_poll_interval_ms": 10_000,
    "heartbeat_interval_ms": 1_000,
}


@dataclass
class Outputs:
    """The module's worker, where it writes, and what it must have written."""

    settings: Settings
    bootstrap: str  # host:port
    stories_topic: str
    classifier: Classifier
    expected: dict[str, Alert]  # alert_id -> the alert the default pack gives (no story yet)
    delivered: list  # confluent-kafka delivery errors of the produced articles (None: acked)

    @property
    def topics(self) -> list[str]:
        s = self.settings
        return [s.alerts_topic, self.stories_topic, s.dead_letter_topic]

    def alerts_of(self, articles: list[dict]) -> dict[str, Alert]:
        return {
            alert.alert_id: alert
            for article in articles
            for alert in self.classifier.classify(Article.model_validate(article))
        }

    def produce(self, values: list[tuple[bytes | None, bytes]]) -> list:
        """Publish with confluent-kafka; each record's delivery error (None once acked)."""
        producer = confluent_kafka.Producer({"bootstrap.servers": self.bootstrap, "acks": "all"})
        reports: list = []
        for key, value in values:
            producer.produce(
                self.settings.articles_topic,
                value,
                key=key,
                on_delivery=lambda error, _: reports.append(error),
            )
        assert producer.flush(30) == 0, "confluent-kafka could not deliver every article"
        return reports

    def alert_records(self) -> list:
        """Every record on the alerts topic now, read from the start without a group."""
        return read_topic(
            self.settings, self.settings.alerts_topic, until=lambda _: False, timeout=3
        )


def article_values(articles: list[dict]) -> list[tuple[bytes | None, bytes]]:
    return [(a["id"].encode(), json.dumps(a, ensure_ascii=False).encode()) for a in articles]


@pytest.fixture(scope="module")
def outputs(broker_url, tmp_path_factory) -> Iterator[Outputs]:
    tmp = tmp_path_factory.mktemp("subscribers")
    topics = topic_names("subscribers")
    pack = tmp / DEFAULT_PACK.name  # a snapshot: tests elsewhere may edit the pack meanwhile
    pack.write_text(DEFAULT_PACK.read_text(encoding="utf-8"), encoding="utf-8")
    settings = settings_for(broker_url, topics)
    out = Outputs(
        settings=settings,
        bootstrap=settings.bootstrap_servers[0],
        stories_topic=topics["alerts"] + ".stories",
        classifier=Classifier(load_ruleset([pack])),
        expected={},
        delivered=[],
    )
    seeds = list(articles_from([SEEDS]))
    out.expected = out.alerts_of(seeds)
    env = worker_env(
        broker_url,
        topics,
        tmp / "data",
        PANTAU_STORIES_TOPIC=out.stories_topic,
        PANTAU_RULE_FILES=json.dumps([str(pack)]),
        PANTAU_RULES_TOPIC=topics["app"] + ".rules",
    )
    worker = Worker(env, tmp / "worker.log")
    try:
        values = [*article_values(seeds), *article_values(seeds), *((None, raw) for raw in BAD)]
        out.delivered = out.produce(values)
        twice = 2 * len(out.expected)
        records = read_topic(settings, settings.alerts_topic, until=lambda r: len(r) >= twice)
        assert len(records) >= twice, worker.log()[-3000:]
        yield out
    finally:
        worker.stop()


# ---- reading as a subscriber -------------------------------------------------------------------
@dataclass
class Seen:
    """What a subscriber read from the three topics."""

    alerts: list[tuple[bytes, bytes]]  # (key, value)
    stories: list[tuple[bytes, bytes]]
    dead_letters: list[tuple[bytes, dict[str, bytes]]]  # (value, headers)

    def add(self, out: Outputs, topic: str, key, value, headers) -> None:
        if topic == out.settings.alerts_topic:
            self.alerts.append((key, value))
        elif topic == out.stories_topic:
            self.stories.append((key, value))
        else:
            self.dead_letters.append((value, dict(headers or [])))

    def complete(self, out: Outputs) -> bool:
        alerts = [json.loads(value) for _, value in self.alerts]
        opened = {alert["alert_id"] for alert in alerts if alert["story_status"] == "new"}
        return (
            {alert["alert_id"] for alert in alerts} >= out.expected.keys()
            and {key.decode() for key, _ in self.stories} >= opened
            and len(self.dead_letters) >= len(BAD)
        )


def assert_read_as_published(out: Outputs, seen: Seen) -> None:
    """Every alert, keyed by its id, valid against the model; each story's first alert on the
    stories topic; every dead letter with its reason and where it was read."""
    alerts = {}
    for key, value in seen.alerts:
        alert = Alert.model_validate_json(value)
        assert key.decode() == alert.alert_id
        alerts[alert.alert_id] = alert
    assert alerts.keys() >= out.expected.keys()
    for alert_id, expected in out.expected.items():
        assert alerts[alert_id].rule_id == expected.rule_id and alerts[alert_id].story is not None
    opened = {a.alert_id for a in alerts.values() if a.story_status == "new"}
    assert {key.decode() for key, _ in seen.stories} == opened
    reasons = {}
    for value, headers in seen.dead_letters:
        reasons[value] = headers["pantau.reason"].decode()
        assert headers["pantau.topic"].decode() == out.settings.articles_topic
        assert int(headers["pantau.offset"]) >= 0 and headers["pantau.error"]
    assert reasons == BAD


def wait(done: Callable[[], bool], timeout: float, step: Callable[[], None]) -> None:
    deadline = time.monotonic() + timeout
    while not done() and time.monotonic() < deadline:
        step()


def group_offsets(out: Outputs, group: str) -> dict[tuple[str, int], int]:
    admin = KafkaAdminClient(bootstrap_servers=out.settings.bootstrap_servers)
    try:
        offsets = admin.list_group_offsets(group)[group]
    finally:
        admin.close()
    return {(tp.topic, tp.partition): meta.offset for tp, meta in offsets.items()}


def ends(records) -> dict[tuple[str, int], int]:
    """One past the last offset of each partition that holds records (Tansu's ListOffsets can
    be short after multi-record batches, README: the embedded broker)."""
    last: dict[tuple[str, int], int] = {}
    for record in records:
        key = (record.topic, record.partition)
        last[key] = max(last.get(key, 0), record.offset + 1)
    return last


def committed_to(out: Outputs, group: str, end: dict[tuple[str, int], int]) -> bool:
    """Whether the group has committed every partition up to ``end`` (empty ones at 0)."""
    return {key: offset for key, offset in group_offsets(out, group).items() if offset} == end


def test_articles_produced_with_confluent_kafka_are_acknowledged_and_classified(outputs):
    assert len(outputs.delivered) == 2 * 5 + len(BAD)
    assert outputs.delivered == [None] * len(outputs.delivered)
    on_topic = {record.key.decode() for record in outputs.alert_records()}
    assert on_topic >= outputs.expected.keys()


def test_a_confluent_kafka_group_reads_every_alert_story_and_dead_letter(outputs):
    group = f"confluent-{time.time_ns()}"
    consumer = confluent_kafka.Consumer(
        {
            "bootstrap.servers": outputs.bootstrap,
            "group.id": group,
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
            **CONFLUENT_GROUP,
        }
    )
    seen = Seen([], [], [])

    def poll() -> None:
        message = consumer.poll(0.5)
        if message is not None:
            assert message.error() is None, message.error()
            seen.add(outputs, message.topic(), message.key(), message.value(), message.headers())

    try:
        consumer.subscribe(outputs.topics)
        wait(lambda: seen.complete(outputs), 60, poll)
        consumer.commit(asynchronous=False)
        positions = {
            (tp.topic, tp.partition): tp.offset for tp in consumer.position(consumer.assignment())
        }
    finally:
        consumer.close()
    assert_read_as_published(outputs, seen)
    committed = group_offsets(outputs, group)
    assert committed and all(committed[key] == positions[key] for key in committed)


def test_a_kafka_python_group_reads_every_alert_story_and_dead_letter(outputs):
    group = f"kafka-python-{time.time_ns()}"
    consumer = KafkaConsumer(
        *outputs.topics,
        bootstrap_servers=outputs.settings.bootstrap_servers,
        group_id=group,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        **KAFKA_PYTHON_GROUP,
    )
    seen = Seen([], [], [])

    def poll() -> None:
        for batch in consumer.poll(timeout_ms=500).values():
            for r in batch:
                seen.add(outputs, r.topic, r.key, r.value, r.headers)

    try:
        wait(lambda: seen.complete(outputs), 60, poll)
        consumer.commit()
        positions = {
            (tp.topic, tp.partition): consumer.position(tp) for tp in consumer.assignment()
        }
    finally:
        consumer.close()
    assert_read_as_published(outputs, seen)
    committed = group_offsets(outputs, group)
    assert committed and all(committed[key] == positions[key] for key in committed)


# ---- kcat: the failure the client table documents ------------------------------------------
KCAT_FAILURE = "ApiVersionRequest failed: Local: Read underflow"


@pytest.mark.skipif(shutil.which("kcat") is None, reason="kcat is not installed (apt: kcat)")
def test_kcat_works_from_librdkafka_2_2_and_fails_as_documented_before(outputs):
    version = subprocess.run(["kcat", "-V"], capture_output=True, text=True, timeout=30).stdout
    found = re.search(r"librdkafka (\d+)\.(\d+)", version)
    assert found, version
    listed = subprocess.run(
        ["kcat", "-b", outputs.bootstrap, "-L", "-t", outputs.settings.alerts_topic, "-m", "5"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    if (int(found.group(1)), int(found.group(2))) < (2, 2):
        assert listed.returncode != 0 and KCAT_FAILURE in listed.stderr, listed
    else:
        assert listed.returncode == 0 and outputs.settings.alerts_topic in listed.stdout, listed


# ---- the examples ------------------------------------------------------------------------------
class Example:
    """An example run as a user runs it: a process of its own, stdout in a file."""

    def __init__(self, command: list[str], path: Path):
        self.path = path
        self._out = path.open("w")
        self.process = subprocess.Popen(
            command, stdout=self._out, stderr=subprocess.STDOUT, cwd=ROOT
        )

    def lines(self) -> list[str]:
        return self.path.read_text().splitlines()

    def interrupt(self) -> int:
        """SIGTERM, as a service manager stops it; its exit status."""
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(30)
        finally:
            stop_process(self.process)
            self._out.close()

    def wait_for(self, done: Callable[[list[str]], bool], timeout: float = 60) -> list[str]:
        deadline = time.monotonic() + timeout
        while not done(self.lines()) and time.monotonic() < deadline:
            assert self.process.poll() is None, "\n".join(self.lines()[-40:])
            time.sleep(0.2)
        return self.lines()


def printed_ids(lines: list[str]) -> list[str]:
    return [line.split()[0] for line in lines if re.fullmatch(r"[0-9a-f]{32}( \S+){3}", line)]


@pytest.mark.parametrize("client", ["confluent-kafka", "kafka-python"])
def test_the_subscriber_example_handles_each_alert_once_and_commits(outputs, client, tmp_path):
    group = f"example-{client}-{time.time_ns()}"

    def run(db: Path, log: str) -> Example:
        command = [sys.executable, str(EXAMPLES / "subscribe.py"), "--client", client]
        command += ["--brokers", outputs.settings.broker, "--group", group, "--db", str(db)]
        command += ["--topic", outputs.settings.alerts_topic, "--embedded-broker"]
        return Example(command, tmp_path / log)

    def handled_and_committed(example: Example, alert_ids: set[str]) -> list[str]:
        records = outputs.alert_records()
        end = ends(records)
        example.wait_for(lambda lines: set(printed_ids(lines)) >= alert_ids)
        deadline = time.monotonic() + 30
        while not committed_to(outputs, group, end) and time.monotonic() < deadline:
            time.sleep(0.5)
        assert committed_to(outputs, group, end), "offsets are committed once alerts are handled"
        assert example.interrupt() == 0, "\n".join(example.lines()[-40:])
        return printed_ids(example.lines())

    on_topic = {record.key.decode() for record in outputs.alert_records()}
    assert on_topic >= outputs.expected.keys()
    printed = handled_and_committed(run(tmp_path / "seen.sqlite", "first.log"), on_topic)
    assert sorted(printed) == sorted(on_topic)  # each once, though the topic holds them twice

    # Restarted in its group with no memory of what it handled, it handles only what came since:
    # its commits alone keep it from the alerts it handled before.
    seed = next(a for a in articles_from([SEEDS]) if a["id"].startswith("004"))
    later = dict(seed, id=f"004-later-{client}")
    new = outputs.alerts_of([later])
    assert new and outputs.produce(article_values([later])) == [None]
    wait(
        lambda: {r.key.decode() for r in outputs.alert_records()} >= new.keys(),
        60,
        lambda: time.sleep(0.2),
    )
    printed = handled_and_committed(run(tmp_path / "fresh.sqlite", "again.log"), set(new))
    assert sorted(printed) == sorted(new)


@pytest.mark.skipif(shutil.which("jq") is None, reason="jq is not installed (apt: jq)")
def test_the_shell_pipeline_example_prints_each_serious_alert_once(outputs, tmp_path):
    serious = {a for a, alert in outputs.expected.items() if alert.severity in ("high", "critical")}
    assert serious, "the seeds must raise high or critical alerts, or the test proves nothing"
    env = {
        "PANTAU_BROKER": outputs.settings.broker,
        "PANTAU_ALERTS_TOPIC": outputs.settings.alerts_topic,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
    }
    command = ["sh", str(EXAMPLES / "alerts-pipeline.sh"), "--from-beginning"]
    result = subprocess.run(
        [*command, "--idle-timeout", "3"],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        cwd=ROOT,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    rows = [line.split("\t") for line in result.stdout.splitlines()]
    assert all(len(row) == 4 and row[1] in ("high", "critical") for row in rows), rows
    printed = [row[0] for row in rows]
    later = {r.key.decode() for r in outputs.alert_records()} - outputs.expected.keys()
    assert len(printed) == len(set(printed))  # the topic holds each alert at least twice
    assert serious <= set(printed) <= serious | later
