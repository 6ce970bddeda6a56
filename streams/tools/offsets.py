"""A topic's records over a time range, read without a consumer group: nothing is committed and
no worker's group sees the reader.

Kafka answers "the first offset at or after time T" (ListOffsets by timestamp) directly. Tansu
0.6 answers offset 0 for every time, and reports a partition's end as its last batch's *base*
offset + 1 (docs/embedded-broker.md). So each answer is checked against the records themselves
(the record at the offset is at or after T, the one before it is not), a wrong one is replaced
by a binary search over single-record fetches, and a partition's end is the high watermark of
a fetch, which both brokers report right. On Kafka that costs two or three fetches a partition.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass

from kafka import KafkaConsumer, TopicPartition
from kafka.consumer.fetcher import ConsumerRecord
from kafka.errors import KafkaError, KafkaTimeoutError

from streams.settings import Settings

FETCH_TIMEOUT = 30.0  # seconds without a record where the broker says there is one


@dataclass(frozen=True)
class PartitionRange:
    """Offsets ``start`` (included) to ``stop`` (excluded) of one partition."""

    partition: int
    start: int
    stop: int


def open_reader(settings: Settings) -> KafkaConsumer:
    """A consumer with no group (it commits nothing), with the deployment's brokers and security."""
    return KafkaConsumer(
        **settings.kafka_client_options(
            group_id=None,
            enable_auto_commit=False,
            fetch_max_wait_ms=settings.fetch_max_wait_ms,
            max_partition_fetch_bytes=settings.max_record_bytes,
        )
    )


def time_range(
    consumer: KafkaConsumer, topic: str, since_ms: int | None, until_ms: int | None
) -> list[PartitionRange]:
    """Per partition, the offsets of the records from ``since_ms`` up to ``until_ms`` (epoch
    milliseconds; None: the partition's first record / its end)."""
    partitions = consumer.partitions_for_topic(topic)
    if not partitions:
        raise KafkaError(f"topic {topic!r} does not exist")
    tps = [TopicPartition(topic, p) for p in sorted(partitions)]
    begins, ends = consumer.beginning_offsets(tps), consumer.end_offsets(tps)
    ranges = []
    for tp in tps:
        begin = begins[tp]
        end = _end_offset(consumer, tp, begin, ends[tp])
        start = begin if since_ms is None else offset_at(consumer, tp, since_ms, begin, end)
        stop = end if until_ms is None else offset_at(consumer, tp, until_ms, begin, end)
        ranges.append(PartitionRange(tp.partition, start, max(start, stop)))
    return ranges


def offset_at(consumer: KafkaConsumer, tp: TopicPartition, ms: int, begin: int, end: int) -> int:
    """The first offset whose record is at or after ``ms`` (``end`` if none is): the broker's
    answer where the records agree with it, else a binary search over the partition."""
    try:
        answer = consumer.offsets_for_times({tp: ms})[tp]
    except KafkaError:  # a broker too old for ListOffsets by time
        answer = None
    offset = end if answer is None else answer.offset
    if (
        begin <= offset <= end
        and _at_or_after(consumer, tp, offset, ms, end)
        and (offset == begin or not _at_or_after(consumer, tp, offset - 1, ms, end))
    ):
        return offset  # the broker's answer holds
    low, high = begin, end
    while low < high:
        middle = (low + high) // 2
        record = first_record(consumer, tp, middle, end)
        if record is None or record.timestamp >= ms:
            high = middle
        else:
            low = record.offset + 1
    return low


def _at_or_after(
    consumer: KafkaConsumer, tp: TopicPartition, offset: int, ms: int, end: int
) -> bool:
    record = first_record(consumer, tp, offset, end)
    return record is None or record.timestamp >= ms


def first_record(
    consumer: KafkaConsumer, tp: TopicPartition, offset: int, end: int
) -> ConsumerRecord | None:
    """The first record at or after ``offset`` (None from ``end`` on)."""
    if offset >= end:
        return None
    consumer.assign([tp])
    consumer.resume(tp)  # a partition read_ranges paused stays paused through assign()
    consumer.seek(tp, offset)
    deadline = time.monotonic() + FETCH_TIMEOUT
    while time.monotonic() < deadline:
        records = consumer.poll(timeout_ms=500, max_records=1).get(tp)
        if records:
            return records[0]
        if consumer.position(tp) >= end:
            return None
    raise KafkaTimeoutError(f"no record of {tp.topic}[{tp.partition}] at {offset} in time")


def _end_offset(consumer: KafkaConsumer, tp: TopicPartition, begin: int, reported: int) -> int:
    """The partition's end: the high watermark of a fetch near the reported end."""
    if reported <= begin:
        return reported
    first_record(consumer, tp, reported - 1, reported)
    return max(reported, consumer.highwater(tp) or reported)


def read_ranges(
    consumer: KafkaConsumer, topic: str, ranges: list[PartitionRange]
) -> Iterator[ConsumerRecord]:
    """Every record of the ranges, partitions interleaved as the broker returns them."""
    todo = {TopicPartition(topic, r.partition): r for r in ranges if r.start < r.stop}
    consumer.assign(list(todo))
    consumer.resume(*todo)
    for tp, span in todo.items():
        consumer.seek(tp, span.start)
    last = time.monotonic()
    while todo:
        for tp, records in consumer.poll(timeout_ms=500).items():
            stop = todo[tp].stop if tp in todo else -1
            for record in records:
                if record.offset >= stop:
                    break
                last = time.monotonic()
                yield record
        for tp in [tp for tp, span in todo.items() if consumer.position(tp) >= span.stop]:
            consumer.pause(tp)
            del todo[tp]
        if todo and time.monotonic() - last > FETCH_TIMEOUT:
            missing = ", ".join(f"{tp.partition}@{consumer.position(tp)}" for tp in todo)
            raise KafkaTimeoutError(f"{topic}: no records for {FETCH_TIMEOUT:.0f} s at {missing}")
