"""Evaluate a compiled plan over one document: every node's *hits*.

A hit is a span of words in one field and sentence, carrying the (word position, term id) pairs
that are its evidence. Proximity compares spans inside a sentence (or a whole field when a rule
asks for it); ``NOT`` works on the document, ``NOT NEAR/n`` on each hit. Work per node is
bounded by the hits of its children, never by rules x text, and nothing here backtracks.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Container
from dataclasses import dataclass
from itertools import compress
from operator import itemgetter

from streams.rules.compiler import RuleSet
from streams.rules.plan import (
    ALL_FIELDS,
    AllNode,
    AnyNode,
    AnyTermNode,
    ButNotNode,
    CountryNode,
    NearNode,
    NotNearNode,
    PhraseNode,
    Plan,
    ScopedNode,
    TermNode,
)
from streams.rules.query import Side
from streams.text.document import Document

# Bounds a pathological article (one word repeated a million times) within.
MAX_POSITIONS_PER_TERM = 2_000

# (field, sentence, first word, last word, ((word, term id), ...))
Hit = tuple[int, int, int, int, tuple[tuple[int, int], ...]]
# a group of hits: their first words (sorted), the hits in that order, the widest span
Group = tuple[list[int], list[Hit], int]


@dataclass(frozen=True, slots=True)
class Postings:
    """Per field: term id -> word positions; with the term sets, derived once per article."""

    fields: list[dict[int, list[int]]]
    terms: list[set[int]]  # per field, for set intersections with OR nodes
    present: set[int]  # in any field: the presearch and OR-node gates


class Evaluator:
    """The hits of plan nodes on one document, each computed once and shared by every rule
    (``scope`` is the rule's ``near_scope``: proximity within a sentence or a whole field)."""

    def __init__(self, document: Document, postings: Postings, scope: str):
        self.document = document
        self.postings = postings.fields
        self.field_terms = postings.terms
        self.present = postings.present
        self.sentence_scope = scope == "sentence"
        self._memo: dict[tuple[int, tuple[int, ...]], list[Hit]] = {}
        self._groups: dict[int, dict[tuple[int, int], Group]] = {}
        self._reachables: dict[int, list[Plan]] = {}  # per OR node

    def hits(self, plan: Plan, fields: tuple[int, ...] = ALL_FIELDS) -> list[Hit]:
        """Hits of a plan node, memoised: concepts recur across the rules of a pack."""
        key = (id(plan), fields)
        found = self._memo.get(key)
        if found is None:
            found = self._memo[key] = _HANDLERS[type(plan)](self, plan, fields)
        return found

    def hits_in(self, plan: Plan, fields: tuple[int, ...], sentences: Container) -> list[Hit]:
        """The hits of a plan node that lie in ``sentences`` ((field, sentence) pairs).

        The same as filtering :meth:`hits`, but a proximity or guard evaluates its sides only
        there: the other side of a NEAR, and a guard, matter only where the first side is.
        """
        found = self._memo.get((id(plan), fields))
        if found is None and self.sentence_scope:
            within = _WITHIN.get(type(plan))
            if within is not None:
                return within(self, plan, fields, sentences)
        if found is None:
            found = self.hits(plan, fields)
        return [hit for hit in found if (hit[0], hit[1]) in sentences]

    def _term(self, plan: TermNode, fields: tuple[int, ...]) -> list[Hit]:
        term = plan.term
        return [
            (f, self.document.fields[f].sentence_of(p), p, p, ((p, term),))
            for f in fields
            for p in self.postings[f].get(term, ())
        ]

    def _any_term(self, plan: AnyTermNode, fields: tuple[int, ...]) -> list[Hit]:
        return [
            (f, self.document.fields[f].sentence_of(p), p, p, ((p, term),))
            for f in fields
            for term in plan.terms & self.field_terms[f]
            for p in self.postings[f][term]
        ]

    def _country(self, plan: CountryNode, fields: tuple[int, ...]) -> list[Hit]:
        texts = self.document.fields
        return self._countries_in(
            plan, [(f, s) for f in fields for s in range(len(texts[f].boundaries))]
        )

    def _countries_in(self, plan: CountryNode, sentences) -> list[Hit]:
        """Country names in the given (field, sentence)s: found by the case-aware name table,
        which costs more than a word lookup, so a NEAR asks only where its other side is."""
        term, mentions = plan.term, self.document.country_mentions
        return [
            (f, sentence, first, last, tuple((p, term) for p in range(first, last + 1)))
            for f, sentence in sentences
            for first, last, _ in mentions(f, sentence)
        ]

    def _reachable(self, plan: AnyNode) -> list[Plan]:
        """The children of an OR node whose words are in the document (once per node)."""
        found = self._reachables.get(id(plan))
        if found is None:
            present, gates, required, needs = self.present, plan.gates, plan.required, plan.needs
            reachable = {i for term in plan.gate_terms & present for i in gates[term]}
            reachable = sorted(reachable.union(plan.ungated) if plan.ungated else reachable)
            found = self._reachables[id(plan)] = [
                plan.children[i]
                for i in reachable
                if required[i] <= present
                and (not needs[i] or all(not clause.isdisjoint(present) for clause in needs[i]))
            ]
        return found

    def _any(self, plan: AnyNode, fields: tuple[int, ...]) -> list[Hit]:
        return [hit for child in self._reachable(plan) for hit in self.hits(child, fields)]

    def _any_in(self, plan: AnyNode, fields: tuple[int, ...], sentences) -> list[Hit]:
        hits_in = self.hits_in
        return [hit for child in self._reachable(plan) for hit in hits_in(child, fields, sentences)]

    def _all(self, plan: AllNode, fields: tuple[int, ...]) -> list[Hit]:
        found = []
        for child in plan.children:
            child_hits = self.hits(child, fields)
            if not child_hits:
                return []
            found.extend(child_hits)
        return found

    def _but_not(self, plan: ButNotNode, fields: tuple[int, ...]) -> list[Hit]:
        return [] if self.hits(plan.drop, fields) else self.hits(plan.keep, fields)

    def _not_near(self, plan: NotNearNode, fields: tuple[int, ...]) -> list[Hit]:
        return self._guarded(plan, fields, self.hits(plan.keep, fields))

    def _not_near_in(self, plan: NotNearNode, fields: tuple[int, ...], sentences) -> list[Hit]:
        return self._guarded(plan, fields, self.hits_in(plan.keep, fields, sentences))

    def _guarded(self, plan: NotNearNode, fields: tuple[int, ...], kept: list[Hit]) -> list[Hit]:
        """The hits of ``kept`` that no guard of ``plan`` stands near."""
        if not kept:
            return []
        guards = self._groups_near(plan.guard, fields, kept)
        if not guards:
            return kept
        nearest, distance, side = self.nearest, plan.distance, plan.side
        return [h for h in kept if nearest(h, guards, distance, side, True) is None]

    def _scoped(self, plan: ScopedNode, fields: tuple[int, ...]) -> list[Hit]:
        narrowed = tuple(f for f in fields if f == plan.field)
        return self.hits(plan.child, narrowed) if narrowed else []

    def _scoped_in(self, plan: ScopedNode, fields: tuple[int, ...], sentences) -> list[Hit]:
        narrowed = tuple(f for f in fields if f == plan.field)
        return self.hits_in(plan.child, narrowed, sentences) if narrowed else []

    def _phrase(self, plan: PhraseNode, fields: tuple[int, ...]) -> list[Hit]:
        terms = plan.terms
        found = []
        for f in fields:
            postings = self.postings[f]
            if any(t not in postings for t in terms):
                continue
            following = [set(postings[t]) for t in terms[1:]]
            sentence_of = self.document.fields[f].sentence_of
            for p in postings.get(terms[0], ()):
                if all(p + i + 1 in positions for i, positions in enumerate(following)):
                    last = p + len(terms) - 1
                    evidence = tuple((p + i, t) for i, t in enumerate(terms))
                    found.append((f, sentence_of(p), p, last, evidence))
        return found

    def grouped(self, hits: list[Hit]) -> dict[tuple[int, int], Group]:
        """Hits by field (and sentence), sorted by first word, with their widest span.

        Memoised by list identity: every list here is held by ``_memo``, and guards such as
        "(@negation OR @denial)" are shared by many clauses of a pack.
        """
        out = self._groups.get(id(hits))
        if out is None:
            out = self._groups[id(hits)] = _group(hits, self.sentence_scope)
        return out

    def nearest(
        self, hit: Hit, groups: dict, distance: int, side: Side, guard: bool = False
    ) -> Hit | None:
        """The closest hit of ``groups`` within ``distance`` words of ``hit``, on ``side`` of it.

        Two sides of a proximity are different words, but a guard may cover the words it
        guards: in ``sign NOT NEAR/0 "signed into law"`` the phrase silences its own "signed".
        A guard word inside the guarded phrase is part of it, not a guard ("no" in
        "no-confidence").
        """
        group = groups.get((hit[0], hit[1]) if self.sentence_scope else (hit[0], 0))
        if group is None:
            return None
        starts, members, widest = group
        low = hit[3] + 1 if side == "after" else hit[2] - distance - widest
        high = hit[2] - 1 if side == "before" else hit[3] + distance
        best, best_gap = None, distance + 1
        for other in members[bisect_left(starts, low) : bisect_right(starts, high)]:
            if other[2] > hit[3]:
                gap = other[2] - hit[3]
            elif other[3] < hit[2]:
                if side == "after":
                    continue
                gap = hit[2] - other[3]
            elif side != "either":
                continue  # an overlap is on neither side
            elif _share_a_word(hit, other) and not (guard and _covers(other, hit)):
                continue  # the same word cannot be both sides of a proximity
            else:
                gap = 0  # a word inside the other's span, e.g. a guard between two terms
            if gap < best_gap:
                best, best_gap = other, gap
        return best

    def _near(self, plan: NearNode, fields: tuple[int, ...]) -> list[Hit]:
        return self._paired(plan, fields, self.hits(plan.left, fields))

    def _near_in(self, plan: NearNode, fields: tuple[int, ...], sentences) -> list[Hit]:
        return self._paired(plan, fields, self.hits_in(plan.left, fields, sentences))

    def _paired(self, plan: NearNode, fields: tuple[int, ...], lefts: list[Hit]) -> list[Hit]:
        """Each hit of ``lefts`` joined with its nearest right-hand hit within the distance."""
        if not lefts:
            return []
        groups = self._groups_near(plan.right, fields, lefts)
        return self._pair(plan, lefts, groups) if groups else []

    def _groups_near(self, plan: Plan, fields: tuple[int, ...], hits: list[Hit]) -> dict:
        """The grouped hits of ``plan`` that can stand near ``hits``: all of them when they are
        at hand (words, phrases and anything evaluated already, grouped once and shared), else
        evaluated in the sentences of ``hits`` only."""
        full = self._memo.get((id(plan), fields))
        if full is None and (not self.sentence_scope or type(plan) in _LEAVES):
            full = self.hits(plan, fields)
        if full is not None:
            return self.grouped(full) if full else {}
        found = self.hits_in(plan, fields, _sentences(hits))
        return _group(found, True) if found else {}

    def _pair(self, plan: NearNode, lefts: list[Hit], groups: dict) -> list[Hit]:
        found = []
        nearest, distance = self.nearest, plan.distance
        side = "after" if plan.ordered else "either"
        for hit in lefts:
            other = nearest(hit, groups, distance, side)
            if other is not None:
                lo, hi = min(hit[2], other[2]), max(hit[3], other[3])
                found.append((hit[0], hit[1], lo, hi, hit[4] + other[4]))
        return found


_WITHIN = {
    AnyNode: Evaluator._any_in,
    NearNode: Evaluator._near_in,
    NotNearNode: Evaluator._not_near_in,
    ScopedNode: Evaluator._scoped_in,
    CountryNode: lambda self, plan, fields, sentences: self._countries_in(
        plan, [key for key in sentences if key[0] in fields]
    ),
}


_LEAVES = (TermNode, AnyTermNode, PhraseNode)


def _sentences(hits: list[Hit]) -> dict[tuple[int, int], None]:
    """The (field, sentence) pairs of some hits, in order, once each."""
    return dict.fromkeys((hit[0], hit[1]) for hit in hits)


def _group(hits: list[Hit], by_sentence: bool) -> dict[tuple[int, int], Group]:
    """Hits by field (and sentence), sorted by first word, with their widest span."""
    groups: dict[tuple[int, int], list[Hit]] = defaultdict(list)
    if by_sentence:
        for hit in hits:
            groups[(hit[0], hit[1])].append(hit)
    else:
        for hit in hits:
            groups[(hit[0], 0)].append(hit)
    out = {}
    for key, members in groups.items():
        members.sort(key=itemgetter(2))
        widest = max(h[3] - h[2] for h in members)
        out[key] = ([h[2] for h in members], members, widest)
    return out


_HANDLERS = {
    TermNode: Evaluator._term,
    AnyTermNode: Evaluator._any_term,
    CountryNode: Evaluator._country,
    PhraseNode: Evaluator._phrase,
    AnyNode: Evaluator._any,
    AllNode: Evaluator._all,
    ButNotNode: Evaluator._but_not,
    NearNode: Evaluator._near,
    NotNearNode: Evaluator._not_near,
    ScopedNode: Evaluator._scoped,
}


def _covers(guard: Hit, hit: Hit) -> bool:
    """Whether a guard is more than some of the words of the hit it overlaps."""
    return not {p for p, _ in guard[4]} <= {p for p, _ in hit[4]}


def _share_a_word(a: Hit, b: Hit) -> bool:
    return not {p for p, _ in a[4]}.isdisjoint(p for p, _ in b[4])


def document_postings(ruleset: RuleSet, document: Document) -> Postings:
    """Per field: term id -> word positions, for the words that satisfy any rule term.

    The loop runs over matching words only; finding them is done by C-level maps.
    """
    result = []
    for text_field in document.fields:
        postings: dict[int, list[int]] = defaultdict(list)
        terms_per_word = ruleset.terms_of_words(text_field.words)
        for position in compress(range(len(terms_per_word)), terms_per_word):
            for term in terms_per_word[position]:
                found = postings[term]
                if len(found) < MAX_POSITIONS_PER_TERM:
                    found.append(position)
        result.append(postings)
    terms = [set(field_postings) for field_postings in result]
    return Postings(result, terms, set().union(*terms))
