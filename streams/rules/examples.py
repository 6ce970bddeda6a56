"""A rule's examples as tests: texts it must fire on (``fires``) and texts it must not (``quiet``).

``pantau rules test`` and ``rules check`` run them and ``rules push`` refuses a pack whose
examples fail, so an edit that breaks a case the analyst pinned down never reaches the workers.
Each example is classified as the worker would classify it (the matcher, presearch included);
a failure carries where the example is in its file and :func:`~streams.rules.explain.explain`'s
reason, which says what to change.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

from streams.models import Article, RuleExample
from streams.rules.compiler import RuleSet
from streams.rules.explain import Explanation, explain
from streams.rules.matcher import match_document
from streams.rules.packs import PackText, pack_name, position
from streams.text.document import Document

Expectation = Literal["fires", "quiet"]
SHOWN_CHARS = 240  # of an example's text in a report


@dataclass(frozen=True)
class ExampleFailure:
    """An example the rule got wrong, located in its pack, with why the rule did what it did."""

    where: str  # file:line:column
    rule_id: str
    expected: Expectation
    example: RuleExample
    explanation: Explanation

    def report(self) -> list[str]:
        """Lines for a person: the rule and what it should have done, the example, the reason."""
        verdict = "must fire but did not" if self.expected == "fires" else "must not fire but did"
        lines = [f"FAIL {self.where}: rule {self.rule_id} {verdict}"]
        example = self.example
        if example.title:
            lines.append(f"  title: {_shown(example.title)}")
        if example.body:
            lines.append(f"  body: {_shown(example.body)}")
        explanation = self.explanation
        concept_of = {
            label: name for name, labels in explanation.concepts.items() for label in labels
        }
        for label, found in explanation.found.items():
            places = list({t.start: t for t in found}.values())  # a term in two languages: once
            where = ", ".join(f"{t.text!r}@{t.start}" for t in places[:4])
            lines.append(f"  {concept_of.get(label, 'term')} {label!r}: {where}")
        lines.extend(f"  stopped: {stop}" for stop in explanation.stopped)
        lines.append(f"  why: {explanation.reason}")
        if explanation.match:
            lines.extend(f"  evidence: {e.snippet}" for e in explanation.match.evidence[:2])
        return lines


@dataclass
class ExampleRun:
    """What running the examples of some packs found."""

    checked: int = 0
    failures: list[ExampleFailure] = field(default_factory=list)
    without_examples: list[str] = field(default_factory=list)  # enabled rules with none


def run_examples(ruleset: RuleSet, texts: Iterable[tuple[str, str] | PackText]) -> ExampleRun:
    """Run the examples of every enabled rule of these packs ((source, YAML text) pairs, as
    compiled into ``ruleset``, whose concepts they share). A disabled rule's are not run.

    Each pack is taken from ``ruleset`` by name, as checked with the packs it refers to; its
    text only locates the failures."""
    run = ExampleRun()
    enabled = {compiled.rule.id for compiled in ruleset.rules}
    for item in texts:
        source, text = item[0], item[1]
        pack = ruleset.packs.get(pack_name(PackText(*item)))
        for index, rule in enumerate(pack.rules if pack else []):
            if rule.id not in enabled:
                continue
            if not rule.examples.fires and not rule.examples.quiet:
                run.without_examples.append(rule.id)
            for expected in ("fires", "quiet"):
                for number, raw in enumerate(getattr(rule.examples, expected)):
                    run.checked += 1
                    example = raw if isinstance(raw, RuleExample) else RuleExample(body=raw)
                    document = _document(rule.id, expected, number, example)
                    fired = any(
                        m.rule.rule.id == rule.id for m in match_document(ruleset, document)
                    )
                    if fired == (expected == "fires"):
                        continue
                    line, column = position(text, ("rules", index, "examples", expected, number))
                    run.failures.append(
                        ExampleFailure(
                            f"{source}:{line}:{column}",
                            rule.id,
                            expected,
                            example,
                            explain(ruleset, rule.id, document),
                        )
                    )
    return run


def _document(rule_id: str, expected: str, number: int, example: RuleExample) -> Document:
    article = Article(
        id=f"example:{rule_id}:{expected}:{number}",
        title=example.title,
        body=example.body,
        language=example.language,
    )
    return Document.from_article(article)


def _shown(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= SHOWN_CHARS else flat[: SHOWN_CHARS - 3] + "..."
