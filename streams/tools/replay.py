"""Turn seed text files and JSON Lines files into article events on the articles topic."""

from __future__ import annotations

import json
import re
import sys
import time
from collections.abc import Iterable, Iterator
from contextlib import nullcontext
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from babel.dates import get_day_names, get_month_names
from kafka import KafkaProducer

from streams.models import Article, utcnow
from streams.settings import Settings
from streams.validate import BadRecord, parse_record

DATELINE_LOCALES = ("en", "id", "ms")
JSON_LINES = (".jsonl", ".json", ".ndjson")


class InputError(ValueError):
    """An article in a file that cannot be read, located as "file" or "file:line"."""

    def __init__(self, where: str, message: str):
        self.where, self.message = where, message
        super().__init__(f"{where}: {message}")


def parse_seed(path: Path) -> Article:
    """A seed text file: the first non-empty line is the title, the rest is the body.

    Scraped pages often open with a dateline ("Selasa, Desember 3, 2024") above the headline;
    the headline is then the title and the dateline stays, as text, at the top of the body.
    """
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError as error:
        raise InputError(str(path), f"not UTF-8 at byte {error.start}") from None
    filled = [i for i, line in enumerate(lines) if line.strip()]
    if not filled:
        raise InputError(str(path), "the file is empty")
    if len(filled) > 1 and is_dateline(lines[filled[0]]):
        title, rest = filled[1], [lines[filled[0]], *lines[filled[1] + 1 :]]
    else:
        title, rest = filled[0], lines[filled[0] + 1 :]
    body = "\n".join(rest).strip("\n")
    return Article(id=path.stem, title=lines[title].strip(), body=body, source=f"seed:{path.name}")


def is_dateline(line: str) -> bool:
    """Whether a line holds only a date: a year, a month or weekday name, and numbers."""
    words = re.findall(r"\w+", line.casefold())
    names = _calendar_names()
    return (
        any(len(word) == 4 and word.isdigit() for word in words)
        and any(word in names for word in words)
        and all(word in names or word.isdigit() for word in words)
    )


@cache
def _calendar_names() -> frozenset[str]:
    """Month and weekday names, full and abbreviated, from CLDR (Babel)."""
    names: set[str] = set()
    for locale in DATELINE_LOCALES:
        for width in ("wide", "abbreviated"):
            names.update(get_month_names(width, locale=locale).values())
            names.update(get_day_names(width, locale=locale).values())
    return frozenset(name.casefold().rstrip(".") for name in names)


def article_sources(paths: Iterable[Path]) -> Iterator[tuple[str, bytes | Path]]:
    """Each article of the inputs in order, with where it is: a line of a JSON Lines file
    (``-``: standard input) as read, at "file:line", or a seed text file still to parse.

    Folders stand for their files in name order. Lines stay bytes, so one that is not UTF-8
    is refused alone, as the worker refuses such a record.
    """
    for path in paths:
        if path.is_dir():
            yield from article_sources(sorted(p for p in path.iterdir() if p.is_file()))
        elif str(path) == "-" or path.suffix in JSON_LINES:
            yield from _json_lines(path)
        else:
            yield str(path), path


def _json_lines(path: Path) -> Iterator[tuple[str, bytes]]:
    stdin = str(path) == "-"
    name = "<stdin>" if stdin else str(path)
    with nullcontext(sys.stdin.buffer) if stdin else path.open("rb") as handle:
        for number, line in enumerate(handle, start=1):
            if line.strip():
                yield f"{name}:{number}", line


def _events(paths: Iterable[Path]) -> Iterator[tuple[str, bytes | None, dict]]:
    """(where, the line as read or None for a seed file, the event) of each article."""
    for where, source in article_sources(paths):
        if isinstance(source, Path):
            yield where, None, parse_seed(source).model_dump(mode="json", exclude_none=True)
            continue
        try:
            yield where, source, json.loads(source)
        except ValueError as error:
            raise InputError(where, f"not JSON: {error}") from None


def articles_from(paths: Iterable[Path]) -> Iterator[dict]:
    """Article events from seed text files and ``.jsonl`` / ``.json`` files, in order; a line
    that is not JSON is refused (the worker's checks are the worker's: replay sends the rest)."""
    for _, _, event in _events(paths):
        yield event


@dataclass
class Checked:
    """Article events to publish, with what the worker will make of the doubtful ones."""

    events: list[dict] = field(default_factory=list)
    problems: dict[str, list[str]] = field(default_factory=dict)  # file -> "line N: what"
    dead_letters: int = 0  # records the worker will dead-letter
    ignored_fields: int = 0  # records with fields the worker ignores


def check_articles(paths: Iterable[Path], max_body_bytes: int) -> Checked:
    """The events of :func:`articles_from`, each checked as the worker will check it: one it
    will dead-letter (no id, no title or body, ...) or with fields it ignores (``headline``)
    is listed under its file."""
    checked = Checked()
    known = set(Article.model_fields)
    for where, source, event in _events(paths):
        checked.events.append(event)
        if source is None:
            continue  # a seed file is an article by construction
        found = []
        try:
            parse_record(source, max_body_bytes)
        except BadRecord as error:
            checked.dead_letters += 1
            found.append(f"dead-lettered as {error.reason}: {error.message}")
        unknown = sorted(set(event) - known) if isinstance(event, dict) else []
        if unknown:
            checked.ignored_fields += 1
            found.append(f"fields the worker ignores: {', '.join(unknown)}")
        if found:
            name, _, line = where.rpartition(":")
            checked.problems.setdefault(name, []).append(f"line {line}: {'; '.join(found)}")
    return checked


def make_producer(settings: Settings) -> KafkaProducer:
    """A kafka-python producer with the deployment's brokers, security and batch size."""
    return KafkaProducer(
        **settings.kafka_client_options(
            acks="all",
            linger_ms=5 if settings.producer_batch_bytes > 1 else 0,
            batch_size=settings.producer_batch_bytes,
            max_request_size=settings.max_record_bytes,
        )
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
