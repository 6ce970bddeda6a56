"""Stories and bursts on a real broker: tables survive a restart, bursts are emitted."""

from __future__ import annotations

import json
import time

import pytest
from kafka import KafkaProducer

from streams.engine import Classifier
from streams.models import Article
from streams.rules.packs import compile_texts
from streams.settings import Settings
from streams.stories import story_id
from streams.tools.replay import make_producer, publish

from .conftest import read_topic, settings_for

pytestmark = pytest.mark.integration


FLOOD_PACK = """
rules:
  - id: flood_warning
    title: Flood
    query: 'banjir OR flood'
"""
# One story each: the evidence names one country, and stories of different countries never merge.
COUNTRIES = ["France", "Germany", "Brazil", "Kenya", "Japan", "Chile", "Peru", "Egypt", "Norway"]
COUNTRIES += ["Vietnam", "Canada", "Mexico", "Nigeria", "Poland", "Spain", "Italy", "Greece"]
COUNTRIES += ["Turkey", "India", "Nepal", "Ghana", "Cuba", "Iceland", "Ireland", "Portugal"]
COUNTRIES += ["Argentina", "Colombia", "Morocco", "Tunisia", "Sweden", "Finland", "Austria"]


def flood(article_id: str, body: str) -> dict:
    return {"id": article_id, "title": "", "body": body, "source": "wire"}


def end_in_one_batch(settings: Settings, topic: str) -> None:
    """Write every record of ``topic`` again, each partition's in one batch: a compacted
    topic's content stays the same, and its end becomes a multi-record batch."""
    records = read_topic(settings, topic, until=lambda _: False, timeout=3)
    producer = KafkaProducer(**settings.kafka_client_options(linger_ms=1000, batch_size=1 << 20))
    for record in sorted(records, key=lambda r: (r.partition, r.offset)):
        producer.send(topic, record.value, record.key, record.headers, record.partition)
    producer.flush()
    producer.close()


def test_a_worker_restarted_mid_stream_keeps_every_story(
    broker_url, topics, start_worker, tmp_path
):
    """The second half of a stream, read by a restarted worker, joins the stories the first
    half opened: the worker recovers its story table to the end of the changelog.

    Whether a worker's own changelog ends in a multi-record batch (where Tansu reports the end
    short, README) depends on its producer's timing, so the test makes it so: the changelog's
    records are written again in one batch, which leaves the table as it was."""
    settings = settings_for(broker_url, topics)
    pack = tmp_path / "flood.yaml"
    pack.write_text(FLOOD_PACK)
    env = {
        "PANTAU_RULE_FILES": json.dumps([str(pack)]),
        "PANTAU_RULES_TOPIC": f"rules-{topics['app']}",
        "PANTAU_CLASSIFY_BATCH": "1",  # a story-table write per article, each holding one more
    }
    first_half = [flood(f"{c}-1", f"Floods hit {c} after days of heavy rain.") for c in COUNTRIES]
    second_half = [
        flood(f"{c}-2", f"The floods in {c} are receding, officials said.") for c in COUNTRIES
    ]
    classifier = Classifier(compile_texts([(pack.name, FLOOD_PACK)]))
    opened_by = {  # country -> the id of the story its first article opens
        c: story_id("flood_warning", classifier.classify(Article.model_validate(a))[0].alert_id)
        for c, a in zip(COUNTRIES, first_half, strict=True)
    }
    producer = make_producer(settings)

    worker = start_worker(**env)
    publish(producer, settings.articles_topic, first_half)
    records = read_topic(settings, settings.alerts_topic, until=lambda r: len(r) >= len(COUNTRIES))
    alerts = [json.loads(r.value) for r in records]
    assert {a["article"]["id"]: a["story"]["id"] for a in alerts} == {
        f"{c}-1": opened_by[c] for c in COUNTRIES
    }
    worker.stop()
    end_in_one_batch(settings, f"{topics['app']}-stories-changelog")

    start_worker(**env)  # same app id: the stories come back from the changelog
    publish(producer, settings.articles_topic, second_half)
    producer.close()
    everything = 2 * len(COUNTRIES)
    records = read_topic(settings, settings.alerts_topic, until=lambda r: len(r) >= everything)
    alerts = [json.loads(r.value) for r in records]
    later = [a for a in alerts if a["article"]["id"].endswith("-2")]
    assert sorted((a["article"]["id"], a["story"]["id"]) for a in later) == sorted(
        (f"{c}-2", opened_by[c]) for c in COUNTRIES
    )
    assert {(a["story_status"], a["story"]["article_count"]) for a in later} == {("update", 2)}


def test_a_rule_far_above_its_baseline_emits_a_burst(broker_url, topics, start_worker, tmp_path):
    settings = settings_for(broker_url, topics)
    pack = tmp_path / "flood.yaml"
    pack.write_text(FLOOD_PACK)
    bursts_topic = topics["alerts"] + ".bursts"
    start_worker(
        PANTAU_RULE_FILES=json.dumps([str(pack)]),
        PANTAU_BURSTS_TOPIC=bursts_topic,
        PANTAU_BURST_WINDOW_SECONDS="2",
        PANTAU_BURST_HISTORY="4",
        PANTAU_BURST_WARMUP="2",
        PANTAU_BURST_MIN_COUNT="6",
        PANTAU_BURST_FACTOR="4",
    )
    producer = make_producer(settings)
    article = {"title": "", "body": "Banjir melanda kota."}
    # A steady trickle (one alert per 2 s window), then twenty at once.
    publish(producer, settings.articles_topic, [{**article, "id": "warm-0"}])
    read_topic(settings, settings.alerts_topic, until=lambda r: len(r) >= 1)
    for n in range(1, 4):
        time.sleep(2)
        publish(producer, settings.articles_topic, [{**article, "id": f"warm-{n}"}])
    time.sleep(2)
    publish(producer, settings.articles_topic, [{**article, "id": f"flood-{n}"} for n in range(20)])
    producer.close()

    bursts = read_topic(settings, bursts_topic, until=lambda r: len(r) >= 1, timeout=60)
    assert bursts, "no burst event"
    event = json.loads(bursts[0].value)
    assert event["rule_id"] == "flood_warning"
    assert event["count"] >= 6 and event["count"] >= 4 * event["baseline"]
    assert len(bursts) == 1  # one event per rule and window, not one per alert
