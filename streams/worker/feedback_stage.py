"""Verdicts on alerts -> feedback counts per rule: each alert counted once, by its latest verdict.

Three parts meet on an internal topic keyed by alert id (``<app id>-feedback``):

- the story stage indexes every alert it publishes (:class:`FeedbackIndex`): its rule id, in
  one record per partition and batch, so the index costs little beside the alerts;
- the ``feedback-relay`` agent validates each record of the feedback topic, dead-letters a bad
  one with its reason, and forwards a good one keyed by alert id, so it reaches the partition
  of its alert whatever client and partitioner wrote it;
- the ``feedback`` agent owns partitions of that topic and of a table (alert id -> rule id and
  latest verdict, restored from its changelog after a restart). An alert's index entry was
  published before anyone could read the alert, so it comes first: a verdict on an alert the
  table does not know is dead-lettered (``unknown_alert``), a verdict equal to the remembered
  one counts nothing, and a changed one counts the new verdict and withdraws the old
  (``pantau_alert_feedback_total`` minus ``pantau_alert_feedback_withdrawn_total``).
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass

import faust
import structlog
from aiokafka.partitioner import DefaultPartitioner
from pydantic import BaseModel, Field

from streams.models import Alert, Feedback
from streams.validate import BadRecord, parse_feedback
from streams.worker import metrics
from streams.worker.delivery import DeadLetters, Outgoing, deliver

log = structlog.get_logger("pantau.worker")
PARTITIONER = DefaultPartitioner()  # aiokafka's, as Faust's producer uses it for keyed records


class Relayed(BaseModel):
    """A record of the internal topic: the rule ids of some alerts, or one verdict."""

    alerts: dict[str, str] = Field(default_factory=dict)  # alert id -> rule id
    verdict: Feedback | None = None
    raw: str = ""  # the feedback record as it was read, for its dead letter
    origin: tuple[str, int, int] = ("", -1, -1)  # where it was read: topic, partition, offset

    def encode(self) -> bytes:
        return self.model_dump_json(exclude_defaults=True).encode()


@dataclass(frozen=True)
class FeedbackIndex:
    """The records that tell the ``feedback`` agent which rule each published alert came from."""

    topic: faust.TopicT
    partitions: int  # of the internal topic: PANTAU_PARTITIONS, like every topic Faust creates

    def records(self, alerts: list[Alert]) -> list[Outgoing]:
        """One record per partition the alerts' ids fall in, keyed by one of those ids."""
        groups: dict[int, dict[str, str]] = defaultdict(dict)
        every = list(range(self.partitions))
        for alert in alerts:
            partition = PARTITIONER(alert.alert_id.encode(), every, every)
            groups[partition][alert.alert_id] = alert.rule_id
        return [
            Outgoing(self.topic, next(iter(ids)), Relayed(alerts=ids).encode())
            for ids in groups.values()
        ]


@dataclass(frozen=True)
class Origin:
    """A feedback record where it was first read: what a dead letter keeps of it."""

    topic: str
    partition: int
    offset: int
    key: bytes
    value: bytes


class FeedbackStage:
    """The ``feedback-relay`` and ``feedback`` agents, with the table they keep."""

    def __init__(self, topic: faust.TopicT, table: faust.Table, dead_letters: DeadLetters):
        self.topic, self.table, self.dead_letters = topic, table, dead_letters

    async def relay(self, stream) -> None:
        """Validate each record of the feedback topic and forward it to its alert's partition."""
        async for event in stream.events():
            message, started = event.message, time.perf_counter()
            try:
                feedback = parse_feedback(message.value or b"", message.key)
                origin = (message.topic, message.partition, message.offset)
                relayed = Relayed(verdict=feedback, raw=message.value.decode(), origin=origin)
                await deliver(
                    [Outgoing(self.topic, feedback.alert_id, relayed.encode())], "feedback"
                )
            except BadRecord as error:
                await self.dead_letters.park(message, error.reason, error.message, started)
            except Exception as error:  # a bug must not stop the partition or lose the record
                log.exception("feedback_failed", partition=message.partition, offset=message.offset)
                detail = f"{type(error).__name__}: {error}"
                await self.dead_letters.park(message, "internal_error", detail, started)

    async def judge(self, stream) -> None:
        """Index alerts and count verdicts, one record of the internal topic at a time."""
        async for event in stream.events():
            try:
                await self.apply(Relayed.model_validate_json(event.value))
            except Exception:  # one bad record must not stop the others' counts
                message = event.message
                log.exception("feedback_failed", partition=message.partition, offset=message.offset)

    async def apply(self, relayed: Relayed) -> None:
        """Remember the alerts' rules; count the verdict, or dead-letter it: no such alert."""
        for alert_id, rule_id in relayed.alerts.items():
            if alert_id not in self.table:  # an index sent again must not forget a verdict
                self.table[alert_id] = rule_id
        feedback = relayed.verdict
        if feedback is None:
            return
        state = self.table.get(feedback.alert_id)
        if state is None:
            origin = Origin(*relayed.origin, feedback.alert_id.encode(), relayed.raw.encode())
            detail = f"no alert {feedback.alert_id} was published (or indexed) by this deployment"
            await self.dead_letters.park(origin, "unknown_alert", detail, time.perf_counter())
            return
        rule_id, _, previous = state.partition(" ")
        if previous != feedback.verdict:
            self.table[feedback.alert_id] = f"{rule_id} {feedback.verdict}"
            metrics.ALERT_FEEDBACK.labels(rule_id, feedback.verdict).inc()
            if previous:
                metrics.ALERT_FEEDBACK_WITHDRAWN.labels(rule_id, previous).inc()
        log.info(
            "alert_feedback",
            alert_id=feedback.alert_id,
            rule_id=rule_id,
            verdict=feedback.verdict,
            previous=previous or None,
            counted=previous != feedback.verdict,
            by=feedback.by,
            reason=feedback.reason,
        )
