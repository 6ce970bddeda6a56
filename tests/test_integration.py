"""The whole path on a real broker: replay the seeds, a worker classifies, alerts arrive."""

from __future__ import annotations

import json

import pytest

from streams.tools.replay import articles_from, make_producer, publish

from .conftest import EXPECTED_SEED_ALERTS, SEEDS, read_topic, seed_pairs, settings_for

pytestmark = pytest.mark.integration
FIRST_RULES = {rule for _, rule in EXPECTED_SEED_ALERTS}


def first_rule_pairs(records) -> set[tuple[str, str]]:
    return {pair for pair in seed_pairs(records) if pair[1] in FIRST_RULES}


def test_seeds_through_tansu_give_exactly_the_expected_alerts(broker_url, topics, start_worker):
    settings = settings_for(broker_url, topics)
    worker = start_worker()
    producer = make_producer(settings)
    assert publish(producer, settings.articles_topic, articles_from([SEEDS])) == 5
    producer.close()

    records = read_topic(
        settings,
        settings.alerts_topic,
        until=lambda r: first_rule_pairs(r) >= EXPECTED_SEED_ALERTS,
    )
    assert worker.process.poll() is None, worker.log()[-3000:]
    assert first_rule_pairs(records) == EXPECTED_SEED_ALERTS, worker.log()[-3000:]
    alerts = [json.loads(r.value) for r in records]
    # Keys are the alert ids, so subscribers can de-duplicate on the key alone.
    for record, alert in zip(records, alerts, strict=True):
        assert record.key.decode() == alert["alert_id"]
        assert alert["evidence"] and alert["evidence"][0]["terms"]
        assert alert["story"]["id"] and alert["story_status"] in ("new", "update")

    # Three outlets report the ratification: one story that grows to three articles.
    ratified = [a for a in alerts if a["rule_id"] == "treaty_ratified"]
    assert len({a["story"]["id"] for a in ratified}) == 1
    assert sorted(a["story"]["article_count"] for a in ratified) == [1, 2, 3]
    assert [a["story_status"] for a in ratified].count("new") == 1
