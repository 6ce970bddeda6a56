"""Read alerts off the alerts topic without joining a group, and show them to a person."""

from __future__ import annotations

import time
from collections.abc import Iterator

from kafka import KafkaConsumer, TopicPartition
from kafka.errors import KafkaTimeoutError
from rich.console import Console
from rich.text import Text

from streams.models import Alert

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


def records(consumer: KafkaConsumer, idle_timeout: float | None = None) -> Iterator:
    """Records as they arrive; stops after ``idle_timeout`` seconds with none (None: never)."""
    last = time.monotonic()
    while True:
        batch = consumer.poll(timeout_ms=200)
        for partition_records in batch.values():
            yield from partition_records
            last = time.monotonic()
        if idle_timeout is not None and time.monotonic() - last > idle_timeout:
            return


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
