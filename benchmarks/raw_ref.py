"""Reference: the plainest consume -> produce -> commit loop aiokafka allows, batched.

What a hand-written forwarder reaches on this broker and machine: the ceiling for any worker.
It takes every partition of the topic by assignment (a group join stalls on Tansu) and still
commits its offsets under its own group id. Run: ``python -m benchmarks.raw_ref``.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from benchmarks.progress import Tracker
from streams.settings import get_settings

BATCH = 500


async def forward() -> None:
    settings = get_settings()
    tracker = Tracker(Path(os.environ["BENCH_PROGRESS"]), int(os.environ["BENCH_EXPECTED"]))
    topic, sink = settings.articles_topic, settings.alerts_topic
    consumer = AIOKafkaConsumer(
        bootstrap_servers=settings.bootstrap_servers,
        group_id=settings.app_id,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        max_partition_fetch_bytes=settings.max_record_bytes,
    )
    producer = AIOKafkaProducer(
        bootstrap_servers=settings.bootstrap_servers,
        acks="all",
        max_request_size=settings.max_record_bytes,
        max_batch_size=settings.producer_batch_bytes,  # the worker's producer setting
    )
    await consumer.start()
    await producer.start()
    try:
        # A fresh metadata snapshot each time: the topic may not exist yet.
        while not (
            partitions := (await consumer._client.fetch_all_metadata()).partitions_for_topic(topic)
        ):
            await asyncio.sleep(0.2)
        consumer.assign([TopicPartition(topic, p) for p in sorted(partitions)])
        while True:
            batch = await consumer.getmany(timeout_ms=100, max_records=BATCH)
            records = [record for part in batch.values() for record in part]
            if not records:
                continue
            tracker.started()
            sent = [await producer.send(sink, value=r.value, key=r.key) for r in records]
            await asyncio.gather(*sent)
            await consumer.commit()
            tracker.done(len(records))
    finally:
        await producer.stop()
        await consumer.stop()


if __name__ == "__main__":
    asyncio.run(forward())
