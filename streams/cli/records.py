"""Commands that put records on topics and read them back: replay, tail, dlq."""

from __future__ import annotations

import json
import time
from pathlib import Path

import click

from streams.cli.output import console, errors
from streams.settings import get_settings

SHOWN_PROBLEMS = 10  # per file


@click.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option(
    "--rate", type=float, default=0.0, help="Articles per second (0: as fast as possible)."
)
@click.option("--loop", is_flag=True, help="Start again at the end, until Ctrl-C.")
@click.option("--topic", default=None, help="Target topic (default: PANTAU_ARTICLES_TOPIC).")
@click.option(
    "--strict",
    is_flag=True,
    help="Send nothing if a record would be dead-lettered or has fields the worker ignores.",
)
def replay(
    paths: tuple[Path, ...], rate: float, loop: bool, topic: str | None, strict: bool
) -> None:
    """Publish seed text files (title: first line after any dateline) or JSON Lines articles.

    Each JSON line is checked as the worker will check it: a record it will dead-letter (no
    id, no title or body, ...) or with fields it ignores (`headline`, `text`) is listed per
    file; with --strict nothing is sent then.
    """
    from rich.progress import Progress

    from streams.tools.replay import check_articles, make_producer, publish

    settings = get_settings()
    checked = check_articles(paths, settings.max_body_bytes)
    events = checked.events
    for name, problems in checked.problems.items():
        errors.print(
            f"warning: {name}: {len(problems)} record(s) the worker will not take as they are:",
            markup=False,
        )
        for problem in problems[:SHOWN_PROBLEMS]:
            errors.print(f"  {problem}", markup=False)
        if len(problems) > SHOWN_PROBLEMS:
            errors.print(f"  ... and {len(problems) - SHOWN_PROBLEMS} more", markup=False)
    if strict and checked.problems:
        raise click.ClickException(
            f"refused (--strict): {checked.dead_letters} record(s) would be dead-lettered, "
            f"{checked.ignored_fields} have fields the worker ignores; nothing was sent"
        )
    producer = make_producer(settings)
    topic = topic or settings.articles_topic
    rounds, total, started = 0, 0, time.monotonic()
    try:
        with Progress(console=errors, transient=False) as progress:
            while True:
                task = progress.add_task(f"round {rounds + 1} -> {topic}", total=len(events))
                total += publish(
                    producer,
                    topic,
                    events,
                    rate,
                    on_sent=lambda _, task=task: progress.advance(task),
                )
                rounds += 1
                if not loop:
                    break
    except KeyboardInterrupt:
        pass
    finally:
        producer.flush()
        producer.close()
    elapsed = time.monotonic() - started
    errors.print(
        f"sent {total} articles to {topic} in {elapsed:.1f} s "
        f"({total / max(elapsed, 1e-9):.0f}/s, {rounds} round(s))"
    )


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print raw alert JSON, one per line.")
@click.option("--from-beginning", is_flag=True, help="Start at the oldest alert, not the newest.")
@click.option("--idle-timeout", type=float, default=None, help="Exit after N s without alerts.")
def tail(as_json: bool, from_beginning: bool, idle_timeout: float | None) -> None:
    """Follow the alerts topic and print each alert in publish order (no consumer group, so it
    starts at once)."""
    from streams.models import Alert
    from streams.tools.tail import open_consumer, print_alert, publish_order, records

    settings = get_settings()
    consumer = open_consumer(
        topic=settings.alerts_topic,
        from_beginning=from_beginning,
        **settings.kafka_client_options(),
    )
    try:
        for record in records(consumer, idle_timeout, order=publish_order):
            if as_json:
                click.echo(record.value.decode())
            else:
                print_alert(console, Alert.model_validate_json(record.value))
    except KeyboardInterrupt:
        pass
    finally:
        consumer.close()


@click.command()
@click.option("--replay", is_flag=True, help="Publish the listed records again to their topic.")
@click.option("--reason", default=None, help="Only dead letters with this reason.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per dead letter.")
@click.option(
    "--idle-timeout",
    type=float,
    default=3.0,
    show_default=True,
    help="Stop after N s without records.",
)
def dlq(replay: bool, reason: str | None, as_json: bool, idle_timeout: float) -> None:
    """List dead-lettered records with their reason, and re-publish them after a fix."""
    from streams.tools.deadletters import list_dead_letters, replay_dead_letters

    settings = get_settings()
    letters = list_dead_letters(settings, reason, idle_timeout)
    for letter in letters:
        if as_json:
            click.echo(json.dumps(letter.as_dict(), ensure_ascii=False))
        else:
            console.print(letter.describe())
    if replay and letters:
        sent = replay_dead_letters(settings, letters)
        errors.print(f"re-published {sent} record(s)")
    errors.print(f"{len(letters)} dead letter(s) on {settings.dead_letter_topic}")
