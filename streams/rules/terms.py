"""What a term of a rule matches, for ``pantau rules terms`` and the warnings of ``rules check``.

A term is compiled exactly as a pack's concept is, and the words of a sample it matches are
found with the rule set's own lookup, so what is shown is what a rule will match.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from streams.models import Rule, RulePack
from streams.rules.compiler import compile_packs
from streams.text.morphology import surface_forms
from streams.text.normalise import tokenise
from streams.text.roots import LEXICALISED, known_roots, own_words, roots_of

ROOT_LANGUAGES = ("id", "ms")  # terms that are roots, expanded into affixed forms
SHOWN_EXAMPLES = 3
# A derived term's verb forms that its own expansion misses: memperluas for perluas.
VERB_PREFIXES = ("me", "mem", "men", "meng", "meny", "di", "ter")


@dataclass
class TermReport:
    """A term, the forms it expands into, the words of a sample it matches, and warnings."""

    term: str
    language: str
    kind: str
    forms: list[str]
    matched: list[tuple[str, int]]  # sample words it matches, most frequent first
    warnings: list[str]


def _kind(term: str, language: str, words: list[str]) -> str:
    if term.endswith("*"):
        return "a wildcard: words that start with it, as written"
    if len(words) > 1:
        return "a phrase: its words in a row, each in any form" + (
            "; also written as one word" if len(words) == 2 else ""
        )
    if language == "en":
        return "an English word: its inflections and every word of its Snowball stem"
    if words[0] in LEXICALISED:
        return f"a word of its own ({LEXICALISED[words[0]][1]}), expanded as a root"
    known = "a dictionary root" if words[0] in known_roots() else "not in the dictionary"
    return f"an Indonesian/Malay root ({known}), expanded into its affixed forms"


def term_warnings(term: str, language: str) -> list[str]:
    """Why an Indonesian/Malay term may not match what its writer means (nothing for others)."""
    if language not in ROOT_LANGUAGES or term.strip().endswith("*"):
        return []
    warnings = []
    for word in tokenise("term", term.strip('"')).words:
        expanded = surface_forms(word, "id")
        for root in roots_of(word):
            missed = sorted(
                form
                for form in surface_forms(root, "id")
                if form not in expanded and form.startswith(tuple(p + word for p in VERB_PREFIXES))
            )[:SHOWN_EXAMPLES]
            if missed:
                wildcards = ", ".join(f"{form}*" for form in (*missed[:1], word))
                warnings.append(
                    f"{word!r} is not a root but a form of {root!r}, so it misses "
                    f"{', '.join(missed)}: write the root {root!r}, or the forms wanted as "
                    f"wildcards ({wildcards})"
                )
        own = own_words(word)
        if own:
            listed = ", ".join(f"{form!r} ({meaning})" for form, meaning in own)
            warnings.append(
                f"{word!r} also matches {listed}: words of their own; write the forms wanted "
                f"as wildcards ({', '.join(_plain_forms(word))}) or guard against them"
            )
    return warnings


def _plain_forms(root: str) -> list[str]:
    """Wildcards for a root's passive and accidental forms that are not words of their own."""
    own = {form for form, _ in own_words(root)}
    return [f"{prefix}{root}*" for prefix in ("di", "ter") if f"{prefix}{root}" not in own]


def report(term: str, language: str, sample: Counter[str]) -> TermReport:
    """What ``term`` (as a concept's term in ``language``) matches, counted in ``sample``."""
    pack = RulePack(
        concepts={"term": {language: [term]}},  # type: ignore[dict-item]
        rules=[Rule(id="term", title="term", query="@term")],
    )
    ruleset = compile_packs({"terms": pack})
    words = list(sample)
    hits = ruleset.terms_of_words(words)
    matched = sorted(
        ((word, sample[word]) for word, found in zip(words, hits, strict=True) if found),
        key=lambda pair: (-pair[1], pair[0]),
    )
    parts = tokenise("term", term.strip('"').rstrip("*")).words
    forms = set()
    if not term.endswith("*"):
        for part in parts:
            forms |= surface_forms(part, language)
    return TermReport(
        term,
        language,
        _kind(term, language, parts),
        sorted(forms, key=lambda f: (len(f), f)),
        matched,
        term_warnings(term, language),
    )
