"""Delivery: a record counts as published once the broker has acknowledged it.

Both stages publish through :func:`deliver`, which sends again what the broker did not
acknowledge and returns only when everything is, so a stage's offsets are never committed past
an unpublished record. A record that cannot be classified is not dropped either: it is parked on
the dead-letter topic (:class:`DeadLetters`) with why and where it came from in its headers.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass

import faust
import structlog

from streams.worker import metrics
from streams.worker.retry import backoff

log = structlog.get_logger("pantau.worker")
ACK_WARNING_SECONDS = 3.0
RECORD_HEADROOM = 65_536  # for a record's key, headers and framing under max_record_bytes


@dataclass(frozen=True, slots=True)
class Outgoing:
    """A record to publish; kept until the broker has acknowledged it, so it can be sent again."""

    topic: faust.TopicT
    key: bytes | str | None
    value: bytes
    headers: list[tuple[str, bytes]] | None = None


async def deliver(records: list[Outgoing], what: str) -> None:
    """Publish the records and return only once the broker has acknowledged every one.

    A record whose send fails (an expired batch, a broker error) is sent again with back-off:
    the caller's offset is not committed before this returns, so nothing is lost and at worst
    a record is published twice (with the same key). While the broker does not answer at all,
    a warning every few seconds makes the outage visible (a hung broker raises no error).
    """
    delays = backoff()
    while records:
        sends = [await r.topic.send(key=r.key, value=r.value, headers=r.headers) for r in records]
        results = await _acks(sends, what)
        failed = [(r, e) for r, e in zip(records, results, strict=True) if isinstance(e, Exception)]
        if failed:
            error, delay = failed[0][1], next(delays)
            log.warning(
                "send_failed_retrying",
                what=what,
                records=len(failed),
                error=f"{type(error).__name__}: {error}",
                retry_in_seconds=delay,
            )
            metrics.SEND_RETRIES.labels(what).inc(len(failed))
            await asyncio.sleep(delay)
        records = [record for record, _ in failed]


async def _acks(sends: list, what: str) -> list:
    """Each send's result or exception; warns every few seconds while none comes."""
    acks = asyncio.gather(*sends, return_exceptions=True)
    waited = 0.0
    while True:
        try:
            results = await asyncio.wait_for(asyncio.shield(acks), timeout=ACK_WARNING_SECONDS)
        except TimeoutError:
            waited += ACK_WARNING_SECONDS
            log.warning("broker_not_acknowledging", waited_seconds=waited, what=what)
            continue
        if waited:
            log.info("broker_acks_resumed", waited_seconds=waited, what=what)
        return results


@dataclass(frozen=True, slots=True)
class DeadLetters:
    """The dead-letter topic, and the largest record the worker may publish on it."""

    topic: faust.TopicT
    max_record_bytes: int

    async def park(self, message, reason: str, detail: str, started: float) -> None:
        """Park a record with why and where it came from; wait until the broker has it.

        A record too large to publish again whole is kept truncated, with its size in a header.
        """
        await deliver([self._record(message, reason, detail)], "dead_letter")
        metrics.ARTICLES_DEAD_LETTERED.labels(reason).inc()
        log.warning(
            "dead_letter",
            reason=reason,
            error=detail,
            article_id=_article_id(message.value),
            key=(message.key or b"").decode("utf-8", "replace")[:200],
            partition=message.partition,
            offset=message.offset,
            seconds=round(time.perf_counter() - started, 6),
        )

    def _record(self, message, reason: str, detail: str) -> Outgoing:
        headers = [
            ("pantau.reason", reason.encode()),
            ("pantau.error", detail[:1000].encode("utf-8", "backslashreplace")),
            ("pantau.topic", message.topic.encode()),
            ("pantau.partition", str(message.partition).encode()),
            ("pantau.offset", str(message.offset).encode()),
        ]
        value = message.value
        room = self.max_record_bytes - RECORD_HEADROOM
        if value is not None and len(value) > room:
            headers.append(("pantau.truncated_from", str(len(value)).encode()))
            value = value[:room]
        return Outgoing(self.topic, message.key, value, headers)


def _article_id(value: bytes | None) -> str | None:
    """The record's ``id`` when it has one that can be read, for the dead-letter log line."""
    try:
        data = json.loads(value or b"")
    except (ValueError, RecursionError):
        return None
    found = data.get("id") if isinstance(data, dict) else None
    return str(found)[:200] if found is not None else None
