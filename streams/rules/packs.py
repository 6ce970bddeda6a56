"""Load rule packs from YAML, with every error pointing at a file, line and column."""

from __future__ import annotations

import re
from pathlib import Path

import yaml
from pydantic import ValidationError

from streams.models import RulePack, first_problem
from streams.rules.compiler import RuleSet, UnknownConcept, compile_packs
from streams.rules.query import RuleSyntaxError, parse_query


class RulePackError(ValueError):
    """A pack that cannot be used; ``str()`` reads ``file:line:column: message``."""

    def __init__(self, source: str, line: int, column: int, message: str):
        self.source, self.line, self.column, self.message = source, line, column, message
        super().__init__(f"{source}:{line}:{column}: {message}")


def _node_at(root: yaml.Node, path: tuple) -> yaml.Node:
    """The deepest YAML node along a pydantic error location (for its line and column)."""
    node = root
    for part in path:
        if isinstance(node, yaml.MappingNode):
            child = next((v for k, v in node.value if k.value == part), None)
            if child is None:
                child = next((k for k, _ in node.value if k.value == part), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            child = node.value[part] if part < len(node.value) else None
        else:
            child = None
        if child is None:
            break
        node = child
    return node


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


def parse_pack(text: str, source: str = "<rules>") -> RulePack:
    """Parse and validate one pack, including every query and concept reference."""
    try:
        root = yaml.compose(text)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        raise RulePackError(source, line, column, f"YAML: {error.problem}") from None
    if root is None or not isinstance(data, dict):
        raise RulePackError(
            source, 1, 1, "a rule pack is a mapping with 'rules:' (and 'concepts:')"
        )
    try:
        pack = RulePack.model_validate(data)
    except ValidationError as error:
        location, message = first_problem(error, "pack")
        node = _node_at(root, location)
        raise RulePackError(
            source, node.start_mark.line + 1, node.start_mark.column + 1, message
        ) from None
    for index, rule in enumerate(pack.rules):
        query_node = _node_at(root, ("rules", index, "query"))
        line_offset, column_offset = _query_origin(query_node)
        try:
            parse_query(rule.query)
        except RuleSyntaxError as error:
            block = query_node.style in ("|", ">")
            moved = error.moved(source, line_offset, column_offset, every_line=block)
            raise RulePackError(
                source, moved.line, moved.column, f"rule {rule.id!r}: {error.message}"
            ) from None
    return pack


def _concept_error(source: str, text: str, pack: RulePack, error: UnknownConcept):
    """Locate an unknown @concept at its use in the query that names it."""
    root = yaml.compose(text)
    index = next(i for i, r in enumerate(pack.rules) if r.id == error.rule_id)
    node = _node_at(root, ("rules", index, "query"))
    line_offset, column_offset = _query_origin(node)
    line, column = 1, 1
    for number, query_line in enumerate(pack.rules[index].query.splitlines(), start=1):
        found = re.search(rf"@{re.escape(error.name)}\b", query_line)
        if found:
            line, column = number, found.start() + 1
            break
    column += column_offset if line == 1 or node.style in ("|", ">") else 0
    return RulePackError(source, line + line_offset, column, str(error))


def compile_texts(texts: list[tuple[str, str]]) -> RuleSet:
    """Compile (source name, YAML text) pairs; errors point into the right source."""
    packs = [parse_pack(text, source) for source, text in texts]
    try:
        return compile_packs(packs)
    except UnknownConcept as error:
        for (source, text), pack in zip(texts, packs, strict=True):
            if any(rule.id == error.rule_id for rule in pack.rules):
                raise _concept_error(source, text, pack, error) from None
        raise


def read_packs(paths: list[Path]) -> list[tuple[str, str]]:
    """(source, text) of each rule file; one that cannot be read is a :class:`RulePackError`."""
    texts = []
    for path in paths:
        try:
            texts.append((str(path), Path(path).read_text(encoding="utf-8")))
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
