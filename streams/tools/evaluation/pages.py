"""pages-dev: news excerpts in Indonesian and English for the rules sentences rarely cover.

Each excerpt is classified as one article (title and text). It is small, so it is scored whole,
both languages together, with per-language tables beside; hard negatives (excerpts labelled
with no rule) should fire nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from streams.models import Article
from streams.tools.evaluation.scoring import (
    Labelled,
    LabelledScore,
    Miss,
    fired_rules,
    read_json_lines,
    rule_ids,
    score_labelled,
)

if TYPE_CHECKING:
    from streams.engine import Classifier

TARGET_RULES = (
    "treaty_signed",
    "treaty_ratified",
    "troop_deployment",
    "arms_transfer",
    "nuclear_missile_activity",
    "alliance_membership",
)
TARGET_F1 = 0.90
TARGET_FALSE_ALARMS = 8
TARGET_HARD_NEGATIVES_FIRED = 1


def is_pages(path: Path) -> bool:
    return path.is_file() and path.name.startswith("pages") and path.suffix == ".jsonl"


def load_pages(path: Path) -> list[Labelled]:
    def excerpt(row: dict) -> Labelled:
        article = Article(id=row["uid"], title=row["title"], body=row["text"], language=row["lang"])
        return Labelled(row["uid"], article, frozenset(row["pos"]), frozenset(row["amb"]))

    return read_json_lines(path, "pages-dev", excerpt)


@dataclass
class PagesReport:
    whole: LabelledScore
    languages: dict[str, LabelledScore]
    hard_negatives: int
    hard_negatives_fired: list[Miss]

    def targets_met(self) -> bool:
        rules = self.whole.rules
        return (
            all((rules[r].f1 or 0.0) >= TARGET_F1 for r in TARGET_RULES if r in rules)
            and self.whole.false_alarms <= TARGET_FALSE_ALARMS
            and len({m.item_id for m in self.hard_negatives_fired}) <= TARGET_HARD_NEGATIVES_FIRED
        )

    def as_dict(self) -> dict:
        return {
            "whole": self.whole.as_dict(),
            "languages": {code: s.as_dict() for code, s in self.languages.items()},
            "hard_negatives": self.hard_negatives,
            "hard_negatives_fired": sorted({m.item_id for m in self.hard_negatives_fired}),
            "targets_met": self.targets_met(),
        }


def score_pages(
    items: Sequence[Labelled], fired: Sequence[set[str]], rules: Sequence[str]
) -> PagesReport:
    whole = score_labelled(items, fired, rules)
    languages = {}
    for code in sorted({i.article.language or "" for i in items}):
        chosen = [(i, f) for i, f in zip(items, fired, strict=True) if i.article.language == code]
        languages[code] = score_labelled([i for i, _ in chosen], [f for _, f in chosen], rules)
    hard = [i.id for i in items if not i.positives]
    fired_hard = [m for m in whole.misses if m.kind == "fp" and m.item_id in set(hard)]
    return PagesReport(whole, languages, len(hard), fired_hard)


def evaluate_pages(classifier: Classifier, path: Path) -> PagesReport:
    items = load_pages(path)
    fired = fired_rules(classifier, (i.article for i in items))
    return score_pages(items, fired, rule_ids(classifier))
