"""SIB-200: the same Flores-200 sentences in English, Indonesian and Malay, with a topic.

A rule should give the same verdict on a sentence in every language, and sentences that are
not about politics should trigger (almost) nothing.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from streams.tools.evaluation.case2021 import tsv_rows
from streams.tools.evaluation.scoring import Miss, fired_rules, rule_ids, text_article

if TYPE_CHECKING:
    from streams.engine import Classifier

LANGUAGES = {"eng_Latn": "en", "ind_Latn": "id", "zsm_Latn": "ms"}
SPLITS = ("train", "dev", "test")
POLITICS = "politics"
UNDETECTED = "none"  # the detector was unsure or the text too short

TARGET_AGREEMENT = 0.97
TARGET_NON_POLITICS_RATE = 0.01


@dataclass(frozen=True)
class Aligned:
    """One Flores sentence: its topic and its text per language code."""

    index_id: str
    topic: str
    texts: dict[str, str]


def is_sib200(path: Path) -> bool:
    return all((path / folder).is_dir() for folder in LANGUAGES)


def load_sib200(directory: Path) -> list[Aligned]:
    """Sentences present in every language folder, aligned by ``index_id``."""
    by_language: dict[str, dict[str, tuple[str, str]]] = {}
    for folder, code in LANGUAGES.items():
        rows: dict[str, tuple[str, str]] = {}
        for split in SPLITS:
            path = directory / folder / f"{split}.tsv"
            if path.exists():
                for row in tsv_rows(path, ("index_id", "category", "text")):
                    rows[row["index_id"]] = (row["category"], row["text"])
        if not rows:
            raise ValueError(f"{directory / folder}: no {'/'.join(SPLITS)}.tsv files")
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

    def targets_met(self) -> bool:
        return (
            self.agreement >= TARGET_AGREEMENT
            and self.non_politics_rate <= TARGET_NON_POLITICS_RATE
        )

    def as_dict(self) -> dict:
        return {
            "sentences": self.sentences,
            "agreement": self.agreement,
            "non_politics": self.non_politics,
            "non_politics_triggered": self.non_politics_triggered,
            "non_politics_rate": self.non_politics_rate,
            "fires": self.fires,
            "language_detected": self.detected,
            "targets_met": self.targets_met(),
        }


def score_sib(
    sentences: Sequence[Aligned], fired: Sequence[dict[str, set[str]]], rules: Sequence[str]
) -> SibReport:
    """Cross-language agreement (every rule's verdict equal in all languages) and off-topic fires.

    A non-politics sentence counts as triggered if any language version fires any rule, the
    strict reading: an alert in one language is an alert.
    """
    languages = sorted({code for s in sentences for code in s.texts})
    fires = {rule: dict.fromkeys(languages, 0) for rule in rules}
    report = SibReport(len(sentences), 0, 0, 0, fires)
    for sentence, by_language in zip(sentences, fired, strict=True):
        union = set().union(*by_language.values())
        text = " | ".join(f"{code}: {sentence.texts[code]}" for code in sorted(sentence.texts))
        for code, hits in by_language.items():
            for rule in hits:
                fires[rule][code] += 1
        split = [r for r in sorted(union) if any(r not in hits for hits in by_language.values())]
        report.agreeing += not split
        for rule in split:
            where = ",".join(code for code, hits in sorted(by_language.items()) if rule in hits)
            miss = Miss(rule, f"only {where}", sentence.index_id, sentence.topic, text)
            report.disagreements.append(miss)
        if sentence.topic != POLITICS:
            report.non_politics += 1
            report.non_politics_triggered += bool(union)
            for rule in sorted(union):
                code = next(c for c, hits in sorted(by_language.items()) if rule in hits)
                label = f"{sentence.topic}, {code}"
                own = sentence.texts[code]
                report.off_topic.append(Miss(rule, "fp", sentence.index_id, label, own, code))
    return report


def evaluate_sib(classifier: Classifier, directory: Path) -> SibReport:
    """Classify every aligned sentence in each of its languages and score the verdicts."""
    sentences = load_sib200(directory)
    articles = [
        text_article(s.index_id, s.texts[code], code) for s in sentences for code in sorted(s.texts)
    ]
    flat = iter(fired_rules(classifier, articles))
    fired = [{code: next(flat) for code in sorted(s.texts)} for s in sentences]
    report = score_sib(sentences, fired, rule_ids(classifier))
    report.detected = detected_languages(sentences)
    return report
