"""The ``classify`` agent: articles in, alerts (or dead letters) out, nothing dropped."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime

import structlog

from streams import metrics, sensors
from streams.app import alerts_topic, app, articles_topic, dead_letter_topic, settings
from streams.classify import BadRecord, Classifier, parse_record
from streams.models import Alert
from streams.rules.packs import load_ruleset

log = structlog.get_logger("pantau.worker")

classifier = Classifier(load_ruleset(settings.rule_files))

# ---- metrics wiring: rule-set gauges, Faust's sensor metrics and the consumer-lag timer -------
metrics.rules_loaded(classifier.ruleset)
sensors.install(app, lag_topics={articles_topic.get_topic_name()})


@app.agent(articles_topic)
async def classify(stream):
    """Each record ends classified or dead-lettered before its offset can be committed."""
    async for event in stream.events():
        metrics.ARTICLES_CONSUMED.inc()
        message = event.message
        started = time.perf_counter()
        try:
            article = parse_record(event.value, settings.max_body_bytes)
            alerts = classifier.classify(article)
        except BadRecord as error:
            await dead_letter(message, error.reason, error.message)
            continue
        except Exception as error:  # a bug must not stop the partition or lose the record
            log.exception("classify_failed", offset=message.offset, partition=message.partition)
            await dead_letter(message, "internal_error", f"{type(error).__name__}: {error}")
            continue
        metrics.CLASSIFY_SECONDS.observe(time.perf_counter() - started)
        await publish(alerts, since=article.published_at or article.received_at)
        metrics.ARTICLES_CLASSIFIED.inc()
        metrics.LAST_PROCESSED.set_to_current_time()


async def publish(alerts: list[Alert], since: datetime | None) -> None:
    """Send every alert and wait for the broker's acknowledgements (at-least-once)."""
    if not alerts:
        return
    pending = [
        await alerts_topic.send(key=a.alert_id.encode(), value=a.model_dump_json().encode())
        for a in alerts
    ]
    await asyncio.gather(*pending)
    latency = None if since is None else max(0.0, time.time() - since.timestamp())
    for alert in alerts:
        metrics.ALERTS_PUBLISHED.labels(alert.rule_id, alert.severity).inc()
        if latency is not None:
            metrics.END_TO_END_SECONDS.observe(latency)
        log.info(
            "alert",
            alert_id=alert.alert_id,
            rule_id=alert.rule_id,
            article_id=alert.article.id,
            score=alert.score,
            latency_seconds=latency,
        )


async def dead_letter(message, reason: str, detail: str) -> None:
    headers = [
        ("pantau.reason", reason.encode()),
        ("pantau.error", detail[:1000].encode()),
        ("pantau.topic", message.topic.encode()),
        ("pantau.partition", str(message.partition).encode()),
        ("pantau.offset", str(message.offset).encode()),
    ]
    sent = await dead_letter_topic.send(key=message.key, value=message.value, headers=headers)
    await sent
    metrics.ARTICLES_DEAD_LETTERED.labels(reason).inc()
    log.warning(
        "dead_letter",
        reason=reason,
        error=detail,
        partition=message.partition,
        offset=message.offset,
    )
