"""Delivery under failure on a real broker: a worker killed mid-replay, a group member lost, a
broker that is absent at start or frozen mid-stream.

At-least-once is the contract: every expected alert arrives, none that no rule produced, and
duplicates (same deterministic alert_id) are allowed, counted and reported.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime

import pytest
from kafka.admin import KafkaAdminClient, NewTopic

from streams.engine import Classifier
from streams.models import Article
from streams.rules.packs import load_ruleset
from streams.settings import DEFAULT_PACK, Settings
from streams.tools.broker import broker_command, free_port, stop_process, wait_for_port
from streams.tools.replay import articles_from, make_producer
from streams.tools.tail import open_consumer

from .conftest import SEEDS, Worker, read_topic, settings_for

pytestmark = pytest.mark.integration

ASSIGNED = re.compile(r"^Setting newly assigned partitions (.*) for group ")
REVOKED = "Revoking previously assigned partitions"
TOPIC_PARTITION = re.compile(r"TopicPartition\(topic='([^']+)', partition=(\d+)\)")


# ---- articles and what they must produce -------------------------------------------------------
def cycled_seeds(count: int, tag: str) -> list[dict]:
    """The five seeds over and over, each copy with an id of its own (so its own alert ids)."""
    seeds = list(articles_from([SEEDS]))
    return [
        dict(seeds[n % len(seeds)], id=f"{seeds[n % len(seeds)]['id']}-{tag}{n}")
        for n in range(count)
    ]


@dataclass
class PinnedRules:
    """The default pack as it was when the test began, for the workers and the expectation alike.

    The pack file is edited while tests run and rules can arrive on a shared rules topic; a
    snapshot and a rules topic of the test's own keep the worker and the expectation in step.
    ``env`` also moves Faust's data directory out of the repository into the test's tmp_path.
    """

    classifier: Classifier
    env: dict[str, str]

    def expected(self, articles: list[dict]) -> dict[str, str]:
        """alert_id -> article id, from the classifier the worker runs."""
        expected = {
            alert.alert_id: article["id"]
            for article in articles
            for alert in self.classifier.classify(Article.model_validate(article))
        }
        assert expected, "the seeds must trigger rules, or the test proves nothing"
        return expected


@pytest.fixture
def rules(tmp_path, topics) -> PinnedRules:
    pack = tmp_path / DEFAULT_PACK.name
    pack.write_text(DEFAULT_PACK.read_text(encoding="utf-8"), encoding="utf-8")
    env = {
        "PANTAU_RULE_FILES": json.dumps([str(pack)]),
        "PANTAU_RULES_TOPIC": f"rules-{topics['app']}",
        "PANTAU_LOG_FORMAT": "json",
        "PANTAU_DATA_DIR": str(tmp_path / "faust-data"),
    }
    return PinnedRules(Classifier(load_ruleset([pack])), env)


def create_topics(settings: Settings, partitions: dict[str, int]) -> None:
    """Create topics up front: Tansu's auto-created ones have 4 partitions and appear late."""
    admin = KafkaAdminClient(bootstrap_servers=settings.bootstrap_servers)
    try:
        admin.create_topics([NewTopic(name, n, 1) for name, n in partitions.items()])
    finally:
        admin.close()


def produce(settings: Settings, articles: list[dict], rate: float = 0.0) -> dict[str, int]:
    """Publish articles keyed by id; returns the partition the broker acknowledged for each."""
    producer = make_producer(settings)
    started, futures = time.monotonic(), {}
    try:
        for sent, article in enumerate(articles, start=1):
            futures[article["id"]] = producer.send(
                settings.articles_topic,
                key=article["id"].encode(),
                value=json.dumps(article, ensure_ascii=False).encode(),
            )
            if rate and (delay := started + sent / rate - time.monotonic()) > 0:
                time.sleep(delay)
        producer.flush()
        return {key: future.get(timeout=60).partition for key, future in futures.items()}
    finally:
        producer.close()


# ---- watching the outcome ----------------------------------------------------------------------
class AlertLog:
    """Every alert record as it arrives, from one group-less consumer kept open all test long,
    with the wall-clock time each alert id was first seen (comparable with worker log stamps)."""

    def __init__(self, settings: Settings):
        self._consumer = open_consumer(
            settings.bootstrap_servers, settings.alerts_topic, from_beginning=True
        )
        self.ids: list[str] = []
        self.first_seen: dict[str, float] = {}

    @property
    def unique(self) -> set[str]:
        return set(self.first_seen)

    @property
    def duplicates(self) -> int:
        return len(self.ids) - len(self.first_seen)

    def wait_for(
        self, done: Callable[[], bool], timeout: float, workers: Sequence[Worker] = ()
    ) -> bool:
        """Poll until ``done()``, the timeout, or one of ``workers`` exits (no point waiting)."""
        deadline = time.monotonic() + timeout
        while not done() and time.monotonic() < deadline:
            if any(w.process.poll() is not None for w in workers):
                break
            for batch in self._consumer.poll(timeout_ms=100).values():
                now = time.time()
                for record in batch:
                    alert_id = json.loads(record.value)["alert_id"]
                    assert record.key.decode() == alert_id
                    self.ids.append(alert_id)
                    self.first_seen.setdefault(alert_id, now)
        return done()

    def settle(self, quiet: float = 3.0, timeout: float = 60.0) -> None:
        """Read on until no alert has come for ``quiet`` seconds: duplicates can trail the last
        new alert, and a share of duplicates must count them all."""
        deadline, count = time.monotonic() + timeout, -1
        while count != len(self.ids) and time.monotonic() < deadline:
            count = len(self.ids)
            self.wait_for(lambda: False, quiet)

    @property
    def duplicate_share(self) -> float:
        """Copies beyond the first, as a share of the distinct alerts (an alert that came
        twice counts once, three times twice)."""
        return self.duplicates / max(len(self.first_seen), 1)

    def close(self) -> None:
        self._consumer.close()


@pytest.fixture
def alert_log() -> Iterator[Callable[[Settings], AlertLog]]:
    opened: list[AlertLog] = []

    def open_log(settings: Settings) -> AlertLog:
        opened.append(AlertLog(settings))
        return opened[-1]

    yield open_log
    for log in opened:
        log.close()


def log_events(worker: Worker) -> list[dict]:
    """The worker's JSON log lines (Faust's banner and half-written lines are skipped)."""
    events = []
    for line in worker.log().splitlines():
        if line.startswith("{"):
            try:
                events.append(json.loads(line))
            except ValueError:
                continue
    return events


def assigned(message: str) -> dict[str, set[int]] | None:
    """Topic -> partitions of an assignment log line, or None for any other line."""
    match = ASSIGNED.match(message)
    if match is None:
        return None
    partitions: dict[str, set[int]] = {}
    for topic, partition in TOPIC_PARTITION.findall(match.group(1)):
        partitions.setdefault(topic, set()).add(int(partition))
    return partitions


def held_partitions(worker: Worker, topic: str) -> set[int]:
    """Partitions of ``topic`` the worker holds after its latest rebalance (empty in between)."""
    held: set[int] = set()
    for event in log_events(worker):
        message = str(event.get("event", ""))
        if message.startswith(REVOKED):
            held = set()
        elif (partitions := assigned(message)) is not None:
            held = partitions.get(topic, set())
    return held


def alerted(worker: Worker, field: str = "article_id") -> set[str]:
    """A field of every alert the worker logged, which it does once the broker acknowledged it."""
    return {e[field] for e in log_events(worker) if e.get("event") == "alert"}


def alert_ids_on_topic(settings: Settings, seconds: float = 20.0) -> set[str]:
    """Every alert id a fresh reader finds on the topic, read from the start."""
    records = read_topic(settings, settings.alerts_topic, until=lambda _: False, timeout=seconds)
    return {json.loads(r.value)["alert_id"] for r in records}


def first_logged(worker: Worker, matches: Callable[[str], object]) -> float | None:
    """Wall-clock time of the worker's first log event whose message ``matches``."""
    for event in log_events(worker):
        if matches(str(event.get("event", ""))):
            return datetime.fromisoformat(event["timestamp"]).timestamp()
    return None


def kill_9(worker: Worker) -> float:
    """SIGKILL: no revocation, no commit, no LeaveGroup. Returns the moment of death."""
    os.kill(worker.process.pid, signal.SIGKILL)
    assert worker.process.wait(10) == -signal.SIGKILL
    return time.time()


def report(record_property, capsys, test: str, **values: object) -> None:
    """Durations and counts go to the JUnit XML and the terminal; tests never assert on them."""
    for name, value in values.items():
        record_property(name, value)
    with capsys.disabled():
        print(f"\n{test}: " + ", ".join(f"{k}={v}" for k, v in values.items()))


LOG_ENVELOPE = {"event", "level", "logger", "timestamp"}


def explain_missing(capsys, missing: set[str], article_of: dict[str, str], *workers: Worker):
    """On a failure, print what the next investigation needs: which articles lost
    alerts (all of one article's alerts point at a skipped record) and each worker's
    rebalance and warning lines, since CI keeps no worker logs."""
    articles = Counter(article_of[alert_id] for alert_id in missing)
    lines = [f"missing alerts by article: {dict(sorted(articles.items()))}"]
    for worker in workers:
        for event in log_events(worker):
            message = str(event.get("event", ""))
            if (partitions := assigned(message)) is not None:
                streams = {
                    "articles" if topic.startswith("articles") else "matches": sorted(held)
                    for topic, held in partitions.items()
                    if "changelog" not in topic and "assignor" not in topic
                }
                message = f"assigned {dict(sorted(streams.items()))}"
            elif event.get("level") in ("warning", "error"):
                context = {k: v for k, v in event.items() if k not in LOG_ENVELOPE}
                message = f"{message} {context}" if context else message
            elif not message.startswith(("[^---Recovery]: Seek", "[^---Recovery]: Worker ready")):
                continue
            lines.append(f"{worker.log_path.name} {event.get('timestamp')} {message[:240]}")
    with capsys.disabled():
        print("\n" + "\n".join(lines[:60]))


def tails(*workers: Worker) -> str:
    return "\n\n".join(f"--- {w.log_path.name}\n{w.log()[-3000:]}" for w in workers)


# ---- 1. kill -9 mid-replay ---------------------------------------------------------------------
MAX_DUPLICATE_SHARE = 0.10  # of a run's alerts, received twice after a kill -9 (docs/delivery.md)


def a_third_into_a_backlog(settings, rules, start_worker, alert_log, count: int, tag: str):
    """A backlog of ``count`` articles on 4 partitions and one worker running until a third of
    their alerts arrived: (articles, expected alerts, the alert log, the worker, its start)."""
    create_topics(settings, {settings.articles_topic: 4, settings.alerts_topic: 4})
    articles = cycled_seeds(count, tag)
    expected = rules.expected(articles)
    produce(settings, articles)
    alerts = alert_log(settings)
    first = start_worker(**rules.env)
    started = time.time()
    alerts.wait_for(lambda: len(alerts.unique) >= len(expected) // 3, 90, [first])
    assert first.process.poll() is None, tails(first)
    return articles, expected, alerts, first, started


def test_a_worker_killed_mid_replay_is_replaced_without_losing_an_alert(
    broker_url, topics, rules, start_worker, alert_log, record_property, capsys
):
    settings = settings_for(broker_url, topics)
    articles, expected, alerts, first, started = a_third_into_a_backlog(
        settings, rules, start_worker, alert_log, 2000, "k"
    )
    killed_at = kill_9(first)
    second = start_worker(**rules.env)  # same app id: the same group and its committed offsets

    alerts.wait_for(lambda: alerts.unique >= expected.keys(), 180, [second])
    missing = expected.keys() - alerts.unique
    if missing:
        acknowledged = alerted(first, "alert_id") | alerted(second, "alert_id")
        unacknowledged = missing - acknowledged
        if unacknowledged:  # what the investigation needs, since CI keeps no worker logs
            explain_missing(capsys, unacknowledged, expected, first, second)
            pytest.fail(
                f"{len(unacknowledged)} of {len(expected)} alerts never published within "
                "180 s of the kill (README: delivery guarantees)"
            )
        unseen = missing - alert_ids_on_topic(settings)
        if unseen:  # the broker acknowledged them, yet no reader gets them (a Tansu defect, README)
            pytest.xfail(f"{len(unseen)} alerts acknowledged by Tansu but not readable")
    assert alerts.unique <= expected.keys(), "alerts that no rule produces"
    all_alerts_at = max(alerts.first_seen.values())
    alerts.settle()
    assert second.process.poll() is None, tails(second)
    by_first, by_second = alerted(first), alerted(second)
    assert by_first and by_second, "the kill must fall mid-replay: both workers alerted"
    assert len(by_first) < len(articles)

    joined = first_logged(second, ASSIGNED.match)
    resumed = first_logged(second, lambda m: m == "alert")
    report(
        record_property,
        capsys,
        "kill -9 mid-replay",
        articles=len(articles),
        expected_alerts=len(expected),
        first_worker_alive_s=round(killed_at - started, 1),
        alerts_published_before_kill=len(alerted(first, "alert_id")),
        kill_to_replacement_assigned_s=joined and round(joined - killed_at, 1),
        kill_to_replacement_first_alert_s=resumed and round(resumed - killed_at, 1),
        kill_to_all_alerts_s=round(all_alerts_at - killed_at, 1),
        duplicates=alerts.duplicates,
        published_by_both_workers=len(alerted(first, "alert_id") & alerted(second, "alert_id")),
        duplicate_share=round(alerts.duplicate_share, 4),
    )
    assert alerts.duplicate_share <= MAX_DUPLICATE_SHARE, (
        f"{alerts.duplicates} of {len(expected)} alerts received twice (README: delivery)"
    )


def test_a_worker_stopped_with_sigterm_and_restarted_publishes_nothing_again(
    broker_url, topics, rules, start_worker, alert_log, record_property, capsys
):
    settings = settings_for(broker_url, topics)
    _, expected, alerts, first, _ = a_third_into_a_backlog(
        settings, rules, start_worker, alert_log, 1000, "t"
    )
    received_before_stop = len(alerts.ids)
    first.process.send_signal(signal.SIGTERM)  # as Kubernetes or systemd stops it
    assert first.process.wait(60) == 0, tails(first)
    second = start_worker(**rules.env)

    alerts.wait_for(lambda: alerts.unique >= expected.keys(), 180, [second])
    missing = expected.keys() - alerts.unique
    assert not missing, f"{len(missing)} of {len(expected)} alerts lost\n{tails(first, second)}"
    alerts.settle()
    assert alerts.unique == expected.keys()
    assert alerted(second), "the stop must fall mid-replay: the second worker alerted"
    report(
        record_property,
        capsys,
        "SIGTERM mid-replay and restart",
        expected_alerts=len(expected),
        alerts_received_before_stop=received_before_stop,
        duplicates=alerts.duplicates,
    )
    assert alerts.duplicates == 0, tails(first, second)


# ---- 2. failover inside one group --------------------------------------------------------------
def test_the_surviving_member_takes_over_the_partitions_of_a_killed_one(
    broker_url, topics, rules, start_worker, alert_log, record_property, capsys
):
    partitions = 6
    settings = settings_for(broker_url, topics)
    create_topics(settings, {settings.articles_topic: partitions, settings.alerts_topic: 4})
    first_batch, second_batch = cycled_seeds(100, "a"), cycled_seeds(100, "b")
    first_expected, second_expected = rules.expected(first_batch), rules.expected(second_batch)
    alerts = alert_log(settings)

    # A little apart: Tansu mishandles members that join at the same instant.
    survivor = start_worker(**rules.env)
    time.sleep(1.0)
    victim = start_worker(**rules.env)
    workers = [survivor, victim]
    deadline = time.monotonic() + 45
    held: list[set[int]] = [set(), set()]
    while time.monotonic() < deadline:
        assert all(w.process.poll() is None for w in workers), tails(*workers)
        held = [held_partitions(w, settings.articles_topic) for w in workers]
        if all(held) and held[0] | held[1] == set(range(partitions)):
            break
        time.sleep(0.2)
    assert all(held) and not held[0] & held[1], f"{held}\n{tails(*workers)}"
    victim_held = held[1]

    produce(settings, first_batch)
    assert alerts.wait_for(lambda: alerts.unique >= first_expected.keys(), 45, workers)
    assert alerted(victim) and alerted(survivor), "both members must work"

    killed_at = kill_9(victim)
    partition_of = produce(settings, second_batch)
    orphaned = {a for a, article in second_expected.items() if partition_of[article] in victim_held}
    assert orphaned, "the second batch must have articles on the dead member's partitions"

    everything = first_expected.keys() | second_expected.keys()
    alerts.wait_for(lambda: alerts.unique >= everything, 150, [survivor])
    missing = everything - alerts.unique
    if missing:  # what the investigation needs, since CI keeps no worker logs
        explain_missing(capsys, missing, first_expected | second_expected, survivor, victim)
        pytest.fail(f"{len(missing)} of {len(everything)} alerts not published after the take-over")
    assert alerts.unique <= everything
    alerts.settle()
    assert survivor.process.poll() is None, tails(survivor)
    assert held_partitions(survivor, settings.articles_topic) == set(range(partitions))
    assert {second_expected[a] for a in orphaned} <= alerted(survivor)

    report(
        record_property,
        capsys,
        "failover",
        partitions=f"survivor {sorted(held[0])} victim {sorted(victim_held)}",
        expected_alerts=len(everything),
        kill_to_first_orphan_alert_s=round(
            min(alerts.first_seen[a] for a in orphaned) - killed_at, 1
        ),
        kill_to_all_second_batch_s=round(
            max(alerts.first_seen[a] for a in second_expected) - killed_at, 1
        ),
        duplicates=alerts.duplicates,
        duplicate_share=round(alerts.duplicate_share, 4),
    )


# ---- 3. broker absent at start, broker frozen mid-stream --------------------------------------
class PrivateTansu:
    """A Tansu of the test's own on a fixed port, so it can start late and be frozen."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"kafka://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            broker_command("127.0.0.1", self.port),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for_port("127.0.0.1", self.port)

    def signal(self, number: signal.Signals) -> None:
        assert self.process is not None and self.process.poll() is None
        self.process.send_signal(number)

    def stop(self) -> None:
        if self.process is not None:
            if self.process.poll() is None:
                self.process.send_signal(signal.SIGCONT)  # a stopped process ignores SIGTERM
            stop_process(self.process)


@pytest.fixture
def private_tansu() -> Iterator[PrivateTansu]:
    broker = PrivateTansu()
    yield broker
    broker.stop()


def test_a_worker_started_before_the_broker_listens_waits_for_it(
    private_tansu, topics, rules, start_worker, alert_log, record_property, capsys
):
    settings = settings_for(private_tansu.url, topics)
    worker = start_worker(**rules.env, PANTAU_BROKER=private_tansu.url)
    time.sleep(3.0)
    exit_code = worker.process.poll()
    private_tansu.start()
    broker_up = time.time()
    create_topics(settings, {settings.articles_topic: 4, settings.alerts_topic: 4})

    articles = cycled_seeds(5, "s")
    expected = rules.expected(articles)
    produce(settings, articles)
    alerts = alert_log(settings)
    alerts.wait_for(lambda: alerts.unique >= expected.keys(), 60, [worker])

    assert exit_code is None and worker.process.poll() is None, (
        f"exit code {worker.process.poll()}\n{tails(worker)}"
    )
    assert alerts.unique == expected.keys(), tails(worker)
    report(
        record_property,
        capsys,
        "broker late",
        broker_up_to_all_alerts_s=round(max(alerts.first_seen.values()) - broker_up, 1),
    )


def test_a_worker_rides_out_a_frozen_broker(
    private_tansu, topics, rules, start_worker, alert_log, record_property, capsys
):
    private_tansu.start()
    settings = settings_for(private_tansu.url, topics)
    create_topics(settings, {settings.articles_topic: 4, settings.alerts_topic: 4})
    before, during, after = (cycled_seeds(n, tag) for n, tag in ((50, "x"), (200, "y"), (50, "z")))
    expected = rules.expected(before + during + after)
    alerts = alert_log(settings)
    worker = start_worker(**rules.env, PANTAU_BROKER=private_tansu.url)

    warmed_up = rules.expected(before).keys()
    produce(settings, before)
    assert alerts.wait_for(lambda: alerts.unique >= warmed_up, 45, [worker]), tails(worker)

    # Articles keep coming (20/s for 10 s) while the broker answers nobody for 8 s.
    producing = threading.Thread(target=produce, args=(settings, during, 20.0))
    producing.start()
    time.sleep(1.0)
    private_tansu.signal(signal.SIGSTOP)
    frozen_at = time.time()
    time.sleep(8.0)
    private_tansu.signal(signal.SIGCONT)
    resumed_at = time.time()
    producing.join(60)
    assert not producing.is_alive()
    produce(settings, after)

    alerts.wait_for(lambda: alerts.unique >= expected.keys(), 60, [worker])
    missing = expected.keys() - alerts.unique
    assert not missing, f"{len(missing)} of {len(expected)} alerts lost\n{tails(worker)}"
    assert alerts.unique == expected.keys()
    assert worker.process.poll() is None, tails(worker)
    # An 8 s freeze is shorter than every client timeout (session 10 s, request 40 s), so no
    # request fails; the worker's broker probe is what notices, and says when it is over.
    events = log_events(worker)
    silent = [e for e in events if e.get("event") == "broker_not_responding"]
    back = [e for e in events if e.get("event") == "broker_responding_again"]
    assert silent and back, f"the outage left no trace in the log\n{tails(worker)}"
    noticed_at = datetime.fromisoformat(silent[0]["timestamp"]).timestamp()
    assert frozen_at <= noticed_at <= frozen_at + 6, (noticed_at - frozen_at, silent[0])
    assert 4 <= back[0]["silent_seconds"] <= 12, back[0]
    report(
        record_property,
        capsys,
        "broker frozen 8 s",
        expected_alerts=len(expected),
        resume_to_all_alerts_s=round(max(alerts.first_seen.values()) - resumed_at, 1),
        duplicates=alerts.duplicates,
        noticed_after_s=round(noticed_at - frozen_at, 1),
        reported_silence_s=back[0]["silent_seconds"],
    )
