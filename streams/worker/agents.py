"""The worker's agents: articles in, alerts or dead letters out; rules followed live.

Two stages. ``classify`` turns a batch of articles into matches and sends each rule's matches
as one record, keyed by rule id, to an internal topic; ``stories`` owns the rules of its
partitions, puts each alert into a story, counts them for bursts and publishes them. Every
consumed article ends in exactly one of two places before Faust may commit its offset:
classified (its matches acknowledged by the broker; there may be none) or on the dead-letter
topic with the reason in its headers, so ``consumed = classified + dead-lettered`` always
holds. Alerts are acknowledged before a match's offset is committed.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

import faust
import structlog
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.client import AIOKafkaClient
from pydantic import TypeAdapter

from streams.bursts import BurstEvent, BurstThresholds, detect, window_start
from streams.models import Alert
from streams.rules.packs import RulePackError
from streams.stories import (
    Signature,
    alert_signature,
    alert_time,
    assign,
    document_minhash,
)
from streams.text.document import Document
from streams.validate import BadRecord, parse_record
from streams.worker import metrics, sensors
from streams.worker.app import (
    alerts_topic,
    app,
    articles_topic,
    bursts_topic,
    dead_letter_topic,
    matches_topic,
    rule_counts,
    rule_watch,
    settings,
    stories_table,
    stories_topic,
)
from streams.worker.live_rules import LiveRules

log = structlog.get_logger("pantau.worker")
ACK_WARNING_SECONDS = 3.0
RECORD_HEADROOM = 65_536  # for a record's key, headers and framing under max_record_bytes
# A matches record's size: under the record limit, and small, since an agent may hold
# PANTAU_STREAM_BUFFER of them fetched at once.
MATCHES_RECORD_BYTES = min(512 * 1024, settings.max_record_bytes - RECORD_HEADROOM)
BROKER_PROBE_SECONDS = 2.0

rules = LiveRules(settings.rule_files, topic=settings.rules_topic)
story_window = timedelta(hours=settings.story_window_hours)
burst_thresholds = BurstThresholds(
    window_seconds=settings.burst_window_seconds,
    history=settings.burst_history,
    factor=settings.burst_factor,
    min_count=settings.burst_min_count,
    warmup=settings.burst_warmup,
)

metrics.rules_loaded(rules.ruleset)
sensors.install(app, lag_topics={articles_topic.get_topic_name()})


@app.agent(articles_topic)
async def classify(stream):
    """record -> validate -> normalise -> match -> alerts -> publish (or dead-letter).

    Articles are taken in small batches (``PANTAU_CLASSIFY_BATCH``, or what has come within
    ``PANTAU_CLASSIFY_BATCH_WAIT_MS``) so that a rule's matches from the whole batch travel to
    its story owner as one record: one story-table write and one count per rule and batch
    instead of per alert. Faust acknowledges the batch's offsets only after this body has
    returned, that is after every match of it is acknowledged by the broker.
    """
    wait = settings.classify_batch_wait_ms / 1000
    async for events in stream.take_events(settings.classify_batch, within=wait):
        matches: list[Match] = []
        classified = 0
        for event in events:
            found = await classify_event(event)
            if found is not None:
                matches.extend(found)
                classified += 1
        await deliver(match_records(matches), "matches")
        metrics.ARTICLES_CLASSIFIED.inc(classified)
        metrics.LAST_PROCESSED.set_to_current_time()


async def classify_event(event) -> list[Match] | None:
    """The article's matches (maybe none), or None once it is dead-lettered."""
    metrics.ARTICLES_CONSUMED.inc()
    message = event.message
    started = time.perf_counter()
    try:
        article = parse_record(event.value, settings.max_body_bytes)
        document = Document.from_article(article)
        alerts = rules.classifier.classify_document(document)
    except BadRecord as error:
        await dead_letter(message, error.reason, error.message, started)
        return None
    except Exception as error:  # a bug must not stop the partition or lose the record
        log.exception("classify_failed", partition=message.partition, offset=message.offset)
        await dead_letter(message, "internal_error", f"{type(error).__name__}: {error}", started)
        return None
    metrics.CLASSIFY_SECONDS.observe(time.perf_counter() - started)
    if not alerts:
        return []
    minhash = document_minhash(document)
    published = article.published_at or article.received_at
    since = published.timestamp() if published else None
    return [Match(alert, alert_signature(alert, minhash), since) for alert in alerts]


@dataclass(frozen=True, slots=True)
class Match:
    """An alert on its way to its rule's story owner, with what the story stage needs."""

    alert: Alert
    signature: Signature
    since: float | None  # the article's publication (or receipt) time, for latency

    def to_json(self) -> bytes:
        return _MATCH_JSON.dump_json(self)


# pydantic-core writes and reads these records without building Python dicts: on batches of
# seed articles, 0.08 instead of 0.18 ms an article to write, 0.16 instead of 0.47 to read.
_MATCH_JSON = TypeAdapter(Match)
_MATCHES_JSON = TypeAdapter(dict[Literal["matches"], list[Match]])
MATCHES_PREFIX = b'{"matches":['  # how a batched record starts; older single matches do not


def match_records(matches: list[Match]) -> list[Outgoing]:
    """One record per rule on the matches topic, keyed by rule id, holding its matches in order
    (split where a record would pass ``MATCHES_RECORD_BYTES``)."""
    by_rule: dict[str, list[bytes]] = {}
    for match in matches:
        by_rule.setdefault(match.alert.rule_id, []).append(match.to_json())
    records = []
    for rule_id, encoded in by_rule.items():
        chunk: list[bytes] = []
        size = 0
        for item in encoded:
            if chunk and size + len(item) > MATCHES_RECORD_BYTES:
                records.append(Outgoing(matches_topic, rule_id, _matches_value(chunk)))
                chunk, size = [], 0
            chunk.append(item)
            size += len(item) + 1
        records.append(Outgoing(matches_topic, rule_id, _matches_value(chunk)))
    return records


def _matches_value(encoded: list[bytes]) -> bytes:
    return MATCHES_PREFIX + b",".join(encoded) + b"]}"


def read_matches(value: bytes) -> list[Match]:
    """The matches of one record; a record of a single match (as workers sent before matches
    were batched) is read too, so a rolling upgrade loses nothing in flight."""
    if value.startswith(MATCHES_PREFIX):
        return _MATCHES_JSON.validate_json(value)["matches"]
    return [_MATCH_JSON.validate_json(value)]


@app.agent(matches_topic)
async def stories(stream):
    """matches of one rule -> stories (table per rule) -> burst count (windowed) -> publish."""
    async for event in stream.events():
        matches = read_matches(event.value)
        alerts = group(event.key, matches)
        try:
            burst = count_for_bursts(event.key, event.message.timestamp, len(matches))
        except Exception:  # the alerts still go out, without a burst check, rather than be lost
            log.exception("burst_count_failed", rule_id=event.key)
            burst = None
        await publish(alerts, [m.since for m in matches], burst)


def group(rule_id: str, matches: list[Match]) -> list[Alert]:
    """Put each alert into a story of its rule, in order; the rule's state is written once."""
    state = stories_table.get(rule_id)
    alerts = []
    for match in matches:
        alert = match.alert
        try:
            assignment = assign(
                state,
                rule_id=rule_id,
                alert_id=alert.alert_id,
                article_id=alert.article.id,
                source=alert.article.source,
                signature=match.signature,
                now=alert_time(alert.article.published_at, alert.detected_at),
                window=story_window,
            )
        except Exception:  # the alert still goes out, without a story, rather than be lost
            log.exception("story_failed", alert_id=alert.alert_id, rule_id=rule_id)
            alerts.append(alert)
            continue
        state = assignment.state
        update = {"story": assignment.story, "story_status": assignment.status}
        alerts.append(alert.model_copy(update=update))
    if state is not None:
        stories_table[rule_id] = state
    return alerts


def count_for_bursts(rule_id: str, at: float, added: int) -> BurstEvent | None:
    """Count the alerts in their tumbling window; a burst when they cross the threshold."""
    rule_counts[rule_id] += added
    counts = rule_counts[rule_id]
    start = window_start(at, burst_thresholds.window_seconds)
    since = rule_watch.get(rule_id)
    if since is None:
        rule_watch[rule_id] = since = start
    watched = int((start - since) // burst_thresholds.window_seconds)
    size = burst_thresholds.window_seconds
    back_to = min(watched, burst_thresholds.history)  # detect() reads no further back
    history = [counts.delta(size * back) for back in range(back_to, 0, -1)]
    count = counts.current()
    burst = detect(rule_id, start, count, history, burst_thresholds)
    if burst is None or detect(rule_id, start, count - added, history, burst_thresholds):
        return None  # below the threshold, or already reported for this window
    return burst


async def publish(alerts: list[Alert], since: list[float | None], burst: BurstEvent | None) -> None:
    """Send the alerts (and each new story's first alert, and a burst); wait for the acks."""
    outgoing = []
    for alert in alerts:
        key, value = alert.alert_id.encode(), alert.model_dump_json().encode()
        outgoing.append(Outgoing(alerts_topic, key, value))
        if settings.publish_new_stories and alert.story_status == "new":
            outgoing.append(Outgoing(stories_topic, key, value))
    if burst is not None:
        value = burst.model_dump_json().encode()
        outgoing.append(Outgoing(bursts_topic, burst.rule_id.encode(), value))
        metrics.BURSTS.labels(burst.rule_id).inc()
        log.warning("burst", rule_id=burst.rule_id, count=burst.count, baseline=burst.baseline)
    await deliver(outgoing, "alert")
    now = time.time()
    for alert, published in zip(alerts, since, strict=True):
        latency = None if published is None else max(0.0, now - published)
        metrics.ALERTS_PUBLISHED.labels(alert.rule_id, alert.severity).inc()
        if alert.story_status == "new":
            metrics.STORIES_OPENED.labels(alert.rule_id).inc()
        if latency is not None:
            metrics.END_TO_END_SECONDS.observe(latency)
        log.info(
            "alert",
            alert_id=alert.alert_id,
            rule_id=alert.rule_id,
            rule_version=alert.rule_version,
            article_id=alert.article.id,
            story_id=alert.story.id if alert.story else None,
            story_status=alert.story_status,
            score=alert.score,
            latency_seconds=latency,
        )


@dataclass(frozen=True, slots=True)
class Outgoing:
    """A record to publish; kept until the broker has acknowledged it, so it can be sent again."""

    topic: faust.TopicT
    key: bytes | str | None
    value: bytes
    headers: list[tuple[str, bytes]] | None = None


async def deliver(records: list[Outgoing], what: str) -> None:
    """Publish the records and return only once the broker has acknowledged every one.

    A record whose send fails (an expired batch, a broker error) is sent again with back-off:
    the caller's offset is not committed before this returns, so nothing is lost and at worst
    a record is published twice (with the same key). While the broker does not answer at all,
    a warning every few seconds makes the outage visible (a hung broker raises no error).
    """
    backoff = 1.0
    while records:
        sends = [await r.topic.send(key=r.key, value=r.value, headers=r.headers) for r in records]
        results = await _acks(sends, what)
        failed = [(r, e) for r, e in zip(records, results, strict=True) if isinstance(e, Exception)]
        if failed:
            error = failed[0][1]
            log.warning(
                "send_failed_retrying",
                what=what,
                records=len(failed),
                error=f"{type(error).__name__}: {error}",
                retry_in_seconds=backoff,
            )
            metrics.SEND_RETRIES.labels(what).inc(len(failed))
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 30.0)
        records = [record for record, _ in failed]


async def _acks(sends: list, what: str) -> list:
    """Each send's result or exception; warns every few seconds while none comes."""
    acks = asyncio.gather(*sends, return_exceptions=True)
    waited = 0.0
    while True:
        try:
            results = await asyncio.wait_for(asyncio.shield(acks), timeout=ACK_WARNING_SECONDS)
        except TimeoutError:
            waited += ACK_WARNING_SECONDS
            log.warning("broker_not_acknowledging", waited_seconds=waited, what=what)
            continue
        if waited:
            log.info("broker_acks_resumed", waited_seconds=waited, what=what)
        return results


@app.task
async def watch_broker() -> None:
    """Probe the broker with a metadata request every few seconds; say when it stops answering.

    A broker that hangs (overloaded, paused, network black hole) raises no client error until a
    request times out, 40 s later; the consumer only sees empty fetches. This makes it visible
    within seconds, in the log and as ``pantau_broker_responding``.
    """
    client = AIOKafkaClient(**settings.kafka_client_options())

    async def probe() -> None:
        if not client.cluster.brokers():
            await client.bootstrap()
        await client.fetch_all_metadata()

    silent_since: float | None = None
    try:
        while True:
            try:
                await asyncio.wait_for(probe(), BROKER_PROBE_SECONDS)
            except asyncio.CancelledError:
                raise
            except Exception as error:  # a timeout or any connection error: no answer either way
                metrics.BROKER_RESPONDING.set(0)
                if silent_since is None:
                    silent_since = time.monotonic()
                    log.warning("broker_not_responding", error=type(error).__name__)
            else:
                metrics.BROKER_RESPONDING.set(1)
                if silent_since is not None:
                    silent = round(time.monotonic() - silent_since, 1)
                    log.info("broker_responding_again", silent_seconds=silent)
                    silent_since = None
            await asyncio.sleep(BROKER_PROBE_SECONDS)
    finally:
        await client.close()


async def dead_letter(message, reason: str, detail: str, started: float) -> None:
    """Park a record with why and where it came from; wait until the broker has it."""
    headers = [
        ("pantau.reason", reason.encode()),
        ("pantau.error", detail[:1000].encode()),
        ("pantau.topic", message.topic.encode()),
        ("pantau.partition", str(message.partition).encode()),
        ("pantau.offset", str(message.offset).encode()),
    ]
    value = message.value
    room = settings.max_record_bytes - RECORD_HEADROOM
    if value is not None and len(value) > room:
        headers.append(("pantau.truncated_from", str(len(value)).encode()))
        value = value[:room]
    await deliver([Outgoing(dead_letter_topic, message.key, value, headers)], "dead_letter")
    metrics.ARTICLES_DEAD_LETTERED.labels(reason).inc()
    log.warning(
        "dead_letter",
        reason=reason,
        error=detail,
        article_id=_article_id(message.value),
        key=(message.key or b"").decode("utf-8", "replace")[:200],
        partition=message.partition,
        offset=message.offset,
        seconds=round(time.perf_counter() - started, 6),
    )


def _article_id(value: bytes | None) -> str | None:
    """The record's ``id`` when it has one that can be read, for the dead-letter log line."""
    try:
        data = json.loads(value or b"")
    except (ValueError, RecursionError):
        return None
    found = data.get("id") if isinstance(data, dict) else None
    return str(found)[:200] if found is not None else None


# ---- live rules ---------------------------------------------------------------------------------
rules_read_up_to: dict[int, int] = {}  # rules-topic partition -> next offset to apply


def preload_rules(timeout: float) -> None:
    """Apply the rules topic as it stands, before the worker starts consuming articles.

    Done synchronously before Faust starts: an agent that waited for it instead would let
    Faust hand it records before it iterates its stream, and those were not processed.
    """
    from kafka import KafkaConsumer
    from kafka import TopicPartition as SyncTopicPartition

    consumer = KafkaConsumer(**settings.kafka_client_options(enable_auto_commit=False))
    try:
        partitions = consumer.partitions_for_topic(settings.rules_topic) or set()
        assigned = [SyncTopicPartition(settings.rules_topic, p) for p in sorted(partitions)]
        if not assigned:
            return
        consumer.assign(assigned)
        consumer.seek_to_beginning(*assigned)
        ends = consumer.end_offsets(assigned)
        deadline = time.monotonic() + timeout
        while any(consumer.position(tp) < ends[tp] for tp in assigned):
            if time.monotonic() > deadline:
                log.warning("rules_topic_not_read", waited_seconds=timeout)
                break
            for tp, records in consumer.poll(timeout_ms=500).items():
                apply_rules_records(tp.partition, records)
    finally:
        consumer.close()


def apply_rules_records(partition: int, records: list) -> None:
    """Apply rules-topic records in order and remember how far that partition is read."""
    for record in records:
        apply_rules_record(record.key, record.value)
        rules_read_up_to[partition] = record.offset + 1


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
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 30.0)


async def _follow_rules() -> None:
    consumer = AIOKafkaConsumer(**settings.kafka_client_options(enable_auto_commit=False))
    await consumer.start()
    try:
        partitions = await _rules_partitions(consumer)
        for tp in partitions:  # continue where the start-up read stopped (see preload_rules)
            consumer.seek(tp, rules_read_up_to.get(tp.partition, 0))
        log.info("rules_topic_following", topic=settings.rules_topic)
        while True:
            batch = await consumer.getmany(timeout_ms=1000)
            for tp, records in batch.items():
                apply_rules_records(tp.partition, records)
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
        await asyncio.sleep(1)
