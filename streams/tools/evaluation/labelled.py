"""An analyst's own labelled texts, scored per rule like the public data sets.

One record per text, as JSON Lines or a TSV with a header: ``text`` (or ``title`` and/or
``body``), ``language`` (optional: detected when absent, as the worker does), ``id``
(optional) and ``rules``: the rule ids that must fire on it (a JSON list, or ids separated by
commas; empty when none must). A file is taken for one when its first record has ``rules``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import count
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import ValidationError

from streams.models import Article, first_problem
from streams.text.document import Document
from streams.tools.evaluation.case2021 import tsv_rows
from streams.tools.evaluation.scoring import (
    Labelled,
    LabelledScore,
    fired_rules,
    read_json_lines,
    rule_ids,
    score_labelled,
)

if TYPE_CHECKING:
    from streams.engine import Classifier

LABELS = "rules"
JSON_LINES = (".jsonl", ".json", ".ndjson")


def is_labelled(path: Path) -> bool:
    """Whether a file's first record (or TSV header) has a ``rules`` column."""
    if not path.is_file() or path.suffix not in (*JSON_LINES, ".tsv"):
        return False
    with path.open(encoding="utf-8", errors="replace") as handle:
        first = next((line for line in handle if line.strip()), "")
    if path.suffix == ".tsv":
        return LABELS in first.rstrip("\n").split("\t")
    try:
        record = json.loads(first)
    except ValueError:
        return False
    return isinstance(record, dict) and LABELS in record


def _rules(value: object) -> frozenset[str]:
    if isinstance(value, str):
        return frozenset(part.strip() for part in value.split(",") if part.strip())
    if isinstance(value, list) and all(isinstance(part, str) for part in value):
        return frozenset(value)
    raise ValueError("'rules' is a list of rule ids or ids separated by commas")


def _item(record: dict, number: int) -> Labelled:
    if not isinstance(record, dict):
        raise ValueError("not a JSON object")
    if LABELS not in record:
        raise ValueError("no 'rules' (the rule ids expected; empty when none)")
    title = record.get("title") or ""
    body = record.get("body") or record.get("text") or ""
    item_id = str(record.get("id") or f"record {number}")
    language = record.get("language") or None
    try:
        article = Article(id=item_id, title=title, body=body, language=language)
    except ValidationError as error:
        raise ValueError(first_problem(error, "record")[1]) from None
    return Labelled(item_id, article, _rules(record[LABELS]))


def load_labelled(path: Path) -> list[Labelled]:
    """The texts of a labelled file; a bad record is a ``ValueError`` naming its line."""
    numbers = count(1)
    if path.suffix != ".tsv":
        return read_json_lines(path, "labelled", lambda record: _item(record, next(numbers)))
    items = []
    for line, row in enumerate(tsv_rows(path, [LABELS]), start=2):
        try:
            items.append(_item(row, next(numbers)))
        except ValueError as error:
            raise ValueError(f"{path}:{line}: not a labelled record ({error})") from None
    return items


@dataclass
class LabelledReport:
    """Per-rule scores, and the labelled rule ids the rule set does not have."""

    score: LabelledScore
    unknown: dict[str, int]  # rule id -> texts labelled with it

    def targets_met(self) -> bool:
        return True  # an analyst's own file has no targets

    def as_dict(self) -> dict:
        return {**self.score.as_dict(), "unknown_rules": self.unknown}


def score_file(items: Sequence[Labelled], fired: Sequence[set[str]], rules: Sequence[str]):
    unknown: dict[str, int] = {}
    for item in items:
        for rule in sorted(item.positives.difference(rules)):
            unknown[rule] = unknown.get(rule, 0) + 1
    return LabelledReport(score_labelled(items, fired, rules), unknown)


def _with_language(item: Labelled) -> Labelled:
    """The item with the language the worker would detect, so its errors can be explained."""
    if item.article.language:
        return item
    language = Document.from_article(item.article).language
    article = item.article.model_copy(update={"language": language})
    return Labelled(item.id, article, item.positives, item.ambiguous)


def evaluate_labelled(classifier: Classifier, path: Path) -> LabelledReport:
    items = [_with_language(item) for item in load_labelled(path)]
    fired = fired_rules(classifier, [item.article for item in items])
    return score_file(items, fired, rule_ids(classifier))
