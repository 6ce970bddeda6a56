"""Section 3: the worker's resident memory after start and over 100,000 articles.

A leak shows as a trend, not as one number: RSS is sampled every second against the articles
handled, and the least-squares slope from the first checkpoint (20,000) to the end says
whether memory keeps growing once caches and buffers have filled. Articles are produced at
most ``ahead`` in front of the worker, so the in-memory broker does not hold all of them.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from aiokafka.errors import KafkaError

from benchmarks.e2e import (
    ARTICLES,
    E2EPlan,
    System,
    create_topics,
    encode,
    start_producer,
    wait_ready,
)
from benchmarks.stats import slope
from benchmarks.workload import iter_article_events
from streams.tools.broker import embedded_broker

SAMPLE_EVERY = 1.0
GROWTH_ALLOWED = 0.05  # "no growth trend": projected growth over the span under 5% of RSS


@dataclass
class MemoryPlan:
    articles: int = 100_000
    budget: float = 300.0  # seconds of feeding before the run stops, complete or not
    ahead: int = 5_000
    checkpoints: int = 5  # evenly spaced; the first is the start of the trend span


def rss_mb(pid: int) -> float:
    """Resident set size of a process, from /proc (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for pid {pid}")


async def feed_and_sample(system: System, producer, plan: MemoryPlan) -> list[tuple[int, float]]:
    """Keep the worker busy with up to ``ahead`` unread articles; sample (handled, RSS)."""
    events = iter_article_events(plan.articles, prefix="m")
    base = system.handled()[0]
    sent, samples = 0, []
    started = next_sample = time.monotonic()
    while time.monotonic() - started < plan.budget:
        system.check_alive()
        handled = system.handled()[0] - base
        try:
            while sent < plan.articles and sent - handled < plan.ahead:
                event = next(events)
                key, value = encode({**event, "received_at": datetime.now(UTC).isoformat()})
                await producer.send(ARTICLES, value, key=key)
                sent += 1
        except KafkaError:  # the broker went away: keep the samples taken so far
            break
        if time.monotonic() >= next_sample:
            samples.append((handled, rss_mb(system.pid)))
            next_sample += SAMPLE_EVERY
        if handled >= plan.articles or system.stalled():
            break  # done, or stuck (a dead broker must not add a flat tail to the trend)
        await asyncio.sleep(0.2)
    samples.append((system.handled()[0] - base, rss_mb(system.pid)))
    return samples


async def measure_memory(e2e: E2EPlan, plan: MemoryPlan) -> dict:
    with embedded_broker() as url:
        producer = await start_producer(create_topics(url))
        system = System("worker", url, e2e, expected=0, tag="memory")
        try:
            await wait_ready(system, producer)
            await asyncio.sleep(2.0)
            start = rss_mb(system.pid)
            samples = await feed_and_sample(system, producer, plan)
            stalled = system.stalled()
        finally:
            system.stop()
            await producer.stop()
    return {**summarise_memory(plan, start, samples), "stalled": stalled}


def summarise_memory(plan: MemoryPlan, start: float, samples: list[tuple[int, float]]) -> dict:
    step = plan.articles // plan.checkpoints
    marks = [step * i for i in range(1, plan.checkpoints + 1)]
    checkpoints = []
    for mark in marks:
        reached = next(((n, rss) for n, rss in samples if n >= mark), None)
        if reached:
            checkpoints.append({"articles": mark, "at": reached[0], "rss_mb": reached[1]})
    span = [(n, rss) for n, rss in samples if n >= marks[0]]
    per_article = slope([n for n, _ in span], [rss for _, rss in span]) if len(span) > 2 else None
    done = samples[-1][0] if samples else 0
    result: dict = {
        "articles": plan.articles,
        "articles_done": done,
        "complete": done >= plan.articles,
        "rss_start_mb": start,
        "rss_end_mb": samples[-1][1] if samples else None,
        "checkpoints": checkpoints,
        "samples": samples,
        "trend_from": marks[0],
    }
    if per_article is not None and per_article == per_article:  # not NaN
        projected = per_article * (plan.articles - marks[0])
        base = span[0][1]
        result["slope_mb_per_10k"] = per_article * 10_000
        result["projected_growth_mb"] = projected
        result["no_growth_trend"] = projected <= GROWTH_ALLOWED * base
    return result


def run_memory(e2e: E2EPlan, plan: MemoryPlan) -> dict:
    return asyncio.run(measure_memory(e2e, plan))
