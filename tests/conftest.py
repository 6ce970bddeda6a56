"""Shared fixtures: a real Tansu broker, Pantau workers as real processes, topic readers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import suppress
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from streams.settings import TANSU_PROFILE, Settings
from streams.tools.broker import embedded_broker, stop_process

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
SANCTIONS = ROOT / "tests" / "data" / "sanctions.yaml"  # a small pack of the tests' own

# What the first rules must find on the five seeds (issue: skeleton).
EXPECTED_SEED_ALERTS = {
    ("000", "troop_deployment"),
    ("001", "treaty_ratified"),
    ("001", "troop_deployment"),
    ("002", "troop_deployment"),
    ("003", "treaty_ratified"),
    ("003", "troop_deployment"),
    ("004", "treaty_ratified"),
    ("004", "troop_deployment"),
}


@pytest.fixture(scope="session")
def broker_url() -> Iterator[str]:
    """One in-memory Tansu broker for the whole session, stopped at the end."""
    with embedded_broker() as url:
        yield url


class Worker:
    """A ``pantau worker`` subprocess with its own environment, log file and clean stop."""

    def __init__(self, env: dict[str, str], log_path: Path):
        self.log_path = log_path
        self._log = log_path.open("w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "streams", "worker"],
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
        )

    def stop(self) -> None:
        stop_process(self.process)
        self._log.close()

    def log(self) -> str:
        return self.log_path.read_text()

    def wait_ready(self, timeout: float = 60.0) -> None:
        """Until Faust reports the worker ready (joined, tables recovered)."""
        deadline = time.monotonic() + timeout
        while "Worker]: Ready" not in self.log():
            assert self.process.poll() is None, self.log()[-3000:]
            assert time.monotonic() < deadline, "worker not ready:\n" + self.log()[-3000:]
            time.sleep(0.2)


def topic_names(name: str) -> dict[str, str]:
    """Fresh topic names and app id, so tests sharing a broker never see each other's data."""
    stamp = f"{name}-{time.time_ns() % 10**9}"
    return {"articles": f"articles-{stamp}", "alerts": f"alerts-{stamp}", "app": f"pantau-{stamp}"}


@pytest.fixture
def topics(request) -> dict[str, str]:
    """Fresh topic names per test."""
    return topic_names(request.node.name.replace("[", "_").replace("]", "")[:40])


def worker_env(
    broker_url: str, topics: dict[str, str], data_dir: Path, profile: bool = True, **extra: str
) -> dict[str, str]:
    """A worker's environment on the test broker, with its own group, topics and data.

    ``profile=False``: no timing setting at all, as a plain `pantau worker` has."""
    base = {k: v for k, v in os.environ.items() if profile or k not in TANSU_PROFILE}
    return {
        **base,
        **(TANSU_PROFILE if profile else {}),
        "PANTAU_BROKER": broker_url,
        "PANTAU_APP_ID": topics["app"],
        "PANTAU_ARTICLES_TOPIC": topics["articles"],
        "PANTAU_ALERTS_TOPIC": topics["alerts"],
        "PANTAU_METRICS_PORT": "0",
        "PANTAU_DATA_DIR": str(data_dir),
        **extra,
    }


@pytest.fixture
def start_worker(broker_url, topics, tmp_path):
    """Start workers on the session broker with the fast-join profile; all stopped afterwards."""
    started: list[Worker] = []

    def start(profile: bool = True, **extra: str) -> Worker:
        env = worker_env(broker_url, topics, tmp_path / "data", profile, **extra)
        worker = Worker(env, tmp_path / f"worker-{len(started)}.log")
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()


def settings_for(broker_url: str, topics: dict[str, str], **fields) -> Settings:
    """Settings of the test's own clients."""
    return Settings(
        broker=broker_url,
        articles_topic=topics["articles"],
        alerts_topic=topics["alerts"],
        **fields,
    )


def read_topic(settings: Settings, topic: str, until, timeout: float = 90.0) -> list:
    """Records of ``topic`` from the beginning until ``until(records)`` holds or time runs out."""
    from streams.tools.tail import open_consumer

    consumer = open_consumer(settings.bootstrap_servers, topic, from_beginning=True)
    found: list = []
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline and not until(found):
            for batch in consumer.poll(timeout_ms=250).values():
                found.extend(batch)
    finally:
        consumer.close()
    return found


def send(settings: Settings, values: list[bytes], topic: str | None = None) -> None:
    """Publish raw records to ``topic`` (default: the articles topic) and wait for the acks."""
    from streams.tools.replay import make_producer

    producer = make_producer(settings)
    for value in values:
        producer.send(topic or settings.articles_topic, value)
    producer.flush()
    producer.close()


def scrape(port: int) -> dict[str, float]:
    """A worker's metrics, keyed as ``name{label=value,...}``."""
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    values: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels = ",".join(f"{k}={v}" for k, v in sorted(sample.labels.items()))
            values[f"{sample.name}{{{labels}}}" if labels else sample.name] = sample.value
    return values


def scrape_once_consumed(port: int, articles: int, timeout: float = 60.0) -> dict[str, float]:
    """A worker's metrics as soon as it has consumed ``articles`` records."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with suppress(OSError):  # the metrics server comes up with the worker
            metrics = scrape(port)
            if metrics.get("pantau_articles_consumed_total", 0) >= articles:
                return metrics
        time.sleep(0.2)
    raise AssertionError(f"the worker did not consume {articles} records in {timeout} s")


def offline_seed_alert_ids() -> set[str]:
    """Alert ids the default pack gives the seeds offline: what a worker must publish."""
    from streams.engine import Classifier
    from streams.rules.packs import load_ruleset
    from streams.settings import DEFAULT_PACK
    from streams.tools.replay import parse_seed

    classifier = Classifier(load_ruleset([DEFAULT_PACK]))
    return {
        alert.alert_id
        for path in sorted(SEEDS.glob("*.txt"))
        for alert in classifier.classify(parse_seed(path))
    }


def alert_ids(records) -> set[str]:
    return {record.key.decode() for record in records}


def seed_pairs(records) -> set[tuple[str, str]]:
    """(seed number, rule id) for alert records."""
    pairs = set()
    for record in records:
        alert = json.loads(record.value)
        pairs.add((alert["article"]["id"][:3], alert["rule_id"]))
    return pairs
