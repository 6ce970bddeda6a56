"""The watch-rule query language: grammar, syntax tree, and parse errors with positions.

Media-monitoring analysts already write Boolean queries; this is that dialect::

    @treaty NEAR/12 @ratify NOT NEAR/6 @denial
    title:("missile test" OR rudal*) AND (korea OR @dprk)
    (troops OR pasukan) ONEAR/4 (deploy OR kerah) NOT withdraw
    (send OR kirim) NOT AFTER/3 @negation

Precedence, tightest first: field scope and parentheses; ``NEAR/n``, ``ONEAR/n``,
``NOT NEAR/n``, ``NOT BEFORE/n`` and ``NOT AFTER/n``; ``NOT``; ``AND``; ``OR``. Operators are
upper case; lower-case ``and``/``or``/``not`` are ordinary words. There are no user regular
expressions: words, "phrases", trailing wildcards (``ratif*``) and ``@concepts`` are the only
leaves, so matching time stays linear.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from lark import Lark, Token, Transformer, UnexpectedInput, v_args

GRAMMAR = r"""
?query: or_expr
?or_expr: and_expr (_OR and_expr)*           -> any_of
?and_expr: not_expr (_AND not_expr)*         -> all_of
?not_expr: near_expr
         | not_expr _NOT near_expr           -> but_not
?near_expr: unary
          | near_expr NEAR unary             -> near
          | near_expr ONEAR unary            -> onear
          | near_expr NOTNEAR unary          -> not_near
          | near_expr NOTBEFORE unary        -> not_before
          | near_expr NOTAFTER unary         -> not_after
?unary: atom
      | FIELD unary                          -> scoped
?atom: WORD                                  -> word
     | WILDCARD                              -> prefix
     | PHRASE                                -> phrase
     | CONCEPT                               -> concept
     | "(" or_expr ")"

NOTNEAR.4: /NOT\s+NEAR\/\d+(?![\w\/])/
NOTBEFORE.4: /NOT\s+BEFORE\/\d+(?![\w\/])/
NOTAFTER.4: /NOT\s+AFTER\/\d+(?![\w\/])/
ONEAR.3: /ONEAR\/\d+(?![\w\/])/
NEAR.3: /NEAR\/\d+(?![\w\/])/
_AND.2: /AND(?![^\s()"])/
_OR.2: /OR(?![^\s()"])/
_NOT.2: /NOT(?![^\s()"])/
FIELD.2: /(title|body):/
CONCEPT: /@[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)?/
PHRASE: /"[^"\n]*"/
WILDCARD: /[^\s()"@*:]+\*/
WORD: /[^\s()"@*:]+/

%import common.WS
%ignore WS
"""

MIN_PREFIX = 3


class RuleSyntaxError(ValueError):
    """A query that does not parse, located as precisely as the source allows."""

    def __init__(self, message: str, *, line: int, column: int, source: str = "<query>"):
        self.message, self.line, self.column, self.source = message, line, column, source
        super().__init__(f"{source}:{line}:{column}: {message}")

    def moved(
        self, source: str, line_offset: int, column_offset: int, every_line: bool = False
    ) -> RuleSyntaxError:
        """The same error, re-anchored where the query sits inside a file.

        A quoted or plain YAML scalar shifts only its first line; a block scalar (``|``) is
        indented on every line.
        """
        column = self.column + (column_offset if self.line == 1 or every_line else 0)
        return RuleSyntaxError(
            self.message, line=self.line + line_offset, column=column, source=source
        )


# ---- syntax tree ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Word:
    text: str
    line: int = field(default=1, compare=False)  # where it is written, for warnings
    column: int = field(default=1, compare=False)


@dataclass(frozen=True)
class Prefix:
    text: str  # without the trailing '*'


@dataclass(frozen=True)
class Phrase:
    words: tuple[str, ...]


@dataclass(frozen=True)
class ConceptRef:
    """``@name`` (this pack's concept) or ``@pack.name`` (another pack's), with where it is
    written in the query, for errors (not part of its identity)."""

    name: str
    line: int = field(default=1, compare=False)
    column: int = field(default=1, compare=False)


@dataclass(frozen=True)
class AnyOf:
    children: tuple[Node, ...]


@dataclass(frozen=True)
class AllOf:
    children: tuple[Node, ...]


@dataclass(frozen=True)
class ButNot:
    keep: Node
    drop: Node


@dataclass(frozen=True)
class Near:
    left: Node
    right: Node
    distance: int
    ordered: bool


@dataclass(frozen=True)
class NotNear:
    """``keep`` where no ``guard`` is within ``distance`` words: on either side, or only
    after it (``NOT BEFORE``: keep does not come before a guard) or only before it
    (``NOT AFTER``)."""

    keep: Node
    guard: Node
    distance: int
    side: Side = "either"


@dataclass(frozen=True)
class Scoped:
    field: str
    child: Node


Node = Word | Prefix | Phrase | ConceptRef | AnyOf | AllOf | ButNot | Near | NotNear | Scoped


Side = Literal["either", "after", "before"]  # where a guard (or an ONEAR partner) may stand


def _distance(token: Token) -> int:
    return int(str(token).rsplit("/", 1)[1])


@v_args(inline=True)
class _ToTree(Transformer):
    def word(self, token: Token) -> Node:
        return Word(str(token), token.line, token.column)

    def prefix(self, token: Token) -> Node:
        stem = str(token)[:-1]
        if len(stem) < MIN_PREFIX:
            raise RuleSyntaxError(
                f"wildcard {token!s} needs at least {MIN_PREFIX} letters before '*'",
                line=token.line,
                column=token.column,
            )
        return Prefix(stem)

    def phrase(self, token: Token) -> Node:
        words = tuple(str(token)[1:-1].split())
        if not words:
            raise RuleSyntaxError("empty phrase", line=token.line, column=token.column)
        return Phrase(words)

    def concept(self, token: Token) -> Node:
        return ConceptRef(str(token)[1:], token.line, token.column)

    def any_of(self, *children: Node) -> Node:
        return children[0] if len(children) == 1 else AnyOf(children)

    def all_of(self, *children: Node) -> Node:
        return children[0] if len(children) == 1 else AllOf(children)

    def but_not(self, keep: Node, drop: Node) -> Node:
        return ButNot(keep, drop)

    def near(self, left: Node, op: Token, right: Node) -> Node:
        return Near(left, right, _distance(op), ordered=False)

    def onear(self, left: Node, op: Token, right: Node) -> Node:
        return Near(left, right, _distance(op), ordered=True)

    def not_near(self, keep: Node, op: Token, guard: Node) -> Node:
        return NotNear(keep, guard, _distance(op))

    def not_before(self, keep: Node, op: Token, guard: Node) -> Node:
        return NotNear(keep, guard, _distance(op), side="after")

    def not_after(self, keep: Node, op: Token, guard: Node) -> Node:
        return NotNear(keep, guard, _distance(op), side="before")

    def scoped(self, field: Token, child: Node) -> Node:
        return Scoped(str(field)[:-1], child)


_PARSER = Lark(GRAMMAR, start="query", parser="lalr", propagate_positions=False)

_TERMINAL_NAMES = {
    "WORD": "a word",
    "WILDCARD": "a wildcard",
    "PHRASE": 'a "phrase"',
    "CONCEPT": "an @concept",
    "LPAR": "'('",
    "RPAR": "')'",
    "FIELD": "title: or body:",
    "_AND": "AND",
    "_OR": "OR",
    "_NOT": "NOT",
    "NEAR": "NEAR/n",
    "ONEAR": "ONEAR/n",
    "NOTNEAR": "NOT NEAR/n",
    "NOTBEFORE": "NOT BEFORE/n",
    "NOTAFTER": "NOT AFTER/n",
    "$END": "end of query",
}


def _expected(names: set[str]) -> str:
    readable = sorted({_TERMINAL_NAMES.get(name, name) for name in names})
    return ", ".join(readable)


def parse_query(text: str) -> Node:
    """Parse one query; raise :class:`RuleSyntaxError` naming the line, column and what fits."""
    try:
        tree = _PARSER.parse(text)
        return _ToTree().transform(tree)
    except UnexpectedInput as error:
        expected = getattr(error, "expected", None) or getattr(error, "allowed", None) or set()
        found = getattr(error, "token", None)
        line, column = error.line, error.column
        if getattr(found, "type", "") == "$END" or line < 1:
            what = "the query ends too early"
            lines = text.splitlines() or [""]
            line, column = len(lines), len(lines[-1]) + 1
        elif found is not None:
            what = f"unexpected {str(found)!r}"
        else:
            what = f"unexpected character {text[error.pos_in_stream]!r}"
        message = f"{what}; expected {_expected(set(expected))}" if expected else what
        raise RuleSyntaxError(message, line=line, column=column) from None
    except Exception as error:  # a RuleSyntaxError raised inside the transformer
        inner = getattr(error, "orig_exc", error)
        if isinstance(inner, RuleSyntaxError):
            raise inner from None
        raise


GUARD_OPERATORS = {"either": "NOT NEAR", "after": "NOT BEFORE", "before": "NOT AFTER"}


def format_query(node: Node, nested: bool = False) -> str:
    """The query as parsed, every operator's operands in parentheses, so what binds to what
    shows: ``(a) OR (b) NOT @c`` reads back as ``a OR (b NOT @c)``."""
    match node:
        case Word(text):
            return text
        case Prefix(text):
            return f"{text}*"
        case Phrase(words):
            return '"' + " ".join(words) + '"'
        case ConceptRef(name):
            return f"@{name}"
        case Scoped(name, child):
            return f"{name}:{format_query(child, True)}"
    match node:
        case AnyOf(children) | AllOf(children):
            operator = " OR " if isinstance(node, AnyOf) else " AND "
            text = operator.join(format_query(child, True) for child in children)
        case ButNot(keep, drop):
            text = f"{format_query(keep, True)} NOT {format_query(drop, True)}"
        case Near(left, right, distance, ordered):
            operator = f"{'ONEAR' if ordered else 'NEAR'}/{distance}"
            text = f"{format_query(left, True)} {operator} {format_query(right, True)}"
        case NotNear(keep, guard, distance, side):
            operator = f"{GUARD_OPERATORS[side]}/{distance}"
            text = f"{format_query(keep, True)} {operator} {format_query(guard, True)}"
        case _:
            raise TypeError(f"unknown query node {node!r}")
    return f"({text})" if nested else text
