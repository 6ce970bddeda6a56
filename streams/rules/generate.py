"""A seeded generator of large rule packs, for measuring how matching cost grows with rules.

The vocabulary is the words of the given texts (by default the seed articles), so generated
rules hit real documents about as often as hand-written ones: frequent words make rules that
become candidates, rare words make rules the presearch skips. The same seed, texts and count
always give the same pack.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterable

import yaml

from streams.text.normalise import tokenise

SHAPES = (
    "{a} NEAR/{n} {b}",
    "({a} OR {b}) AND {c}",
    '"{a} {b}" OR {c}',
    "{a} ONEAR/{n} ({b} OR {c})",
    "{pa}* AND {b} NOT {c}",
    "title:{a} OR ({b} NEAR/{n} {c})",
)


def vocabulary(texts: Iterable[str], minimum_length: int = 4) -> list[str]:
    """Distinct words of the texts, most frequent first (ties alphabetical, so stable)."""
    counts = Counter(
        word
        for text in texts
        for word in tokenise("text", text).words
        if len(word) >= minimum_length and word.isalpha()
    )
    return [word for word, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]


def generate_pack(count: int, texts: Iterable[str], seed: int = 42) -> str:
    """YAML text of a pack with ``count`` rules built from the texts' vocabulary."""
    rng = random.Random(seed)
    words = vocabulary(texts)
    if len(words) < 10:
        raise ValueError("need texts with at least 10 distinct words")
    # Skew choices toward rare words, as real watch rules name specific things.
    weights = [1 + rank for rank in range(len(words))]
    rules = []
    for number in range(count):
        a, b, c = rng.choices(words, weights=weights, k=3)
        shape = rng.choice(SHAPES)
        query = shape.format(a=a, b=b, c=c, pa=a[: max(3, len(a) - 2)], n=rng.randint(2, 12))
        rules.append(
            {
                "id": f"generated_{number:05d}",
                "title": f"Generated rule {number}",
                "severity": rng.choice(["low", "medium", "high"]),
                "query": query,
            }
        )
    return yaml.safe_dump(
        {"version": f"generated-{count}-{seed}", "rules": rules},
        sort_keys=False,
        allow_unicode=True,
    )
