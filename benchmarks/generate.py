"""A seeded generator of large rule packs, for measuring how matching cost grows with rules.

Terms come from two pools: the words of the given texts (the seed articles in the benchmarks)
and pronounceable made-up words that no article contains. Every query needs two or three terms
together, so, as with real watch lists, most rules never become candidates, some are evaluated
and fail, and a few fire. The same seed, texts and count always give the same pack.
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
    '"{a} {b}" AND {c}',
    "{a} ONEAR/{n} ({b} OR {c})",
    "{pa}* AND {b} NOT {c}",
    "title:{a} AND ({b} NEAR/{n} {c})",
)
SYLLABLES = [c + v for c in "bdgjklmnprstwz" for v in "aeiou"]


def vocabulary(texts: Iterable[str], minimum_length: int = 4) -> list[str]:
    """Distinct words of the texts, most frequent first (ties alphabetical, so stable)."""
    counts = Counter(
        word
        for text in texts
        for word in tokenise("text", text).words
        if len(word) >= minimum_length and word.isalpha()
    )
    return [word for word, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]


def made_up_words(count: int, rng: random.Random) -> list[str]:
    return sorted({"".join(rng.choices(SYLLABLES, k=rng.randint(2, 4))) for _ in range(count)})


def generate_pack(count: int, texts: Iterable[str], seed: int = 42, text_share: float = 0.1) -> str:
    """YAML text of a pack with ``count`` rules; ``text_share`` of terms come from the texts."""
    rng = random.Random(seed)
    real = vocabulary(texts)
    if len(real) < 10:
        raise ValueError("need texts with at least 10 distinct words")
    unreal = made_up_words(max(1000, count), rng)
    rules = []
    for number in range(count):
        a, b, c = (
            rng.choice(real) if rng.random() < text_share else rng.choice(unreal) for _ in range(3)
        )
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
