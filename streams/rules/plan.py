"""Query plans: the syntax tree compiled to term ids, and what the presearch derives from it.

A plan has the same shapes as the syntax tree (:mod:`streams.rules.query`) with integer term
ids at the leaves. :func:`clauses` turns a plan into a necessary condition, :func:`any_of`
folds an OR's single words into one postings pass, and :func:`walk` lists a plan's nodes
with the fields they read (for explain).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from streams.rules import query as q


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


def terms_of(node: Plan) -> Iterable[int]:
    """The term ids a leaf node looks up (none for operators)."""
    match node:
        case TermNode(term) | CountryNode(term):
            return (term,)
        case AnyTermNode(terms) | PhraseNode(terms):
            return terms
    return ()


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
