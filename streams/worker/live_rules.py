"""Live rule updates: rule files overlaid by packs published on a compacted rules topic.

Each record on the rules topic is one pack: the key is its name, the value its YAML text, an
empty value (tombstone) removes it. A pack with the same name as a rule file replaces that
file's rules. A candidate set is compiled in full before it replaces the running one, so a bad
record can never leave a worker half-updated: it is rejected and the previous set keeps serving.
``pantau rules push`` and ``rules list`` compile with this same class, so they show the set a
worker runs.
"""

from __future__ import annotations

from pathlib import Path

from streams.engine import Classifier
from streams.rules.compiler import RuleSet
from streams.rules.packs import PackText, RulePackError, compile_texts, pack_name, read_packs


def record_pack(key: bytes | None, value: bytes | None) -> tuple[str, str | None]:
    """A rules-topic record as (pack name, YAML text, or None to remove the pack)."""
    name = (key or b"default").decode("utf-8", "replace")
    return name, None if value is None else value.decode("utf-8", "replace")


class LiveRules:
    """The active :class:`Classifier`, swapped whole (one assignment) when rules change."""

    def __init__(self, files: list[Path], topic: str = "rules"):
        self.topic = topic
        self.file_packs = {pack_name(item): item for item in read_packs(files)}
        self.topic_packs: dict[str, PackText] = {}
        self.classifier = Classifier(compile_texts(self.packs(self.topic_packs)))

    @property
    def ruleset(self) -> RuleSet:
        return self.classifier.ruleset

    def packs(self, topic_packs: dict[str, PackText]) -> list[PackText]:
        """What a worker compiles: its rule files, each replaced by the topic pack of its name,
        then the other topic packs by name, so every worker compiles them in one order."""
        packs = dict(self.file_packs)
        for name in sorted(topic_packs):
            packs[name] = topic_packs[name]
        return list(packs.values())

    def apply(self, name: str, text: str | None, source: str | None = None) -> RuleSet:
        """Apply one rules-topic record; raise :class:`RulePackError` and change nothing if bad.

        ``source`` names the pack in error messages (default ``<topic>:<name>``).
        """
        candidate = dict(self.topic_packs)
        if text is None:
            candidate.pop(name, None)
        else:
            candidate[name] = PackText(source or f"{self.topic}:{name}", text, name)
        packs = self.packs(candidate)
        if not packs:
            raise RulePackError(f"{self.topic}:{name}", 1, 1, "that would leave no rules at all")
        ruleset = compile_texts(packs)
        self.topic_packs = candidate
        self.classifier = Classifier(ruleset)
        return ruleset

    def origin(self, name: str) -> str:
        """Where a pack of the running set comes from: 'topic' or 'file'."""
        return "topic" if name in self.topic_packs else "file"
