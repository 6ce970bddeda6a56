"""``pantau eval``: score rule packs on labelled news, wherever the data sets are found."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from streams.cli.options import rule_packs_option

if TYPE_CHECKING:
    from streams.rules.compiler import RuleSet


@click.command("eval")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@rule_packs_option
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of tables.")
@click.option("--errors", default=0, help="Also list up to N errors per rule and kind, with why.")
@click.option("--check", is_flag=True, help="Exit 1 if a target is missed.")
def eval_command(
    paths: tuple[Path, ...], ruleset: RuleSet, as_json: bool, errors: int, check: bool
) -> None:
    """Score rule packs on labelled news: CASE 2021 (.tsv), SIB-200 (folder), panl-dev and
    pages-dev (.jsonl), a labelled file of your own, or a folder holding any of them.

    Your own file: JSON Lines, or a TSV with a header, one text a record: `text` (or `title`
    and/or `body`), `language` (optional), `id` (optional) and `rules`, the rule ids that must
    fire (a list, or ids separated by commas; empty when none). Scored per rule.

    CASE 2021: per-rule precision / recall / F1 under the don't-care mapping, and the share of
    snippets that trigger a rule they should not. SIB-200: whether every rule gives the same
    verdict on the English, Indonesian and Malay version of a sentence, and how many
    non-politics sentences trigger anything. panl-dev: per half and language, per-rule scores,
    macro-F1, Indonesian/English agreement and economy/science/sport fires. pages-dev: per-rule
    scores on whole excerpts, false alarms and hard negatives.
    """
    from rich.console import Console

    from streams.engine import Classifier
    from streams.tools.evaluation.run import detect, evaluate

    datasets = [found for path in paths for found in detect(path)]
    if not datasets:
        raise click.UsageError(f"no evaluation data set in {list(map(str, paths))}")
    classifier = Classifier(ruleset)
    console = Console(highlight=False, soft_wrap=True)
    console.width = max(console.width, 110)  # tables stay readable when piped
    results, met = {}, True
    for kind, path in datasets:
        try:
            result, ok = evaluate(kind, classifier, path, None if as_json else console, errors)
        except ValueError as error:
            hint = (
                "; a labelled file of your own needs a 'rules' column (see --help)"
                if kind == "case2021"
                else ""
            )
            raise click.ClickException(f"{error}{hint}") from None
        results[str(path)] = {"dataset": kind, **result}
        met &= ok
    if as_json:
        click.echo(json.dumps({"rule_set": classifier.ruleset.version, "results": results}))
    if check and not met:
        sys.exit(1)
