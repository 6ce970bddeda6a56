"""``pantau rules backtest``: what a changed pack would alert on, among the articles in Kafka.

The articles topic is read over a time range with no consumer group and no commit, so the
workers never notice (:mod:`streams.tools.offsets`); both rule sets classify each article
(:mod:`streams.tools.backtest`).
"""

from __future__ import annotations

import json
import re
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import click

from streams.cli.output import console, errors
from streams.settings import Settings, get_settings

if TYPE_CHECKING:
    from streams.engine import Classifier
    from streams.tools.backtest import Backtest
    from streams.tools.offsets import PartitionRange

UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
DEFAULT_SINCE = "7d"


@click.command("backtest")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option(
    "--since",
    default=None,
    help=f"How far back from --to (default: now): 30m, 12h, 7d, 2w (default {DEFAULT_SINCE}).",
)
@click.option("--from", "start", default=None, help="Start time, ISO 8601 (UTC unless it says).")
@click.option("--to", "end", default=None, help="End time, ISO 8601 (default: now).")
@click.option(
    "--against",
    multiple=True,
    default=("live",),
    show_default=True,
    help="'live' (the workers' rule files and rules topic, with FILES pushed on top) or packs "
    "to compare FILES alone with (repeatable).",
)
@click.option("--json", "as_json", is_flag=True, help="One JSON object, for scripts.")
def rules_backtest(
    files: tuple[Path, ...],
    since: str | None,
    start: str | None,
    end: str | None,
    against: tuple[str, ...],
    as_json: bool,
) -> None:
    """Classify the articles of a time range with FILES and with the rule set they are compared
    against, and report per rule the alerts now, with FILES, added and removed, with examples.

    Reads the articles topic by timestamp on every partition, with no consumer group and no
    commit: the workers are never disturbed.
    """
    from rich.progress import Progress

    from streams.tools.backtest import Backtest
    from streams.tools.offsets import open_reader, read_ranges, time_range

    settings = get_settings()
    since_ms, until_ms = window(since, start, end, datetime.now(UTC))
    baseline, candidate = rule_sets(settings, files, against)
    backtest = Backtest(baseline, candidate, settings.max_body_bytes)
    consumer = open_reader(settings)
    try:
        ranges = time_range(consumer, settings.articles_topic, since_ms, until_ms)
        total = sum(r.stop - r.start for r in ranges)
        started = time.monotonic()
        with Progress(console=errors, transient=True, disable=not errors.is_terminal) as bar:
            task = bar.add_task(f"backtest on {settings.articles_topic}", total=total)
            for record in read_ranges(consumer, settings.articles_topic, ranges):
                backtest.classify(record.value)
                bar.advance(task)
        seconds = time.monotonic() - started
    finally:
        consumer.close()
    result = summary(settings, backtest, ranges, since_ms, until_ms, against, seconds)
    if as_json:
        click.echo(json.dumps(result, ensure_ascii=False))
    else:
        show(result, backtest, files)


def window(
    since: str | None, start: str | None, end: str | None, now: datetime
) -> tuple[int | None, int]:
    """(from, to) in epoch milliseconds; from is None for the topic's beginning."""
    if since and start:
        raise click.UsageError("give --since or --from, not both")
    until = _instant(end, "--to") if end else now
    if start:
        return _ms(_instant(start, "--from")), _ms(until)
    found = re.fullmatch(r"(\d+)([smhdw])", since or DEFAULT_SINCE)
    if not found:
        raise click.BadParameter(
            f"{since!r}: a number and s, m, h, d or w (7d)", param_hint="--since"
        )
    seconds = int(found[1]) * UNITS[found[2]]
    return _ms(until - timedelta(seconds=seconds)), _ms(until)


def _instant(text: str, option: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise click.BadParameter(f"{text!r} is not an ISO 8601 time", param_hint=option) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def rule_sets(
    settings: Settings, files: tuple[Path, ...], against: tuple[str, ...]
) -> tuple[Classifier, Classifier]:
    """(baseline, candidate): the live set and the live set with FILES pushed on it, or the
    ``against`` packs and FILES alone."""
    from streams.engine import Classifier
    from streams.rules.packs import load_ruleset

    if against != ("live",):
        if "live" in against:
            raise click.BadParameter("'live' cannot be combined with packs", param_hint="--against")
        return Classifier(load_ruleset([Path(p) for p in against])), Classifier(
            load_ruleset(list(files))
        )
    live = live_rules(settings)
    baseline = live.classifier
    for path in files:
        live.apply(path.stem, path.read_text(encoding="utf-8"), source=str(path))
    return baseline, live.classifier


def live_rules(settings: Settings):
    """The workers' rule set: their rule files, then every pack on the rules topic in order. A
    pack the workers would reject is skipped, as they skip it, with a warning."""
    from streams.rules.packs import RulePackError
    from streams.tools.offsets import open_reader, read_ranges, time_range
    from streams.worker.live_rules import LiveRules

    live = LiveRules(settings.rule_files, topic=settings.rules_topic)
    consumer = open_reader(settings)
    try:
        if settings.rules_topic not in consumer.topics():
            return live
        ranges = time_range(consumer, settings.rules_topic, None, None)
        for record in read_ranges(consumer, settings.rules_topic, ranges):
            name = (record.key or b"default").decode("utf-8", "replace")
            text = None if record.value is None else record.value.decode("utf-8", "replace")
            try:
                live.apply(name, text)
            except RulePackError as error:
                errors.print(f"[yellow]skipped[/] as the workers do: {error}", markup=True)
    finally:
        consumer.close()
    return live


def summary(
    settings: Settings,
    backtest: Backtest,
    ranges: list[PartitionRange],
    since_ms: int | None,
    until_ms: int,
    against: tuple[str, ...],
    seconds: float,
) -> dict:
    """The result as JSON-ready data (``--json`` prints it; the text view reads it too)."""

    def iso(ms: int | None) -> str | None:
        return None if ms is None else datetime.fromtimestamp(ms / 1000, UTC).isoformat()

    return {
        "topic": settings.articles_topic,
        "from": iso(since_ms),
        "to": iso(until_ms),
        "against": list(against),
        "partitions": [r.__dict__ for r in ranges],
        "records": backtest.records,
        "articles": backtest.articles,
        "skipped": dict(backtest.skipped),
        "seconds": round(seconds, 3),
        "articles_per_second": round(backtest.articles / seconds, 1) if seconds > 0 else None,
        "rules": [change.as_dict() for change in backtest.changes()],
    }


def show(result: dict, backtest: Backtest, files: tuple[Path, ...]) -> None:
    """The result for a person: a table per rule, then a few examples of each change."""
    from rich.table import Table

    def moment(iso: str | None) -> str:
        return f"{iso[:16].replace('T', ' ')} UTC" if iso else "the beginning"

    skipped = ", ".join(f"{reason} {n}" for reason, n in result["skipped"].items())
    console.print(
        f"{', '.join(map(str, files))} against {' + '.join(result['against'])} on "
        f"{result['topic']}, {moment(result['from'])} to {moment(result['to'])}"
    )
    console.print(
        f"{result['articles']} articles in {result['seconds']:.1f} s "
        f"({result['articles_per_second'] or 0:.0f} articles/s)"
        + (f"; records skipped as the worker dead-letters them: {skipped}" if skipped else "")
    )
    table = Table("rule")
    for column in ("now", "candidate", "added", "removed"):
        table.add_column(column, justify="right")
    for change in backtest.changes():
        table.add_row(
            change.rule_id,
            str(change.now),
            str(change.candidate),
            f"[green]+{len(change.added)}[/]" if change.added else "0",
            f"[red]-{len(change.removed)}[/]" if change.removed else "0",
        )
    console.print(table)
    for change in backtest.changes():
        for kind, sign in (("added", "+"), ("removed", "-")):
            for sample in change.samples[kind]:
                console.print(
                    f"{sign} {change.rule_id} {sample.article_id}: {sample.title}", markup=False
                )
                console.print(f"    {sample.snippet}", markup=False, style="dim")
