"""Why a rule did or did not fire on a text, for ``pantau rules explain`` and ``pantau eval``.

The rule is evaluated without the presearch shortcut. Every word of it found in the text is
listed under its concept, with each place a guard removed a would-be match. For a miss, the
parsed query is walked from the top to the part that failed: a concept none of whose words
occur, two sides that never come close enough, or the guard that stopped every match.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from streams.models import MatchedTerm
from streams.rules import query as q
from streams.rules.compiler import CompiledRule, RuleSet
from streams.rules.evaluator import Evaluator, Hit, document_postings
from streams.rules.matcher import (
    RuleMatch,
    build_match,
    distinct_terms,
    language_allowed,
    matched_term,
)
from streams.rules.plan import (
    ALL_FIELDS,
    FIELD_INDEX,
    AnyTermNode,
    ButNotNode,
    CountryNode,
    NodeInFields,
    NotNearNode,
    PhraseNode,
    Plan,
    TermNode,
    walk,
)
from streams.text.document import FIELDS, Document

SHOWN_QUERY_CHARS = 48  # a sub-query quoted in a reason is cut to this
CLOSEST_OF = 200  # hits of each side of a NEAR searched for the closest pair


@dataclass
class Explanation:
    """Why a rule did or did not fire, for ``pantau rules explain``."""

    rule: CompiledRule
    fired: bool
    reason: str
    found: dict[str, list[MatchedTerm]]
    match: RuleMatch | None
    stopped: list[str]  # where a NOT NEAR or NOT guard removed a would-be match
    concepts: dict[str, list[str]]  # "@name" -> labels in ``found`` from that concept

    @property
    def query(self) -> str:
        """The rule's query as parsed, with explicit parentheses."""
        assert self.rule.query is not None
        return q.format_query(self.rule.query)


def explain(ruleset: RuleSet, rule_id: str, document: Document) -> Explanation:
    """Evaluate one rule without the presearch shortcut and say why it did or did not fire."""
    rule = next((r for r in ruleset.rules if r.rule.id == rule_id), None)
    if rule is None:
        raise KeyError(f"no enabled rule {rule_id!r}; known: {[r.rule.id for r in ruleset.rules]}")
    postings = document_postings(ruleset, document)
    evaluator = Evaluator(document, postings, rule.rule.near_scope)
    nodes = set(walk(rule.plan))
    found = _found_terms(ruleset, nodes, document, evaluator)
    stopped = _guard_stops(nodes, document, evaluator)
    concepts = _concepts_found(ruleset, rule, nodes, found)
    if not language_allowed(rule, document):
        reason = f"article language {document.language!r} is not in {rule.rule.languages}"
        return Explanation(rule, False, reason, found, None, stopped, concepts)
    hits = evaluator.hits(rule.plan)
    distinct = len(distinct_terms(hits))
    if not hits:
        assert rule.query is not None
        reason = _Diagnosis(rule, evaluator, document).why(rule.query, ALL_FIELDS)
        return Explanation(rule, False, reason, found, None, stopped, concepts)
    if distinct < rule.rule.min_terms:
        reason = f"only {distinct} distinct evidence terms; the rule needs {rule.rule.min_terms}"
        return Explanation(rule, False, reason, found, None, stopped, concepts)
    match = build_match(ruleset, rule, document, hits)
    reason = f"fired with score {match.score}"
    return Explanation(rule, True, reason, found, match, stopped, concepts)


def _shown(node: q.Node) -> str:
    text = q.format_query(node)
    return text if len(text) <= SHOWN_QUERY_CHARS else text[: SHOWN_QUERY_CHARS - 3] + "..."


class _Diagnosis:
    """Which part of a rule's query failed on a document, found from the top down."""

    def __init__(self, rule: CompiledRule, evaluator: Evaluator, document: Document):
        self.plans, self.evaluator, self.document = rule.plans, evaluator, document

    def holds(self, node: q.Node, fields: tuple[int, ...]) -> list[Hit]:
        return self.evaluator.hits(self.plans[node], fields)

    def why(self, node: q.Node, fields: tuple[int, ...]) -> str:
        """Why ``node`` has no hit in ``fields`` (it is asked only of nodes without one)."""
        match node:
            case q.Word(text):
                return f"the word {text!r} does not occur"
            case q.Prefix(text):
                return f"no word starts with {text!r}"
            case q.Phrase(words):
                return f'the phrase "{" ".join(words)}" does not occur'
            case q.ConceptRef(name):
                if isinstance(self.plans[node], CountryNode):
                    return "@country: no country is named"
                return f"@{name} is absent: none of its terms occur"
            case q.Scoped(name, child):
                narrowed = tuple(f for f in fields if f == FIELD_INDEX[name])
                return f"in the {name}: {self.why(child, narrowed)}" if narrowed else "no field"
            case q.AllOf(children):
                failing = next(c for c in children if not self.holds(c, fields))
                return self.why(failing, fields)
            case q.AnyOf(children):
                reasons = dict.fromkeys(self.why(c, fields) for c in children)
                return "no alternative holds: " + "; ".join(reasons)
        return self._operator(node, fields)

    def _operator(self, node: q.Node, fields: tuple[int, ...]) -> str:
        match node:
            case q.Near(left, right, distance, ordered):
                for side in (left, right):
                    if not self.holds(side, fields):
                        return self.why(side, fields)
                order = " in that order" if ordered else ""
                both = f"{_shown(left)} and {_shown(right)} both occur, but not within "
                return both + f"{distance} words{order}: {self._closest(left, right, fields)}"
            case q.NotNear(keep, guard, distance, side):
                if not self.holds(keep, fields):
                    return self.why(keep, fields)
                operator = f"{q.GUARD_OPERATORS[side]}/{distance}"
                return f"the guard {operator} {_shown(guard)} stopped every match (see 'stopped')"
            case q.ButNot(keep, drop):
                if not self.holds(keep, fields):
                    return self.why(keep, fields)
                first = self.holds(drop, fields)[0]
                return f"NOT {_shown(drop)}: {_quoted(self.document, first)} is in the article"
        raise TypeError(f"unknown query node {node!r}")

    def _closest(self, left: q.Node, right: q.Node, fields: tuple[int, ...]) -> str:
        """The two sides' closest pair in one sentence (or field), or that there is none."""
        scope = self.evaluator.sentence_scope
        pairs = [
            (max(b[2] - a[3], a[2] - b[3]), a, b)
            for a in self.holds(left, fields)[:CLOSEST_OF]
            for b in self.holds(right, fields)[:CLOSEST_OF]
            if a[0] == b[0] and (a[1] == b[1] or not scope)
        ]
        if not pairs:
            return "never in the same sentence" if scope else "never in the same field"
        gap, a, b = min(pairs, key=lambda found: found[0])
        where = f"{_quoted(self.document, a)} and {_quoted(self.document, b)}"
        return f"the closest, {where}, are {gap} words apart"


def _found_terms(
    ruleset: RuleSet, nodes: set[NodeInFields], document: Document, evaluator: Evaluator
) -> dict[str, list[MatchedTerm]]:
    """Where the rule's own words and phrases (guards included) occur, by label.

    Other rules' terms are left out, and a phrase is shown whole rather than word by word.
    """
    words: set[tuple[int, int]] = set()  # (term, field)
    found: dict[str, list[MatchedTerm]] = defaultdict(list)
    for node, fields in nodes:
        if isinstance(node, PhraseNode | CountryNode):
            label = _phrase_label(ruleset, node)
            for hit in evaluator.hits(node, fields):
                start, end, text = _hit_text(document, hit)
                found[label].append(MatchedTerm(term=label, text=text, start=start, end=end))
        else:
            words.update((term, f) for term in _word_terms(node) for f in fields)
    for term, f in sorted(words):
        for p in evaluator.postings[f].get(term, ()):
            found[ruleset.terms[term].label].append(
                MatchedTerm.model_validate(matched_term(ruleset, document, f, p, term))
            )
    return dict(found)


def _concepts_found(
    ruleset: RuleSet,
    rule: CompiledRule,
    nodes: set[NodeInFields],
    found: dict[str, list[MatchedTerm]],
) -> dict[str, list[str]]:
    """For each concept the rule uses, which of the found labels are its terms; a concept of
    the rule's own pack is named as the rule names it (``@treaty``, ``@default.negation``)."""
    used = {node for node, _ in nodes}
    groups = {}
    own = f"{rule.pack}."
    for name, plan in sorted(ruleset.concepts.items()):
        if plan in used:
            labels = set().union(*(_labels(ruleset, node) for node, _ in walk(plan)))
            if in_text := sorted(labels & found.keys()):
                groups[f"@{name.removeprefix(own)}"] = in_text
    return groups


def _labels(ruleset: RuleSet, node: Plan) -> set[str]:
    """What a word or phrase node is shown as: a label per word term, one for a phrase."""
    if isinstance(node, PhraseNode | CountryNode):
        return {_phrase_label(ruleset, node)}
    return {ruleset.terms[term].label for term in _word_terms(node)}


def _word_terms(node: Plan) -> tuple[int, ...] | frozenset[int]:
    """The word terms a node matches by itself (none for phrases and operators)."""
    if isinstance(node, TermNode):
        return (node.term,)
    if isinstance(node, AnyTermNode):
        return node.terms
    return ()


def _phrase_label(ruleset: RuleSet, node: PhraseNode | CountryNode) -> str:
    if isinstance(node, CountryNode):
        return ruleset.terms[node.term].label
    return " ".join(ruleset.terms[term].label for term in node.terms)


def _guard_stops(nodes: set[NodeInFields], document: Document, evaluator: Evaluator) -> list[str]:
    """Each would-be match a ``NOT NEAR`` guard removed, with the guard words that did it,
    and each ``NOT`` whose excluded words are present."""
    hits = evaluator.hits
    stops = set()
    for node, fields in nodes:
        if isinstance(node, NotNearNode):
            kept = set(hits(node, fields))
            guards = evaluator.grouped(hits(node.guard, fields))
            for hit in hits(node.keep, fields):
                if hit not in kept:
                    guard = evaluator.nearest(hit, guards, node.distance, node.side, True)
                    operator = q.GUARD_OPERATORS[node.side]
                    stops.add(
                        f"{_quoted(document, guard)} is within {node.distance} words of "
                        f"{_quoted(document, hit)} ({operator}/{node.distance})"
                    )
        elif isinstance(node, ButNotNode) and hits(node.keep, fields):
            dropped = hits(node.drop, fields)
            if dropped:
                stops.add(f"{_quoted(document, dropped[0])} is in the article (NOT)")
    return sorted(stops)


def _hit_text(document: Document, hit: Hit) -> tuple[int, int, str]:
    text_field = document.fields[hit[0]]
    start, end = text_field.starts[hit[2]], text_field.ends[hit[3]]
    return start, end, text_field.text[start:end]


def _quoted(document: Document, hit: Hit) -> str:
    start, _, text = _hit_text(document, hit)
    return f"{FIELDS[hit[0]]} {text!r}@{start}"
