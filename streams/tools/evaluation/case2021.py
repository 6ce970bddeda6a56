"""CASE 2021 task 2: English snippets, each with one ACLED-style ``SubType``.

A snippet carries one SubType but may report several events, so the mapping (the eval-data
README, revised 2026-12-04) calls a (rule, SubType) pair negative only where a snippet of that
SubType cannot report the rule's event under the definitions; where it can, the pair is
don't-care and skipped.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from streams.tools.evaluation.scoring import Counts, Miss, fired_rules, rule_ids, text_article

if TYPE_CHECKING:
    from streams.engine import Classifier

POSITIVE: dict[str, frozenset[str]] = {
    "military_strike": frozenset({"AIR_STRIKE", "ART_MISS_ATTACK"}),
    "protest_unrest": frozenset(
        {"PEACE_PROTEST", "VIOL_DEMONSTR", "FORCE_AGAINST_PROTEST", "PROTEST_WITH_INTER"}
    ),
}
DONT_CARE: dict[str, frozenset[str]] = {
    "military_strike": frozenset(
        {
            "ARMED_CLASH",
            "GRENADE",
            "SUIC_BOMB",
            "REM_EXPLOS",
            "CHEM_WEAP",
            "ATTACK",
            "PROPERTY_DISTRUCT",
            "GOV_REGAINS_TERIT",
            "NON_STATE_ACTOR_OVERTAKES_TER",
            "ATTRIB",
            "AGREEMENT",
            "DIPLO",
            "CHANGE_TO_GROUP_ACT",
            "HQ_ESTABLISHED",
        }
    ),
    "protest_unrest": frozenset(
        {
            "MOB_VIOL",
            "ARREST",
            "SEX_VIOL",
            "ABDUCT_DISSAP",
            "ATTACK",
            "PROPERTY_DISTRUCT",
            "CHANGE_TO_GROUP_ACT",
            "DIPLO",
        }
    ),
    "treaty_signed": frozenset(
        {"AGREEMENT", "DIPLO", "NON_VIOL_TERRIT_TRANSFER", "CHANGE_TO_GROUP_ACT"}
    ),
    "treaty_ratified": frozenset({"AGREEMENT", "DIPLO", "NON_VIOL_TERRIT_TRANSFER"}),
    "diplomatic_meeting": frozenset(
        {"DIPLO", "AGREEMENT", "ATTRIB", "NON_VIOL_TERRIT_TRANSFER", "CHANGE_TO_GROUP_ACT"}
    ),
    "troop_deployment": frozenset(
        {
            "CHANGE_TO_GROUP_ACT",
            "HQ_ESTABLISHED",
            "GOV_REGAINS_TERIT",
            "NON_STATE_ACTOR_OVERTAKES_TER",
            "ARMED_CLASH",
            "FORCE_AGAINST_PROTEST",
            "ARREST",
        }
    ),
    "arms_transfer": frozenset(
        {"DISR_WEAP", "AGREEMENT", "DIPLO", "ATTRIB", "CHANGE_TO_GROUP_ACT", "ARMED_CLASH"}
    ),
    "nuclear_missile_activity": frozenset(
        {"DIPLO", "AGREEMENT", "ATTRIB", "ART_MISS_ATTACK", "CHANGE_TO_GROUP_ACT", "DISR_WEAP"}
    ),
    "alliance_membership": frozenset({"DIPLO", "AGREEMENT"}),
    "government_crisis": frozenset({"CHANGE_TO_GROUP_ACT", "ARREST"}),
}
ALWAYS_DONT_CARE = frozenset({"OTHER"})

TARGET_F1 = {"military_strike": 0.90, "protest_unrest": 0.90}
TARGET_NEGATIVE_RATE = 0.01


def verdict(rule_id: str, subtype: str) -> bool | None:
    """Whether a snippet of ``subtype`` should fire ``rule_id``; None means don't care."""
    if subtype in ALWAYS_DONT_CARE or subtype in DONT_CARE.get(rule_id, ()):
        return None
    return subtype in POSITIVE.get(rule_id, ())


@dataclass(frozen=True)
class Snippet:
    id: str
    text: str
    label: str


def tsv_rows(path: Path, required: Sequence[str]) -> list[dict[str, str]]:
    """Rows of a tab-separated file with a header (SIB-200 quotes fields that contain quotes)."""
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle, delimiter="\t")
        missing = set(required) - set(reader.fieldnames or ())
        if missing:
            raise ValueError(f"{path}: missing columns {sorted(missing)}")
        return list(reader)


def load_case2021(path: Path) -> list[Snippet]:
    """The snippets with their gold SubType."""
    rows = tsv_rows(path, ("id", "EventSnippet", "SubType"))
    return [Snippet(r["id"], r["EventSnippet"], r["SubType"].strip()) for r in rows]


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

    def targets_met(self) -> bool:
        f1_ok = all((self.rules[r].f1 or 0.0) >= t for r, t in TARGET_F1.items() if r in self.rules)
        return f1_ok and self.negative_rate <= TARGET_NEGATIVE_RATE

    def as_dict(self) -> dict:
        return {
            "snippets": self.snippets,
            "negative_triggers": self.negative_triggers,
            "negative_rate": self.negative_rate,
            "rules": {rule: c.as_dict() for rule, c in self.rules.items()},
            "targets_met": self.targets_met(),
        }


def score_case(
    snippets: Sequence[Snippet], fired: Sequence[set[str]], rules: Sequence[str]
) -> CaseReport:
    """Per-rule counts (don't-care labels skipped) and the negative-trigger rate."""
    report = CaseReport({rule: Counts() for rule in rules}, len(snippets), 0)
    for snippet, hits in zip(snippets, fired, strict=True):
        negative_hit = False
        for rule in rules:
            expected = verdict(rule, snippet.label)
            if expected is None:
                continue
            hit = rule in hits
            report.rules[rule].add(hit, expected)
            negative_hit |= hit and not expected
            if hit != expected:
                kind = "fp" if hit else "fn"
                report.misses.append(
                    Miss(rule, kind, snippet.id, snippet.label, snippet.text, "en")
                )
        report.negative_triggers += negative_hit
    return report


def evaluate_case(classifier: Classifier, path: Path) -> CaseReport:
    """Classify every snippet as an English article and score it."""
    snippets = load_case2021(path)
    fired = fired_rules(classifier, (text_article(s.id, s.text, "en") for s in snippets))
    return score_case(snippets, fired, rule_ids(classifier))
