"""Read the dead-letter topic and put records back on their topic once the cause is fixed."""

from __future__ import annotations

from dataclasses import dataclass

from streams.settings import Settings
from streams.tools.replay import make_producer
from streams.tools.tail import open_consumer, records


@dataclass
class DeadLetter:
    offset: int
    partition: int
    key: bytes | None
    value: bytes | None
    headers: dict[str, str]

    @property
    def reason(self) -> str:
        return self.headers.get("pantau.reason", "unknown")

    def as_dict(self) -> dict:
        return {
            "partition": self.partition,
            "offset": self.offset,
            "key": (self.key or b"").decode("utf-8", "replace"),
            **{name.removeprefix("pantau."): value for name, value in self.headers.items()},
            "value": (self.value or b"").decode("utf-8", "replace"),
        }

    def describe(self) -> str:
        h = self.headers
        preview = (self.value or b"")[:80].decode("utf-8", "replace").replace("\n", " ")
        return (
            f"{self.partition}:{self.offset} [{self.reason}] {h.get('pantau.error', '')}\n"
            f"    from {h.get('pantau.topic')}[{h.get('pantau.partition')}]@"
            f"{h.get('pantau.offset')}  {preview!r}"
        )


def list_dead_letters(settings: Settings, reason: str | None, idle_timeout: float) -> list:
    consumer = open_consumer(
        topic=settings.dead_letter_topic, from_beginning=True, **settings.kafka_client_options()
    )
    letters = []
    try:
        for record in records(consumer, idle_timeout):
            headers = {k: v.decode("utf-8", "replace") for k, v in record.headers or []}
            letter = DeadLetter(record.offset, record.partition, record.key, record.value, headers)
            if reason is None or letter.reason == reason:
                letters.append(letter)
    finally:
        consumer.close()
    return letters


def replay_dead_letters(settings: Settings, letters: list[DeadLetter]) -> int:
    """Send each record, unchanged, to the topic it was first read from."""
    producer = make_producer(settings)
    for letter in letters:
        topic = letter.headers.get("pantau.topic") or settings.articles_topic
        headers = [("pantau.replayed_from", f"{letter.partition}:{letter.offset}".encode())]
        producer.send(topic, key=letter.key, value=letter.value, headers=headers)
    producer.flush()
    producer.close()
    return len(letters)
