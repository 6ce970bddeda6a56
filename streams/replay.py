"""Turn seed text files and JSON Lines files into article events on the articles topic."""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

from kafka import KafkaProducer

from streams.models import Article, utcnow
from streams.settings import Settings


def parse_seed(path: Path) -> Article:
    """A seed text file: the first non-empty line is the title, the rest is the body."""
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines()
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is None:
        raise ValueError(f"{path}: the file is empty")
    body = "\n".join(lines[first + 1 :]).strip("\n")
    return Article(id=path.stem, title=lines[first].strip(), body=body, source=f"seed:{path.name}")


def read_jsonl(path: Path) -> Iterator[dict]:
    """Articles as JSON objects, one per line; blank lines are skipped."""
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if line.strip():
                try:
                    yield json.loads(line)
                except ValueError as error:
                    raise ValueError(f"{path}:{number}: not JSON: {error}") from None


def articles_from(paths: Iterable[Path]) -> Iterator[dict]:
    """Article events from seed text files and ``.jsonl`` / ``.json`` files, in order."""
    for path in paths:
        if path.is_dir():
            yield from articles_from(sorted(p for p in path.iterdir() if p.is_file()))
        elif path.suffix in (".jsonl", ".json", ".ndjson"):
            yield from read_jsonl(path)
        else:
            yield parse_seed(path).model_dump(mode="json", exclude_none=True)


def make_producer(settings: Settings) -> KafkaProducer:
    """A kafka-python producer with the deployment's brokers, security and batch size."""
    return KafkaProducer(
        bootstrap_servers=settings.bootstrap_servers,
        acks="all",
        linger_ms=5 if settings.producer_batch_bytes > 1 else 0,
        batch_size=settings.producer_batch_bytes,
        max_request_size=settings.max_record_bytes,
        **settings.kafka_python_security(),
    )


def publish(
    producer: KafkaProducer,
    topic: str,
    events: Iterable[dict],
    rate: float = 0.0,
    on_sent=None,
) -> int:
    """Send events (stamping ``received_at``), at most ``rate`` per second when rate > 0."""
    sent, started = 0, time.monotonic()
    for event in events:
        event = dict(event)
        event.setdefault("received_at", utcnow().isoformat())
        key = str(event.get("id", "")).encode() or None
        producer.send(topic, key=key, value=json.dumps(event, ensure_ascii=False).encode())
        sent += 1
        if on_sent:
            on_sent(event)
        if rate > 0:
            delay = started + sent / rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
    producer.flush()
    return sent
