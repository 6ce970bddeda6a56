"""``pantau eval``: score rule packs on the labelled data sets, wherever they are found."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click
from rich.console import Console

from streams.evaluation import case2021, pages, panl, report, sib200
from streams.evaluation.scoring import Miss
from streams.rules.options import rule_packs_option

if TYPE_CHECKING:
    from streams.classify import Classifier
    from streams.rules.compiler import RuleSet

KINDS = ("case2021", "sib200", "panl", "pages")


def detect(path: Path) -> list[tuple[str, Path]]:
    """Which data sets a path holds: one file or folder of a set, or a folder of several."""
    if path.is_file():
        if panl.is_panl(path):
            return [("panl", path)]
        if pages.is_pages(path):
            return [("pages", path)]
        return [("case2021", path)]
    if sib200.is_sib200(path):
        return [("sib200", path)]
    found = [("case2021", p) for p in sorted(path.glob("case2021*.tsv"))]
    for child in sorted(p for p in path.iterdir() if p.is_dir()):
        if sib200.is_sib200(child):
            found.append(("sib200", child))
        found += [("panl", p) for p in sorted(child.glob("*.jsonl")) if panl.is_panl(p)]
        found += [("pages", p) for p in sorted(child.glob("*.jsonl")) if pages.is_pages(p)]
    found += [("panl", p) for p in sorted(path.glob("*.jsonl")) if panl.is_panl(p)]
    found += [("pages", p) for p in sorted(path.glob("*.jsonl")) if pages.is_pages(p)]
    return sorted(found, key=lambda kind_path: KINDS.index(kind_path[0]))


def why(classifier: Classifier, miss: Miss) -> str:
    """The matcher's account of one error: the evidence that fired, or what stopped it."""
    from streams.rules.matcher import explain
    from streams.text.document import Document

    article = miss.article()
    assert article is not None, "only a miss with its language can be explained"
    result = explain(classifier.ruleset, miss.rule_id, Document.from_article(article))
    if result.match:
        terms = [f"{t.text!r}({t.term})" for e in result.match.evidence for t in e.terms]
        return "fired on " + ", ".join(dict.fromkeys(terms))
    stops = f"; stopped: {' / '.join(result.stopped[:3])}" if result.stopped else ""
    return result.reason + stops


def _evaluate(kind: str, classifier: Classifier, path: Path, console: Console | None, errors: int):
    """Run one data set; print its report unless ``console`` is None (JSON output)."""
    explained = lambda miss: why(classifier, miss)  # noqa: E731
    if kind == "case2021":
        case = case2021.evaluate_case(classifier, path)
        if console:
            report.print_case(console, case, path)
            report.print_misses(console, "CASE 2021 errors", case.misses, errors, explained)
        return case.as_dict(), case.targets_met()
    if kind == "sib200":
        sib = sib200.evaluate_sib(classifier, path)
        if console:
            report.print_sib(console, sib, path)
            report.print_misses(console, "SIB-200 disagreements", sib.disagreements, errors)
            report.print_misses(
                console, "SIB-200 off-topic fires", sib.off_topic, errors, explained
            )
        return sib.as_dict(), sib.targets_met()
    if kind == "panl":
        scored = panl.evaluate_panl(classifier, path)
        if console:
            report.print_panl(console, scored, path)
            everything = scored.halves["all"]
            misses = report.labelled_misses(everything.languages)
            report.print_misses(console, "panl-dev errors", misses, errors, explained)
            report.print_misses(
                console, "panl-dev id/en disagreements", everything.disagreements, errors
            )
            report.print_misses(
                console,
                "panl-dev economy/science/sport fires",
                everything.off_domain_fires,
                errors,
                explained,
            )
        return scored.as_dict(), scored.targets_met()
    scored_pages = pages.evaluate_pages(classifier, path)
    if console:
        report.print_pages(console, scored_pages, path)
        report.print_misses(
            console, "pages-dev errors", scored_pages.whole.misses, errors, explained
        )
    return scored_pages.as_dict(), scored_pages.targets_met()


@click.command("eval")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@rule_packs_option
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of tables.")
@click.option("--errors", default=0, help="Also list up to N errors per rule and kind, with why.")
@click.option("--check", is_flag=True, help="Exit 1 if a target is missed.")
def eval_command(
    paths: tuple[Path, ...], ruleset: RuleSet, as_json: bool, errors: int, check: bool
) -> None:
    """Score rule packs on labelled news: CASE 2021 (.tsv), SIB-200 (folder), panl-dev and
    pages-dev (.jsonl), or a folder holding any of them.

    CASE 2021: per-rule precision / recall / F1 under the don't-care mapping, and the share of
    snippets that trigger a rule they should not. SIB-200: whether every rule gives the same
    verdict on the English, Indonesian and Malay version of a sentence, and how many
    non-politics sentences trigger anything. panl-dev: per half and language, per-rule scores,
    macro-F1, Indonesian/English agreement and economy/science/sport fires. pages-dev: per-rule
    scores on whole excerpts, false alarms and hard negatives.
    """
    from streams.classify import Classifier

    datasets = [found for path in paths for found in detect(path)]
    if not datasets:
        raise click.UsageError(f"no evaluation data set in {list(map(str, paths))}")
    classifier = Classifier(ruleset)
    console = Console(highlight=False, soft_wrap=True)
    console.width = max(console.width, 110)  # tables stay readable when piped
    results, met = {}, True
    for kind, path in datasets:
        try:
            result, ok = _evaluate(kind, classifier, path, None if as_json else console, errors)
        except ValueError as error:
            raise click.ClickException(str(error)) from None
        results[str(path)] = {"dataset": kind, **result}
        met &= ok
    if as_json:
        click.echo(json.dumps({"rule_set": classifier.ruleset.version, "results": results}))
    if check and not met:
        sys.exit(1)
