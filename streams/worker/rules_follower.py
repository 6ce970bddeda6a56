"""The worker's rules: its rule files, then every pack published on the rules topic, live.

The topic is read whole before Faust starts (:meth:`RulesFollower.preload`), then followed by
a task (:meth:`RulesFollower.follow`) with no consumer group: every worker reads all of it.
A pack that does not compile is refused and the running rule set keeps serving
(:class:`~streams.worker.live_rules.LiveRules`).
"""

from __future__ import annotations

import asyncio
import time

import structlog
from aiokafka import AIOKafkaConsumer, TopicPartition
from kafka import KafkaConsumer
from kafka import TopicPartition as SyncTopicPartition

from streams.engine import Classifier
from streams.rules.packs import RulePackError
from streams.settings import Settings
from streams.worker import metrics
from streams.worker.live_rules import LiveRules, record_pack
from streams.worker.retry import backoff

log = structlog.get_logger("pantau.worker")


def read_to_end(settings: Settings, topic: str, timeout: float) -> tuple[list, dict[int, int]]:
    """Every record of a topic up to its end as it stands (without a consumer group), and the
    next offset of each partition; a topic that does not exist has none."""
    consumer = KafkaConsumer(**settings.kafka_client_options(enable_auto_commit=False))
    found: list = []
    try:
        partitions = consumer.partitions_for_topic(topic) or set()
        assigned = [SyncTopicPartition(topic, p) for p in sorted(partitions)]
        if not assigned:
            return [], {}
        consumer.assign(assigned)
        consumer.seek_to_beginning(*assigned)
        ends = consumer.end_offsets(assigned)
        deadline = time.monotonic() + timeout
        while any(consumer.position(tp) < ends[tp] for tp in assigned):
            if time.monotonic() > deadline:
                log.warning("topic_not_read", topic=topic, waited_seconds=timeout)
                break
            for records in consumer.poll(timeout_ms=500).values():
                found.extend(records)
        return found, {tp.partition: consumer.position(tp) for tp in assigned}
    finally:
        consumer.close()


def read_rules_topic(settings: Settings, timeout: float) -> tuple[list, dict[int, int]]:
    """The rules topic's records in the order they were published (the order ``rules push``
    checked them in: a pack may use the concepts of one pushed before it), and how far each
    partition was read."""
    records, read_up_to = read_to_end(settings, settings.rules_topic, timeout)
    return sorted(records, key=lambda r: (r.timestamp, r.partition, r.offset)), read_up_to


class RulesFollower:
    """The live rule set of one worker, and how far it has read each rules-topic partition."""

    def __init__(self, settings: Settings):
        """Compile the rule files: a bad one ends the worker's start here, before any wait."""
        self.settings = settings
        self.rules = LiveRules(settings.rule_files, topic=settings.rules_topic)
        self.read_up_to: dict[int, int] = {}  # rules-topic partition -> next offset to apply
        self.rejected: str | None = None  # the last pack refused, for the worker's status
        metrics.rules_loaded(self.rules.ruleset)

    @property
    def classifier(self) -> Classifier:
        return self.rules.classifier

    def preload(self, timeout: float) -> None:
        """Apply the rules topic as it stands, before the worker starts consuming articles.

        Done synchronously before Faust starts: an agent that waited for it instead would let
        Faust hand it records before it iterates its stream, and those were not processed.
        """
        records, self.read_up_to = read_rules_topic(self.settings, timeout)
        for record in records:
            self.apply_record(record.key, record.value)

    def apply_records(self, partition: int, records: list) -> None:
        """Apply rules-topic records in order and remember how far that partition is read."""
        for record in records:
            self.apply_record(record.key, record.value)
            self.read_up_to[partition] = record.offset + 1

    def apply_record(self, key: bytes | None, value: bytes | None) -> None:
        name, text = record_pack(key, value)
        try:
            ruleset = self.rules.apply(name, text)
        except RulePackError as error:
            metrics.RULE_RELOADS.labels("rejected").inc()
            serving = self.rules.ruleset.version
            self.rejected = f"{name}: {error}"
            log.error("rules_rejected", pack=name, error=str(error), serving=serving)
            return
        metrics.RULE_RELOADS.labels("accepted").inc()
        metrics.rules_loaded(ruleset)
        log.info("rules_loaded", pack=name, version=ruleset.version, rules=len(ruleset.rules))

    async def follow(self) -> None:
        """Follow the rules topic from where :meth:`preload` stopped, while the worker runs.

        Failures (broker away, topic deleted) are logged and retried with back-off; the worker
        keeps classifying with the rule set it has.
        """
        for delay in backoff():
            try:
                await self._follow()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("rules_follower_failed", retry_in_seconds=delay)
                await asyncio.sleep(delay)

    async def _follow(self) -> None:
        consumer = AIOKafkaConsumer(**self.settings.kafka_client_options(enable_auto_commit=False))
        await consumer.start()
        try:
            partitions = await self._partitions(consumer)
            for tp in partitions:  # continue where the start-up read stopped (see preload)
                consumer.seek(tp, self.read_up_to.get(tp.partition, 0))
            log.info("rules_topic_following", topic=self.settings.rules_topic)
            while True:
                batch = await consumer.getmany(timeout_ms=1000)
                for tp, records in batch.items():
                    self.apply_records(tp.partition, records)
        finally:
            await consumer.stop()

    async def _partitions(self, consumer: AIOKafkaConsumer) -> list[TopicPartition]:
        """The rules topic's partitions, waiting for it to exist (it may be created later)."""
        topic = self.settings.rules_topic
        while True:
            # A fresh metadata snapshot: the consumer's own cache only knows assigned topics.
            cluster = await consumer._client.fetch_all_metadata()
            partitions = cluster.partitions_for_topic(topic)
            if partitions:
                assigned = [TopicPartition(topic, p) for p in sorted(partitions)]
                consumer.assign(assigned)
                return assigned
            await asyncio.sleep(1)
