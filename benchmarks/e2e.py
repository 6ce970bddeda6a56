"""Section 2: end to end through Tansu, the worker beside a raw loop and a no-op Faust agent.

Each measured run gets a fresh in-memory broker, so no run inherits another's data or load:
20,000 articles are loaded onto the articles topic first, the system under test starts and
drains them (throughput: first record consumed to last output), then the harness sends articles at a
steady rate and times each one from ``received_at`` to its first output record's CreateTime
(latency). A system that cannot drain the backlog in the budget gets its throughput from its
own progress, and a restart on a fresh broker for the steady phase. Systems are interleaved
within each repeat, and each reported figure is the median over the repeats.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.structs import ConsumerRecord

from benchmarks import profile
from benchmarks.progress import read_progress
from benchmarks.stats import median, percentile, ratio
from benchmarks.workload import article_events, default_classifier
from streams.models import Article
from streams.settings import TANSU_PROFILE, Settings
from streams.tools.broker import embedded_broker, free_port, stop_process
from streams.tools.topics import ensure_topics, pipeline_topics

ARTICLES, OUTPUT = "bench.articles", "bench.output"
SYSTEMS = ("worker", "faust_noop", "faust_send", "raw")
MODULES = {
    "worker": "streams",  # python -m streams worker
    "faust_noop": "benchmarks.faust_ref",
    "faust_send": "benchmarks.faust_ref",
    "raw": "benchmarks.raw_ref",
}
CHECKOUT = Path(__file__).resolve().parents[1]  # so `-m benchmarks.*` runs in any folder
STARTUP_TIMEOUT = 90.0  # seconds until a system must have processed its first record
POLL = 0.25
STILL = 2.0  # seconds without a new output after which a system is taken to be done
STALLED = 10.0  # seconds without any progress, with work left, that mark a run as stalled

Log = Callable[[str], None]


@dataclass
class E2EPlan:
    workdir: Path
    backlog: int = 20_000
    rate: float = 500.0
    steady_seconds: float = 15.0
    budget: float = 60.0  # seconds a system may spend draining the backlog
    grace: float = 10.0  # seconds to wait for outputs once the steady stream stops
    repeats: int = 3
    systems: tuple[str, ...] = SYSTEMS
    modules: dict[str, str] = field(default_factory=dict)  # kind -> module, for experiments
    extra_env: dict[str, str] = field(default_factory=dict)
    quiet_share: float = 0.0  # articles that fire no rule (workload.py)


# ---- the systems under test -------------------------------------------------------------------
class System:
    """One system under test as a subprocess: the worker, a Faust reference or the raw loop."""

    def __init__(self, kind: str, broker_url: str, plan: E2EPlan, expected: int, tag: str):
        self.kind, self.plan = kind, plan
        self.progress_path = plan.workdir / f"{tag}.progress.json"
        self.log_path = plan.workdir / f"{tag}.log"
        self.metrics_port = free_port() if kind == "worker" else 0
        env = {
            **os.environ,
            **TANSU_PROFILE,
            "PANTAU_BROKER": broker_url,
            "PANTAU_APP_ID": f"bench-{kind.replace('_', '-')}",
            "PANTAU_ARTICLES_TOPIC": ARTICLES,
            "PANTAU_ALERTS_TOPIC": OUTPUT,
            "PANTAU_METRICS_PORT": str(self.metrics_port),
            "PANTAU_DATA_DIR": str(plan.workdir / f"{tag}.data"),
            "BENCH_MODE": kind.removeprefix("faust_"),
            "BENCH_EXPECTED": str(expected),
            "BENCH_PROGRESS": str(self.progress_path),
            "PYTHONPATH": os.pathsep.join(filter(None, [str(CHECKOUT), os.getenv("PYTHONPATH")])),
            **plan.extra_env,
        }
        module = plan.modules.get(kind) or MODULES[kind]
        command = [sys.executable, "-m", module] + (["worker"] if kind == "worker" else [])
        self._seen, self.changed_at = (0, 0), time.monotonic()
        self._log = self.log_path.open("w")
        self.process = subprocess.Popen(
            command, env=env, stdout=self._log, stderr=subprocess.STDOUT, cwd=plan.workdir
        )

    @property
    def pid(self) -> int:
        return self.process.pid

    def handled(self) -> tuple[int, int]:
        """(articles fully handled, output records published) so far."""
        if self.kind != "worker":
            count = read_progress(self.progress_path).count
            found = count, count
        else:
            metrics = worker_metrics(self.metrics_port)
            articles = metrics.get("pantau_articles_classified_total", 0) + metrics.get(
                "pantau_articles_dead_lettered_total", 0
            )
            found = int(articles), int(metrics.get("pantau_alerts_published_total", 0))
        if found != self._seen:
            self._seen, self.changed_at = found, time.monotonic()
        return found

    def stalled(self) -> bool:
        """No progress for STALLED seconds (while work remains: the caller knows)."""
        return time.monotonic() - self.changed_at > STALLED

    def check_alive(self) -> None:
        if self.process.poll() is not None:
            tail = self.log_path.read_text(errors="replace")[-3000:]
            raise RuntimeError(f"{self.kind} exited with {self.process.returncode}:\n{tail}")

    def stop(self) -> None:
        stop_process(self.process)
        self._log.close()

    def warnings(self) -> dict[str, int]:
        """Warning and error events in the worker's JSON log, counted by name."""
        counts: dict[str, int] = {}
        for line in self.log_path.read_text(errors="replace").splitlines():
            if '"level": "warning"' in line or '"level": "error"' in line:
                with suppress(ValueError):
                    event = str(json.loads(line).get("event", "?"))[:80]
                    counts[event] = counts.get(event, 0) + 1
        return counts


def worker_metrics(port: int) -> dict[str, float]:
    """Sums of the worker's Prometheus samples by metric name (labels summed away)."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2) as response:
            text = response.read().decode()
    except OSError:
        return {}
    sums: dict[str, float] = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            name = name.split("{", 1)[0]
            with suppress(ValueError):
                sums[name] = sums.get(name, 0.0) + float(value)
    return sums


# ---- Kafka helpers ------------------------------------------------------------------------------
def create_topics(broker_url: str) -> list[str]:
    """Every pipeline topic up front, as a deployment (and ``pantau demo``) creates them.

    Topics the worker would otherwise create lazily matter here: a producer that first meets a
    topic mid-run narrows aiokafka's tracked metadata and, on Tansu, stalled the worker.
    """
    settings = Settings(broker=broker_url, articles_topic=ARTICLES, alerts_topic=OUTPUT)
    ensure_topics(settings, pipeline_topics(settings))
    return settings.bootstrap_servers


def encode(event: dict) -> tuple[bytes, bytes]:
    return event["id"].encode(), json.dumps(event, ensure_ascii=False).encode()


async def start_producer(bootstrap: list[str]) -> AIOKafkaProducer:
    """The harness's producer: acks=all and a 5 ms linger, as ``pantau replay`` uses."""
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, acks="all", linger_ms=5, max_request_size=8 << 20
    )
    await producer.start()
    return producer


async def preload(producer: AIOKafkaProducer, events: list[dict]) -> None:
    stamp = datetime.now(UTC).isoformat()
    pending = []
    for event in events:
        key, value = encode({**event, "received_at": stamp})
        pending.append(await producer.send(ARTICLES, value, key=key))
    await asyncio.gather(*pending)


class Reader:
    """A group-less consumer of the output topic: end offsets, edge timestamps, records."""

    def __init__(self, bootstrap: list[str]):
        self.consumer = AIOKafkaConsumer(
            bootstrap_servers=bootstrap, enable_auto_commit=False, max_partition_fetch_bytes=8 << 20
        )

    async def __aenter__(self) -> Reader:
        await self.consumer.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.consumer.stop()

    async def partitions(self) -> list[TopicPartition]:
        # A fresh snapshot: the consumer's own cache only learns topics it is assigned.
        cluster = await self.consumer._client.fetch_all_metadata()
        found = cluster.partitions_for_topic(OUTPUT) or set()
        return [TopicPartition(OUTPUT, p) for p in sorted(found)]

    async def ends(self) -> dict[TopicPartition, int]:
        partitions = await self.partitions()
        return await self.consumer.end_offsets(partitions) if partitions else {}

    async def _record_at(self, tp: TopicPartition, offset: int) -> ConsumerRecord:
        self.consumer.assign([tp])
        self.consumer.seek(tp, offset)
        while True:
            batch = await self.consumer.getmany(tp, timeout_ms=1000, max_records=1)
            if batch.get(tp):
                return batch[tp][0]

    async def edges(self) -> tuple[float, float]:
        """Wall-clock seconds of the earliest and the latest output record (CreateTime)."""
        partitions = await self.partitions()
        starts = await self.consumer.beginning_offsets(partitions)
        ends = await self.consumer.end_offsets(partitions)
        firsts, lasts = [], []
        for tp in partitions:
            if ends[tp] > starts[tp]:
                firsts.append((await self._record_at(tp, starts[tp])).timestamp)
                lasts.append((await self._record_at(tp, ends[tp] - 1)).timestamp)
        return min(firsts) / 1000, max(lasts) / 1000

    async def records(self, since: dict[TopicPartition, int]) -> list[ConsumerRecord]:
        """Every output record from ``since`` (offsets per partition) to the current end."""
        ends = await self.ends()
        wanted = {tp: end for tp, end in ends.items() if end > since.get(tp, 0)}
        if not wanted:
            return []
        self.consumer.assign(list(wanted))
        for tp in wanted:
            self.consumer.seek(tp, since.get(tp, 0))
        found: list[ConsumerRecord] = []
        while any([await self.consumer.position(tp) < end for tp, end in wanted.items()]):
            for part in (await self.consumer.getmany(timeout_ms=1000)).values():
                found.extend(part)
        return found


# ---- phases ---------------------------------------------------------------------------------
@dataclass
class Load:
    """Articles to send, and how many alerts each raises (a reference outputs one for each)."""

    events: list[dict]
    alerts: list[int]

    @classmethod
    def of(cls, events: list[dict]) -> Load:
        return cls(events, alerts_per_article(events))

    def outputs(self, kind: str) -> int:
        return sum(self.alerts) if kind == "worker" else len(self.events)

    def answered(self, kind: str) -> set[str]:
        """Ids of the articles that have an output to wait for (not the worker's quiet ones)."""
        return {
            event["id"]
            for event, alerts in zip(self.events, self.alerts, strict=True)
            if alerts or kind != "worker"
        }


def alerts_per_article(events: list[dict]) -> list[int]:
    """Alerts the default pack raises on each article (the worker's own classifier, offline)."""
    classify = default_classifier().classify
    per_text: dict[tuple[str, str], int] = {}
    for event in events:
        text = (event["title"], event["body"])
        if text not in per_text:
            per_text[text] = len(classify(Article.model_validate(event)))
    return [per_text[(event["title"], event["body"])] for event in events]


async def wait_first(system: System) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while system.handled()[0] == 0:
        system.check_alive()
        if time.monotonic() > deadline:
            raise TimeoutError(f"{system.kind} handled nothing within {STARTUP_TIMEOUT:.0f} s")
        await asyncio.sleep(POLL)


async def settle(system: System, articles: int, outputs: int, deadline: float) -> bool:
    """Wait until the articles are handled and their outputs published (or stopped coming)."""
    last, still_since = -1, time.monotonic()
    while time.monotonic() < deadline:
        system.check_alive()
        handled, published = system.handled()
        if handled >= articles:
            if published >= outputs:
                return True
            if published != last:
                last, still_since = published, time.monotonic()
            elif time.monotonic() - still_since >= STILL:
                return True  # fewer outputs than expected, but nothing more is coming
        await asyncio.sleep(POLL)
    return False


def equivalent(system: System, load: Load) -> float:
    """Articles fully through, counting the outputs still owed as work not yet done."""
    handled, published = system.handled()
    owed = load.outputs(system.kind)
    return min(handled, published * len(load.events) / owed) if owed else handled


async def drain(system: System, reader: Reader, load: Load, budget: float) -> dict:
    """Throughput over the preloaded backlog: from the first record to the last output."""
    await wait_first(system)
    polled_from, done_from = time.time(), equivalent(system, load)
    articles = len(load.events)
    deadline = time.monotonic() + budget
    complete = await settle(system, articles, load.outputs(system.kind), deadline)
    polled_to, done_to = time.time(), equivalent(system, load)
    if system.kind == "worker" and complete:
        # From the first article consumed (seen at most one poll late), not the first output:
        # a batch is classified before its first alert comes out.
        (first_output, last), count = await reader.edges(), articles
        first, method = min(first_output, polled_from - POLL), "consumed to last output"
    elif system.kind == "worker":
        first, last, count = polled_from, polled_to, done_to - done_from
        method = "polled progress"
    else:
        progress = read_progress(system.progress_path)
        first, last, count = progress.first or 0.0, progress.last or 0.0, progress.count
        method = "in-process timestamps"
    seconds = max(last - first, 1e-9)
    return {
        "complete": complete,
        "stalled": not complete and system.stalled(),
        "articles": round(count),
        "seconds": seconds,
        "articles_per_second": count / seconds,
        "method": method,
    }


def article_of(kind: str, record: ConsumerRecord) -> str:
    if kind == "worker":
        return json.loads(record.value)["article"]["id"]
    return record.key.decode()


async def steady(
    system: System, producer: AIOKafkaProducer, reader: Reader, load: Load, plan: E2EPlan
) -> dict:
    """Latency at a steady rate: ``received_at`` to the article's first output (CreateTime)."""
    since = await reader.ends()
    handled, published = system.handled()
    sent: dict[str, float] = {}
    started = time.time()
    for number, event in enumerate(load.events):
        delay = started + number / plan.rate - time.time()
        if delay > 0:
            await asyncio.sleep(delay)
        now = datetime.now(UTC)
        key, value = encode({**event, "received_at": now.isoformat()})
        await producer.send(ARTICLES, value, key=key)
        sent[event["id"]] = now.timestamp()
    await producer.flush()
    sent_rate = len(sent) / max(time.time() - started, 1e-9)
    targets = handled + len(sent), published + load.outputs(system.kind)
    await settle(system, *targets, time.monotonic() + plan.grace)
    cutoff = time.time()
    first_out: dict[str, float] = {}
    for record in await reader.records(since):
        article = article_of(system.kind, record)
        if article in sent:
            at = record.timestamp / 1000
            first_out[article] = min(at, first_out.get(article, at))
    # An article owed an output that has none yet counts as at least as late as now: p99 stays
    # honest. An article that fires no rule has no output to time.
    answered = load.answered(system.kind)
    owed = [a for a in sent if a in answered]
    latencies = [first_out.get(a, cutoff) - sent[a] for a in owed]
    return {
        "articles": len(sent),
        "timed": len(owed),
        "sent_per_second": sent_rate,
        "missing": sum(a not in first_out for a in owed),
        "p50_ms": percentile(latencies, 50) * 1000,
        "p99_ms": percentile(latencies, 99) * 1000,
        "max_ms": max(latencies, default=math.nan) * 1000,
    }


async def wait_ready(system: System, producer: AIOKafkaProducer) -> None:
    """Send a probe article every half second until one has come out, then let the rest out."""
    for event in article_events(int(STARTUP_TIMEOUT * 2), prefix="p"):
        key, value = encode({**event, "received_at": datetime.now(UTC).isoformat()})
        await (await producer.send(ARTICLES, value, key=key))
        await asyncio.sleep(0.5)
        system.check_alive()
        if system.handled()[1] > 0:
            await asyncio.sleep(STILL)
            return
    raise TimeoutError(f"{system.kind} produced nothing within {STARTUP_TIMEOUT:.0f} s")


def wants_latency(kind: str, plan: E2EPlan) -> bool:
    return kind != "faust_noop" and plan.steady_seconds > 0


async def measure(kind: str, plan: E2EPlan, backlog: Load, paced: Load, tag: str) -> dict:
    """One run of one system: drain the backlog, then the steady phase (not for the no-op)."""
    result: dict = {}
    with embedded_broker() as url:
        bootstrap = create_topics(url)
        producer = await start_producer(bootstrap)
        try:
            await preload(producer, backlog.events)
            system = System(kind, url, plan, expected=len(backlog.events), tag=f"{tag}-drain")
            try:
                async with Reader(bootstrap) as reader:
                    result["throughput"] = await drain(system, reader, backlog, plan.budget)
                    if wants_latency(kind, plan) and result["throughput"]["complete"]:
                        result["latency"] = await steady(system, producer, reader, paced, plan)
            finally:
                system.stop()
                result["log_warnings"] = system.warnings()
        finally:
            await producer.stop()
    if wants_latency(kind, plan) and "latency" not in result:
        result["latency"] = await measure_latency_fresh(kind, plan, paced, tag)
    return result


async def measure_latency_fresh(kind: str, plan: E2EPlan, paced: Load, tag: str) -> dict:
    """The steady phase on a fresh broker, for a system still busy with its backlog."""
    with embedded_broker() as url:
        bootstrap = create_topics(url)
        producer = await start_producer(bootstrap)
        system = System(kind, url, plan, expected=0, tag=f"{tag}-steady")
        try:
            async with Reader(bootstrap) as reader:
                await wait_ready(system, producer)
                return await steady(system, producer, reader, paced, plan)
        finally:
            system.stop()
            await producer.stop()


def run_e2e(plan: E2EPlan, log: Log = print) -> dict:
    backlog_events = article_events(plan.backlog, prefix="a", quiet_share=plan.quiet_share)
    paced_events = article_events(
        int(plan.rate * plan.steady_seconds), prefix="s", quiet_share=plan.quiet_share
    )
    backlog, paced = Load.of(backlog_events), Load.of(paced_events)
    runs: dict[str, list[dict]] = {kind: [] for kind in plan.systems}
    for repeat in range(plan.repeats):
        for kind in plan.systems:
            tag = f"{kind}-{repeat}"
            try:
                result = asyncio.run(measure(kind, plan, backlog, paced, tag))
            except Exception as error:  # one failed run must not lose the others' figures
                log(f"e2e {repeat + 1}/{plan.repeats} {kind:>10}: failed: {error}")
                failed = {"articles_per_second": math.nan, "complete": False, "articles": 0}
                runs[kind].append(
                    {"error": f"{type(error).__name__}: {error}", "throughput": failed}
                )
                continue
            runs[kind].append(result)
            throughput, latency = result["throughput"], result.get("latency")
            line = (
                f"e2e {repeat + 1}/{plan.repeats} {kind:>10}: "
                f"{throughput['articles_per_second']:8.1f} articles/s"
                + ("" if throughput["complete"] else f" ({_unfinished(throughput)})")
            )
            if latency:
                line += f", p50 {latency['p50_ms']:.1f} ms, p99 {latency['p99_ms']:.1f} ms"
            log(line)
    return summarise_e2e(plan, runs)


def _unfinished(throughput: dict) -> str:
    why = "stalled" if throughput.get("stalled") else "budget hit"
    return f"{why} after {throughput['articles']:,} articles"


def summarise_e2e(plan: E2EPlan, runs: dict[str, list[dict]]) -> dict:
    systems = {}
    for kind, results in runs.items():
        summary: dict = {
            "articles_per_second": median(
                [r["throughput"]["articles_per_second"] for r in results]
            ),
            "complete": all(r["throughput"]["complete"] for r in results),
            "stalled_runs": sum(bool(r["throughput"].get("stalled")) for r in results),
        }
        latencies = [r["latency"] for r in results if "latency" in r]
        if latencies:
            summary["p50_ms"] = median([x["p50_ms"] for x in latencies])
            summary["p99_ms"] = median([x["p99_ms"] for x in latencies])
        summary["runs"] = results
        systems[kind] = summary
    out: dict = {
        "backlog": plan.backlog,
        "rate": plan.rate,
        "steady_seconds": plan.steady_seconds,
        "budget_seconds": plan.budget,
        "repeats": plan.repeats,
        "quiet_share": plan.quiet_share,
        "systems": systems,
    }
    for reference in ("faust_noop", "raw"):
        if "worker" in runs and reference in runs:
            out[f"worker_share_of_{reference}"] = median(
                [
                    ratio(
                        w["throughput"]["articles_per_second"],
                        r["throughput"]["articles_per_second"],
                    )
                    for w, r in zip(runs["worker"], runs[reference], strict=True)
                ]
            )
    return out


async def _profile_worker(plan: E2EPlan, seconds: float, output: Path) -> dict:
    events = article_events(plan.backlog, prefix="a", quiet_share=plan.quiet_share)
    with embedded_broker() as url:
        producer = await start_producer(create_topics(url))
        try:
            await preload(producer, events)
            system = System("worker", url, plan, expected=len(events), tag="profile")
            try:
                await wait_first(system)
                before, started = system.handled()[0], time.monotonic()
                sampler = profile.record(system.pid, seconds, output)
                while sampler.poll() is None:
                    system.check_alive()
                    await asyncio.sleep(POLL)
                rate = (system.handled()[0] - before) / (time.monotonic() - started)
            finally:
                system.stop()
        finally:
            await producer.stop()
    return {"articles_per_second_while_profiled": rate, **profile.top_frames(output)}


def profile_worker(plan: E2EPlan, seconds: float, output: Path) -> dict:
    """py-spy a worker while it drains a backlog (an extra run, kept out of the figures)."""
    return asyncio.run(_profile_worker(plan, seconds, output))
