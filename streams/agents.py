"""The worker's agents: articles in, alerts or dead letters out; rules followed live.

Every consumed record ends in exactly one of two places before Faust may commit its offset:
classified (its alerts acknowledged by the broker; there may be none) or on the dead-letter
topic with the reason in its headers. ``consumed = classified + dead-lettered`` always holds.
"""

from __future__ import annotations

import asyncio
import time
from datetime import datetime

import structlog
from aiokafka import AIOKafkaConsumer, TopicPartition

from streams import metrics, sensors
from streams.app import alerts_topic, app, articles_topic, dead_letter_topic, settings
from streams.classify import BadRecord, parse_record
from streams.models import Alert
from streams.rules.live import LiveRules
from streams.rules.packs import RulePackError

log = structlog.get_logger("pantau.worker")

rules = LiveRules(settings.rule_files, topic=settings.rules_topic)
rules_ready = asyncio.Event()

metrics.rules_loaded(rules.ruleset)
sensors.install(app, lag_topics={articles_topic.get_topic_name()})


@app.agent(articles_topic)
async def classify(stream):
    """record -> validate -> normalise -> match -> alerts -> publish (or dead-letter)."""
    await _wait_for_rules()
    async for event in stream.events():
        metrics.ARTICLES_CONSUMED.inc()
        message = event.message
        started = time.perf_counter()
        try:
            article = parse_record(event.value, settings.max_body_bytes)
            alerts = rules.classifier.classify(article)
        except BadRecord as error:
            await dead_letter(message, error.reason, error.message)
            continue
        except Exception as error:  # a bug must not stop the partition or lose the record
            log.exception("classify_failed", partition=message.partition, offset=message.offset)
            await dead_letter(message, "internal_error", f"{type(error).__name__}: {error}")
            continue
        elapsed = time.perf_counter() - started
        metrics.CLASSIFY_SECONDS.observe(elapsed)
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
            rule_version=alert.rule_version,
            article_id=alert.article.id,
            score=alert.score,
            latency_seconds=latency,
        )


async def dead_letter(message, reason: str, detail: str) -> None:
    """Park a record with why and where it came from; wait until the broker has it."""
    headers = [
        ("pantau.reason", reason.encode()),
        ("pantau.error", detail[:1000].encode()),
        ("pantau.topic", message.topic.encode()),
        ("pantau.partition", str(message.partition).encode()),
        ("pantau.offset", str(message.offset).encode()),
    ]
    value = message.value
    room = settings.max_record_bytes - 65_536  # headroom for key, headers and framing
    if value is not None and len(value) > room:
        headers.append(("pantau.truncated_from", str(len(value)).encode()))
        value = value[:room]
    sent = await dead_letter_topic.send(key=message.key, value=value, headers=headers)
    await sent
    metrics.ARTICLES_DEAD_LETTERED.labels(reason).inc()
    log.warning(
        "dead_letter",
        reason=reason,
        error=detail,
        key=(message.key or b"").decode("utf-8", "replace")[:200],
        partition=message.partition,
        offset=message.offset,
    )


# ---- live rules ---------------------------------------------------------------------------------
async def _wait_for_rules() -> None:
    """Start classifying with the rules topic applied, unless it takes too long."""
    try:
        await asyncio.wait_for(rules_ready.wait(), settings.rules_wait)
    except TimeoutError:
        log.warning("rules_topic_not_read", waited_seconds=settings.rules_wait)


def apply_rules_record(key: bytes | None, value: bytes | None) -> None:
    name = (key or b"default").decode("utf-8", "replace")
    text = None if value is None else value.decode("utf-8", "replace")
    try:
        ruleset = rules.apply(name, text)
    except RulePackError as error:
        metrics.RULE_RELOADS.labels("rejected").inc()
        log.error("rules_rejected", pack=name, error=str(error), serving=rules.ruleset.version)
        return
    metrics.RULE_RELOADS.labels("accepted").inc()
    metrics.rules_loaded(ruleset)
    log.info("rules_loaded", pack=name, version=ruleset.version, rules=len(ruleset.rules))


@app.task
async def follow_rules() -> None:
    """Read the whole rules topic, then follow it (no consumer group: every worker reads all).

    Failures (broker away, topic deleted) are logged and retried with back-off; the worker
    keeps classifying with the rule set it has.
    """
    backoff = 1.0
    while True:
        try:
            await _follow_rules()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("rules_follower_failed", retry_in_seconds=backoff)
            rules_ready.set()
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 30.0)


async def _follow_rules() -> None:
    consumer = AIOKafkaConsumer(
        bootstrap_servers=settings.bootstrap_servers,
        enable_auto_commit=False,
        **settings.kafka_python_security(),
    )
    await consumer.start()
    try:
        partitions = await _rules_partitions(consumer)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        log.info(
            "rules_topic_following", topic=settings.rules_topic, end_offsets=sum(ends.values())
        )
        while True:
            batch = await consumer.getmany(timeout_ms=1000)
            for records in batch.values():
                for record in records:
                    apply_rules_record(record.key, record.value)
            if not rules_ready.is_set() and all(
                await consumer.position(tp) >= ends[tp] for tp in partitions
            ):
                rules_ready.set()
    finally:
        await consumer.stop()


async def _rules_partitions(consumer: AIOKafkaConsumer) -> list[TopicPartition]:
    """The rules topic's partitions, waiting for it to exist (it may be created later)."""
    while True:
        # A fresh metadata snapshot: the consumer's own cache only knows assigned topics.
        cluster = await consumer._client.fetch_all_metadata()
        partitions = cluster.partitions_for_topic(settings.rules_topic)
        if partitions:
            assigned = [TopicPartition(settings.rules_topic, p) for p in sorted(partitions)]
            consumer.assign(assigned)
            return assigned
        rules_ready.set()  # nothing to read yet: classify with the rule files meanwhile
        await asyncio.sleep(1)
