"""The whole path on a real broker: replay the seeds, a worker classifies, alerts arrive."""

from __future__ import annotations

import json

import pytest

from streams.replay import articles_from, make_producer, publish

from .conftest import EXPECTED_SEED_ALERTS, SEEDS, read_topic, seed_pairs, settings_for

pytestmark = pytest.mark.integration


def test_seeds_through_tansu_give_exactly_the_expected_alerts(broker_url, topics, start_worker):
    settings = settings_for(broker_url, topics)
    worker = start_worker()
    producer = make_producer(settings.bootstrap_servers)
    assert publish(producer, settings.articles_topic, articles_from([SEEDS])) == 5
    producer.close()

    records = read_topic(
        settings, settings.alerts_topic, until=lambda r: len(r) >= len(EXPECTED_SEED_ALERTS)
    )
    assert worker.process.poll() is None, worker.log()[-3000:]
    assert seed_pairs(records) == EXPECTED_SEED_ALERTS, worker.log()[-3000:]
    # Keys are the alert ids, so subscribers can de-duplicate on the key alone.
    for record in records:
        alert = json.loads(record.value)
        assert record.key.decode() == alert["alert_id"]
        assert alert["evidence"] and alert["evidence"][0]["terms"]
