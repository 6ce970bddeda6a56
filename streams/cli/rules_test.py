"""``pantau rules test``: run rule packs' examples, with the report ``check`` and ``push`` share."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from streams.cli.output import console

if TYPE_CHECKING:
    from streams.rules.compiler import RuleSet


def examples_pass(ruleset: RuleSet, texts: list[tuple[str, str]]) -> bool:
    """Run the packs' examples against ``ruleset``; print each failure; True if none failed."""
    from streams.rules.examples import run_examples

    run = run_examples(ruleset, texts)
    for failure in run.failures:
        console.print("\n".join(failure.report()), markup=False)
    if run.without_examples:
        console.print(f"rules with no examples: {', '.join(run.without_examples)}", markup=False)
    failed = len(run.failures)
    status = "[red]FAILED[/]" if failed else "[green]OK[/]"
    console.print(f"{run.checked} examples, {failed} failed: {status}")
    return not failed


@click.command("test")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
def rules_test(files: tuple[Path, ...]) -> None:
    """Run the examples of rule packs: each `fires:` text must fire its rule, each `quiet:` text
    must not. A failure shows the rule, the example and why; exit 1 on any failure."""
    from streams.rules.packs import compile_texts, read_packs

    texts = read_packs(list(files))
    if not examples_pass(compile_texts(texts), texts):
        sys.exit(1)
