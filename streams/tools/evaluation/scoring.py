"""What every data set's score is made of: counts per rule, errors kept for reading, halves."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from streams.models import Article

if TYPE_CHECKING:  # the engine is imported when used, so `pantau` itself starts fast
    from streams.engine import Classifier


@dataclass
class Counts:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0

    def add(self, hit: bool, expected: bool) -> None:
        if hit and expected:
            self.tp += 1
        elif hit:
            self.fp += 1
        elif expected:
            self.fn += 1
        else:
            self.tn += 1

    @property
    def support(self) -> int:
        return self.tp + self.fn

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

    def as_dict(self) -> dict:
        return {
            "tp": self.tp,
            "fp": self.fp,
            "fn": self.fn,
            "tn": self.tn,
            "support": self.support,
            "precision": self.precision,
            "recall": self.recall,
            "f1": self.f1,
        }


def macro_f1(rules: dict[str, Counts]) -> float | None:
    """Mean F1 over the rules that have positives: a rule nobody labelled cannot be scored."""
    scores = [c.f1 or 0.0 for c in rules.values() if c.support]
    return sum(scores) / len(scores) if scores else None


@dataclass
class Miss:
    """One scoring error, kept so an analyst can read error categories, not just numbers.

    With a ``language``, ``title`` and ``text`` are what was classified, so ``--errors`` can ask
    the matcher why; without one (a disagreement between languages) ``text`` is for reading.
    """

    rule_id: str
    kind: str  # "fp", "fn", or a disagreement such as "only en"
    item_id: str
    label: str
    text: str
    language: str | None = None
    title: str = ""

    def article(self) -> Article | None:
        if self.language is None:
            return None
        return Article(id=self.item_id, title=self.title, body=self.text, language=self.language)


Record = TypeVar("Record")


def read_json_lines(path: Path, kind: str, make: Callable[[dict], Record]) -> list[Record]:
    """One record per non-empty line of a JSON Lines file; a bad line names its file and line."""
    records = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                records.append(make(json.loads(line)))
            except (ValueError, KeyError, TypeError) as error:
                raise ValueError(f"{path}:{number}: not a {kind} record ({error})") from None
    return records


def half_of(key: str) -> str:
    """'A' or 'B' from a hash of the item's key: a split that never depends on file order."""
    return "A" if hashlib.sha256(key.encode("utf-8")).digest()[0] % 2 == 0 else "B"


def fired_rules(classifier: Classifier, articles: Iterable[Article]) -> list[set[str]]:
    """Rule ids fired on each article, as the worker would fire them."""
    return [{alert.rule_id for alert in classifier.classify(a)} for a in articles]


def text_article(item_id: str, text: str, language: str | None) -> Article:
    return Article(id=item_id, body=text, language=language)


def rule_ids(classifier: Classifier) -> Sequence[str]:
    return [r.rule.id for r in classifier.ruleset.rules]


@dataclass(frozen=True)
class Labelled:
    """A text with the rules that must fire on it; ``ambiguous`` rules are not scored on it."""

    id: str
    article: Article
    positives: frozenset[str]
    ambiguous: frozenset[str] = frozenset()


@dataclass
class LabelledScore:
    """Per-rule counts over labelled texts, and every error with the text that caused it."""

    rules: dict[str, Counts]
    items: int
    misses: list[Miss]

    @property
    def macro_f1(self) -> float | None:
        return macro_f1(self.rules)

    @property
    def false_alarms(self) -> int:
        return sum(c.fp for c in self.rules.values())

    def as_dict(self) -> dict:
        return {
            "items": self.items,
            "macro_f1": self.macro_f1,
            "false_alarms": self.false_alarms,
            "rules": {rule: c.as_dict() for rule, c in self.rules.items()},
        }


def score_labelled(
    items: Sequence[Labelled], fired: Sequence[set[str]], rules: Sequence[str]
) -> LabelledScore:
    score = LabelledScore({rule: Counts() for rule in rules}, len(items), [])
    for item, hits in zip(items, fired, strict=True):
        for rule in rules:
            if rule in item.ambiguous:
                continue
            hit, expected = rule in hits, rule in item.positives
            score.rules[rule].add(hit, expected)
            if hit != expected:
                label = ",".join(sorted(item.positives)) or "-"
                a = item.article
                kind = "fp" if hit else "fn"
                score.misses.append(Miss(rule, kind, item.id, label, a.body, a.language, a.title))
    return score
