"""Faust's sensor events as ``pantau_faust_*`` metrics, and the consumer lag per partition.

Lag is ``highwater - position``: the highwater comes from the consumer's last fetch response
(no broker round trip) and the position is the next offset this worker will process, learned
from the sensor hooks. That counts records already fetched but still buffered, which a lag
based on the fetch position would hide, and it does not wait for the next offset commit.
"""

from __future__ import annotations

import asyncio
from collections.abc import Collection
from time import monotonic
from typing import Any

from aiokafka.errors import IllegalStateError
from faust.exceptions import ConsumerNotStarted
from faust.sensors import Sensor
from faust.types import TP, AppT, Message
from faust.types.transports import ConsumerT, ProducerT
from faust.types.tuples import RecordMetadata
from prometheus_client import Counter

from streams.worker import metrics

LAG_INTERVAL = 5.0
"""Seconds between lag refreshes; the arithmetic runs on a timer, off the per-message path."""


class FaustMetrics(Sensor):
    """Counts Faust's events and remembers, per partition, the next offset to process."""

    def __init__(self, lag_topics: Collection[str], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.lag_topics = frozenset(lag_topics)
        self.positions: dict[TP, int] = {}
        self._reported: set[tuple[str, str]] = set()
        self._received: dict[str, Counter] = {}
        self._processed: dict[str, Counter] = {}

    # ---- per message: a dict write and a cached counter child, nothing more -------------------
    def on_message_in(self, tp: TP, offset: int, message: Message) -> None:
        self.positions.setdefault(tp, offset)  # first record seen: the one to process next
        counter = self._received.get(tp.topic)
        if counter is None:
            counter = self._received[tp.topic] = metrics.FAUST_MESSAGES_RECEIVED.labels(tp.topic)
        counter.inc()

    def on_message_out(self, tp: TP, offset: int, message: Message) -> None:
        self.positions[tp] = offset + 1
        counter = self._processed.get(tp.topic)
        if counter is None:
            counter = self._processed[tp.topic] = metrics.FAUST_MESSAGES_PROCESSED.labels(tp.topic)
        counter.inc()

    def on_topic_buffer_full(self, tp: TP) -> None:
        metrics.FAUST_TOPIC_BUFFER_FULL.labels(tp.topic).inc()

    # ---- commits, sends, rebalances ------------------------------------------------------------
    def on_commit_initiated(self, consumer: ConsumerT) -> float:
        return monotonic()

    def on_commit_completed(self, consumer: ConsumerT, state: float) -> None:
        metrics.FAUST_COMMIT_SECONDS.observe(monotonic() - state)

    def on_send_initiated(
        self, producer: ProducerT, topic: str, message: Any, keysize: int, valsize: int
    ) -> float:
        return monotonic()

    def on_send_completed(
        self, producer: ProducerT, state: float, metadata: RecordMetadata
    ) -> None:
        metrics.FAUST_SEND_SECONDS.observe(monotonic() - state)

    def on_send_error(self, producer: ProducerT, exc: BaseException, state: float) -> None:
        metrics.FAUST_SEND_ERRORS.inc()

    def on_rebalance_start(self, app: AppT) -> dict:
        metrics.FAUST_REBALANCES.inc()
        self.positions.clear()  # another worker may have moved these partitions on
        return {"time_start": monotonic()}

    def on_rebalance_end(self, app: AppT, state: dict) -> None:
        metrics.FAUST_REBALANCE_SECONDS.observe(monotonic() - state["time_start"])

    # ---- lag -----------------------------------------------------------------------------------
    async def refresh_lag(self, consumer: ConsumerT) -> None:
        """Set the lag of every assigned partition of ``lag_topics``; drop revoked ones."""
        try:
            assigned = consumer.assignment()
        except ConsumerNotStarted:
            return
        metrics.FAUST_ASSIGNED_PARTITIONS.set(len(assigned))
        current: set[tuple[str, str]] = set()
        for tp in assigned:
            if tp.topic not in self.lag_topics:
                continue
            try:
                lag = await self._lag(consumer, tp)
            except (AssertionError, IllegalStateError):  # aiokafka: revoked since the snapshot
                continue
            if lag is not None:
                labels = (tp.topic, str(tp.partition))
                metrics.CONSUMER_LAG.labels(*labels).set(lag)
                current.add(labels)
        for labels in self._reported - current:
            metrics.CONSUMER_LAG.remove(*labels)
        self._reported = current
        for tp in set(self.positions) - assigned:
            del self.positions[tp]

    async def _lag(self, consumer: ConsumerT, tp: TP) -> int | None:
        highwater = consumer.highwater(tp)
        if highwater is None:  # nothing fetched yet for this partition
            return None
        position = self.positions.get(tp)
        if position is None:
            # Nothing delivered since the assignment, so the fetch position is where
            # processing will resume. It waits while an offset reset is pending: bound it.
            try:
                position = await asyncio.wait_for(consumer.position(tp), timeout=1.0)
            except TimeoutError:
                return None
            if position is None:
                return None
        return max(0, highwater - position)


def install(app: AppT, lag_topics: Collection[str]) -> FaustMetrics:
    """Register the sensor with ``app`` and a timer that refreshes the lag gauge."""
    sensor = FaustMetrics(lag_topics)
    app.sensors.add(sensor)

    @app.timer(interval=LAG_INTERVAL, name="pantau.consumer_lag")
    async def refresh_lag() -> None:
        await sensor.refresh_lag(app.consumer)

    return sensor
