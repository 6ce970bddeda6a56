"""Read alerts off the alerts topic without joining a group, and show them to a person."""

from __future__ import annotations

import heapq
import json
import time
from collections.abc import Callable, Iterator
from itertools import count
from typing import Any

from kafka import KafkaConsumer, TopicPartition
from kafka.errors import KafkaTimeoutError
from rich.console import Console
from rich.text import Text

from streams.models import Alert

HOLD_SECONDS = 0.5  # longest a record waits for earlier ones from other partitions

SEVERITY_STYLE = {
    "low": "cyan",
    "medium": "yellow",
    "high": "bold red",
    "critical": "bold white on red",
}


def open_consumer(
    bootstrap_servers: list[str],
    topic: str,
    from_beginning: bool,
    wait: float = 30.0,
    **client_options: object,
) -> KafkaConsumer:
    """A group-less consumer on every partition (joins instantly, even on Tansu).

    ``client_options`` are further client settings: the security ones come with
    :meth:`~streams.settings.Settings.kafka_client_options`, brokers included.
    """
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap_servers, enable_auto_commit=False, **client_options
    )
    deadline = time.monotonic() + wait
    partitions = consumer.partitions_for_topic(topic)
    while not partitions and time.monotonic() < deadline:
        time.sleep(0.2)
        consumer.topics()  # refreshes metadata; the broker may create the topic on request
        partitions = consumer.partitions_for_topic(topic)
    if not partitions:
        consumer.close()
        raise KafkaTimeoutError(f"topic {topic!r} has no partitions after {wait:.0f} s")
    assigned = [TopicPartition(topic, p) for p in sorted(partitions)]
    consumer.assign(assigned)
    if from_beginning:
        consumer.seek_to_beginning(*assigned)
    else:
        consumer.seek_to_end(*assigned)
    return consumer


def records(
    consumer: KafkaConsumer,
    idle_timeout: float | None = None,
    order: Callable[[Any], Any] | None = None,
) -> Iterator:
    """Records as they arrive; stops after ``idle_timeout`` seconds with none (None: never).

    With ``order`` (a sort key of a record), in that order: the consumer fetches partitions
    one after another, so a record may arrive after a later one of another partition; each is
    held until the consumer has caught up, or for at most ``HOLD_SECONDS``.
    """
    waiting: list[tuple[Any, int, float, Any]] = []  # a heap: (key, arrival, when, record)
    arrivals = count()
    last = time.monotonic()
    while True:
        batch = consumer.poll(timeout_ms=200)
        now = time.monotonic()
        for partition_records in batch.values():
            for record in partition_records:
                key = order(record) if order else 0
                heapq.heappush(waiting, (key, next(arrivals), now, record))
            last = now
        while waiting and (not batch or now - waiting[0][2] >= HOLD_SECONDS):
            yield heapq.heappop(waiting)[3]
        if idle_timeout is not None and not waiting and now - last > idle_timeout:
            return


def publish_order(record: Any) -> tuple[int, str]:
    """An alert record's place in publish order: its timestamp, then (within a millisecond, as
    in one batch of the story stage) when its alert was detected."""
    try:
        detected = json.loads(record.value).get("detected_at") or ""
    except (ValueError, AttributeError):
        detected = ""
    return record.timestamp, str(detected)


def render_alert(alert: Alert) -> Text:
    """Rule, severity, headline, then each evidence sentence with the matched words bold."""
    out = Text()
    out.append(f"[{alert.severity.upper()}] ", style=SEVERITY_STYLE[alert.severity])
    out.append(alert.rule_id, style="bold")
    out.append(f"  {alert.article.title or alert.article.id}", style="italic")
    extras = [alert.article.language or "?", f"score {alert.score:g}"]
    if alert.countries:
        extras.append(",".join(alert.countries))
    if alert.story is not None:
        outlets = len(alert.story.sources)
        size = f"{alert.story.article_count} article(s), {outlets} outlet(s)"
        extras.append("new story" if alert.story_status == "new" else f"story: {size}")
    out.append(f"  ({'; '.join(extras)})\n", style="dim")
    for evidence in alert.evidence[:3]:
        out.append(f"    {evidence.field}: ", style="dim")
        cursor = evidence.start
        for term in sorted(evidence.terms, key=lambda t: t.start):
            if term.start < cursor:
                continue
            out.append(evidence.snippet[cursor - evidence.start : term.start - evidence.start])
            out.append(
                evidence.snippet[term.start - evidence.start : term.end - evidence.start],
                style="bold reverse",
            )
            cursor = term.end
        out.append(evidence.snippet[cursor - evidence.start :] + "\n")
    return out


def print_alert(console: Console, alert: Alert) -> None:
    console.print(render_alert(alert), end="", soft_wrap=True, highlight=False)
