"""The ``--rules`` option of every command that classifies, so they all pick packs alike.

Kept apart from :mod:`streams.rules.packs` so that ``pantau --help`` does not import the compiler.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import click

from streams.settings import get_settings


def rule_packs_option(command: Callable) -> Callable:
    """``--rules FILE`` (repeatable): hands the command a compiled ``ruleset`` of those packs,
    else of ``PANTAU_RULE_FILES`` or the built-in pack. A bad pack's error ends the command
    (``streams.cli`` prints it as ``file:line:column: message``)."""

    def load(_context: click.Context, _parameter: click.Parameter, paths: tuple[Path, ...]):
        from streams.rules.packs import load_ruleset

        return load_ruleset(list(paths) or get_settings().rule_files)

    return click.option(
        "--rules",
        "ruleset",
        multiple=True,
        type=click.Path(exists=True, path_type=Path),
        callback=load,
        help="Rule pack (repeatable; default: PANTAU_RULE_FILES or the built-in pack).",
    )(command)
