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
   re-fetch the hole. Re-processing was then most of the duplicates after a kill -9, from two
   places. At every start the rest of a batch fetched before the seek reached the streams
   (offsets 17-29 of a partition committed at 9, traced), was processed, and was processed
   again after the seek back; so a stream partition's records are handed over only in order: a
   record past the next expected offset (where the last seek went, or one past the last record
   handed over) is held back and the partition is sought back to that offset at once, and the
   commit check stays as the backstop for records a stream itself skips. And a re-fetch for a
   hole processed everything after it again (traced: offset 16 fetched again when 17 onwards
   were done, 458 alerts sent twice); so after a re-fetch only the hole is handed over again,
   not the records after it that were handed over before (processed or still on their way),
   and a record below the next expected offset is never handed over twice. A real gap in a
   partition (records deleted by retention while the group lagged) would hold it back for
   ever, so after ``GAP_ACCEPTED_AFTER`` seconds of holes the next record is handed over
   anyway, with a warning (``offset_gap``).

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

6. **Tansu reports a partition's end offset short after a multi-record batch.** Tansu 0.6
   answers ListOffsets with the *last batch's base offset* + 1 (17 records in batches of 10 and
   7: end 11). Faust's table recovery reads each changelog partition up to that end, so a
   restarted worker stopped inside the last batch and lost its table writes: stories opened
   there came back under new ids, counts went back. The fix reads the batch at ``end - 1`` with
   a consumer of its own and takes one past its last record as the end. On Kafka, which
   reports the end right, it finds the same end, for one fetch per recovery.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable, Mapping

import aiokafka
import faust
import structlog
from faust.transport.drivers.aiokafka import AIOKafkaConsumerThread
from faust.transport.drivers.aiokafka import Consumer as AIOKafkaConsumer
from faust.types import TP

from streams.settings import Settings

log = structlog.get_logger("pantau.worker")
REFETCH_AFTER_SECONDS = 60.0  # a re-fetch waits behind the buffered records; do not repeat it soon
SEEK_BACK_AFTER_SECONDS = 1.0  # holes that go on after a seek back: seek again (3)
GAP_ACCEPTED_AFTER = 30.0  # holes for this long are a real gap in the partition (3)
END_READ_SECONDS = 10.0  # longest the ends of a recovery are read for (6)


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


class _InOrder:
    """Which records of the stream partitions the consumer may hand over (3): each partition's
    in offset order, from where it was last sought, none before its first seek after an
    assignment (Faust seeks every partition to its committed offset once its tables are ready),
    and none twice, but for the hole a re-fetch is for."""

    def __init__(self) -> None:
        self.next: dict[TP, int] = {}  # offset to hand over next
        self.unsought: dict[TP, bool] = {}  # assigned, not sought yet -> whether records came
        self.holes: dict[TP, tuple[float, float]] = {}  # -> (first hole, last seek back)
        self.on_their_way: dict[TP, tuple[int, int]] = {}  # -> [from, to) handed before a re-fetch

    def assigned(self, tps: Iterable[TP]) -> None:
        for tp in tps:
            self.forget([tp])
            self.unsought[tp] = False

    def forget(self, tps: Iterable[TP]) -> None:
        for tp in tps:
            self.unsought.pop(tp, None)
            self.next.pop(tp, None)
            self.holes.pop(tp, None)
            self.on_their_way.pop(tp, None)

    def sought(self, tp: TP, offset: int) -> bool:
        """Records are expected from ``offset`` now; whether some came in before the seek was
        known here (fetched after the client's seek they moved its position: seek again)."""
        self.next[tp] = offset
        self.holes.pop(tp, None)
        return self.unsought.pop(tp, False)

    def hold_back(self, tp: TP, offset: int) -> int | None:
        """None to hand the record over; else the offset to seek back to (-1: none now)."""
        if tp in self.unsought:
            self.unsought[tp] = True
            return -1
        expected = self.next.get(tp)
        if expected is None or offset == expected:
            return None
        if offset < expected:  # handed over already, or before where the partition was sought
            return -1
        now = time.monotonic()
        since, sought = self.holes.get(tp, (now, 0.0))
        if now - since > GAP_ACCEPTED_AFTER:
            log.warning("offset_gap", topic=tp.topic, partition=tp.partition, offset=expected)
            return None
        seek = now - sought >= SEEK_BACK_AFTER_SECONDS
        self.holes[tp] = (since, now if seek else sought)
        return expected if seek else -1

    def handed(self, tp: TP, offset: int) -> None:
        self.holes.pop(tp, None)
        if offset >= self.next.get(tp, offset):
            self.next[tp] = offset + 1

    def refetch(self, tp: TP, head: int) -> None:
        """Before a seek back for the hole below ``head``: the records from ``head`` to where
        the hand-over had got are processed or on their way, so only the hole goes again."""
        upto = self.next.get(tp, head)
        if upto > head:
            self.on_their_way[tp] = (head, upto)

    def on_its_way(self, tp: TP, offset: int) -> bool:
        """Whether a record in order was handed over before the last re-fetch."""
        span = self.on_their_way.get(tp)
        if span is None or offset < span[0]:
            return False
        if offset >= span[1]:
            del self.on_their_way[tp]
            return False
        return True


async def read_ends(ends: Mapping[TP, int | None], consumer_options: dict) -> dict[TP, int | None]:
    """Each partition's real end: one past the last record of the batch at ``end - 1`` (6).

    A partition whose batch does not come within :data:`END_READ_SECONDS` keeps the end given.
    """
    real = dict(ends)
    pending = {tp for tp, end in ends.items() if end}
    if not pending:
        return real
    consumer = aiokafka.AIOKafkaConsumer(**consumer_options)
    await consumer.start()
    try:
        consumer.assign(list(pending))
        for tp in pending:
            consumer.seek(tp, ends[tp] - 1)
        deadline = time.monotonic() + END_READ_SECONDS
        while pending and time.monotonic() < deadline:
            for tp, records in (await consumer.getmany(*pending, timeout_ms=1000)).items():
                real[tp] = max(ends[tp], records[-1].offset + 1)
                pending.discard(tp)
    finally:
        await consumer.stop()
    if pending:
        log.warning("end_offsets_not_read", partitions=len(pending))
    return real


class _ConsumerThread(AIOKafkaConsumerThread):
    def _create_worker_consumer(self, transport):
        client = super()._create_worker_consumer(transport)
        client._fetch_max_wait_ms = self.consumer.fetch_max_wait_ms  # read when it starts (5)
        return client

    async def _highwaters(self, partitions):
        """The changelog ends table recovery reads up to (Faust's only use of them), read
        past Tansu's short answer (6)."""
        ends = await super()._highwaters(partitions)
        return await read_ends(ends, self.consumer.end_reader)


class Consumer(AIOKafkaConsumer):
    """Faust's aiokafka consumer without the read-offset filter (bug 1), with stream records
    handed over in order and commits that never pass a record the stream skipped (bug 3), a
    seek that re-fetches every partition (bug 4), the configured fetch wait (5) and changelog
    ends read to the last record (6)."""

    fetch_max_wait_ms: int  # from the settings, given to install()
    end_reader: dict  # options of the consumer that reads changelog ends (6)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._read_offset = _FetchedFrom()
        self._refetched: dict[TP, tuple[int, float]] = {}  # tp -> (offset, when)
        self._seeks: set[asyncio.Future] = set()
        self._in_order = _InOrder()
        self.callback = self._handing_over_in_order(self.callback)

    def _new_consumer_thread(self) -> AIOKafkaConsumerThread:
        return _ConsumerThread(self, loop=self.loop, beacon=self.beacon)

    def _handing_over_in_order(self, hand_over):
        """The consumer's callback, for stream partitions only in order (3)."""
        in_order, acks_enabled_for = self._in_order, self.app.topics.acks_enabled_for

        async def callback(message) -> None:
            tp, offset = message.tp, message.offset
            if acks_enabled_for(tp.topic):
                back = in_order.hold_back(tp, offset)
                if back is not None:
                    if back >= 0:
                        self._seek_back(tp, back)
                    return
                if not in_order.on_its_way(tp, offset):
                    await hand_over(message)  # not past here if the flow stopped: not handed over
                in_order.handed(tp, offset)
            else:
                await hand_over(message)

        return callback

    async def on_partitions_revoked(self, revoked) -> None:
        self._in_order.forget(revoked)
        await super().on_partitions_revoked(revoked)

    async def on_partitions_assigned(self, assigned, generation_id: int = 0) -> None:
        self._in_order.assigned(tp for tp in assigned if self.app.topics.acks_enabled_for(tp.topic))
        await super().on_partitions_assigned(assigned, generation_id)

    async def seek_to_committed(self):
        """Seek each stream partition to where the group reads it from: its committed offset,
        or its earliest one (4). Faust records what this returns as each partition's start."""
        committed = await super().seek_to_committed()
        streams = {tp for tp in committed if self.app.topics.acks_enabled_for(tp.topic)}
        uncommitted = [tp for tp in streams if not committed[tp]]
        if uncommitted:
            starts = await self.earliest_offsets(*uncommitted)
            await self.seek_wait(starts)  # the client leaves these where the last fetch left them
            committed = {**committed, **starts}
        again = {
            tp: committed[tp]
            for tp in streams
            if committed[tp] is not None and self._in_order.sought(tp, committed[tp])
        }
        if again:
            await self.seek_wait(again)
        return committed

    def _seek_back(self, tp: TP, offset: int) -> None:
        """Seek a stream partition back to ``offset`` without waiting for it."""
        self._in_order.sought(tp, offset)
        seek = asyncio.ensure_future(self.seek_wait({tp: offset}))  # in the consumer's thread
        self._seeks.add(seek)
        seek.add_done_callback(self._seeks.discard)

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
        self._in_order.refetch(tp, head)
        self._seek_back(tp, start)


def install(app: faust.App, output_topics: Iterable[faust.TopicT], settings: Settings) -> None:
    """Apply the fixes to the app: before its consumer exists, and when its producer starts."""
    app.transport.Consumer = type(
        "Consumer",
        (Consumer,),
        {
            "fetch_max_wait_ms": settings.fetch_max_wait_ms,
            "end_reader": settings.kafka_client_options(
                enable_auto_commit=False,
                fetch_max_wait_ms=settings.fetch_max_wait_ms,
                max_partition_fetch_bytes=settings.max_record_bytes,
            ),
        },
    )
    names = [topic.get_topic_name() for topic in output_topics]

    @app.task
    async def track_output_topics() -> None:
        client = app.producer._ensure_producer().client  # Faust has no public handle on it
        changelogs = [table.changelog_topic.get_topic_name() for table in app.tables.values()]
        for name in sorted({*names, *changelogs}):
            client.add_topic(name)
        await client.force_metadata_update()
