"""`pantau rules backtest` on a real broker: articles at known times, a pack changed, exactly the
alerts it adds and removes, and the workers' consumer group left as it was."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta

import click
import pytest
from kafka import KafkaProducer
from kafka.admin import KafkaAdminClient

from streams.cli.backtest import window

from .conftest import read_topic, settings_for
from .test_guarantees import cli_env, pantau

pytestmark = pytest.mark.integration

DAY = 86_400_000
WATCH = """\
rules:
  - id: port_watch
    title: Ports
    version: "{version}"
    query: '{query}'
"""
# (id, days ago, body): the article 10 days old is outside --since 7d.
ARTICLES = [
    ("old-port", 10, "The port was closed after the storm."),
    ("en-port", 3, "Dock workers at the port went on strike over pay."),
    ("id-port", 2, "Buruh pelabuhan mogok kerja menuntut kenaikan upah."),
    ("id-dock", 1, "Kapal perang merapat di dermaga pada Minggu pagi."),
]


def produce(settings, now_ms: int) -> None:
    producer = KafkaProducer(bootstrap_servers=settings.bootstrap_servers)
    for article_id, days, body in ARTICLES:
        value = json.dumps({"id": article_id, "title": "", "body": body}).encode()
        producer.send(
            settings.articles_topic,
            key=article_id.encode(),
            value=value,
            timestamp_ms=now_ms - days * DAY,
        )
    producer.send(settings.articles_topic, value=b"not json", timestamp_ms=now_ms - DAY)
    producer.flush()
    producer.close()


def committed(admin: KafkaAdminClient, group: str, topic: str) -> dict[int, int]:
    """The group's committed offsets on ``topic``, by partition."""
    offsets = admin.list_group_offsets({group: None})[group]
    return {tp.partition: meta.offset for tp, meta in offsets.items() if tp.topic == topic}


def by_rule(result: dict) -> dict[str, dict]:
    return {rule["rule_id"]: rule for rule in result["rules"]}


def backtest(env: dict[str, str], *args: str) -> dict:
    done = pantau(env, "rules", "backtest", *args, "--json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_backtest_reports_exactly_what_a_change_adds_and_removes(
    broker_url, topics, start_worker, tmp_path
):
    settings = settings_for(broker_url, topics)
    env = cli_env(broker_url, topics)
    live = tmp_path / "watch.yaml"
    live.write_text(WATCH.format(version=1, query="pelabuhan OR port"))
    assert pantau(env, "rules", "push", str(live)).returncode == 0
    worker = start_worker(PANTAU_RULES_TOPIC=env["PANTAU_RULES_TOPIC"])
    produce(settings, int(time.time() * 1000))
    alerts = read_topic(settings, settings.alerts_topic, until=lambda r: len(r) >= 4)
    assert {json.loads(r.value)["rule_id"] for r in alerts} >= {"port_watch"}, worker.log()[-2000:]

    admin = KafkaAdminClient(bootstrap_servers=settings.bootstrap_servers)
    deadline = time.monotonic() + 30  # until the worker has committed everything it read
    while sum(committed(admin, topics["app"], topics["articles"]).values()) < len(ARTICLES) + 1:
        assert time.monotonic() < deadline, committed(admin, topics["app"], topics["articles"])
        time.sleep(0.5)
    offsets, groups = committed(admin, topics["app"], topics["articles"]), admin.list_groups()

    edited = tmp_path / "edited" / "watch.yaml"  # same pack name: it replaces the live one
    edited.parent.mkdir()
    edited.write_text(WATCH.format(version=2, query="pelabuhan OR dermaga"))
    result = backtest(env, str(edited), "--since", "7d")

    assert (result["records"], result["articles"], result["skipped"]) == (4, 3, {"not_json": 1})
    port = by_rule(result)["port_watch"]
    assert (port["now"], port["candidate"]) == (2, 2)
    assert (port["added_articles"], port["removed_articles"]) == (["id-dock"], ["en-port"])
    assert port["samples"]["added"] == [
        {"article_id": "id-dock", "title": "", "snippet": ARTICLES[3][2]}
    ]
    others = [r for r in result["rules"] if r["rule_id"] != "port_watch"]
    assert others and all(r["added"] == r["removed"] == 0 for r in others)
    assert (
        by_rule(result)["protest_unrest"]["now"]
        == by_rule(result)["protest_unrest"]["candidate"]
        == 2
    )
    assert result["articles_per_second"] > 0

    older = backtest(env, str(edited), "--from", iso_days_ago(4), "--to", iso_days_ago(1.5))
    port = by_rule(older)["port_watch"]
    assert (port["added_articles"], port["removed_articles"], port["now"]) == ([], ["en-port"], 2)

    alone = backtest(env, str(edited), "--against", str(live), "--since", "30d")
    assert [r["rule_id"] for r in alone["rules"]] == ["port_watch"]
    port = alone["rules"][0]
    assert (port["added_articles"], sorted(port["removed_articles"])) == (
        ["id-dock"],
        ["en-port", "old-port"],
    )

    text = pantau(env, "rules", "backtest", str(edited))
    assert text.returncode == 0, text.stderr
    assert "+ port_watch id-dock" in text.stdout and "- port_watch en-port" in text.stdout

    assert committed(admin, topics["app"], topics["articles"]) == offsets
    assert admin.list_groups() == groups
    admin.close()


def iso_days_ago(days: float) -> str:
    return (datetime.now(UTC) - timedelta(days=days)).isoformat()


def test_the_time_window_reads_since_from_and_to():
    now = datetime(2026, 12, 4, 12, tzinfo=UTC)
    ms = int(now.timestamp() * 1000)
    assert window("7d", None, None, now) == (ms - 7 * DAY, ms)
    assert window(None, None, None, now) == (ms - 7 * DAY, ms)
    assert window("90m", None, "2026-12-04T11:00:00+00:00", now) == (
        ms - 150 * 60_000,
        ms - 3_600_000,
    )
    assert window(None, "2026-12-01", "2026-12-02T00:00", now) == (ms - 3.5 * DAY, ms - 2.5 * DAY)
    for bad in (("7x", None, None), ("7d", "2026-12-01", None), (None, "yesterday", None)):
        with pytest.raises(click.UsageError):
            window(*bad, now)
