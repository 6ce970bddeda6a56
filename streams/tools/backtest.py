"""Preview a rule set on the articles already in Kafka: per rule, what it would alert on against
the rule set it is compared with (by default the live one), before it goes live.

Each article is validated as the worker validates it and normalised once; both rule sets
classify the same document. An alert is compared by article and rule id, not by alert id,
which changes with the rule's version.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from streams.engine import Classifier
from streams.models import Alert
from streams.text.document import Document
from streams.validate import BadRecord, parse_record

SAMPLES = 3  # example snippets kept per rule and kind of change


@dataclass(frozen=True)
class Sample:
    """An article whose alert a change adds or removes, as a person would recognise it."""

    article_id: str
    title: str
    snippet: str

    @classmethod
    def of(cls, alert: Alert) -> Sample:
        snippet = alert.evidence[0].snippet if alert.evidence else ""
        return cls(alert.article.id, alert.article.title, snippet)


@dataclass
class RuleChange:
    """One rule's alerts with the rule set compared against (``now``) and with the candidate."""

    rule_id: str
    now: int = 0
    candidate: int = 0
    added: list[str] = field(default_factory=list)  # article ids
    removed: list[str] = field(default_factory=list)
    samples: dict[str, list[Sample]] = field(default_factory=lambda: {"added": [], "removed": []})

    def note(self, kind: str, alert: Alert) -> None:
        getattr(self, kind).append(alert.article.id)
        if len(self.samples[kind]) < SAMPLES:
            self.samples[kind].append(Sample.of(alert))

    def as_dict(self) -> dict:
        return {
            "rule_id": self.rule_id,
            "now": self.now,
            "candidate": self.candidate,
            "added": len(self.added),
            "removed": len(self.removed),
            "added_articles": self.added,
            "removed_articles": self.removed,
            "samples": {
                kind: [sample.__dict__ for sample in samples]
                for kind, samples in self.samples.items()
            },
        }


class Backtest:
    """Tallies, article by article, what the baseline and the candidate alert on."""

    def __init__(self, baseline: Classifier, candidate: Classifier, max_body_bytes: int):
        self.baseline, self.candidate = baseline, candidate
        self.max_body_bytes = max_body_bytes
        self.records = self.articles = 0
        self.skipped: Counter[str] = Counter()  # reason -> records the worker dead-letters
        ids = [r.rule.id for r in baseline.ruleset.rules + candidate.ruleset.rules]
        self.rules = {rule_id: RuleChange(rule_id) for rule_id in dict.fromkeys(ids)}

    def classify(self, value: bytes | None) -> None:
        """Classify one record of the articles topic with both rule sets."""
        self.records += 1
        try:
            document = Document.from_article(parse_record(value or b"", self.max_body_bytes))
        except BadRecord as error:
            self.skipped[error.reason] += 1
            return
        self.articles += 1
        before = {alert.rule_id: alert for alert in self.baseline.classify_document(document)}
        after = {alert.rule_id: alert for alert in self.candidate.classify_document(document)}
        for rule_id, alert in before.items():
            self.rules[rule_id].now += 1
            if rule_id not in after:
                self.rules[rule_id].note("removed", alert)
        for rule_id, alert in after.items():
            self.rules[rule_id].candidate += 1
            if rule_id not in before:
                self.rules[rule_id].note("added", alert)

    def changes(self) -> list[RuleChange]:
        """Every rule of either set, the most changed first."""
        return sorted(
            self.rules.values(), key=lambda r: (-(len(r.added) + len(r.removed)), r.rule_id)
        )
