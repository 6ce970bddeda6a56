"""``pantau``: one command for the worker, the embedded broker, replays, tails and rule tools."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from contextlib import nullcontext
from pathlib import Path
from typing import TYPE_CHECKING

import click
from rich.console import Console

from streams.cli.options import rule_packs_option
from streams.settings import TANSU_PROFILE, Settings, get_settings

if TYPE_CHECKING:
    from collections.abc import Iterator

    from streams.models import Article
    from streams.rules.compiler import RuleSet
    from streams.tools.replay import InputError

SEEDS = Path(__file__).resolve().parents[2] / "seeds"
SCHEMAS = Path(__file__).resolve().parents[2] / "schemas"
console = Console(highlight=False, soft_wrap=True)
errors = Console(stderr=True, highlight=False, soft_wrap=True)


class _Commands(click.Group):
    """Where a user's error ends any command: one line, exit status 1, no traceback."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except Exception as error:
            message = _user_error(error)
            if message is None:
                raise
            raise click.ClickException(message) from None


def _user_error(error: Exception) -> str | None:
    """A located error in a rule pack or an article file, or a Kafka client's error with the
    broker it was using.

    Only a module already imported can have raised its errors, so neither is imported here:
    `pantau --help` stays fast.
    """
    packs = sys.modules.get("streams.rules.packs")
    if packs and isinstance(error, packs.RulePackError):
        return str(error)
    replay = sys.modules.get("streams.tools.replay")
    if replay and isinstance(error, replay.InputError):
        return str(error)
    kafka_errors = sys.modules.get("kafka.errors")
    if kafka_errors and isinstance(error, kafka_errors.KafkaError):
        return f"Kafka at {get_settings().broker}: {error}"
    return None


@click.group(
    cls=_Commands,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
def main() -> None:
    """Pantau watches a stream of news articles and raises alerts when watch rules match.

    \b
    Quick start (embedded broker, seed articles):  pantau demo
    Production: set PANTAU_BROKER and run `pantau worker` next to your Kafka.
    """


# ---- running ----------------------------------------------------------------------------------
@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=9092, show_default=True, type=int)
def broker(host: str, port: int) -> None:
    """Run the embedded Kafka-compatible broker (Tansu, in memory) in the foreground."""
    from streams.tools.broker import broker_command

    console.print(f"Tansu listening on {host}:{port} (PANTAU_BROKER=kafka://{host}:{port})")
    os.execv(broker_command(host, port)[0], broker_command(host, port))


@main.command()
def worker() -> None:
    """Run a Faust worker: consume articles, publish alerts (settings from PANTAU_*)."""
    from streams.worker.app import run

    run(get_settings())


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option(
    "--rate", type=float, default=0.0, help="Articles per second (0: as fast as possible)."
)
@click.option("--loop", is_flag=True, help="Start again at the end, until Ctrl-C.")
@click.option("--topic", default=None, help="Target topic (default: PANTAU_ARTICLES_TOPIC).")
def replay(paths: tuple[Path, ...], rate: float, loop: bool, topic: str | None) -> None:
    """Publish seed text files (title: first line after any dateline) or JSON Lines articles."""
    from rich.progress import Progress

    from streams.tools.replay import articles_from, make_producer, publish

    settings = get_settings()
    events = list(articles_from(paths))
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


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print raw alert JSON, one per line.")
@click.option("--from-beginning", is_flag=True, help="Start at the oldest alert, not the newest.")
@click.option("--idle-timeout", type=float, default=None, help="Exit after N s without alerts.")
def tail(as_json: bool, from_beginning: bool, idle_timeout: float | None) -> None:
    """Follow the alerts topic and print each alert (no consumer group, so it starts at once)."""
    from streams.models import Alert
    from streams.tools.tail import open_consumer, print_alert, records

    settings = get_settings()
    consumer = open_consumer(
        topic=settings.alerts_topic,
        from_beginning=from_beginning,
        **settings.kafka_client_options(),
    )
    try:
        for record in records(consumer, idle_timeout):
            if as_json:
                click.echo(record.value.decode())
            else:
                print_alert(console, Alert.model_validate_json(record.value))
    except KeyboardInterrupt:
        pass
    finally:
        consumer.close()


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(exists=True, allow_dash=True, path_type=Path))
@rule_packs_option
def classify(paths: tuple[Path, ...], ruleset: RuleSet) -> None:
    """Classify articles offline (no Kafka), one result line per article, in input order.

    PATHS are JSON Lines files (default: standard input), seed text files or folders, as for
    `pantau replay`. Each JSON line needs `id` and `body` (`title` may be empty). Output:
    {"article_id": ..., "rule_ids": [...], "alerts": [...]}. A bad line or file is reported
    on stderr with where it is and gives {"article_id": null, "where": ..., "error": ...}; the
    exit status is then 1.
    """
    from streams.engine import Classifier
    from streams.models import ClassifyResult
    from streams.tools.replay import InputError

    classifier = Classifier(ruleset)
    failed = 0
    for article in _offline_articles(paths, get_settings().max_body_bytes):
        if isinstance(article, InputError):
            failed += 1
            errors.print(str(article), markup=False)
            print(
                json.dumps({"article_id": None, "where": article.where, "error": article.message})
            )
            continue
        alerts = classifier.classify(article)
        ids = [a.rule_id for a in alerts]
        result = ClassifyResult(article_id=article.id, rule_ids=ids, alerts=alerts)
        print(result.model_dump_json())
    sys.stdout.flush()
    if failed:
        sys.exit(1)


def _offline_articles(
    paths: tuple[Path, ...], max_body_bytes: int
) -> Iterator[Article | InputError]:
    """Each article of the inputs, or the located error that stopped it, in input order."""
    from streams.tools.replay import InputError, article_sources, parse_seed
    from streams.validate import BadRecord, parse_record

    for where, source in article_sources(paths or (Path("-"),)):
        try:
            if isinstance(source, Path):
                yield parse_seed(source)
            else:
                yield parse_record(source, max_body_bytes)
        except BadRecord as error:
            yield InputError(where, str(error))
        except InputError as error:
            yield error


@main.command()
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
                    Settings(_env_file=None, **_profile_fields(profile), broker=url), duration
                )
            except KeyboardInterrupt:
                console.print("\nstopping")
            finally:
                stop_process(worker)
    console.print("stopped: worker and broker are down")


def _profile_fields(profile: dict[str, str]) -> dict[str, str]:
    """PANTAU_* variables as Settings field names."""
    return {name.removeprefix("PANTAU_").lower(): value for name, value in profile.items()}


def _demo_loop(settings: Settings, duration: float | None) -> None:
    from streams.models import Alert
    from streams.tools.replay import articles_from, make_producer, publish
    from streams.tools.tail import open_consumer, print_alert, records
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
        for record in records(consumer, idle_timeout=duration):
            print_alert(console, Alert.model_validate_json(record.value))
            count += 1
            if duration is not None and time.monotonic() - started > duration:
                break
    finally:
        consumer.close()
        console.print(f"{count} alerts")


# ---- rules ------------------------------------------------------------------------------------
@main.group()
def rules() -> None:
    """Validate and explain watch rules."""


@rules.command("check")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
def rules_check(files: tuple[Path, ...]) -> None:
    """Validate rule packs and list their rules; exit 1 on the first error (file:line:col)."""
    from streams.rules.packs import RulePackError, load_ruleset

    try:
        ruleset = load_ruleset(list(files))
    except RulePackError as error:
        errors.print(f"[red]error[/] {error}")
        sys.exit(1)
    for compiled in ruleset.rules:
        rule = compiled.rule
        console.print(f"{rule.id:<26} v{rule.version:<4} {rule.severity:<8} {rule.title}")
    console.print(
        f"{len(ruleset.rules)} rules, {len(ruleset.terms)} terms, "
        f"rule-set version {ruleset.version}: OK"
    )


@rules.command("explain")
@click.argument("rule_id")
@click.argument("text_or_file")
@rule_packs_option
@click.option("--title", default="", help="Headline to match as the title field.")
@click.option("--language", default=None, help="Article language (detected when absent).")
def rules_explain(rule_id: str, text_or_file: str, ruleset: RuleSet, title: str, language) -> None:
    """Show which terms of RULE_ID matched where in TEXT (or a file), and why it fired or not."""
    from streams.models import Article
    from streams.rules.matcher import explain
    from streams.text.document import Document

    try:
        is_file = len(text_or_file) < 4096 and Path(text_or_file).is_file()
    except OSError:  # text that cannot be a file name
        is_file = False
    body = Path(text_or_file).read_text(encoding="utf-8") if is_file else text_or_file
    document = Document.from_article(
        Article(id="explain", title=title, body=body, language=language)
    )
    try:
        result = explain(ruleset, rule_id, document)
    except KeyError as error:
        errors.print(f"[red]error[/] {error.args[0]}")
        sys.exit(2)
    console.print(f"rule [bold]{rule_id}[/]: {result.rule.rule.query}")
    console.print(f"language: {document.language or 'unknown'}")
    grouped = {label for labels in result.concepts.values() for label in labels}
    groups = [*result.concepts.items(), ("term", sorted(result.found.keys() - grouped))]
    for group, labels in groups:
        for label in labels:
            places = list({t.start: t for t in result.found[label]}.values())  # not per language
            where = ", ".join(f"{t.text!r}@{t.start}" for t in places[:6])
            more = f" (+{len(places) - 6})" if len(places) > 6 else ""
            console.print(f"  {group} {label!r}: {where}{more}", markup=False)
    if not result.found:
        console.print("  no term of the rule occurs in the text")
    for stop in result.stopped:
        console.print(f"  stopped: {stop}", markup=False)
    verdict = "[green]FIRED[/]" if result.fired else "[yellow]did not fire[/]"
    console.print(f"{verdict}: {result.reason}")
    if result.match:
        for evidence in result.match.evidence:
            console.print(f"  {evidence.field}: {evidence.snippet}")


@rules.command("push")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--delete", is_flag=True, help="Remove these packs from the topic instead.")
def rules_push(files: tuple[Path, ...], delete: bool) -> None:
    """Publish rule packs to the live rules topic (key: file name without extension).

    Each pack is validated together with the worker's rule files first; an invalid pack is
    refused with its error and nothing is sent. Workers swap to the new rule set at once.
    """
    from streams.rules.packs import RulePackError
    from streams.tools.replay import make_producer
    from streams.tools.topics import ensure_topics
    from streams.worker.live_rules import LiveRules

    settings = get_settings()
    live = LiveRules(settings.rule_files, topic=settings.rules_topic)
    records = []
    try:
        for path in files:
            text = None if delete else path.read_text(encoding="utf-8")
            ruleset = live.apply(path.stem, text, source=str(path))
            records.append((path.stem, text))
    except RulePackError as error:
        errors.print(f"[red]refused[/] {error}")
        sys.exit(1)
    ensure_topics(settings, {settings.rules_topic: (1, {"cleanup.policy": "compact"})})
    producer = make_producer(settings)
    for name, text in records:
        producer.send(settings.rules_topic, key=name.encode(), value=text and text.encode())
    producer.flush()
    producer.close()
    action = "removed" if delete else "published"
    console.print(
        f"{action} {len(records)} pack(s) on {settings.rules_topic}; "
        f"rule-set version {ruleset.version} with {len(ruleset.rules)} rules"
    )


# ---- dead letters ---------------------------------------------------------------------------
@main.command()
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


# ---- schemas ----------------------------------------------------------------------------------
@main.command()
@click.option("--check", is_flag=True, help="Exit 1 if schemas/ differs from the models.")
def schemas(check: bool) -> None:
    """Write the JSON Schemas of article, alert and rule pack into schemas/."""
    from streams.schemas import generated

    stale = []
    for name, text in generated().items():
        path = SCHEMAS / name
        if check:
            if not path.exists() or path.read_text() != text:
                stale.append(name)
        else:
            SCHEMAS.mkdir(exist_ok=True)
            path.write_text(text)
            console.print(f"wrote {path}")
    if stale:
        errors.print(f"schemas out of date: {', '.join(stale)}; run `pantau schemas`")
        sys.exit(1)


def _register_tools() -> None:
    """Commands that live next to the code they drive."""
    from streams.bench import bench
    from streams.tools.dashboard import dashboard_command
    from streams.tools.evaluate import eval_command

    main.add_command(bench)
    main.add_command(dashboard_command)
    main.add_command(eval_command)


_register_tools()
