"""The naive baseline: one regular expression per rule, run over the raw text of each article.

This is what a first implementation usually looks like, and what the compiled matcher must beat.
Each query becomes a single pattern anchored at the start of ``title + "\\n" + body``: words and
phrases are literal whole words (case-insensitive, no morphology), ``w*`` a word prefix,
``NEAR/n`` at most n-1 words between the two sides within a sentence (no ``.!?`` or line break
between them), ``AND`` and ``NOT`` look-aheads over the whole text, ``title:`` the first line.
Two shapes are approximated, since Python's ``re`` has no variable-width look-behind: ``NOT
NEAR/n`` only checks the n words after a hit, and AND/NOT nested inside a proximity operand count
any of their terms. The baseline measures the cost of the approach, not its recall.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from streams.models import Article, RulePack
from streams.rules import query as q

TOKEN = re.compile(r"\d+(?:[.,]\d+)*|\w+")  # the tokeniser's notion of a word
GAP = r"[^\w.!?\n]+"  # what separates two words of one sentence
SCAN = {"all": r"[\s\S]*?", "title": r"[^\n]*?", "body": r"[^\n]*\n[\s\S]*?"}
NEVER = r"(?!)"


@dataclass(frozen=True)
class NaiveRule:
    id: str
    pattern: re.Pattern[str]

    def fires(self, text: str) -> bool:
        return self.pattern.match(text) is not None


def naive_text(article: Article) -> str:
    """The raw text a naive rule runs over: the title on the first line, then the body."""
    return f"{article.title.replace(chr(10), ' ')}\n{article.body}"


def _literal(text: str) -> str:
    words = TOKEN.findall(text)
    if not words:
        return NEVER
    return r"\b" + r"\W+".join(map(re.escape, words)) + r"\b"


def _gap(distance: int) -> str:
    return rf"(?:{GAP}\w+){{0,{max(0, distance - 1)}}}{GAP}"


class _Translator:
    def __init__(self, concepts: dict[str, dict[str, list[str]]]):
        self.concepts = concepts

    def entry(self, text: str) -> str:
        text = text.strip()
        if text.endswith("*") and " " not in text:
            return r"\b" + re.escape(text[:-1]) + r"\w*"
        return _literal(text.strip('"'))

    def span(self, node: q.Node) -> str:
        """A pattern for text that satisfies ``node`` in one place (exact for leaves and NEAR)."""
        match node:
            case q.Word(text):
                return _literal(text)
            case q.Prefix(text):
                return r"\b" + re.escape(text) + r"\w*"
            case q.Phrase(words):
                return _literal(" ".join(words))
            case q.ConceptRef(name):
                entries = [e for by_lang in self.concepts.get(name, {}).values() for e in by_lang]
                return "(?:" + "|".join(self.entry(e) for e in entries) + ")" if entries else NEVER
            case q.AnyOf(children) | q.AllOf(children):
                return "(?:" + "|".join(self.span(c) for c in children) + ")"
            case q.ButNot(keep, _) | q.Scoped(_, keep):
                return self.span(keep)
            case q.Near(left, right, distance, ordered):
                a, b, gap = self.span(left), self.span(right), _gap(distance)
                return f"(?:{a}{gap}{b})" if ordered else f"(?:{a}{gap}{b}|{b}{gap}{a})"
            case q.NotNear(keep, guard, distance):
                return f"(?:{self.span(keep)}(?!{_gap(distance)}{self.span(guard)}))"
        raise TypeError(f"unknown query node {node!r}")

    def doc(self, node: q.Node, scope: str = "all") -> str:
        """Zero-width assertions, matched at the start of the text, for the whole document."""
        match node:
            case q.AllOf(children):
                return "".join(self.doc(c, scope) for c in children)
            case q.AnyOf(children) if not all(map(_is_span, children)):
                return "(?:" + "|".join(self.doc(c, scope) for c in children) + ")"
            case q.ButNot(keep, drop):
                return self.doc(keep, scope) + f"(?!{self.doc(drop, scope)})"
            case q.Scoped(field, child):
                return self.doc(child, field)
        return f"(?={SCAN[scope]}{self.span(node)})"


def _is_span(node: q.Node) -> bool:
    match node:
        case q.AllOf(_) | q.ButNot(_, _) | q.Scoped(_, _):
            return False
        case q.AnyOf(children):
            return all(map(_is_span, children))
    return True


def naive_rules(packs: list[RulePack]) -> list[NaiveRule]:
    """One compiled pattern per enabled rule; concepts of all packs are visible to all rules."""
    concepts: dict[str, dict[str, list[str]]] = {}
    for pack in packs:
        concepts.update(pack.concepts)
    translator = _Translator(concepts)
    return [
        NaiveRule(rule.id, re.compile(r"\A" + translator.doc(q.parse_query(rule.query)), re.I))
        for pack in packs
        for rule in pack.rules
        if rule.enabled
    ]


def naive_classify(rules: list[NaiveRule], article: Article) -> list[str]:
    """Ids of the rules whose pattern matches the article's raw text."""
    text = naive_text(article)
    return [rule.id for rule in rules if rule.fires(text)]
