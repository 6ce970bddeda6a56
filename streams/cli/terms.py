"""``pantau rules terms``: what a term matches, counted in a sample of real words."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import click

from streams.cli.output import console

SHOWN_FORMS = 12
SHOWN_MATCHES = 20


def _sample(paths: tuple[Path, ...]) -> tuple[Counter[str], str]:
    """Word counts of the articles in ``paths``; by default the seed articles (when the
    checkout has them) and the words of the default pack's concepts. And what they are."""
    from pydantic import ValidationError

    from streams.cli.run import SEEDS
    from streams.models import Article
    from streams.rules.packs import parse_pack
    from streams.settings import DEFAULT_PACK
    from streams.text.document import Document
    from streams.text.normalise import tokenise
    from streams.tools.replay import articles_from

    counts: Counter[str] = Counter()
    sources = paths or ((SEEDS,) if SEEDS.is_dir() else ())
    articles = 0
    for event in articles_from(sources):
        try:
            document = Document.from_article(Article.model_validate(event))
        except ValidationError:
            continue  # not an article the worker would classify either
        articles += 1
        for text_field in document.fields:
            counts.update(text_field.words)
    described = f"{articles} article(s), {counts.total():,} words"
    if not paths:
        pack = parse_pack(DEFAULT_PACK.read_text(encoding="utf-8"), str(DEFAULT_PACK))
        entries = [e for terms in pack.concepts.values() for es in terms.values() for e in es]
        words = [w for entry in entries for w in tokenise("term", entry.rstrip("*")).words]
        counts.update(words)
        described = f"the seed articles ({described}) and the default pack's {len(words):,} words"
    return counts, described


@click.command("terms")
@click.argument("terms", nargs=-1, required=True)
@click.option(
    "--language",
    type=click.Choice(["id", "en", "ms"]),
    default="id",
    show_default=True,
    help="The language the term is listed under in a concept.",
)
@click.option(
    "--sample",
    "samples",
    multiple=True,
    type=click.Path(exists=True, path_type=Path),
    help="Articles to count words in (JSON Lines, seed text files or folders; repeatable). "
    "Default: the seed articles and the words of the default pack.",
)
@click.option("--forms", "all_forms", is_flag=True, help="List every form a term expands into.")
def rules_terms(terms: tuple[str, ...], language: str, samples: tuple[Path, ...], all_forms: bool):
    """What each TERM of a concept matches: the forms it expands into (an Indonesian/Malay
    root's affixed forms, an English word's inflections and stem; a wildcard's prefix), the
    words of a sample it matches with their counts, and a warning when an Indonesian term is
    not a root or a root also matches words of their own (`rules check` warns alike)."""
    from streams.rules.terms import report

    sample, described = _sample(samples)
    for term in terms:
        found = report(term, language, sample)
        console.print(f"[bold]{term}[/] ({language}): {found.kind}", highlight=False)
        if found.forms:
            shown = found.forms if all_forms else found.forms[:SHOWN_FORMS]
            more = "" if len(shown) == len(found.forms) else ", ... (--forms lists them all)"
            console.print(
                f"  expands into {len(found.forms)} forms: {', '.join(shown)}{more}",
                markup=False,
            )
        matched = ", ".join(f"{word} {count}" for word, count in found.matched[:SHOWN_MATCHES])
        console.print(f"  in {described}: {matched or 'no word matches'}", markup=False)
        for warning in found.warnings:
            console.print(f"  warning: {warning}", markup=False)
