"""Nothing lost, on a real broker: dead letters, accounting, `pantau dlq`, live rules."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest

from streams.tools.broker import free_port
from streams.tools.replay import make_producer

from .conftest import ROOT, read_topic, scrape, scrape_once_consumed, send, settings_for

pytestmark = pytest.mark.integration

GOOD = {"id": "good-1", "title": "", "body": "Rusia mengirim pasukan ke perbatasan Ukraina."}
BAD = [
    (b"not json", "not_json"),
    (b"[1, 2]", "not_object"),
    (b'{"id": "e", "title": "", "body": ""}', "empty_text"),
    (b'{"id": "c", "title": "\\u0000\\u0000", "body": "\\u200b\\u0007"}', "empty_text"),
    (b'{"id": "s", "body": "kata \\ud800"}', "lone_surrogate"),
    (b'{"id": "d", "body": "satu", "body": "dua"}', "duplicate_key"),
    (b'{"id": 7.5, "body": "x"}', "invalid_fields"),
    (b"\xff\xfe", "invalid_utf8"),
    (json.dumps({"id": "big", "body": "kata " * 300_000}).encode(), "too_large"),
    (b"[" * 50_000 + b"]" * 50_000, "too_deep"),
]


def pantau(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "streams", *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )


def cli_env(broker_url: str, topics: dict[str, str]) -> dict[str, str]:
    return {
        "PANTAU_BROKER": broker_url,
        "PANTAU_ARTICLES_TOPIC": topics["articles"],
        "PANTAU_ALERTS_TOPIC": topics["alerts"],
        "PANTAU_RULES_TOPIC": topics["articles"] + ".rules",
    }


def test_every_record_is_classified_or_dead_lettered(broker_url, topics, start_worker):
    settings = settings_for(broker_url, topics)
    port = free_port()
    start_worker(PANTAU_METRICS_PORT=str(port))
    html = {"id": "html-1", "body": "<p>Tentara <b>dikirim</b> ke Kursk.</p><script>x</script>"}
    pathological = {"id": "repeat", "body": ("pasukan dikirim " * 70_000)[:1_000_000]}
    # Odd but readable: classified like any article.
    bom = b"\xef\xbb\xbf" + json.dumps({**GOOD, "id": "bom-1"}).encode()
    number = json.dumps({**GOOD, "id": 12345}).encode()  # keyed as "12345"
    wide = json.dumps({**{f"f{n}": n for n in range(100_000)}, **GOOD, "id": "wide-1"}).encode()
    values = [
        json.dumps(GOOD).encode(),
        *(raw for raw, _ in BAD),
        json.dumps(html).encode(),
        json.dumps(pathological).encode(),
        bom,
        number,
        wide,
        json.dumps(GOOD).encode(),
    ]
    send(settings, values)

    letters = read_topic(settings, settings.dead_letter_topic, until=lambda r: len(r) >= len(BAD))
    reasons = sorted(dict(r.headers)["pantau.reason"].decode() for r in letters)
    assert reasons == sorted(reason for _, reason in BAD)
    for record in letters:
        headers = dict(record.headers)
        assert headers["pantau.topic"].decode() == settings.articles_topic
        assert int(headers["pantau.offset"]) >= 0 and headers["pantau.error"]
    originals = {raw for raw, _ in BAD}
    assert {r.value for r in letters} == originals  # the record itself is kept, byte for byte

    alerts = read_topic(settings, settings.alerts_topic, until=lambda r: len(r) >= 7)
    by_article = {json.loads(r.value)["article"]["id"] for r in alerts}
    assert {"good-1", "html-1", "repeat", "bom-1", "12345", "wide-1"} <= by_article
    # The duplicate article gave the same alert id again (same key), not a new one.
    good_keys = [r.key for r in alerts if json.loads(r.value)["article"]["id"] == "good-1"]
    assert len(good_keys) == 2 and good_keys[0] == good_keys[1]

    metrics = scrape_once_consumed(port, len(values), timeout=30)
    consumed = metrics["pantau_articles_consumed_total"]
    classified = metrics["pantau_articles_classified_total"]
    dead = sum(v for k, v in metrics.items() if k.startswith("pantau_articles_dead_lettered_total"))
    assert consumed == len(values) == classified + dead
    assert dead == len(BAD)


def test_dlq_lists_and_replays_dead_letters(broker_url, topics, start_worker):
    settings = settings_for(broker_url, topics)
    start_worker()
    send(settings, [b"not json", b'{"id": "e", "body": ""}'])
    read_topic(settings, settings.dead_letter_topic, until=lambda r: len(r) >= 2)
    env = cli_env(broker_url, topics)

    listed = pantau(env, "dlq", "--json", "--idle-timeout", "2")
    assert listed.returncode == 0, listed.stderr
    rows = [json.loads(line) for line in listed.stdout.splitlines()]
    assert sorted(r["reason"] for r in rows) == ["empty_text", "not_json"]
    assert all(r["topic"] == settings.articles_topic for r in rows)

    replayed = pantau(env, "dlq", "--replay", "--reason", "not_json", "--idle-timeout", "2")
    assert "re-published 1 record(s)" in replayed.stderr
    articles = read_topic(settings, settings.articles_topic, until=lambda r: len(r) >= 3)
    again = [r for r in articles if r.headers and dict(r.headers).get("pantau.replayed_from")]
    assert [r.value for r in again] == [b"not json"]


def test_rules_update_live_and_a_bad_pack_is_refused(broker_url, topics, start_worker, tmp_path):
    settings = settings_for(broker_url, topics)
    env = cli_env(broker_url, topics)
    port = free_port()
    worker = start_worker(
        PANTAU_METRICS_PORT=str(port), PANTAU_RULES_TOPIC=env["PANTAU_RULES_TOPIC"]
    )

    flood = tmp_path / "flood.yaml"
    flood.write_text(
        "rules:\n  - id: flood_warning\n    title: Flood\n    version: '3'\n"
        "    query: 'banjir OR flood*'\n"
    )
    pushed = pantau(env, "rules", "push", str(flood))
    assert pushed.returncode == 0, pushed.stderr

    broken = tmp_path / "broken.yaml"
    broken.write_text("rules:\n  - id: broken\n    title: B\n    query: 'banjir AND ('\n")
    refused = pantau(env, "rules", "push", str(broken))
    assert refused.returncode == 1 and f"{broken}:4:" in refused.stderr

    # A bad pack that reaches the topic anyway (not through `rules push`) is rejected.
    send(settings, [], topic=env["PANTAU_RULES_TOPIC"])
    producer = make_producer(settings)
    producer.send(env["PANTAU_RULES_TOPIC"], key=b"evil", value=b"rules: [ {id: x")
    producer.flush()
    producer.close()

    deadline = time.monotonic() + 45
    while time.monotonic() < deadline and "rules_rejected" not in worker.log():
        time.sleep(0.5)
    assert '"pack": "flood"' in worker.log() and "rules_rejected" in worker.log()
    metrics = scrape(port)
    assert metrics["pantau_rule_reloads_total{outcome=accepted}"] == 1
    assert metrics["pantau_rule_reloads_total{outcome=rejected}"] == 1

    send(settings, [json.dumps({"id": "f1", "body": "Banjir melanda Jakarta."}).encode()])
    alerts = read_topic(settings, settings.alerts_topic, until=lambda r: len(r) >= 1)
    alert = json.loads(alerts[0].value)
    assert (alert["rule_id"], alert["rule_version"]) == ("flood_warning", "3")
