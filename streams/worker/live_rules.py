"""Live rule updates: rule files overlaid by packs published on a compacted rules topic.

Each record on the rules topic is one pack: the key is its name, the value its YAML text, an
empty value (tombstone) removes it. A pack with the same name as a rule file replaces that
file's rules. A candidate set is compiled in full before it replaces the running one, so a bad
record can never leave a worker half-updated: it is rejected and the previous set keeps serving.
"""

from __future__ import annotations

from pathlib import Path

from streams.engine import Classifier
from streams.rules.compiler import RuleSet
from streams.rules.packs import RulePackError, compile_texts, read_packs


class LiveRules:
    """The active :class:`Classifier`, swapped whole (one assignment) when rules change."""

    def __init__(self, files: list[Path], topic: str = "rules"):
        self.topic = topic
        self.file_packs = {Path(source).stem: (source, text) for source, text in read_packs(files)}
        self.topic_packs: dict[str, tuple[str, str]] = {}
        self.classifier = Classifier(compile_texts(list(self.file_packs.values())))

    @property
    def ruleset(self) -> RuleSet:
        return self.classifier.ruleset

    def apply(self, name: str, text: str | None, source: str | None = None) -> RuleSet:
        """Apply one rules-topic record; raise :class:`RulePackError` and change nothing if bad.

        ``source`` names the pack in error messages (default ``<topic>:<name>``).
        """
        candidate = dict(self.topic_packs)
        if text is None:
            candidate.pop(name, None)
        else:
            candidate[name] = (source or f"{self.topic}:{name}", text)
        packs = {**self.file_packs, **candidate}
        if not packs:
            raise RulePackError(f"{self.topic}:{name}", 1, 1, "that would leave no rules at all")
        ruleset = compile_texts(list(packs.values()))
        self.topic_packs = candidate
        self.classifier = Classifier(ruleset)
        return ruleset
