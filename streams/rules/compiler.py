"""Compile rule packs into a :class:`RuleSet`: term tables, query plans and a presearch index.

Every distinct term (word, wildcard prefix or phrase word, per language) gets an integer id and
the set of morphology keys it matches. A document word is looked up once per rule set (cached)
to the term ids it satisfies. Each rule also gets *clauses*, a necessary condition in
conjunctive form ("one of these terms, and one of those"); the rule is indexed under the terms
of its most selective clause, so an article only ever evaluates the rules whose anchor terms it
contains: cost O(tokens + candidate rules), not O(rules x text).
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from streams.models import Rule, RulePack
from streams.rules import query as q
from streams.text.morphology import term_keys, token_keys
from streams.text.normalise import tokenise

LANGUAGES = ("en", "id")  # morphology paths for words written directly in a query
BUILTIN_COUNTRY = "country"  # @country: any country name, unless a pack defines its own


@dataclass(frozen=True)
class Term:
    """A leaf the matcher looks up: ``label`` is what an analyst wrote, for evidence."""

    id: int
    label: str
    prefix: bool = False


# ---- compiled plan nodes (the same shapes as the syntax tree, with term ids at the leaves) ----
@dataclass(frozen=True)
class TermNode:
    term: int


@dataclass(frozen=True)
class AnyTermNode:
    """Any of several single-word terms: one postings pass instead of one per term."""

    terms: frozenset[int]


@dataclass(frozen=True)
class PhraseNode:
    terms: tuple[int, ...]


@dataclass(frozen=True)
class CountryNode:
    """The built-in ``@country``: a country named in the text (CLDR names in English and
    Indonesian, capitals, short forms), found case-aware by :mod:`streams.text.countries`.

    It has no words of its own to look up, so it adds no presearch clause: it is found only
    where the rest of a rule already made the rule a candidate.
    """

    term: int  # a term id for evidence, labelled "@country"


@dataclass(frozen=True)
class AnyNode:
    """Any of several sub-queries, indexed so the matcher visits only children that can hit.

    A concept has dozens of alternatives and an article holds few of them: ``gates`` maps each
    term to the children whose most selective clause contains it, so one set intersection
    with the document's terms finds the reachable children; ``required`` (single words, one
    subset test) and ``needs`` (clauses of several) hold what those children must still meet.
    """

    children: tuple[Plan, ...]
    required: tuple[frozenset[int], ...] = field(init=False, repr=False, compare=False)
    needs: tuple[tuple[frozenset[int], ...], ...] = field(init=False, repr=False, compare=False)
    gates: dict[int, tuple[int, ...]] = field(init=False, repr=False, compare=False)
    gate_terms: frozenset[int] = field(init=False, repr=False, compare=False)
    ungated: tuple[int, ...] = field(init=False, repr=False, compare=False)  # always visited

    def __post_init__(self) -> None:
        needs = tuple(tuple(sorted(set(clauses(c)), key=len)) for c in self.children)
        gates: dict[int, list[int]] = defaultdict(list)
        for index, need in enumerate(needs):
            for term in need[0] if need else ():
                gates[term].append(index)
        rest = [need[1:] for need in needs]
        object.__setattr__(self, "ungated", tuple(i for i, need in enumerate(needs) if not need))
        object.__setattr__(
            self, "required", tuple(frozenset().union(*(c for c in r if len(c) == 1)) for r in rest)
        )
        object.__setattr__(self, "needs", tuple(tuple(c for c in r if len(c) > 1) for r in rest))
        object.__setattr__(self, "gates", {term: tuple(ids) for term, ids in gates.items()})
        object.__setattr__(self, "gate_terms", frozenset(gates))


@dataclass(frozen=True)
class AllNode:
    children: tuple[Plan, ...]


@dataclass(frozen=True)
class ButNotNode:
    keep: Plan
    drop: Plan


@dataclass(frozen=True)
class NearNode:
    left: Plan
    right: Plan
    distance: int
    ordered: bool


@dataclass(frozen=True)
class NotNearNode:
    keep: Plan
    guard: Plan
    distance: int
    side: q.Side = "either"  # where a guard must stand to remove a hit of ``keep``


@dataclass(frozen=True)
class ScopedNode:
    field: int
    child: Plan


Plan = (
    TermNode
    | AnyTermNode
    | CountryNode
    | PhraseNode
    | AnyNode
    | AllNode
    | ButNotNode
    | NearNode
    | NotNearNode
    | ScopedNode
)

NodeInFields = tuple[Plan, tuple[int, ...]]  # a plan node and the fields it is evaluated on
FIELD_INDEX = {"title": 0, "body": 1}
ALL_FIELDS = tuple(FIELD_INDEX.values())  # a plan node with no field scope reads both


@dataclass
class CompiledRule:
    """A rule's plan and its clauses, the first (most selective) being its presearch anchor.

    The presearch reaches a rule through its anchor, so it checks only the other clauses:
    ``required`` (one-term clauses, one subset test) and ``either`` (the rest).
    """

    rule: Rule
    plan: Plan
    clauses: tuple[frozenset[int], ...]
    required: frozenset[int] = field(init=False, repr=False)
    either: tuple[frozenset[int], ...] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        rest = self.clauses[1:]
        self.required = frozenset(term for clause in rest if len(clause) == 1 for term in clause)
        self.either = tuple(clause for clause in rest if len(clause) > 1)


class UnknownConcept(ValueError):
    def __init__(self, rule_id: str, name: str):
        self.rule_id, self.name = rule_id, name
        super().__init__(f"rule {rule_id!r} refers to @{name}, which no pack defines")


@dataclass
class RuleSet:
    """Everything the matcher needs, immutable once built so workers can swap it atomically."""

    rules: list[CompiledRule]
    terms: list[Term]
    version: str
    key_terms: dict[str, tuple[int, ...]] = field(default_factory=dict)
    prefix_terms: dict[str, tuple[int, ...]] = field(default_factory=dict)
    anchors: dict[int, tuple[int, ...]] = field(default_factory=dict)  # term id -> rule indexes
    unanchored: tuple[int, ...] = ()  # rules that require no word (only @country): always tried
    concepts: dict[str, Plan] = field(default_factory=dict)  # @name -> its plan, for explain
    _word_terms: dict[str, tuple[int, ...]] = field(default_factory=dict, repr=False)

    def terms_of_words(self, words: list[str]) -> list[tuple[int, ...]]:
        """Term ids each normalised word satisfies (often none); cached per rule set."""
        cache = self._word_terms
        unseen = set(words).difference(cache)
        if unseen:
            if len(cache) > 500_000:
                cache.clear()
                unseen = set(words)
            for word in unseen:
                cache[word] = self._terms_of(word)
        return list(map(cache.__getitem__, words))

    def _terms_of(self, word: str) -> tuple[int, ...]:
        ids: set[int] = set()
        for key in token_keys(word):
            ids.update(self.key_terms.get(key, ()))
        for length in self._prefix_lengths:
            ids.update(self.prefix_terms.get(word[:length], ()))
        return tuple(sorted(ids))

    @property
    def _prefix_lengths(self) -> list[int]:
        return self.__dict__.setdefault(
            "_lengths", sorted({len(prefix) for prefix in self.prefix_terms})
        )

    def candidates(self, present: set[int]) -> list[CompiledRule]:
        """Rules whose necessary clauses all meet the document's terms (the presearch)."""
        indexes: set[int] = set(self.unanchored)
        for term in present:
            indexes.update(self.anchors.get(term, ()))
        rules = self.rules
        return [
            rule
            for rule in map(rules.__getitem__, sorted(indexes))
            if rule.required <= present
            and all(not clause.isdisjoint(present) for clause in rule.either)
        ]


class _Builder:
    def __init__(self, concepts: dict[str, dict[str, list[str]]]):
        self.concepts = concepts
        self.terms: list[Term] = []
        self.key_terms: dict[str, set[int]] = defaultdict(set)
        self.prefix_terms: dict[str, set[int]] = defaultdict(set)
        self._ids: dict[tuple, int] = {}
        self.concept_plans: dict[str, Plan] = {}
        self._plans: dict[Plan, Plan] = {}

    def _intern(self, plan: Plan) -> Plan:
        """One object per distinct sub-plan, so rules that share one share its hits.

        The matcher memoises hits by plan identity: a term, phrase or guard such as
        "(@negation OR @denial)" written in many rules is then evaluated once per article.
        """
        return self._plans.setdefault(plan, plan)

    def _term(self, label: str, identity: tuple, keys: Iterable[str], prefix: str = "") -> int:
        term_id = self._ids.get(identity)
        if term_id is None:
            term_id = self._ids[identity] = len(self.terms)
            self.terms.append(Term(term_id, label, prefix=bool(prefix)))
            for key in keys:
                self.key_terms[key].add(term_id)
            if prefix:
                self.prefix_terms[prefix].add(term_id)
        return term_id

    def word(self, text: str, languages: tuple[str, ...]) -> Plan:
        words = tokenise("term", text).words
        if len(words) != 1:
            return self.phrase(words, languages, label=text)
        norm = words[0]
        keys = {key for language in languages for key in term_keys(norm, language)}
        return TermNode(self._term(text, ("word", norm, languages), keys))

    def prefix(self, text: str) -> Plan:
        words = tokenise("term", text).words
        stem = "".join(words)
        return TermNode(self._term(f"{text}*", ("prefix", stem), (), prefix=stem))

    def phrase(self, words: Iterable[str], languages: tuple[str, ...], label: str = "") -> Plan:
        return any_of(self.spellings(words, languages, label))

    def spellings(
        self, words: Iterable[str], languages: tuple[str, ...], label: str = ""
    ) -> list[Plan]:
        """The ways some words match: one word, or a phrase; and two words also written as one,
        as compounds often are (uji coba / ujicoba, unjuk rasa / berunjukrasa, cease fire /
        ceasefire), in every inflection."""
        ids = []
        for norm in (w for part in words for w in tokenise("term", part).words):
            keys = {key for language in languages for key in term_keys(norm, language)}
            ids.append(self._term(norm, ("word", norm, languages), keys))
        if not ids:
            raise ValueError(f"phrase {label!r} has no words")
        if len(ids) == 1:
            return [TermNode(ids[0])]
        phrase = self._intern(PhraseNode(tuple(ids)))
        if len(ids) > 2:
            return [phrase]
        joined = "".join(self.terms[i].label for i in ids)
        keys = {key for language in languages for key in term_keys(joined, language)}
        label = label or " ".join(self.terms[i].label for i in ids)
        return [phrase, TermNode(self._term(label, ("word", joined, languages), keys))]

    def concept(self, name: str, rule_id: str) -> Plan:
        plan = self.concept_plans.get(name)
        if plan is None and name == BUILTIN_COUNTRY and name not in self.concepts:
            plan = self.concept_plans[name] = CountryNode(self._term("@country", ("country",), ()))
        if plan is None:
            if name not in self.concepts:
                raise UnknownConcept(rule_id, name)
            alternatives: list[Plan] = []
            for lang, entries in self.concepts[name].items():
                for entry in entries:
                    alternatives.extend(self.entry(entry.strip(), (lang,)))
            plan = self.concept_plans[name] = any_of(alternatives)
        return plan

    def entry(self, text: str, languages: tuple[str, ...]) -> list[Plan]:
        """A concept list entry: a word, a wildcard ``ratif*`` or several words (a phrase)."""
        if text.endswith("*") and " " not in text:
            return [self._intern(self.prefix(text[:-1]))]
        text = text.strip('"')
        words = tokenise("term", text).words
        if len(words) == 1:
            return [self._intern(self.word(text, languages))]
        return [self._intern(plan) for plan in self.spellings(words, languages, text)]

    def plan(self, node: q.Node, rule_id: str) -> Plan:
        return self._intern(self._plan(node, rule_id))

    def _plan(self, node: q.Node, rule_id: str) -> Plan:
        match node:
            case q.Word(text):
                return self.word(text, LANGUAGES)
            case q.Prefix(text):
                return self.prefix(text)
            case q.Phrase(words):
                return self.phrase(words, LANGUAGES, label=" ".join(words))
            case q.ConceptRef(name):
                return self.concept(name, rule_id)
            case q.AnyOf(children):
                return any_of([self.plan(c, rule_id) for c in children])
            case q.AllOf(children):
                return AllNode(tuple(self.plan(c, rule_id) for c in children))
            case q.ButNot(keep, drop):
                return ButNotNode(self.plan(keep, rule_id), self.plan(drop, rule_id))
            case q.Near(left, right, distance, ordered):
                return NearNode(
                    self.plan(left, rule_id), self.plan(right, rule_id), distance, ordered
                )
            case q.NotNear(keep, guard, distance, side):
                return NotNearNode(
                    self.plan(keep, rule_id), self.plan(guard, rule_id), distance, side
                )
            case q.Scoped(name, child):
                return ScopedNode(FIELD_INDEX[name], self.plan(child, rule_id))
        raise TypeError(f"unknown query node {node!r}")


def any_of(alternatives: list[Plan]) -> Plan:
    """An OR node, with its single-word alternatives folded into one :class:`AnyTermNode`.

    Nested ORs are flattened first: one OR node over the words of ``@negation OR @denial``
    costs less to evaluate than an OR of two ORs (measured).
    """
    flat: list[Plan] = []
    for alternative in alternatives:
        match alternative:
            case AnyNode(children):
                flat.extend(children)
            case AnyTermNode(terms):
                flat.extend(TermNode(term) for term in sorted(terms))
            case _:
                flat.append(alternative)
    words = frozenset(a.term for a in flat if isinstance(a, TermNode))
    rest = list(dict.fromkeys(a for a in flat if not isinstance(a, TermNode)))
    if not words:
        return AnyNode(tuple(rest)) if len(rest) > 1 else rest[0]
    folded = TermNode(next(iter(words))) if len(words) == 1 else AnyTermNode(words)
    return AnyNode((folded, *rest)) if rest else folded


def clauses(plan: Plan) -> list[frozenset[int]]:
    """A necessary condition for ``plan`` to match: every clause must meet the document."""
    match plan:
        case TermNode(term):
            return [frozenset((term,))]
        case AnyTermNode(terms):
            return [terms]
        case PhraseNode(terms):
            return [frozenset((t,)) for t in terms]
        case CountryNode():
            return []  # no words to require: found only in rules already reached
        case AnyNode(children):
            options = [clauses(c) for c in children]
            if not all(options):
                return []
            return [frozenset().union(*(min(option, key=len) for option in options))]
        case AllNode(children):
            return [clause for c in children for clause in clauses(c)]
        case NearNode(left, right, _, _):
            return clauses(left) + clauses(right)
        case ButNotNode(keep, _) | NotNearNode(keep, _, _) | ScopedNode(_, keep):
            return clauses(keep)
    raise TypeError(f"unknown plan node {plan!r}")


def walk(plan: Plan, fields: tuple[int, ...] = ALL_FIELDS) -> Iterator[NodeInFields]:
    """Every node of a plan with the fields it is evaluated on, depth first (for explain)."""
    yield plan, fields
    match plan:
        case AnyNode(children) | AllNode(children):
            for child in children:
                yield from walk(child, fields)
        case (
            NearNode(first, second, _, _)
            | ButNotNode(first, second)
            | NotNearNode(first, second, _)
        ):
            yield from walk(first, fields)
            yield from walk(second, fields)
        case ScopedNode(scope, child):
            yield from walk(child, tuple(f for f in fields if f == scope))


def pack_version(packs: Iterable[RulePack]) -> str:
    """A short content hash: two workers with the same rules report the same version."""
    canonical = json.dumps([p.model_dump(mode="json") for p in packs], sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()[:12]


def compile_packs(packs: list[RulePack]) -> RuleSet:
    """Build a rule set from parsed packs; concepts of all packs are visible to all rules."""
    concepts: dict[str, dict[str, list[str]]] = {}
    for pack in packs:
        concepts.update(pack.concepts)
    builder = _Builder(concepts)
    compiled = []
    for pack in packs:
        for rule in pack.rules:
            if rule.enabled:
                plan = builder.plan(q.parse_query(rule.query), rule.id)
                compiled.append(
                    CompiledRule(rule, plan, tuple(sorted(set(clauses(plan)), key=len)))
                )
    anchors: dict[int, list[int]] = defaultdict(list)
    for index, rule in enumerate(compiled):
        for term in rule.clauses[0] if rule.clauses else ():
            anchors[term].append(index)
    return RuleSet(
        rules=compiled,
        terms=builder.terms,
        version=pack_version(packs),
        key_terms={k: tuple(sorted(v)) for k, v in builder.key_terms.items()},
        prefix_terms={k: tuple(sorted(v)) for k, v in builder.prefix_terms.items()},
        anchors={k: tuple(v) for k, v in anchors.items()},
        unanchored=tuple(i for i, rule in enumerate(compiled) if not rule.clauses),
        concepts=builder.concept_plans,
    )
