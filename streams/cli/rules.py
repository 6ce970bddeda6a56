"""Commands for rules: classify articles offline, check, explain and push rule packs."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from streams.cli.options import rule_packs_option
from streams.cli.output import console, errors
from streams.settings import get_settings

if TYPE_CHECKING:
    from collections.abc import Iterator

    from streams.models import Article
    from streams.rules.compiler import RuleSet
    from streams.tools.replay import InputError


@click.command()
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


@click.group()
def rules() -> None:
    """Validate and explain watch rules."""


@rules.command("check")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
def rules_check(files: tuple[Path, ...]) -> None:
    """Validate rule packs together, list their rules and run their examples; every error as
    file:line:col, then exit 1; exit 1 too on a failing example. Packs see each other's concepts
    as @pack.concept; the built-in pack is `default`. Warns about Indonesian/Malay terms that are
    not roots or also match words of their own (see `pantau rules terms`)."""
    from streams.cli.rules_test import examples_pass
    from streams.rules.packs import RulePackError, check_texts, read_packs

    try:
        texts = read_packs(list(files))
        ruleset, warnings = check_texts(texts)
    except RulePackError as error:
        for problem in error.problems:
            errors.print(f"error {problem}", markup=False, highlight=False)
        sys.exit(1)
    for warning in warnings:
        errors.print(f"warning {warning}", markup=False, highlight=False)
    for compiled in ruleset.rules:
        rule = compiled.rule
        console.print(f"{rule.id:<26} v{rule.version:<4} {rule.severity:<8} {rule.title}")
    console.print(
        f"{len(ruleset.rules)} rules, {len(ruleset.terms)} terms, "
        f"rule-set version {ruleset.version}: OK"
    )
    if not examples_pass(ruleset, texts):
        sys.exit(1)


@rules.command("explain")
@click.argument("rule_id")
@click.argument("text_or_file")
@rule_packs_option
@click.option("--title", default="", help="Headline to match as the title field.")
@click.option("--language", default=None, help="Article language (detected when absent).")
def rules_explain(rule_id: str, text_or_file: str, ruleset: RuleSet, title: str, language) -> None:
    """Show which terms of RULE_ID matched where in TEXT (or a file), and why it fired or not."""
    from streams.models import Article
    from streams.rules.explain import explain
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
    console.print(f"rule [bold]{rule_id}[/] (pack {result.rule.pack}), as parsed:")
    console.print(f"  {result.query}", markup=False)
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
            console.print(f"  {evidence.field}: {evidence.snippet}", markup=False)
            terms = (f"{t.text!r}@{t.start} {_from(t.concept, t.term)}" for t in evidence.terms)
            console.print(f"    matched: {', '.join(terms)}", markup=False)


def _from(concept: str | None, term: str) -> str:
    """Where an evidence term comes from: its concept, or the word the query wrote."""
    return f"@{concept} {term!r}" if concept else f"word {term!r}"


@rules.command("push")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--delete", is_flag=True, help="Remove these packs from the topic instead.")
@click.option(
    "--wait",
    type=float,
    default=15.0,
    show_default=True,
    help="Seconds to wait for the running workers to report the new rule set.",
)
def rules_push(files: tuple[Path, ...], delete: bool, wait: float) -> None:
    """Publish rule packs to the live rules topic (key: the pack's name).

    The new live set is compiled first as a worker will compile it (the rule files and the
    packs already on the topic, then these) and printed; a set that does not compile is refused
    with every error and nothing is sent, and so is one whose examples fail. Then the running
    workers' reports are awaited.
    """
    from streams.cli.live import await_workers, current_rules, print_live_set, print_workers
    from streams.cli.rules_test import examples_pass
    from streams.rules.packs import PackText, RulePackError, pack_name
    from streams.tools.replay import make_producer
    from streams.tools.topics import ensure_topics, pipeline_topics

    settings = get_settings()
    topics = pipeline_topics(settings)
    ensure_topics(settings, {name: topics[name] for name in (settings.rules_topic,)})
    live, _ = current_rules(settings)
    records = []
    try:
        for path in files:
            text = path.read_text(encoding="utf-8")
            name = pack_name(PackText(str(path), text))
            live.apply(name, None if delete else text, source=str(path))
            records.append((name, None if delete else text))
    except RulePackError as error:
        for problem in error.problems:
            errors.print(f"refused {problem}", markup=False, highlight=False)
        sys.exit(1)
    pushed = [(str(path), text) for path, (_, text) in zip(files, records, strict=True) if text]
    if not examples_pass(live.ruleset, pushed):
        errors.print("[red]refused[/]: the examples above fail; nothing was sent")
        sys.exit(1)
    producer = make_producer(settings)
    for name, text in records:
        producer.send(settings.rules_topic, key=name.encode(), value=text and text.encode())
    producer.flush()
    producer.close()
    action = "removed" if delete else "published"
    names = ", ".join(name for name, _ in records)
    console.print(f"{action} {names} on {settings.rules_topic}", markup=False)
    print_live_set(live)
    print_workers(await_workers(settings, live.ruleset.version, wait), live.ruleset.version)
