"""Two client bugs that lost or held back records, and what Pantau does about them.

Both were found by the multi-worker tests (``tests/test_scale_out.py``, ``tests/test_delivery.py``)
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
"""

from __future__ import annotations

from collections.abc import Iterable

import faust
from faust.transport.drivers.aiokafka import Consumer as AIOKafkaConsumer


class _NoReadOffsets(dict):
    """Faust's read-offset map, always empty: every fetched record reaches its stream."""

    def __getitem__(self, tp):
        return None

    def __setitem__(self, tp, offset) -> None:
        pass

    def update(self, *args, **kwargs) -> None:
        pass


class Consumer(AIOKafkaConsumer):
    """Faust's aiokafka consumer without the read-offset filter (see bug 1 above)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._read_offset = _NoReadOffsets()


def install(app: faust.App, output_topics: Iterable[faust.TopicT]) -> None:
    """Apply both fixes to the app: before its consumer exists, and when its producer starts."""
    app.transport.Consumer = Consumer
    names = [topic.get_topic_name() for topic in output_topics]

    @app.task
    async def track_output_topics() -> None:
        client = app.producer._ensure_producer().client  # Faust has no public handle on it
        changelogs = [table.changelog_topic.get_topic_name() for table in app.tables.values()]
        for name in sorted({*names, *changelogs}):
            client.add_topic(name)
        await client.force_metadata_update()
