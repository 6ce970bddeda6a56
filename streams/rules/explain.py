"""Why a rule did or did not fire on a text, for ``pantau rules explain`` and ``pantau eval``.

The rule is evaluated without the presearch shortcut, and every word of it found in the text
is listed under its concept, with each place a guard removed a would-be match.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from streams.models import MatchedTerm
from streams.rules.compiler import (
    AnyTermNode,
    ButNotNode,
    CompiledRule,
    CountryNode,
    NodeInFields,
    NotNearNode,
    PhraseNode,
    Plan,
    RuleSet,
    TermNode,
    walk,
)
from streams.rules.evaluator import Evaluator, Hit, document_postings
from streams.rules.matcher import (
    RuleMatch,
    build_match,
    distinct_terms,
    language_allowed,
    matched_term,
)
from streams.text.document import FIELDS, Document


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
    concepts = _concepts_found(ruleset, nodes, found)
    if not language_allowed(rule, document):
        reason = f"article language {document.language!r} is not in {rule.rule.languages}"
        return Explanation(rule, False, reason, found, None, stopped, concepts)
    hits = evaluator.hits(rule.plan)
    distinct = len(distinct_terms(hits))
    if not hits:
        missing = [
            sorted(ruleset.terms[t].label for t in clause)
            for clause in rule.clauses
            if clause.isdisjoint(postings.present)
        ]
        if missing:
            reason = f"no clause of the query holds; missing one of: {missing[0][:12]}"
        elif stopped:
            reason = "guards removed the matches (see 'stopped')"
        else:
            reason = "the terms are present but not close enough, in the wrong field or sentences"
        return Explanation(rule, False, reason, found, None, stopped, concepts)
    if distinct < rule.rule.min_terms:
        reason = f"only {distinct} distinct evidence terms; the rule needs {rule.rule.min_terms}"
        return Explanation(rule, False, reason, found, None, stopped, concepts)
    match = build_match(ruleset, rule, document, hits)
    reason = f"fired with score {match.score}"
    return Explanation(rule, True, reason, found, match, stopped, concepts)


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
    ruleset: RuleSet, nodes: set[NodeInFields], found: dict[str, list[MatchedTerm]]
) -> dict[str, list[str]]:
    """For each concept the rule uses, which of the found labels are its terms."""
    used = {node for node, _ in nodes}
    groups = {}
    for name, plan in sorted(ruleset.concepts.items()):
        if plan in used:
            labels = set().union(*(_labels(ruleset, node) for node, _ in walk(plan)))
            if in_text := sorted(labels & found.keys()):
                groups[f"@{name}"] = in_text
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


GUARD_OPERATORS = {"either": "NOT NEAR", "after": "NOT BEFORE", "before": "NOT AFTER"}


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
                    operator = GUARD_OPERATORS[node.side]
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
