"""Tables for ``pantau eval``: one per data set, targets marked, errors with the matcher's why."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from rich.console import Console
from rich.table import Table

from streams.tools.evaluation import case2021, labelled, pages, panl, sib200
from streams.tools.evaluation.scoring import Counts, LabelledScore, Miss

Why = Callable[[Miss], str]  # the matcher's explanation of one error


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def _mark(ok: bool) -> str:
    return "[green]ok[/]" if ok else "[red]MISSED[/]"


def _target(value: float | None, target: float | None) -> str:
    return "" if target is None else f"{target:.2f} {_mark((value or 0.0) >= target)}"


def _rule_table(title: str, rules: dict[str, Counts], targets: dict[str, float]) -> Table:
    table = Table(title=title)
    columns = ("rule", "support", "TP", "FP", "FN", "precision", "recall", "F1", "target")
    for name in columns:
        table.add_column(name, justify="left" if name == "rule" else "right", no_wrap=True)
    for rule, c in rules.items():
        counts = (str(n) for n in (c.support, c.tp, c.fp, c.fn))
        scores = (_number(c.precision), _number(c.recall), _number(c.f1))
        table.add_row(rule, *counts, *scores, _target(c.f1, targets.get(rule)))
    return table


def print_case(console: Console, report: case2021.CaseReport, path: Path) -> None:
    title = f"CASE 2021 ({report.snippets} snippets): {path}"
    console.print(_rule_table(title, report.rules, case2021.TARGET_F1))
    rate, target = report.negative_rate, case2021.TARGET_NEGATIVE_RATE
    console.print(
        f"snippets triggering a rule the mapping calls negative: {report.negative_triggers} "
        f"({rate:.2%}; target <= {target:.0%} {_mark(rate <= target)})"
    )


def print_sib(console: Console, report: sib200.SibReport, path: Path) -> None:
    table = Table(title=f"SIB-200 ({report.sentences} aligned sentences): {path}")
    languages = sorted({code for by in report.fires.values() for code in by})
    table.add_column("rule", no_wrap=True)
    for code in languages:
        table.add_column(f"fired {code}", justify="right")
    for rule, by in report.fires.items():
        table.add_row(rule, *(str(by[code]) for code in languages))
    console.print(table)
    agreement, off = report.agreement, report.non_politics_rate
    console.print(
        f"same verdicts in every language: {report.agreeing}/{report.sentences} "
        f"({agreement:.2%}; target >= {sib200.TARGET_AGREEMENT:.0%} "
        f"{_mark(agreement >= sib200.TARGET_AGREEMENT)})"
    )
    console.print(
        f"non-politics sentences triggering any rule (any language): "
        f"{report.non_politics_triggered}/{report.non_politics} ({off:.2%}; "
        f"target <= {sib200.TARGET_NON_POLITICS_RATE:.0%} "
        f"{_mark(off <= sib200.TARGET_NON_POLITICS_RATE)})"
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


def print_panl(console: Console, report: panl.PanlReport, path: Path) -> None:
    summary = Table(title=f"panl-dev by half: {path}")
    for name in ("half", "pairs", *(f"macro-F1 {c}" for c in panl.LANGUAGES), "agreement"):
        summary.add_column(name, justify="left" if name == "half" else "right", no_wrap=True)
    summary.add_column("off-domain fired", justify="right")
    for name, half in report.halves.items():
        f1s = (
            f"{_number(s.macro_f1)} {_mark((s.macro_f1 or 0) >= panl.TARGET_MACRO_F1)}"
            for s in half.languages.values()
        )
        agree = f"{half.agreement:.3f} {_mark(half.agreement >= panl.TARGET_AGREEMENT)}"
        off = half.off_domain_fired <= panl.TARGET_OFF_DOMAIN_FIRES
        fired = f"{half.off_domain_fired}/{half.off_domain} {_mark(off)}"
        summary.add_row(name, str(half.pairs), *f1s, agree, fired)
    console.print(summary)
    console.print(
        f"targets per half: macro-F1 >= {panl.TARGET_MACRO_F1} in each language, agreement >= "
        f"{panl.TARGET_AGREEMENT}, {panl.TARGET_OFF_DOMAIN_FIRES} economy/science/sport fires"
    )
    for name in panl.HALVES:
        for code, score in report.halves[name].languages.items():
            title = f"panl-dev half {name}, {code} ({score.items} sentences)"
            console.print(_rule_table(title, score.rules, {}))


def print_pages(console: Console, report: pages.PagesReport, path: Path) -> None:
    targets = dict.fromkeys(pages.TARGET_RULES, pages.TARGET_F1)
    whole = report.whole
    console.print(_rule_table(f"pages-dev ({whole.items} excerpts): {path}", whole.rules, targets))
    for code, score in report.languages.items():
        console.print(_rule_table(f"pages-dev, {code} ({score.items} excerpts)", score.rules, {}))
    alarms_ok = whole.false_alarms <= pages.TARGET_FALSE_ALARMS
    fired = sorted({m.item_id for m in report.hard_negatives_fired})
    hard_ok = len(fired) <= pages.TARGET_HARD_NEGATIVES_FIRED
    console.print(
        f"false alarms over all rules: {whole.false_alarms} "
        f"(target <= {pages.TARGET_FALSE_ALARMS} {_mark(alarms_ok)})"
    )
    console.print(
        f"hard negatives firing a rule: {len(fired)}/{report.hard_negatives} {fired} "
        f"(target <= {pages.TARGET_HARD_NEGATIVES_FIRED} {_mark(hard_ok)})"
    )


def print_labelled(console: Console, report: labelled.LabelledReport, path: Path) -> None:
    score = report.score
    console.print(_rule_table(f"{path} ({score.items} texts)", score.rules, {}))
    console.print(
        f"macro-F1 over the rules with positives: {_number(score.macro_f1)}; "
        f"false alarms over all rules: {score.false_alarms}"
    )
    for rule, count in report.unknown.items():
        console.print(f"[yellow]{count} text(s) expect {rule!r}, which no loaded pack has[/]")


def print_misses(
    console: Console, title: str, misses: Sequence[Miss], limit: int, why: Why | None = None
) -> None:
    """Up to ``limit`` errors per rule and kind, each with the matcher's reason when known."""
    if not misses or limit <= 0:
        return
    console.print(f"[bold]{title}[/] (first {limit} per rule and kind)")
    shown: dict[tuple[str, str], int] = {}
    for miss in misses:
        key = (miss.rule_id, miss.kind)
        shown[key] = shown.get(key, 0) + 1
        if shown[key] <= limit:
            text = " ".join(miss.text.split())
            console.print(
                f"  {miss.rule_id} {miss.kind} #{miss.item_id} [{miss.label}] {text[:300]}",
                markup=False,
            )
            if why and miss.language is not None:
                console.print(f"      why: {why(miss)}", markup=False)


def labelled_misses(scores: dict[str, LabelledScore]) -> list[Miss]:
    return [miss for score in scores.values() for miss in score.misses]
