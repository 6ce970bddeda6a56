"""Commands that run until stopped: the worker, the embedded broker, and the demo of both."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from contextlib import nullcontext
from pathlib import Path

import click

from streams.cli.output import console
from streams.settings import TANSU_PROFILE, Settings, get_settings, profile_fields

SEEDS = Path(__file__).resolve().parents[2] / "seeds"


@click.command()
def worker() -> None:
    """Run a Faust worker: consume articles, publish alerts (settings from PANTAU_*)."""
    from streams.worker.app import run as run_worker

    run_worker(get_settings())


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=9092, show_default=True, type=int)
def broker(host: str, port: int) -> None:
    """Run the embedded Kafka-compatible broker (Tansu, in memory) in the foreground."""
    from streams.tools.broker import broker_command

    console.print(f"Tansu listening on {host}:{port} (PANTAU_BROKER=kafka://{host}:{port})")
    os.execv(broker_command(host, port)[0], broker_command(host, port))


@click.command()
@click.option(
    "--duration",
    type=float,
    default=None,
    help="Stop by itself after N seconds (default: run until Ctrl-C).",
)
def demo(duration: float | None) -> None:
    """Embedded broker + worker + the five seed articles, printing alerts as they arrive."""
    from streams.tools.broker import embedded_broker, stop_process

    configured = os.environ.get("PANTAU_BROKER")
    with embedded_broker() if not configured else nullcontext(configured) as url:
        profile = {} if configured else TANSU_PROFILE  # Tansu's join and batch quirks
        env = {**os.environ, **profile, "PANTAU_BROKER": url}
        env.setdefault("PANTAU_LOG_FORMAT", "console")
        log_path = Path(os.environ.get("TMPDIR", "/tmp")) / "pantau-demo-worker.log"
        where = "embedded Tansu" if not configured else "your broker"
        console.print(f"[bold]Pantau demo[/] on {where} at {url}; worker log: {log_path}")
        with log_path.open("w") as log_file:
            worker = subprocess.Popen(
                [sys.executable, "-m", "streams", "worker"],
                env=env,
                stdout=log_file,
                stderr=subprocess.STDOUT,
            )
            try:
                _demo_loop(
                    Settings(_env_file=None, **profile_fields(profile), broker=url), duration
                )
            except KeyboardInterrupt:
                console.print("\nstopping")
            finally:
                stop_process(worker)
    console.print("stopped: worker and broker are down")


def _demo_loop(settings: Settings, duration: float | None) -> None:
    from streams.models import Alert
    from streams.tools.replay import articles_from, make_producer, publish
    from streams.tools.tail import open_consumer, print_alert, publish_order, records
    from streams.tools.topics import ensure_topics, pipeline_topics

    ensure_topics(settings, pipeline_topics(settings))
    consumer = open_consumer(
        topic=settings.alerts_topic, from_beginning=True, **settings.kafka_client_options()
    )
    producer = make_producer(settings)
    sent = publish(producer, settings.articles_topic, articles_from([SEEDS]))
    producer.close()
    console.print(
        f"replayed {sent} seed articles; alerts appear as the worker classifies them "
        "(the first takes a few seconds while the worker joins its group). Ctrl-C stops."
    )
    started, count = time.monotonic(), 0
    try:
        for record in records(consumer, idle_timeout=duration, order=publish_order):
            print_alert(console, Alert.model_validate_json(record.value))
            count += 1
            if duration is not None and time.monotonic() - started > duration:
                break
    finally:
        consumer.close()
        console.print(f"{count} alerts")
