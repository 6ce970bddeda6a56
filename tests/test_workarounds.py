"""The consumer's rules: commit never past a record its stream skipped and hand stream records
over in order, once (workarounds, bug 3), after a rebalance seek every stream partition back,
committed or not (bug 4), fetch with the configured wait (5), and read changelog ends to the
last record (6, on the real broker).

The real path is covered by the kill and take-over tests in ``test_outages.py``; these pin
the rules themselves on Faust's own consumer object, with only its broker calls replaced.
"""

from __future__ import annotations

import asyncio
import time
from types import SimpleNamespace

import aiokafka
import faust
import pytest
from faust.types import TP

from streams.settings import Settings
from streams.worker import workarounds

TOPIC = TP("articles", 0)


def consumer_with_seeks() -> tuple[workarounds.Consumer, list[tuple[TP, int]]]:
    app = faust.App("workarounds-test", broker="kafka://127.0.0.1:1")
    workarounds.install(app, [], Settings(broker="kafka://127.0.0.1:1"))
    consumer = app.consumer
    assert isinstance(consumer, workarounds.Consumer)
    sought: list[tuple[TP, int]] = []

    async def seek_wait(partitions: dict[TP, int]) -> None:
        sought.extend(partitions.items())

    consumer.seek_wait = seek_wait
    return consumer, sought


def acknowledge(consumer: workarounds.Consumer, *offsets: int) -> None:
    consumer._acked[TOPIC].extend(offsets)
    consumer._acked_index[TOPIC].update(offsets)


def test_a_hole_after_the_committed_offset_holds_the_commit_and_is_fetched_again():
    consumer, sought = consumer_with_seeks()

    async def scenario() -> list:
        consumer._committed_offset[TOPIC] = 5  # Kafka's committed offset: the next record
        acknowledge(consumer, 6, 7, 8)  # record 5 was skipped by the stream
        held = consumer._new_offset(TOPIC)
        await asyncio.sleep(0)
        acknowledge(consumer, 5)  # the re-fetch brought it back
        return [held, consumer._new_offset(TOPIC)]

    assert asyncio.run(scenario()) == [None, 9]
    assert sought == [(TOPIC, 5)]


def test_stream_records_are_handed_over_in_order_and_after_a_re_fetch_only_the_hole_again():
    consumer, sought = consumer_with_seeks()
    consumer.app.topics._acking_topics.add(TOPIC.topic)
    handed: list[int] = []

    async def hand_over(message) -> None:
        handed.append(message.offset)

    callback = consumer._handing_over_in_order(hand_over)

    async def deliver(*offsets: int) -> None:
        for offset in offsets:
            await callback(SimpleNamespace(tp=TOPIC, offset=offset))

    async def scenario() -> None:
        consumer._in_order.sought(TOPIC, 3)  # Faust's seek to the committed offset
        await deliver(3, 5, 4)  # 5 before 4: held back, and the partition sought back to 4
        await deliver(3)  # a stale copy: not again
        await deliver(5, 6, 7)
        consumer._committed_offset[TOPIC] = 3
        acknowledge(consumer, 4, 5)  # the stream dropped 3: 6 and 7 are still on their way
        assert consumer._new_offset(TOPIC) is None  # the hole holds the commit: re-fetch from 3
        await asyncio.sleep(0)
        await deliver(3, 4, 5, 6, 7, 8)

    asyncio.run(scenario())
    assert handed == [3, 4, 5, 6, 7, 3, 8]
    assert sought == [(TOPIC, 4), (TOPIC, 3)]


def broker_offsets(
    consumer: workarounds.Consumer, committed: dict[TP, int | None], earliest: dict[TP, int]
) -> None:
    """Replace the client's two broker reads the seek after a rebalance makes."""
    consumer.app.topics._acking_topics.add(TOPIC.topic)

    async def client_seek_to_committed() -> dict:  # aiokafka seeks only offsets above 0
        return dict(committed)

    async def earliest_offsets(*partitions: TP) -> dict[TP, int]:
        return {tp: earliest[tp] for tp in partitions}

    consumer._thread.seek_to_committed = client_seek_to_committed
    consumer._thread.earliest_offsets = earliest_offsets


def uncommitted_after_rebalance(consumer: workarounds.Consumer, earliest: dict[TP, int]) -> None:
    """Run Faust's seek after a rebalance for partitions nothing was committed for."""
    broker_offsets(consumer, dict.fromkeys(earliest), earliest)
    asyncio.run(consumer.perform_seek())  # what Faust's recovery runs after a rebalance


def test_before_any_commit_a_hole_is_counted_from_where_the_group_starts_reading():
    consumer, sought = consumer_with_seeks()
    uncommitted_after_rebalance(consumer, {TOPIC: 0})
    sought.clear()

    async def scenario() -> list:
        for offset in (9, 10, 11):  # a fetch answered after the seek, from the old position
            consumer._read_offset[TOPIC] = offset
        acknowledge(consumer, 9, 10, 11)  # records 0-8 never reached the stream
        held = consumer._new_offset(TOPIC)
        await asyncio.sleep(0)
        acknowledge(consumer, *range(9))  # the re-fetch brought them
        return [held, consumer._new_offset(TOPIC)]

    assert asyncio.run(scenario()) == [None, 12]
    assert sought == [(TOPIC, 0)]


def test_a_group_start_past_zero_is_not_a_hole():
    consumer, sought = consumer_with_seeks()
    uncommitted_after_rebalance(consumer, {TOPIC: 3})  # retention removed offsets 0-2
    assert sought == [(TOPIC, 3)]
    acknowledge(consumer, 3, 4)
    assert consumer._new_offset(TOPIC) == 5
    assert sought == [(TOPIC, 3)], "no re-fetch of offsets that no longer exist"


def test_before_any_commit_processing_must_start_at_the_first_fetched_record():
    consumer, sought = consumer_with_seeks()

    async def scenario() -> list:
        for offset in (0, 1, 2):  # what Faust records as it hands records to the stream
            consumer._read_offset[TOPIC] = offset
        acknowledge(consumer, 1, 2)  # record 0 was skipped
        held = consumer._new_offset(TOPIC)
        await asyncio.sleep(0)
        return [held, consumer._new_offset(TOPIC)]

    assert asyncio.run(scenario()) == [None, None]
    assert sought == [(TOPIC, 0)], "one re-fetch, not one per commit"


def test_contiguous_acknowledgements_commit_as_faust_would():
    consumer, sought = consumer_with_seeks()
    consumer._committed_offset[TOPIC] = 3
    acknowledge(consumer, 3, 4, 5)
    assert consumer._new_offset(TOPIC) == 6
    assert sought == []


def test_the_seek_after_a_rebalance_also_rewinds_partitions_nothing_was_committed_for():
    consumer, sought = consumer_with_seeks()
    fresh, committed, changelog = TP(TOPIC.topic, 1), TP(TOPIC.topic, 2), TP("t-changelog", 0)
    broker_offsets(
        consumer, {TOPIC: 0, fresh: None, committed: 7, changelog: None}, {TOPIC: 0, fresh: 4}
    )
    offsets = asyncio.run(consumer.seek_to_committed())
    assert offsets[committed] == 7
    assert sorted(sought) == [(TOPIC, 0), (fresh, 4)], "streams from their start, not changelogs"


def test_the_consumer_fetches_with_the_configured_wait_not_fausts_fixed_one():
    app = faust.App("workarounds-wait-test", broker="kafka://127.0.0.1:1")
    workarounds.install(app, [], Settings(broker="kafka://127.0.0.1:1", fetch_max_wait_ms=100))

    async def create_client() -> int:  # aiokafka clients are made inside the event loop
        client = app.consumer._thread._create_worker_consumer(app.transport)
        return client._fetch_max_wait_ms

    assert asyncio.run(create_client()) == 100


@pytest.mark.integration
def test_changelog_ends_are_read_to_the_last_record_of_the_last_batch(broker_url):
    topic = f"ends-{time.time_ns()}"
    settings = Settings(broker=broker_url)
    batches = {0: [10, 7], 1: [3], 2: []}  # records per produce batch, by partition

    async def scenario() -> tuple[dict, dict]:
        producer = aiokafka.AIOKafkaProducer(**settings.kafka_client_options(linger_ms=100))
        await producer.start()
        try:
            for partition, sizes in batches.items():
                for size in sizes:  # sent together, so the records of a size share a batch
                    sent = [
                        await producer.send(topic, b"v", partition=partition) for _ in range(size)
                    ]
                    await asyncio.gather(*sent)
        finally:
            await producer.stop()
        tps = [TP(topic, partition) for partition in batches]
        reader = aiokafka.AIOKafkaConsumer(**settings.kafka_client_options())
        await reader.start()
        try:
            listed = await reader.end_offsets(tps)
        finally:
            await reader.stop()
        options = settings.kafka_client_options(enable_auto_commit=False, fetch_max_wait_ms=100)
        return listed, await workarounds.read_ends(listed, options)

    listed, real = asyncio.run(scenario())
    assert real == {TP(topic, 0): 17, TP(topic, 1): 3, TP(topic, 2): 0}, f"listed: {listed}"
