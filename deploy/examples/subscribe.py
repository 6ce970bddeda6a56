"""Subscribe to Pantau's alerts with confluent-kafka or kafka-python: a consumer group that
handles each alert once, however often it arrives.

Pantau delivers at least once: after a worker's crash an alert can come again, always with the
same ``alert_id``. This subscriber keeps the alert ids it has handled in SQLite and commits a
batch's offsets only after its alerts are handled and their ids recorded, so a restart skips no
alert, and handles one again only if it stopped between handling it and recording its id (a
handler that writes to the same database can do both in one transaction).

    pip install 'confluent-kafka>=2.2'    # librdkafka 2.2 or later
    python subscribe.py --client confluent-kafka --brokers 127.0.0.1:9092 --group to-slack

    pip install 'kafka-python>=2.2'       # consumer groups need 2.2 or later
    python subscribe.py --client kafka-python --brokers 127.0.0.1:9092 --group to-slack

Stop it with Ctrl-C (or SIGTERM): it commits what it has handled and leaves the group.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sqlite3
from collections.abc import Callable, Iterator

# --embedded-broker: the embedded broker makes a first join wait a whole rebalance timeout
# (max.poll.interval.ms for these clients), so a subscriber starts in seconds with these.
CONFLUENT_EMBEDDED = {"session.timeout.ms": 10_000, "max.poll.interval.ms": 10_000}
KAFKA_PYTHON_EMBEDDED = {
    "session_timeout_ms": 10_000,
    "max_poll_interval_ms": 10_000,
    "heartbeat_interval_ms": 1_000,
}


def options() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--client", choices=["confluent-kafka", "kafka-python"], required=True)
    parser.add_argument("--brokers", default=os.environ.get("KAFKA_BROKERS", "127.0.0.1:9092"))
    parser.add_argument("--group", default="alerts-subscriber", help="consumer group id")
    parser.add_argument("--topic", action="append", help="topics to read (default: alerts)")
    parser.add_argument("--db", default="seen-alerts.sqlite", help="alert ids handled so far")
    parser.add_argument("--embedded-broker", action="store_true", help="short group timeouts")
    return parser.parse_args()


def handle(alert: dict) -> None:
    """What a subscriber does with a new alert: here, one line on stdout."""
    article = alert["article"]
    print(alert["alert_id"], alert["severity"], alert["rule_id"], article["id"], flush=True)


def confluent_batches(args: argparse.Namespace, running: Callable[[], bool]) -> Iterator[list]:
    """Batches of alert values; a batch's offsets are committed when the next one is asked
    for, that is once the caller has handled it."""
    from confluent_kafka import Consumer, KafkaException

    config = {
        "bootstrap.servers": ",".join(brokers(args)),
        "group.id": args.group,
        "auto.offset.reset": "earliest",  # a new group starts with the oldest alert kept
        "enable.auto.commit": False,  # committed after handling
    }
    consumer = Consumer(config | (CONFLUENT_EMBEDDED if args.embedded_broker else {}))
    consumer.subscribe(args.topic or ["alerts"])
    try:
        while running():
            messages = consumer.consume(num_messages=500, timeout=1.0)
            for message in messages:
                if message.error():
                    raise KafkaException(message.error())
            if messages:
                yield [message.value() for message in messages]
                consumer.commit(asynchronous=False)
    finally:
        consumer.close()  # leaves the group at once, so its partitions move without a wait


def kafka_python_batches(args: argparse.Namespace, running: Callable[[], bool]) -> Iterator[list]:
    """Batches of alert values, committed as in :func:`confluent_batches`."""
    from kafka import KafkaConsumer

    consumer = KafkaConsumer(
        *(args.topic or ["alerts"]),
        bootstrap_servers=brokers(args),
        group_id=args.group,
        auto_offset_reset="earliest",  # a new group starts with the oldest alert kept
        enable_auto_commit=False,  # committed after handling
        **(KAFKA_PYTHON_EMBEDDED if args.embedded_broker else {}),
    )
    try:
        while running():
            batches = consumer.poll(timeout_ms=1000, max_records=500)
            if batches:
                yield [record.value for batch in batches.values() for record in batch]
                consumer.commit()
    finally:
        consumer.close()  # leaves the group at once, so its partitions move without a wait


def brokers(args: argparse.Namespace) -> list[str]:
    """host:port list; Pantau's own ``kafka://h1:9092;h2:9092`` form is accepted too."""
    return args.brokers.removeprefix("kafka://").replace(";", ",").split(",")


def main() -> None:
    args = options()
    stopped = False

    def stop(*_: object) -> None:
        nonlocal stopped
        stopped = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    batches = confluent_batches if args.client == "confluent-kafka" else kafka_python_batches
    seen = sqlite3.connect(args.db)
    seen.execute("CREATE TABLE IF NOT EXISTS seen (alert_id TEXT PRIMARY KEY)")
    try:
        for values in batches(args, lambda: not stopped):
            for value in values:
                alert = json.loads(value)
                new = seen.execute("INSERT OR IGNORE INTO seen VALUES (?)", (alert["alert_id"],))
                if new.rowcount:
                    handle(alert)
            seen.commit()  # the ids first; the offsets when the next batch is asked for
    finally:
        seen.close()


if __name__ == "__main__":
    main()
