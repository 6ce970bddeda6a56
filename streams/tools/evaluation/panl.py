"""panl-dev: Indonesian/English parallel news sentences, each version labelled on its own text.

Every pair falls into one of two fixed halves by a hash of its key, so rules can be worked on
with one half in view while the other says whether a change generalises. Scored per half and
language: per-rule precision, recall and F1, macro-F1 over the rules with positives, whether the
two versions of a sentence get the same verdicts, and any fire on the economy, science and
sport sentences (which report none of the rules' events).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from streams.tools.evaluation.scoring import (
    Labelled,
    LabelledScore,
    Miss,
    fired_rules,
    half_of,
    read_json_lines,
    rule_ids,
    score_labelled,
    text_article,
)

if TYPE_CHECKING:
    from streams.engine import Classifier

LANGUAGES = ("id", "en")
HALVES = ("A", "B")
OFF_DOMAIN = ("ECO", "SCI", "SPO")  # economy, science, sport: negatives for every rule

TARGET_MACRO_F1 = 0.88
TARGET_AGREEMENT = 0.95
TARGET_OFF_DOMAIN_FIRES = 0


@dataclass(frozen=True)
class Pair:
    key: str
    texts: dict[str, str]
    positives: dict[str, frozenset[str]]
    ambiguous: frozenset[str]

    @property
    def domain(self) -> str:
        return self.key.split(":", 1)[0]

    @property
    def half(self) -> str:
        return half_of(self.key)

    def labelled(self, language: str) -> Labelled:
        article = text_article(f"{self.key}/{language}", self.texts[language], language)
        return Labelled(article.id, article, self.positives[language], self.ambiguous)


def is_panl(path: Path) -> bool:
    return path.is_file() and path.name.startswith("panl") and path.suffix == ".jsonl"


def load_panl(path: Path) -> list[Pair]:
    def pair(row: dict) -> Pair:
        return Pair(
            row["key"],
            {code: row[code] for code in LANGUAGES},
            {code: frozenset(row[f"{code}_pos"]) for code in LANGUAGES},
            frozenset(row.get("amb", ())),
        )

    return read_json_lines(path, "panl-dev", pair)


@dataclass
class HalfReport:
    """One half (or all) of the pairs: scores per language, agreement, off-domain fires."""

    name: str
    pairs: int
    languages: dict[str, LabelledScore]
    agreeing: int
    off_domain: int
    off_domain_fired: int
    disagreements: list[Miss] = field(default_factory=list)
    off_domain_fires: list[Miss] = field(default_factory=list)

    @property
    def agreement(self) -> float:
        return self.agreeing / self.pairs if self.pairs else 1.0

    def targets_met(self) -> bool:
        return (
            all((s.macro_f1 or 0.0) >= TARGET_MACRO_F1 for s in self.languages.values())
            and self.agreement >= TARGET_AGREEMENT
            and self.off_domain_fired <= TARGET_OFF_DOMAIN_FIRES
        )

    def as_dict(self) -> dict:
        return {
            "pairs": self.pairs,
            "languages": {code: s.as_dict() for code, s in self.languages.items()},
            "agreement": self.agreement,
            "off_domain": self.off_domain,
            "off_domain_fired": self.off_domain_fired,
            "targets_met": self.targets_met(),
        }


@dataclass
class PanlReport:
    halves: dict[str, HalfReport]  # "A", "B" and "all"

    def targets_met(self) -> bool:
        return all(self.halves[h].targets_met() for h in HALVES)

    def as_dict(self) -> dict:
        return {
            "halves": {name: h.as_dict() for name, h in self.halves.items()},
            "targets_met": self.targets_met(),
        }


def score_half(
    name: str, pairs: Sequence[Pair], fired: Sequence[dict[str, set[str]]], rules: Sequence[str]
) -> HalfReport:
    languages = {
        code: score_labelled([p.labelled(code) for p in pairs], [f[code] for f in fired], rules)
        for code in LANGUAGES
    }
    report = HalfReport(name, len(pairs), languages, 0, 0, 0)
    for pair, by_language in zip(pairs, fired, strict=True):
        text = " | ".join(f"{code}: {pair.texts[code]}" for code in LANGUAGES)
        # The versions may only differ where the raters said the texts differ.
        comparable = [r for r in rules if r not in pair.ambiguous]
        comparable = [
            r for r in comparable if len({r in pair.positives[c] for c in LANGUAGES}) == 1
        ]
        split = [r for r in comparable if len({r in by_language[c] for c in LANGUAGES}) > 1]
        report.agreeing += not split
        for rule in split:
            where = ",".join(code for code in LANGUAGES if rule in by_language[code])
            report.disagreements.append(Miss(rule, f"only {where}", pair.key, "", text))
        if pair.domain in OFF_DOMAIN:
            report.off_domain += 1
            union = set().union(*by_language.values())
            report.off_domain_fired += bool(union)
            for rule in sorted(union):
                code = next(c for c in LANGUAGES if rule in by_language[c])
                label = f"{pair.domain}, {code}"
                own = pair.texts[code]
                report.off_domain_fires.append(Miss(rule, "fp", pair.key, label, own, code))
    return report


def score_panl(
    pairs: Sequence[Pair], fired: Sequence[dict[str, set[str]]], rules: Sequence[str]
) -> PanlReport:
    halves = {}
    for name in (*HALVES, "all"):
        chosen = [(p, f) for p, f in zip(pairs, fired, strict=True) if name in (p.half, "all")]
        halves[name] = score_half(name, [p for p, _ in chosen], [f for _, f in chosen], rules)
    return PanlReport(halves)


def evaluate_panl(classifier: Classifier, path: Path) -> PanlReport:
    pairs = load_panl(path)
    articles = [p.labelled(code).article for p in pairs for code in LANGUAGES]
    flat = iter(fired_rules(classifier, articles))
    fired = [{code: next(flat) for code in LANGUAGES} for _ in pairs]
    return score_panl(pairs, fired, rule_ids(classifier))
