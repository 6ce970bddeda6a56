"""Load rule packs from YAML, with every problem of every file at its line and column.

A pack is read, validated and its queries parsed as far as each part allows, so one run of
``pantau rules check`` lists all of a file's problems rather than the first. The packs are then
checked together: each has a name (``name:`` or its file name), its concepts are its own, and
another pack's are used as ``@pack.concept``; a built-in pack (``default``) is imported by name
when a pack refers to it and it is not loaded. Only packs with no problem are compiled.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import NamedTuple

import yaml
from pydantic import ValidationError

from streams.models import RULE_ID, RulePack
from streams.rules import query as q
from streams.rules.compiler import BUILTIN_COUNTRY, RuleSet, compile_packs
from streams.rules.terms import term_warnings
from streams.text.normalise import tokenise

BUILTIN_PACKS = {path.stem: path for path in (Path(__file__).parent / "packs").glob("*.yaml")}
NAME_RULE = "2 to 64 characters: a lower-case letter, then lower-case letters, digits or _"
MIN_WILDCARD = q.MIN_PREFIX


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a pack, where it is."""

    source: str
    line: int
    column: int
    message: str

    def __str__(self) -> str:
        return f"{self.source}:{self.line}:{self.column}: {self.message}"


class RulePackError(ValueError):
    """Packs that cannot be used; ``str()`` has one ``file:line:column: message`` per problem,
    and ``source``, ``line``, ``column`` and ``message`` are the first one's."""

    def __init__(self, source: str, line: int, column: int, message: str):
        self.source, self.line, self.column, self.message = source, line, column, message
        self.problems = [Problem(source, line, column, message)]
        super().__init__(str(self.problems[0]))

    @classmethod
    def of(cls, problems: Sequence[Problem]) -> RulePackError:
        first = problems[0]
        error = cls(first.source, first.line, first.column, first.message)
        error.problems = list(problems)
        error.args = ("\n".join(map(str, problems)),)
        return error


class PackText(NamedTuple):
    """A pack's YAML and where it came from; ``name`` when it is not the file's (a rules-topic
    key)."""

    source: str
    text: str
    name: str | None = None


@dataclass
class ReadPack:
    """One pack as read: the model (None when it did not validate) and what locates its
    parts in the file."""

    name: str
    source: str
    root: yaml.MappingNode
    pack: RulePack | None
    concepts: set[str]
    rule_ids: list[tuple[str, tuple[int, int]]] = field(default_factory=list)
    refs: list[tuple[str, q.ConceptRef, tuple[int, int]]] = field(default_factory=list)
    words: list[tuple[q.Word, tuple[int, int]]] = field(default_factory=list)


def _node_at(root: yaml.Node, path: Sequence[int | str]) -> yaml.Node:
    """The deepest YAML node along a pydantic error location (for its line and column);
    ``[key]`` after a mapping key means the key itself rather than its value."""
    node = root
    for index, part in enumerate(path):
        want_key = index + 1 < len(path) and path[index + 1] == "[key]"
        child = None
        if isinstance(node, yaml.MappingNode):
            pair = next(((k, v) for k, v in node.value if k.value == str(part)), None)
            child = None if pair is None else pair[0] if want_key else pair[1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            child = node.value[part] if part < len(node.value) else None
        if child is None:
            break
        node = child
        if want_key:
            break
    return node


def _at(node: yaml.Node) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


def _query_origin(node: yaml.ScalarNode) -> tuple[int, int]:
    """(line offset, column offset) that turn a position inside a query into one in the file."""
    mark = node.start_mark
    if node.style in ("|", ">"):
        return mark.line + 1, _block_indent(node)
    return mark.line, mark.column + (1 if node.style in ("'", '"') else 0)


def _block_indent(node: yaml.ScalarNode) -> int:
    lines = node.end_mark.buffer.splitlines() if node.end_mark.buffer else []
    first = lines[node.start_mark.line + 1] if len(lines) > node.start_mark.line + 1 else ""
    return len(first) - len(first.lstrip())


def _in_file(node: yaml.ScalarNode, line: int, column: int) -> tuple[int, int]:
    """A position inside a query as a position in the file."""
    line_offset, column_offset = _query_origin(node)
    block = node.style in ("|", ">")
    return line + line_offset, column + (column_offset if line == 1 or block else 0)


def derived_name(source: str) -> str:
    """A pack's name from its file name: lower case, other characters as ``_``."""
    name = re.sub(r"[^a-z0-9]+", "_", Path(source).stem.lower()).strip("_")
    return name if RULE_ID.match(name) else f"pack_{name}".rstrip("_")


def pack_name(item: PackText) -> str:
    """The name a pack goes by: a rules-topic key, else its ``name:``, else its file name."""
    if item.name:
        return item.name
    try:
        data = yaml.safe_load(item.text)
    except yaml.YAMLError:
        data = None
    declared = data.get("name") if isinstance(data, dict) else None
    return declared if isinstance(declared, str) else derived_name(item.source)


def _describe(detail: dict) -> str:
    """A pydantic error as a message for an analyst."""
    loc = detail["loc"]
    if loc and loc[-1] == "[key]" and loc[0] == "concepts":
        key = str(loc[-2])
        if len(loc) == 4:
            return f"concept {loc[1]!r}: {key!r} is not a term language; use en, id or ms"
        if "." in key:
            own = key.split(".", 1)[1]
            return (
                f"concept {key!r}: a pack defines only its own concepts; define {own!r} "
                f"here (used as @{own}) or use @{key} from the other pack"
            )
        return f"concept name {key!r} is not a name: {NAME_RULE}"
    where = ".".join(str(part) for part in loc) or "pack"
    if detail["type"] == "string_pattern_mismatch":
        return f"{where}: {detail['input']!r} is not a name: {NAME_RULE}"
    return f"{where}: {detail['msg']}"


def _duplicate_keys(node: yaml.Node, source: str) -> Iterator[Problem]:
    """YAML keeps the last of two equal keys without a word; a pack must not have them."""
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, yaml.Node] = {}
        for key, value in node.value:
            first = seen.setdefault(str(key.value), key)
            if first is not key:
                message = f"duplicate key {key.value!r} (first on line {_at(first)[0]})"
                yield Problem(source, *_at(key), message)
            yield from _duplicate_keys(value, source)
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            yield from _duplicate_keys(item, source)


def _entry_problem(entry: str) -> str | None:
    """What is wrong with a concept's term, if anything."""
    text = entry.strip()
    if "*" in text.rstrip("*") or text.count("*") > 1 or ("*" in text and " " in text):
        return f"{entry!r}: '*' goes only at the end of a single word"
    if text.endswith("*"):
        letters = "".join(tokenise("term", text[:-1]).words)
        if len(letters) < MIN_WILDCARD:
            return f"wildcard {entry!r} needs at least {MIN_WILDCARD} letters before '*'"
        return None
    if not tokenise("term", text.strip('"')).words:
        return f"{entry!r} has no word in it"
    return None


def _concept_problems(read: ReadPack, data: dict) -> Iterator[Problem]:
    concepts = data.get("concepts")
    if not isinstance(concepts, dict):
        return
    for name, by_language in concepts.items():
        for language, entries in by_language.items() if isinstance(by_language, dict) else ():
            for index, entry in enumerate(entries if isinstance(entries, list) else ()):
                problem = isinstance(entry, str) and _entry_problem(entry)
                if problem:
                    node = _node_at(read.root, ("concepts", name, language, index))
                    yield Problem(read.source, *_at(node), f"concept {name!r}: {problem}")


def _rule_problems(read: ReadPack, data: dict) -> Iterator[Problem]:
    """Duplicate rule ids and query syntax; the concepts and words queries use are kept."""
    rules = data.get("rules")
    seen: dict[str, int] = {}
    for index, rule in enumerate(rules if isinstance(rules, list) else ()):
        if not isinstance(rule, dict):
            continue
        rule_id, query = rule.get("id"), rule.get("query")
        if isinstance(rule_id, str):
            where = _at(_node_at(read.root, ("rules", index, "id")))
            if rule_id in seen:
                message = f"rule id {rule_id!r} appears twice (first on line {seen[rule_id]})"
                yield Problem(read.source, *where, message)
            seen.setdefault(rule_id, where[0])
            read.rule_ids.append((rule_id, where))
        if not isinstance(query, str) or not query.strip():
            continue
        node = _node_at(read.root, ("rules", index, "query"))
        try:
            tree = q.parse_query(query)
        except q.RuleSyntaxError as error:
            line, column = _in_file(node, error.line, error.column)
            yield Problem(read.source, line, column, f"rule {rule_id!r}: {error.message}")
            continue
        for leaf in _leaves(tree):
            where = _in_file(node, leaf.line, leaf.column)
            if isinstance(leaf, q.ConceptRef):
                read.refs.append((str(rule_id), leaf, where))
            else:
                read.words.append((leaf, where))


def _leaves(node: q.Node) -> Iterator[q.ConceptRef | q.Word]:
    match node:
        case q.ConceptRef() | q.Word():
            yield node
        case q.AnyOf(children) | q.AllOf(children):
            for child in children:
                yield from _leaves(child)
        case q.ButNot(first, second) | q.Near(first, second, _, _) | q.NotNear(first, second, _):
            yield from _leaves(first)
            yield from _leaves(second)
        case q.Scoped(_, child):
            yield from _leaves(child)


def _read(item: PackText, problems: list[Problem]) -> ReadPack | None:
    """Read one pack, adding each of its problems to ``problems``."""
    source = item.source
    try:
        root = yaml.compose(item.text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(item.text)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        problems.append(Problem(source, line, column, f"YAML: {error.problem}"))
        return None
    if not isinstance(root, yaml.MappingNode) or not isinstance(data, dict):
        message = "a rule pack is a mapping with 'rules:' (and 'concepts:')"
        problems.append(Problem(source, 1, 1, message))
        return None
    problems.extend(_duplicate_keys(root, source))
    pack = None
    try:
        pack = RulePack.model_validate(data)
    except ValidationError as error:
        for detail in error.errors():
            node = _node_at(root, detail["loc"])
            problems.append(Problem(source, *_at(node), _describe(detail)))
    concepts = data.get("concepts")
    names = {str(k) for k in concepts} if isinstance(concepts, dict) else set()
    read = ReadPack(pack_name(item), source, root, pack, names)
    declared = data.get("name")
    if item.name and isinstance(declared, str) and declared != item.name:
        message = f"the pack is published as {item.name!r} but names itself {declared!r}"
        problems.append(Problem(source, *_at(_node_at(root, ("name",))), message))
    problems.extend(_concept_problems(read, data))
    problems.extend(_rule_problems(read, data))
    return read


@cache
def _builtin(name: str) -> ReadPack:
    """A built-in pack, read once; they are checked by the tests, so they have no problem."""
    path = BUILTIN_PACKS[name]
    problems: list[Problem] = []
    read = _read(PackText(str(path), path.read_text(encoding="utf-8")), problems)
    assert read is not None and read.pack is not None and not problems, problems
    return read


def _unknown(ref: str, pack: ReadPack, reads: dict[str, ReadPack]) -> str | None:
    """Why an @reference of a rule of ``pack`` does not resolve, or None when it does."""
    owner, _, concept = ref.rpartition(".")
    if not owner:
        if ref in pack.concepts or ref == BUILTIN_COUNTRY:
            return None
        elsewhere = [
            f"@{name}.{ref}"
            for name, other in {**{n: _builtin(n) for n in BUILTIN_PACKS}, **reads}.items()
            if name != pack.name and ref in other.concepts
        ]
        close = [
            f"@{c}" for c in difflib.get_close_matches(ref, sorted(pack.concepts), n=1, cutoff=0.75)
        ]
        guesses = [*close, *dict.fromkeys(elsewhere)]
        hint = f"; did you mean {' or '.join(guesses)}?" if guesses else ""
        return f"refers to @{ref}, which pack {pack.name!r} does not define{hint}"
    other = reads.get(owner) or (_builtin(owner) if owner in BUILTIN_PACKS else None)
    if other is None:
        known = sorted({*reads, *BUILTIN_PACKS})
        return f"refers to @{ref}, but no pack is named {owner!r} (packs: {', '.join(known)})"
    if concept in other.concepts:
        return None
    close = difflib.get_close_matches(concept, sorted(other.concepts), n=1, cutoff=0.75)
    hint = f"; did you mean @{owner}.{close[0]}?" if close else ""
    return f"refers to @{ref}, which pack {owner!r} does not define{hint}"


def _together(reads: list[ReadPack]) -> tuple[dict[str, RulePack], list[Problem]]:
    """Check the packs as one set: names, rule ids and references across packs. Returns the
    built-in packs the set imports, by name."""
    problems: list[Problem] = []
    by_name: dict[str, ReadPack] = {}
    for read in reads:
        first = by_name.setdefault(read.name, read)
        if first is not read:
            where = _at(_node_at(read.root, ("name",)))
            message = f"pack name {read.name!r} is taken by {first.source}; give one a 'name:'"
            problems.append(Problem(read.source, *where, message))
    owners: dict[str, tuple[ReadPack, tuple[int, int]]] = {}
    for read in reads:
        for rule_id, where in read.rule_ids:
            owner = owners.setdefault(rule_id, (read, where))
            if owner[0] is not read:
                first_source, (line, column) = owner[0].source, owner[1]
                message = f"rule id {rule_id!r} is also in {first_source}:{line}:{column}"
                problems.append(Problem(read.source, *where, message))
    imported: dict[str, RulePack] = {}
    for read in reads:
        for rule_id, ref, where in read.refs:
            why = _unknown(ref.name, read, by_name)
            if why:
                problems.append(Problem(read.source, *where, f"rule {rule_id!r} {why}"))
            owner = ref.name.rpartition(".")[0]
            if owner and owner not in by_name and owner in BUILTIN_PACKS:
                imported[owner] = _builtin(owner).pack
    return imported, problems


def read_texts(texts: Iterable[tuple[str, str] | PackText]) -> tuple[list[ReadPack], dict]:
    """Read and check packs together; raise :class:`RulePackError` with every problem."""
    problems: list[Problem] = []
    reads = [read for item in texts if (read := _read(PackText(*item), problems))]
    imported, together = _together(reads)
    problems.extend(together)
    if problems:
        order = {read.source: index for index, read in enumerate(reads)}
        problems.sort(key=lambda p: (order.get(p.source, -1), p.source, p.line, p.column))
        raise RulePackError.of(problems)
    return reads, imported


def parse_pack(text: str, source: str = "<rules>") -> RulePack:
    """Parse and validate one pack on its own, including every query."""
    [read], _ = read_texts([(source, text)])
    assert read.pack is not None
    return read.pack


def compile_texts(texts: Iterable[tuple[str, str] | PackText]) -> RuleSet:
    """Compile (source name, YAML text) pairs; problems point into the right source."""
    reads, imported = read_texts(texts)
    return compile_packs({r.name: r.pack for r in reads if r.pack is not None}, imported)


def check_texts(texts: Iterable[tuple[str, str] | PackText]) -> tuple[RuleSet, list[Problem]]:
    """Compile packs, with warnings about their Indonesian/Malay terms (``rules check``): a
    term that is not a root, or a root that also matches words of their own."""
    reads, imported = read_texts(texts)
    ruleset = compile_packs({r.name: r.pack for r in reads if r.pack is not None}, imported)
    warnings = []
    for read in reads:
        concepts = read.pack.concepts if read.pack else {}
        for name, by_language in concepts.items():
            for language, entries in by_language.items():
                for index, entry in enumerate(entries):
                    node = _node_at(read.root, ("concepts", name, language, index))
                    warnings.extend(
                        Problem(read.source, *_at(node), f"concept {name!r}: {message}")
                        for message in term_warnings(entry, language)
                    )
        for word, where in read.words:  # a word of a query is matched as Indonesian too
            warnings.extend(
                Problem(read.source, *where, f"query word: {message}")
                for message in term_warnings(word.text, "id")
            )
    return ruleset, warnings


def read_packs(paths: list[Path]) -> list[PackText]:
    """(source, text) of each rule file; one that cannot be read is a :class:`RulePackError`."""
    texts = []
    for path in paths:
        try:
            texts.append(PackText(str(path), Path(path).read_text(encoding="utf-8")))
        except (OSError, UnicodeDecodeError) as error:
            raise RulePackError(str(path), 1, 1, f"cannot read: {error}") from None
    return texts


def load_ruleset(paths: list[Path]) -> RuleSet:
    """Read, validate and compile rule files into one rule set."""
    return compile_texts(read_packs(paths))


def position(text: str, path: tuple) -> tuple[int, int]:
    """(line, column), from 1, of the YAML node at a pydantic-style path in a pack's text."""
    node = _node_at(yaml.compose(text), path)
    return node.start_mark.line + 1, node.start_mark.column + 1
