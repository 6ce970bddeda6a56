"""Whether the brokers answer: waited for at start, then watched while the worker runs.

Both ask through one :class:`BrokerProbe`, a metadata request bounded in time. A broker that
hangs (overloaded, paused, network black hole) raises no client error until a request times
out, 40 s later, and the consumer only sees empty fetches; the watch makes it visible within
seconds, in the log and as ``pantau_broker_responding``.
"""

from __future__ import annotations

import asyncio
import time

import structlog
from aiokafka.client import AIOKafkaClient
from aiokafka.errors import KafkaError
from kafka import KafkaAdminClient

from streams.settings import Settings
from streams.worker import metrics
from streams.worker.retry import backoff

log = structlog.get_logger("pantau.worker")
WATCH_SECONDS = 2.0  # between probes of the watch, and how long one may take
START_PROBE_SECONDS = 5.0  # how long one probe may take while the worker waits to start


class BrokerProbe:
    """A client that asks the brokers for their metadata; made inside the loop that uses it."""

    def __init__(self, settings: Settings):
        self.client = AIOKafkaClient(**settings.kafka_client_options())

    async def ask(self, timeout: float) -> None:
        """Return when the brokers have answered; raise when they do not within ``timeout``."""
        await asyncio.wait_for(self._metadata(), timeout)

    async def _metadata(self) -> None:
        if not self.client.cluster.brokers():
            await self.client.bootstrap()
        await self.client.fetch_all_metadata()

    async def close(self) -> None:
        await self.client.close()


def wait_for_broker(settings: Settings) -> str | None:
    """Retry with back-off until the brokers answer: Faust gives up at once if they do not.
    Returns the cluster's id, which tells the embedded broker (Tansu) from a Kafka.

    Runs on an event loop of its own, closed before Faust's worker sets up its loop.
    """
    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(_wait_for_broker(settings))
    finally:
        loop.close()
    try:
        admin = KafkaAdminClient(**settings.kafka_client_options())
        try:
            return admin.describe_cluster().get("cluster_id")
        finally:
            admin.close()
    except Exception as error:  # an unknown cluster id only means the default timings
        log.warning("cluster_id_unknown", error=str(error) or type(error).__name__)
        return None


async def _wait_for_broker(settings: Settings) -> None:
    probe = BrokerProbe(settings)
    try:
        for delay in backoff():
            try:
                await probe.ask(START_PROBE_SECONDS)
                return
            except (KafkaError, TimeoutError) as error:
                log.warning(
                    "broker_unavailable",
                    broker=settings.broker,
                    error=str(error) or type(error).__name__,
                    retry_in_seconds=delay,
                )
                await asyncio.sleep(delay)
    finally:
        await probe.close()


class BrokerWatch:
    """The worker's task that probes the brokers every few seconds and says when they stop
    (and start again) answering."""

    def __init__(self, settings: Settings):
        self.settings = settings

    async def run(self) -> None:
        probe = BrokerProbe(self.settings)
        silent_since: float | None = None
        try:
            while True:
                try:
                    await probe.ask(WATCH_SECONDS)
                except asyncio.CancelledError:
                    raise
                except Exception as error:  # a timeout or a connection error: no answer either way
                    metrics.BROKER_RESPONDING.set(0)
                    if silent_since is None:
                        silent_since = time.monotonic()
                        log.warning("broker_not_responding", error=type(error).__name__)
                else:
                    metrics.BROKER_RESPONDING.set(1)
                    if silent_since is not None:
                        silent = round(time.monotonic() - silent_since, 1)
                        log.info("broker_responding_again", silent_seconds=silent)
                        silent_since = None
                await asyncio.sleep(WATCH_SECONDS)
        finally:
            await probe.close()
