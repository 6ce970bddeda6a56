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
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field

from streams.models import Rule, RulePack
from streams.rules import query as q
from streams.rules.plan import (
    FIELD_INDEX,
    AllNode,
    ButNotNode,
    CountryNode,
    NearNode,
    NotNearNode,
    PhraseNode,
    Plan,
    ScopedNode,
    TermNode,
    any_of,
    clauses,
    terms_of,
    walk,
)
from streams.text.morphology import term_keys, token_keys
from streams.text.normalise import tokenise

LANGUAGES = ("en", "id")  # morphology paths for words written directly in a query
BUILTIN_COUNTRY = "country"  # @country: any country name, unless the rule's pack defines its own


@dataclass(frozen=True)
class Term:
    """A leaf the matcher looks up: ``label`` is what an analyst wrote, for evidence."""

    id: int
    label: str
    prefix: bool = False


@dataclass
class CompiledRule:
    """A rule's plan and its clauses, the first (most selective) being its presearch anchor.

    The presearch reaches a rule through its anchor, so it checks only the other clauses:
    ``required`` (one-term clauses, one subset test) and ``either`` (the rest). ``query`` and
    ``plans`` (each sub-query's plan) let explain say which part of the query failed;
    ``concepts`` names the concept each evidence term comes from.
    """

    rule: Rule
    plan: Plan
    clauses: tuple[frozenset[int], ...]
    pack: str = ""
    query: q.Node | None = field(default=None, repr=False)
    plans: dict[q.Node, Plan] = field(default_factory=dict, repr=False)
    concepts: dict[int, str] = field(default_factory=dict, repr=False)  # term id -> @name
    required: frozenset[int] = field(init=False, repr=False)
    either: tuple[frozenset[int], ...] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        rest = self.clauses[1:]
        self.required = frozenset(term for clause in rest if len(clause) == 1 for term in clause)
        self.either = tuple(clause for clause in rest if len(clause) > 1)


class UnknownConcept(ValueError):
    """Raised only for packs that did not go through :mod:`streams.rules.packs`, which
    locates unknown concepts in the file before compiling."""

    def __init__(self, rule_id: str, name: str):
        self.rule_id, self.name = rule_id, name
        super().__init__(f"rule {rule_id!r} refers to @{name}, which is not defined")


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
    concepts: dict[str, Plan] = field(default_factory=dict)  # pack.name -> plan, for explain
    packs: dict[str, RulePack] = field(default_factory=dict)  # what it was compiled from
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
        self.concepts = concepts  # "pack.name" -> language -> terms
        self.pack = ""  # the pack whose rules are being compiled: its @name means pack.name
        self.node_plans: dict[q.Node, Plan] = {}  # of the rule being compiled
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
        qualified = name if "." in name else f"{self.pack}.{name}"
        if name == BUILTIN_COUNTRY and qualified not in self.concepts:
            qualified = BUILTIN_COUNTRY
        plan = self.concept_plans.get(qualified)
        if plan is None and qualified == BUILTIN_COUNTRY:
            term = self._term("@country", ("country",), ())
            plan = self.concept_plans[qualified] = CountryNode(term)
        if plan is None:
            if qualified not in self.concepts:
                raise UnknownConcept(rule_id, name)
            alternatives: list[Plan] = []
            for lang, entries in self.concepts[qualified].items():
                for entry in entries:
                    alternatives.extend(self.entry(entry.strip(), (lang,)))
            plan = self.concept_plans[qualified] = any_of(alternatives)
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
        plan = self.node_plans[node] = self._intern(self._plan(node, rule_id))
        return plan

    def rule(self, rule: Rule) -> CompiledRule:
        self.node_plans = {}
        query = q.parse_query(rule.query)
        plan = self.plan(query, rule.id)
        concepts: dict[int, str] = {}
        for ref in _evidence_concepts(query):
            for node, _ in walk(self.node_plans[ref]):
                for term in terms_of(node):
                    concepts.setdefault(term, ref.name)
        return CompiledRule(
            rule,
            plan,
            tuple(sorted(set(clauses(plan)), key=len)),
            pack=self.pack,
            query=query,
            plans=self.node_plans,
            concepts=concepts,
        )

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


def _evidence_concepts(node: q.Node) -> Iterator[q.ConceptRef]:
    """The concepts a query's evidence can come from, in query order: not its guards."""
    match node:
        case q.ConceptRef():
            yield node
        case q.AnyOf(children) | q.AllOf(children):
            for child in children:
                yield from _evidence_concepts(child)
        case q.Near(left, right, _, _):
            yield from _evidence_concepts(left)
            yield from _evidence_concepts(right)
        case q.ButNot(keep, _) | q.NotNear(keep, _, _) | q.Scoped(_, keep):
            yield from _evidence_concepts(keep)


def pack_version(packs: Mapping[str, RulePack]) -> str:
    """A short content hash of the packs by name: the same packs give the same version,
    whatever order a worker read them in."""
    canonical = json.dumps(
        sorted([name, p.model_dump(mode="json")] for name, p in packs.items()), sort_keys=True
    )
    return hashlib.sha256(canonical.encode()).hexdigest()[:12]


def compile_packs(
    packs: Mapping[str, RulePack], libraries: Mapping[str, RulePack] | None = None
) -> RuleSet:
    """Build a rule set from parsed packs by name. A pack's rules see its own concepts as
    ``@name`` and another's as ``@pack.name``; ``libraries`` lend concepts, not rules."""
    every = {**(libraries or {}), **packs}
    concepts = {
        f"{pack_name}.{name}": terms
        for pack_name, pack in every.items()
        for name, terms in pack.concepts.items()
    }
    builder = _Builder(concepts)
    compiled = []
    for builder.pack, pack in packs.items():
        compiled.extend(builder.rule(rule) for rule in pack.rules if rule.enabled)
    anchors: dict[int, list[int]] = defaultdict(list)
    for index, rule in enumerate(compiled):
        for term in rule.clauses[0] if rule.clauses else ():
            anchors[term].append(index)
    return RuleSet(
        rules=compiled,
        terms=builder.terms,
        version=pack_version(every),
        key_terms={k: tuple(sorted(v)) for k, v in builder.key_terms.items()},
        prefix_terms={k: tuple(sorted(v)) for k, v in builder.prefix_terms.items()},
        anchors={k: tuple(v) for k, v in anchors.items()},
        unanchored=tuple(i for i, rule in enumerate(compiled) if not rule.clauses),
        concepts=builder.concept_plans,
        packs=dict(packs),
    )
