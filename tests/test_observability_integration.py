"""Real parts: Tansu, a worker and Prometheus scraping it; every dashboard query returns data."""

from __future__ import annotations

import json
import math
import shutil
import subprocess
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import yaml

from streams.tools.broker import free_port, stop_process
from streams.tools.dashboard import DASHBOARD_PATH
from streams.tools.replay import articles_from, make_producer, publish

from .conftest import (
    ROOT,
    SEEDS,
    alert_ids,
    offline_seed_alert_ids,
    read_topic,
    settings_for,
)

PROMETHEUS_BIN = shutil.which("prometheus")
DEPLOY = ROOT / "deploy" / "prometheus"
# What Grafana would put in place of its macros, sized for a 1 s scrape and a young worker.
GRAFANA_MACROS = {"$__rate_interval": "1m", "$__range": "5m", "$__interval": "1m"}

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(
        PROMETHEUS_BIN is None,
        reason="prometheus is not installed (Debian: apt-get install prometheus; .ci/run does it)",
    ),
]


def api(base: str, path: str, **params: object) -> dict:
    url = f"{base}{path}?{urllib.parse.urlencode(params)}"
    with urllib.request.urlopen(url, timeout=10) as response:
        body = json.load(response)
    assert body["status"] == "success", body
    return body["data"]


def finite_values(data: dict) -> list[float]:
    """The finite numbers in an instant or range query result."""
    points = [
        point
        for series in data["result"]
        for point in ([series["value"]] if "value" in series else series["values"])
    ]
    return [v for _, raw in points if math.isfinite(v := float(raw))]


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1):
            return True
    except OSError:
        return False


def eventually(check: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.5)
    return True


@pytest.fixture
def metrics_port() -> int:
    return free_port()


@pytest.fixture
def prometheus(tmp_path: Path, metrics_port: int) -> Iterator[str]:
    """Prometheus with the deploy config and rules, scraping the test's worker every second."""
    config = yaml.safe_load((DEPLOY / "prometheus.yml").read_text())
    config["global"] = {"scrape_interval": "1s", "evaluation_interval": "1s"}
    config["rule_files"] = [str(DEPLOY / "alerts.yml")]
    (job,) = config["scrape_configs"]
    job["static_configs"] = [{"targets": [f"127.0.0.1:{metrics_port}"]}]
    config_path = tmp_path / "prometheus.yml"
    config_path.write_text(yaml.safe_dump(config))
    port = free_port()
    log_path = tmp_path / "prometheus.log"
    log = log_path.open("w")
    process = subprocess.Popen(
        [
            PROMETHEUS_BIN,
            f"--config.file={config_path}",
            f"--storage.tsdb.path={tmp_path / 'tsdb'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--log.level=warn",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        assert eventually(lambda: answers(f"{base}/-/ready"), 20), log_path.read_text()
        yield base
    finally:
        stop_process(process)
        log.close()


def seed_alerts(settings, worker, *broken: bytes) -> list:
    """Publish the seeds (and any raw records after them); their alerts, once all are there."""
    producer = make_producer(settings)
    publish(producer, settings.articles_topic, articles_from([SEEDS]))
    for value in broken:
        producer.send(settings.articles_topic, key=b"broken", value=value)
    producer.flush()
    producer.close()
    expected = offline_seed_alert_ids()
    records = read_topic(settings, settings.alerts_topic, until=lambda r: alert_ids(r) >= expected)
    assert alert_ids(records) == expected, worker.log()[-3000:]
    return records


def dashboard_targets() -> list[tuple[str, dict]]:
    panels = json.loads(DASHBOARD_PATH.read_text())["panels"]
    return [(p["title"], t) for p in panels if p["type"] != "row" for t in p["targets"]]


def run_target(base: str, target: dict) -> dict:
    expr = target["expr"]
    for macro, value in GRAFANA_MACROS.items():
        expr = expr.replace(macro, value)
    assert "$" not in expr, f"unhandled Grafana macro in {expr}"
    if target.get("instant"):
        return api(base, "/api/v1/query", query=expr)
    now = time.time()
    return api(base, "/api/v1/query_range", query=expr, start=now - 60, end=now, step=1)


def test_every_dashboard_query_answers_from_a_scraped_worker(
    broker_url, topics, start_worker, prometheus, metrics_port
):
    settings = settings_for(broker_url, topics)
    worker = start_worker(PANTAU_METRICS_PORT=str(metrics_port))
    records = seed_alerts(settings, worker, b"not json")
    judge(settings, records)

    def scraped_everything() -> bool:
        alerts = finite_values(
            api(prometheus, "/api/v1/query", query="sum(pantau_alerts_published_total)")
        )
        dead = finite_values(
            api(prometheus, "/api/v1/query", query="sum(pantau_articles_dead_lettered_total)")
        )
        return alerts == [len(records)] and dead == [1]

    assert eventually(scraped_everything, timeout=20), worker.log()[-3000:]

    # Lag comes from a timer and rates need a second scrape: poll each query for a while.
    missing = [
        f"{title}: {target['expr']}"
        for title, target in dashboard_targets()
        if not eventually(lambda t=target: bool(finite_values(run_target(prometheus, t))), 15)
    ]
    assert not missing, "queries without data:\n" + "\n".join(missing)

    # The alerting and recording rules load and evaluate against real series without errors.
    rules = [r for g in api(prometheus, "/api/v1/rules")["groups"] for r in g["rules"]]
    groups = yaml.safe_load((DEPLOY / "alerts.yml").read_text())["groups"]
    deployed = [rule.get("alert") or rule["record"] for g in groups for rule in g["rules"]]
    assert sorted(r["name"] for r in rules) == sorted(deployed)
    assert all(r["health"] == "ok" for r in rules), rules

    # Logs: JSON lines only; one canonical line per alert and per dead letter.
    lines = [json.loads(line) for line in worker.log().splitlines() if line.strip()]
    alert_lines = [line for line in lines if line["event"] == "alert"]
    published = sorted(
        (json.loads(r.value)["article"]["id"], json.loads(r.value)["rule_id"]) for r in records
    )
    assert sorted((line["article_id"], line["rule_id"]) for line in alert_lines) == published
    assert all(line["latency_seconds"] >= 0 for line in alert_lines)
    assert [line["reason"] for line in lines if line["event"] == "dead_letter"] == ["not_json"]
    assert any(line["logger"].startswith("faust.") for line in lines), "Faust logs bypass JSON"


def judge(settings, records) -> dict[str, float]:
    """Readers' verdicts on the seeds' alerts, one of them changed; the precision they give.

    troop_deployment: correct, wrong changed to correct, wrong (2 of 3); treaty_ratified: wrong.
    """
    alerts = {r.key.decode(): json.loads(r.value)["rule_id"] for r in records}
    t1, t2, t3 = sorted(a for a, rule in alerts.items() if rule == "troop_deployment")[:3]
    (r1, *_) = sorted(a for a, rule in alerts.items() if rule == "treaty_ratified")
    producer = make_producer(settings)
    for alert_id, verdict in [
        (t1, "correct"),
        (t2, "wrong"),
        (t3, "wrong"),
        (r1, "wrong"),
        (t2, "correct"),
    ]:
        value = json.dumps({"alert_id": alert_id, "verdict": verdict}).encode()
        producer.send(settings.alert_feedback_topic, key=alert_id.encode(), value=value)
    producer.flush()
    producer.close()
    return {"troop_deployment": 2 / 3, "treaty_ratified": 0.0}


def by_rule(data: dict) -> dict[str, float]:
    return {s["metric"]["rule_id"]: float(s["value"][1]) for s in data["result"]}


def test_the_precision_the_dashboard_shows_is_the_alerting_rules_and_the_verdicts(
    broker_url, topics, start_worker, prometheus, metrics_port
):
    settings = settings_for(broker_url, topics)
    worker = start_worker(PANTAU_METRICS_PORT=str(metrics_port))
    expected = judge(settings, seed_alerts(settings, worker))

    (panel,) = (t for title, t in dashboard_targets() if title.startswith("Precision by rule"))
    shown: dict[str, float] = {}

    def settled() -> bool:
        shown.clear()
        shown.update(by_rule(run_target(prometheus, panel)))
        return shown.keys() == expected.keys() and all(
            math.isclose(shown[rule], value, abs_tol=1e-9) for rule, value in expected.items()
        )

    assert eventually(settled, timeout=30), (shown, worker.log()[-2000:])
    recorded = "pantau:alert_feedback_precision:24h"
    found: dict[str, float] = {}

    def recorded_too() -> bool:
        found.update(by_rule(api(prometheus, "/api/v1/query", query=recorded)))
        return found.keys() == expected.keys() and all(
            math.isclose(found[rule], shown[rule], abs_tol=1e-9) for rule in expected
        )

    assert eventually(recorded_too, timeout=15), (found, shown)
