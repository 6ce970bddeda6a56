"""Client bugs and limits that lost or held back records, and what Pantau does about them.

All were found by the multi-worker tests (``tests/test_scale_out.py``, ``tests/test_outages.py``)
and are upstream behaviour of faust-streaming 0.15 and aiokafka 0.12; each fix is kept here, in
one place, so it can go once upstream changes.

1. **Faust's read-offset filter drops records after a seek.** Faust remembers the last offset it
   handed to a stream per partition and silently drops any record below it ("DROPPED MESSAGE
   ROFF" in its dev log). Recovery resumes the stream partitions *before* it seeks them to the
   committed offsets, so a batch fetched in between moves that mark past the committed offset;
   the records re-fetched after the seek are then dropped, never acknowledged, and the partition's
   commit stops there. Seen after every kill and take-over: hundreds of matches not processed.
   The fix turns the filter off. A record can then reach its stream twice after a seek, which
   at-least-once processing allows (alert keys are deterministic); its offset is acknowledged
   once. The filter also noted offset gaps (compacted topics, transaction markers) so commits
   could pass them; Pantau's inputs have none, and a gap would hold commits back, not lose data.

2. **aiokafka's producer forgets topics it learned from a full metadata fetch.** The producer
   starts by fetching metadata for all topics; its first send to a topic it does not know
   narrows every later fetch to the topics sent to *since*, and the partitions of the others
   disappear from its metadata. A batch already queued for one of them then waits for a leader
   until the request timeout (20 minutes in Faust). Seen as a worker whose matches hung when it
   published its first alert. The fix names every topic the worker writes to up front.

3. **Faust commits past a record its stream skipped.** A stream drops a record fetched around a
   rebalance (stale generation or paused flow) without acknowledging it, expecting the seek to
   the committed offsets to fetch it again. When that re-fetch misses it, the later records are
   acknowledged and Faust commits past the hole: its head-gap check is off by one against
   Kafka's committed offset (the *next* record) and absent before a partition's first commit.
   Seen as all alerts of one article at offset 0 or 1 of a partition missing after a kill or a
   take-over. The re-fetch can miss the hole because a fetch answered after the seek still hands
   over the records that follow the old position (traced: a seek to 0, then offsets 9-15 from
   the fetch already under way, and 0-8 never again). The fix commits only a run of
   acknowledged offsets that starts where the partition was committed (or, before any commit,
   where the group starts reading it: its earliest offset), and otherwise seeks back to
   re-fetch the hole; the records after it are processed again, which at-least-once allows.

4. **Faust's seek to the committed offsets skips partitions nothing was committed for.** After
   a rebalance, records fetched while the streams were paused are skipped and meant to be
   fetched again by that seek, but the client seeks only partitions with a committed offset
   above 0. A partition its previous owner never committed (a take-over soon after start) keeps
   its position at the end: everything fetched early is skipped, nothing is acknowledged, and
   the partition is never processed (bug 3's check needs an acknowledged record to see the
   hole). Seen, in a trace kept from a failing take-over, as a survivor that fetched the dead
   member's partitions to their end during the seek and processed none of them. The fix seeks
   those partitions to their start, where a group without a commit begins.

5. **Faust fixes the fetch wait at 1.5 s.** Kafka answers a waiting fetch as soon as records
   arrive; Tansu holds it for the whole wait (measured: a record's delay grows with the wait,
   p50 363 ms at 1,500 ms, 28 ms at 100 ms), so on Tansu each of the worker's two hops added
   up to 1.5 s. The consumer takes the wait from ``PANTAU_FETCH_MAX_WAIT_MS`` instead: Faust's
   1,500 by default, 100 in the Tansu profile.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable

import faust
import structlog
from faust.transport.drivers.aiokafka import AIOKafkaConsumerThread
from faust.transport.drivers.aiokafka import Consumer as AIOKafkaConsumer
from faust.types import TP

log = structlog.get_logger("pantau.worker")
REFETCH_AFTER_SECONDS = 60.0  # a re-fetch waits behind the buffered records; do not repeat it soon


class _FetchedFrom(dict):
    """Stands in for Faust's read-offset map (bug 1): filters nothing, and keeps per partition
    where processing has to start since the last seek (bug 3): where the seek went, or a lower
    offset fetched since."""

    def __getitem__(self, tp):
        return None

    def __setitem__(self, tp, offset) -> None:
        if offset is not None and offset < self.get(tp, offset + 1):
            super().__setitem__(tp, offset)

    def update(self, offsets) -> None:
        """Faust's seek to the committed offsets: fetching starts over from where it went."""
        self.clear()
        super().update((tp, offset) for tp, offset in offsets.items() if offset is not None)


class _ConsumerThread(AIOKafkaConsumerThread):
    def _create_worker_consumer(self, transport):
        client = super()._create_worker_consumer(transport)
        client._fetch_max_wait_ms = self.consumer.fetch_max_wait_ms  # read when it starts (5)
        return client


class Consumer(AIOKafkaConsumer):
    """Faust's aiokafka consumer without the read-offset filter (bug 1), with commits that never
    pass a record the stream skipped (bug 3), a seek that re-fetches every partition (bug 4)
    and the configured fetch wait (5)."""

    fetch_max_wait_ms: int  # from the settings, given to install()

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._read_offset = _FetchedFrom()
        self._refetched: dict[TP, tuple[int, float]] = {}  # tp -> (offset, when)
        self._seeks: set[asyncio.Future] = set()

    def _new_consumer_thread(self) -> AIOKafkaConsumerThread:
        return _ConsumerThread(self, loop=self.loop, beacon=self.beacon)

    async def seek_to_committed(self):
        """Seek each stream partition to where the group reads it from: its committed offset,
        or its earliest one (4). Faust records what this returns as each partition's start."""
        committed = await super().seek_to_committed()
        uncommitted = [
            tp
            for tp, offset in committed.items()
            if not offset and self.app.topics.acks_enabled_for(tp.topic)
        ]
        if not uncommitted:
            return committed
        starts = await self.earliest_offsets(*uncommitted)
        await self.seek_wait(starts)  # the client leaves these where the last fetch left them
        return {**committed, **starts}

    def _new_offset(self, tp):
        acked = self._acked[tp]
        start = self._committed_offset[tp] or self._read_offset.get(tp)
        if acked and start is not None and (head := min(acked)) > start:
            self._refetch(tp, start, head)
            return None
        return super()._new_offset(tp)

    def _refetch(self, tp, start: int, head: int) -> None:
        now = time.monotonic()
        last_start, last_at = self._refetched.get(tp, (None, 0.0))
        if last_start == start and now - last_at < REFETCH_AFTER_SECONDS:
            return
        self._refetched[tp] = (start, now)
        log.warning(
            "skipped_record_refetch",
            topic=tp.topic,
            partition=tp.partition,
            offset=start,
            first_acknowledged=head,
        )
        seek = asyncio.ensure_future(self.seek_wait({tp: start}))  # in the consumer's thread
        self._seeks.add(seek)
        seek.add_done_callback(self._seeks.discard)


def install(app: faust.App, output_topics: Iterable[faust.TopicT], fetch_max_wait_ms: int) -> None:
    """Apply the fixes to the app: before its consumer exists, and when its producer starts."""
    app.transport.Consumer = type("Consumer", (Consumer,), {"fetch_max_wait_ms": fetch_max_wait_ms})
    names = [topic.get_topic_name() for topic in output_topics]

    @app.task
    async def track_output_topics() -> None:
        client = app.producer._ensure_producer().client  # Faust has no public handle on it
        changelogs = [table.changelog_topic.get_topic_name() for table in app.tables.values()]
        for name in sorted({*names, *changelogs}):
            client.add_topic(name)
        await client.force_metadata_update()
