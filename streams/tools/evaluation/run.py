"""Find the data sets under a path, score a classifier on each, and print or return the scores."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console

from streams.tools.evaluation import case2021, labelled, pages, panl, report, sib200
from streams.tools.evaluation.scoring import Miss

if TYPE_CHECKING:
    from streams.engine import Classifier

KINDS = ("case2021", "sib200", "panl", "pages", "labelled")


def detect(path: Path) -> list[tuple[str, Path]]:
    """Which data sets a path holds: one file or folder of a set, or a folder of several."""
    if path.is_file():
        if panl.is_panl(path):
            return [("panl", path)]
        if pages.is_pages(path):
            return [("pages", path)]
        if labelled.is_labelled(path):
            return [("labelled", path)]
        return [("case2021", path)]
    if sib200.is_sib200(path):
        return [("sib200", path)]
    found = [("case2021", p) for p in sorted(path.glob("case2021*.tsv"))]
    for folder in (path, *sorted(p for p in path.iterdir() if p.is_dir())):
        if folder != path and sib200.is_sib200(folder):
            found.append(("sib200", folder))
        found += [("panl", p) for p in sorted(folder.glob("*.jsonl")) if panl.is_panl(p)]
        found += [("pages", p) for p in sorted(folder.glob("*.jsonl")) if pages.is_pages(p)]
        found += [("labelled", p) for p in sorted(folder.glob("*")) if labelled.is_labelled(p)]
    return sorted(found, key=lambda kind_path: KINDS.index(kind_path[0]))


def why(classifier: Classifier, miss: Miss) -> str:
    """The matcher's account of one error: the evidence that fired, or what stopped it."""
    from streams.rules.explain import explain
    from streams.text.document import Document

    article = miss.article()
    assert article is not None, "only a miss with its language can be explained"
    result = explain(classifier.ruleset, miss.rule_id, Document.from_article(article))
    if result.match:
        terms = [f"{t.text!r}({t.term})" for e in result.match.evidence for t in e.terms]
        return "fired on " + ", ".join(dict.fromkeys(terms))
    stops = f"; stopped: {' / '.join(result.stopped[:3])}" if result.stopped else ""
    return result.reason + stops


def evaluate(
    kind: str, classifier: Classifier, path: Path, console: Console | None, errors: int
) -> tuple[dict, bool]:
    """Score one data set: its JSON result and whether its targets are met. The report and up
    to ``errors`` errors per rule and kind are printed unless ``console`` is None."""

    def explained(miss: Miss) -> str:
        return why(classifier, miss)

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
            off_topic = sib.off_topic
            report.print_misses(console, "SIB-200 off-topic fires", off_topic, errors, explained)
        return sib.as_dict(), sib.targets_met()
    if kind == "panl":
        scored = panl.evaluate_panl(classifier, path)
        if console:
            report.print_panl(console, scored, path)
            everything = scored.halves["all"]
            misses = report.labelled_misses(everything.languages)
            report.print_misses(console, "panl-dev errors", misses, errors, explained)
            split = everything.disagreements
            report.print_misses(console, "panl-dev id/en disagreements", split, errors)
            off = everything.off_domain_fires
            report.print_misses(
                console, "panl-dev economy/science/sport fires", off, errors, explained
            )
        return scored.as_dict(), scored.targets_met()
    if kind == "labelled":
        scored = labelled.evaluate_labelled(classifier, path)
        if console:
            report.print_labelled(console, scored, path)
            misses = scored.score.misses
            report.print_misses(console, f"{path.name} errors", misses, errors, explained)
        return scored.as_dict(), scored.targets_met()
    excerpts = pages.evaluate_pages(classifier, path)
    if console:
        report.print_pages(console, excerpts, path)
        misses = excerpts.whole.misses
        report.print_misses(console, "pages-dev errors", misses, errors, explained)
    return excerpts.as_dict(), excerpts.targets_met()
