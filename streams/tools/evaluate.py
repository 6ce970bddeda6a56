"""Measure a rule pack on labelled news text, through the same classifier the worker runs.

Two public data sets are supported, read where they live (they are not part of the project):

* CASE 2021 task 2: English snippets with one ACLED-style ``SubType`` each. A mapping says per
  rule which SubTypes are positives and which are don't-care; every other SubType is a negative,
  so the table shows precision/recall/F1 and how often a snippet triggers a rule it should not.
* SIB-200: the same Flores-200 sentences in English, Indonesian and Malay with a topic. A rule
  should give the same verdict in every language, and non-politics sentences should trigger
  (almost) nothing.
"""

from __future__ import annotations

import csv
import json
import sys
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import click
from rich.console import Console
from rich.table import Table

from streams.cli.options import rule_packs_option

if TYPE_CHECKING:  # the engine is imported when used, so `pantau` itself starts fast
    from streams.engine import Classifier
    from streams.rules.compiler import RuleSet

# ---- the label mapping (eval-data README) -----------------------------------------------------
CASE_POSITIVE: dict[str, frozenset[str]] = {
    "military_strike": frozenset({"AIR_STRIKE", "ART_MISS_ATTACK"}),
    "protest_unrest": frozenset(
        {"PEACE_PROTEST", "VIOL_DEMONSTR", "FORCE_AGAINST_PROTEST", "PROTEST_WITH_INTER"}
    ),
}
CASE_DONT_CARE: dict[str, frozenset[str]] = {
    "military_strike": frozenset(
        {
            "ARMED_CLASH",
            "GRENADE",
            "SUIC_BOMB",
            "REM_EXPLOS",
            "CHEM_WEAP",
            "ATTACK",
            "PROPERTY_DISTRUCT",
        }
    ),
    "protest_unrest": frozenset({"MOB_VIOL"}),
    "treaty_signed": frozenset({"AGREEMENT"}),
    "diplomatic_meeting": frozenset({"DIPLO"}),
    "troop_deployment": frozenset(
        {
            "CHANGE_TO_GROUP_ACT",
            "HQ_ESTABLISHED",
            "GOV_REGAINS_TERIT",
            "NON_STATE_ACTOR_OVERTAKES_TER",
        }
    ),
    "arms_transfer": frozenset({"DISR_WEAP"}),
}
ALWAYS_DONT_CARE = frozenset({"OTHER"})

SIB_LANGUAGES = {"eng_Latn": "en", "ind_Latn": "id", "zsm_Latn": "ms"}
SIB_SPLITS = ("train", "dev", "test")
SIB_POLITICS = "politics"
UNDETECTED = "none"  # the detector was unsure or the text too short

# What the default pack must reach (issue: rules pack, evaluation).
TARGET_F1 = {"military_strike": 0.85, "protest_unrest": 0.85}
TARGET_NEGATIVE_RATE = 0.02
TARGET_AGREEMENT = 0.97
TARGET_NON_POLITICS_RATE = 0.01


def verdict(rule_id: str, subtype: str) -> bool | None:
    """Whether a CASE snippet of ``subtype`` should fire ``rule_id``; None means don't care."""
    if subtype in ALWAYS_DONT_CARE or subtype in CASE_DONT_CARE.get(rule_id, ()):
        return None
    return subtype in CASE_POSITIVE.get(rule_id, ())


# ---- loading ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Snippet:
    id: str
    text: str
    label: str


@dataclass(frozen=True)
class Aligned:
    """One Flores sentence: its topic and its text per language code."""

    index_id: str
    topic: str
    texts: dict[str, str]


def _tsv_rows(path: Path, required: Sequence[str]) -> list[dict[str, str]]:
    """Rows of a tab-separated file with a header (SIB-200 quotes fields that contain quotes)."""
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle, delimiter="\t")
        missing = set(required) - set(reader.fieldnames or ())
        if missing:
            raise ValueError(f"{path}: missing columns {sorted(missing)}")
        return list(reader)


def load_case2021(path: Path) -> list[Snippet]:
    """CASE 2021 task 2 snippets with their gold SubType."""
    rows = _tsv_rows(path, ("id", "EventSnippet", "SubType"))
    return [Snippet(r["id"], r["EventSnippet"], r["SubType"].strip()) for r in rows]


def load_sib200(directory: Path) -> list[Aligned]:
    """SIB-200 sentences present in every language folder, aligned by ``index_id``."""
    by_language: dict[str, dict[str, tuple[str, str]]] = {}
    for folder, code in SIB_LANGUAGES.items():
        rows: dict[str, tuple[str, str]] = {}
        for split in SIB_SPLITS:
            path = directory / folder / f"{split}.tsv"
            if path.exists():
                for row in _tsv_rows(path, ("index_id", "category", "text")):
                    rows[row["index_id"]] = (row["category"], row["text"])
        if not rows:
            raise ValueError(f"{directory / folder}: no {'/'.join(SIB_SPLITS)}.tsv files")
        by_language[code] = rows
    common = set.intersection(*(set(rows) for rows in by_language.values()))
    english = by_language["en"]
    return [
        Aligned(i, english[i][0], {code: rows[i][1] for code, rows in by_language.items()})
        for i in sorted(common, key=lambda i: (len(i), i))
    ]


def detected_languages(sentences: Sequence[Aligned]) -> dict[str, dict[str, int]]:
    """What the worker detects for each sentence given no language: given -> detected -> count."""
    from streams.text.language import article_language

    detected: dict[str, Counter[str]] = {}
    for sentence in sentences:
        for code, text in sentence.texts.items():
            found = article_language("", text) or UNDETECTED
            detected.setdefault(code, Counter())[found] += 1
    return {code: dict(counts.most_common()) for code, counts in sorted(detected.items())}


def fired_rules(classifier: Classifier, texts: Iterable[tuple[str, str]]) -> list[set[str]]:
    """Rule ids fired on each (text, language) pair, as the worker would fire them."""
    from streams.models import Article

    return [
        {
            alert.rule_id
            for alert in classifier.classify(Article(id=str(n), body=text, language=lang))
        }
        for n, (text, lang) in enumerate(texts)
    ]


# ---- scoring ----------------------------------------------------------------------------------
@dataclass
class Counts:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0

    @property
    def precision(self) -> float | None:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else None

    @property
    def recall(self) -> float | None:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else None

    @property
    def f1(self) -> float | None:
        p, r = self.precision, self.recall
        if p is None or r is None:
            return None
        return 2 * p * r / (p + r) if p + r else 0.0


@dataclass
class Miss:
    """One scoring error, kept so an analyst can look at error categories, not just numbers."""

    rule_id: str
    kind: str  # "fp" or "fn"
    item_id: str
    label: str
    text: str


@dataclass
class CaseReport:
    rules: dict[str, Counts]
    snippets: int
    negative_triggers: int
    misses: list[Miss] = field(default_factory=list)

    @property
    def negative_rate(self) -> float:
        """Share of snippets that fire at least one rule the mapping calls negative for them."""
        return self.negative_triggers / self.snippets if self.snippets else 0.0


def score_case(
    snippets: Sequence[Snippet], fired: Sequence[set[str]], rule_ids: Sequence[str]
) -> CaseReport:
    """Per-rule counts (don't-care labels skipped) and the negative-trigger rate."""
    report = CaseReport({rule: Counts() for rule in rule_ids}, len(snippets), 0)
    for snippet, rules in zip(snippets, fired, strict=True):
        negative_hit = False
        for rule in rule_ids:
            expected = verdict(rule, snippet.label)
            if expected is None:
                continue
            counts, hit = report.rules[rule], rule in rules
            if hit and expected:
                counts.tp += 1
            elif hit:
                counts.fp += 1
                negative_hit = True
            elif expected:
                counts.fn += 1
            else:
                counts.tn += 1
            if hit != expected:
                kind = "fp" if hit else "fn"
                report.misses.append(Miss(rule, kind, snippet.id, snippet.label, snippet.text))
        report.negative_triggers += negative_hit
    return report


@dataclass
class SibReport:
    sentences: int
    agreeing: int
    non_politics: int
    non_politics_triggered: int  # in any language
    fires: dict[str, dict[str, int]]  # rule -> language -> sentences fired
    disagreements: list[Miss] = field(default_factory=list)
    off_topic: list[Miss] = field(default_factory=list)
    detected: dict[str, dict[str, int]] = field(default_factory=dict)  # given -> found -> count

    @property
    def agreement(self) -> float:
        return self.agreeing / self.sentences if self.sentences else 1.0

    @property
    def non_politics_rate(self) -> float:
        return self.non_politics_triggered / self.non_politics if self.non_politics else 0.0


def score_sib(
    sentences: Sequence[Aligned], fired: Sequence[dict[str, set[str]]], rule_ids: Sequence[str]
) -> SibReport:
    """Cross-language agreement (every rule's verdict equal in all languages) and off-topic fires.

    A non-politics sentence counts as triggered if any language version fires any rule, the
    strict reading: an alert in one language is an alert.
    """
    languages = sorted({code for s in sentences for code in s.texts})
    fires = {rule: dict.fromkeys(languages, 0) for rule in rule_ids}
    report = SibReport(len(sentences), 0, 0, 0, fires)
    for sentence, by_language in zip(sentences, fired, strict=True):
        union = set().union(*by_language.values())
        text = " | ".join(f"{code}: {sentence.texts[code]}" for code in sorted(sentence.texts))
        for code, rules in by_language.items():
            for rule in rules:
                fires[rule][code] += 1
        split = [r for r in sorted(union) if any(r not in rules for rules in by_language.values())]
        report.agreeing += not split
        for rule in split:
            where = ",".join(code for code, rules in sorted(by_language.items()) if rule in rules)
            miss = Miss(rule, f"only {where}", sentence.index_id, sentence.topic, text)
            report.disagreements.append(miss)
        if sentence.topic != SIB_POLITICS:
            report.non_politics += 1
            report.non_politics_triggered += bool(union)
            for rule in sorted(union):
                report.off_topic.append(Miss(rule, "fp", sentence.index_id, sentence.topic, text))
    return report


def evaluate_case(classifier: Classifier, path: Path) -> CaseReport:
    """Classify every CASE snippet as an English article and score it."""
    snippets = load_case2021(path)
    fired = fired_rules(classifier, ((s.text, "en") for s in snippets))
    return score_case(snippets, fired, [r.rule.id for r in classifier.ruleset.rules])


def evaluate_sib(classifier: Classifier, directory: Path) -> SibReport:
    """Classify every aligned sentence in each of its languages and score the verdicts."""
    sentences = load_sib200(directory)
    pairs = [(s.texts[code], code) for s in sentences for code in sorted(s.texts)]
    flat = iter(fired_rules(classifier, pairs))
    fired = [{code: next(flat) for code in sorted(s.texts)} for s in sentences]
    report = score_sib(sentences, fired, [r.rule.id for r in classifier.ruleset.rules])
    report.detected = detected_languages(sentences)
    return report


# ---- reports ----------------------------------------------------------------------------------
def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def _mark(ok: bool) -> str:
    return "[green]ok[/]" if ok else "[red]MISSED[/]"


def case_targets_met(report: CaseReport) -> bool:
    f1_ok = all((report.rules[r].f1 or 0.0) >= t for r, t in TARGET_F1.items() if r in report.rules)
    return f1_ok and report.negative_rate <= TARGET_NEGATIVE_RATE


def sib_targets_met(report: SibReport) -> bool:
    return (
        report.agreement >= TARGET_AGREEMENT
        and report.non_politics_rate <= TARGET_NON_POLITICS_RATE
    )


def print_case(console: Console, report: CaseReport, path: Path) -> None:
    table = Table(title=f"CASE 2021 ({report.snippets} snippets): {path}")
    for name in ("rule", "TP", "FP", "FN", "TN", "precision", "recall", "F1", "target"):
        table.add_column(name, justify="left" if name == "rule" else "right", no_wrap=True)
    for rule, c in report.rules.items():
        target = TARGET_F1.get(rule)
        mark = "" if target is None else f"{target:.2f} {_mark((c.f1 or 0.0) >= target)}"
        counts = (str(n) for n in (c.tp, c.fp, c.fn, c.tn))
        scores = (_number(c.precision), _number(c.recall), _number(c.f1))
        table.add_row(rule, *counts, *scores, mark)
    console.print(table)
    console.print(
        f"snippets triggering a rule the mapping calls negative: {report.negative_triggers} "
        f"({report.negative_rate:.2%}; target <= {TARGET_NEGATIVE_RATE:.0%} "
        f"{_mark(report.negative_rate <= TARGET_NEGATIVE_RATE)})"
    )


def print_sib(console: Console, report: SibReport, path: Path) -> None:
    table = Table(title=f"SIB-200 ({report.sentences} aligned sentences): {path}")
    languages = sorted({code for by in report.fires.values() for code in by})
    table.add_column("rule", no_wrap=True)
    for code in languages:
        table.add_column(f"fired {code}", justify="right")
    for rule, by in report.fires.items():
        table.add_row(rule, *(str(by[code]) for code in languages))
    console.print(table)
    console.print(
        f"same verdicts in every language: {report.agreeing}/{report.sentences} "
        f"({report.agreement:.2%}; target >= {TARGET_AGREEMENT:.0%} "
        f"{_mark(report.agreement >= TARGET_AGREEMENT)})"
    )
    console.print(
        f"non-politics sentences triggering any rule (any language): "
        f"{report.non_politics_triggered}/{report.non_politics} ({report.non_politics_rate:.2%}; "
        f"target <= {TARGET_NON_POLITICS_RATE:.0%} "
        f"{_mark(report.non_politics_rate <= TARGET_NON_POLITICS_RATE)})"
    )
    if report.detected:
        console.print(
            "language detected when the article gives none (no target): "
            + ", ".join(_detection(code, found) for code, found in report.detected.items())
        )


def _detection(code: str, found: dict[str, int]) -> str:
    total = sum(found.values())
    right = found.get(code, 0)
    wrong = "; ".join(f"{n} as {other}" for other, n in found.items() if other != code)
    return f"{code} {right}/{total} ({right / total:.1%}{'; ' + wrong if wrong else ''})"


def print_misses(console: Console, title: str, misses: list[Miss], limit: int) -> None:
    if not misses or limit <= 0:
        return
    console.print(f"[bold]{title}[/] (first {limit} per rule and kind)")
    shown: dict[tuple[str, str], int] = {}
    for miss in misses:
        key = (miss.rule_id, miss.kind)
        shown[key] = shown.get(key, 0) + 1
        if shown[key] <= limit:
            console.print(
                f"  {miss.rule_id} {miss.kind} #{miss.item_id} [{miss.label}] {miss.text[:300]}",
                markup=False,
            )


def case_json(report: CaseReport) -> dict:
    return {
        "snippets": report.snippets,
        "negative_triggers": report.negative_triggers,
        "negative_rate": report.negative_rate,
        "rules": {
            rule: {
                "tp": c.tp,
                "fp": c.fp,
                "fn": c.fn,
                "tn": c.tn,
                "precision": c.precision,
                "recall": c.recall,
                "f1": c.f1,
            }
            for rule, c in report.rules.items()
        },
        "targets_met": case_targets_met(report),
    }


def sib_json(report: SibReport) -> dict:
    return {
        "sentences": report.sentences,
        "agreement": report.agreement,
        "non_politics": report.non_politics,
        "non_politics_triggered": report.non_politics_triggered,
        "non_politics_rate": report.non_politics_rate,
        "fires": report.fires,
        "language_detected": report.detected,
        "targets_met": sib_targets_met(report),
    }


def _is_sib(path: Path) -> bool:
    return all((path / folder).is_dir() for folder in SIB_LANGUAGES)


def detect(path: Path) -> list[tuple[str, Path]]:
    """Which data sets a path holds: a CASE file, a SIB-200 folder, or a folder with both."""
    if path.is_file():
        return [("case2021", path)]
    if _is_sib(path):
        return [("sib200", path)]
    found = [("case2021", p) for p in sorted(path.glob("case2021*.tsv"))]
    return found + [("sib200", p) for p in sorted(path.iterdir()) if p.is_dir() and _is_sib(p)]


def _evaluate(
    kind: str, classifier: Classifier, path: Path, console: Console | None, errors: int
) -> tuple[dict, bool]:
    """Run one data set; print its report unless ``console`` is None (JSON output)."""
    if kind == "case2021":
        case = evaluate_case(classifier, path)
        if console:
            print_case(console, case, path)
            print_misses(console, "CASE 2021 errors", case.misses, errors)
        return case_json(case), case_targets_met(case)
    sib = evaluate_sib(classifier, path)
    if console:
        print_sib(console, sib, path)
        print_misses(console, "SIB-200 disagreements", sib.disagreements, errors)
        print_misses(console, "SIB-200 off-topic fires", sib.off_topic, errors)
    return sib_json(sib), sib_targets_met(sib)


@click.command("eval")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@rule_packs_option
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of tables.")
@click.option("--errors", default=0, help="Also list up to N errors per rule and kind.")
@click.option("--check", is_flag=True, help="Exit 1 if a target is missed.")
def eval_command(
    paths: tuple[Path, ...],
    ruleset: RuleSet,
    as_json: bool,
    errors: int,
    check: bool,
) -> None:
    """Score rule packs on CASE 2021 (a .tsv file) or SIB-200 (a folder), or a folder of both.

    CASE 2021: per-rule precision / recall / F1 with the README's don't-care mapping, and the
    share of snippets that trigger a rule they should not. SIB-200: whether every rule gives
    the same verdict on the English, Indonesian and Malay version of a sentence, and how many
    non-politics sentences trigger anything.
    """
    from streams.engine import Classifier

    datasets = [found for path in paths for found in detect(path)]
    if not datasets:
        raise click.UsageError(f"no CASE 2021 file or SIB-200 folder in {list(map(str, paths))}")
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
