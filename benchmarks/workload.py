"""What every benchmark runs on: seed-sized articles and rule sets of 10, 1,000 and 10,000 rules.

Articles are the seed articles (2-8 KB) with their lines rotated, one rotation per copy, and
unique ids: the text and its size stay realistic, the first 1,000 characters that language
detection reads change, and no two consecutive records are identical. The vocabulary is the
seeds', so per-word caches are warm after the first few articles, as they are on real news.

Every seed article fires about five rules: the worst case for all that follows a match. A
real feed is mostly articles that fire nothing, so a share of *quiet* articles can be mixed
in. They are made of the seed lines on which the default pack fires nothing, so they still
name the treaty, the troops and the countries and reach the presearcher's candidate rules:
a pessimistic quiet article, dearer than an off-topic one.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from benchmarks.generate import generate_pack
from streams.engine import Classifier
from streams.models import Article, RulePack
from streams.rules.compiler import RuleSet
from streams.rules.packs import compile_texts, load_ruleset, parse_pack
from streams.settings import DEFAULT_PACK
from streams.tools.replay import parse_seed

SEEDS = Path(__file__).resolve().parents[1] / "seeds"
QUIET_BYTES = 4_000  # about a seed article's body


def seed_articles(folder: Path = SEEDS) -> list[Article]:
    return [parse_seed(path) for path in sorted(folder.glob("*.txt"))]


def iter_article_events(
    count: int, prefix: str = "a", seeds: list[Article] | None = None, quiet_share: float = 0.0
) -> Iterator[dict]:
    """``count`` article events (JSON-ready dicts) cycling over the seeds, lines rotated;
    ``quiet_share`` of them, evenly spread, fire no rule of the default pack."""
    seeds = seeds or seed_articles()
    quiet = quiet_bodies(seeds) if quiet_share > 0 else []
    loud = 0
    for number in range(count):
        if int((number + 1) * quiet_share) > int(number * quiet_share):
            yield {
                "id": f"{prefix}-{number:07d}-quiet",
                "title": "",
                "body": quiet[number % len(quiet)],
                "source": "seed:quiet",
            }
            continue
        seed = seeds[loud % len(seeds)]
        lines = seed.body.split("\n")
        turn = (loud // len(seeds)) % len(lines)
        loud += 1
        yield {
            "id": f"{prefix}-{number:07d}-{seed.id[:3]}",
            "title": seed.title,
            "body": "\n".join(lines[turn:] + lines[:turn]),
            "source": seed.source,
        }


def article_events(
    count: int, prefix: str = "a", seeds: list[Article] | None = None, quiet_share: float = 0.0
) -> list[dict]:
    return list(iter_article_events(count, prefix, seeds, quiet_share))


@cache
def default_classifier() -> Classifier:
    """The worker's classifier with the default pack: it decides which articles raise alerts."""
    return Classifier(load_ruleset([DEFAULT_PACK]))


def quiet_bodies(seeds: list[Article]) -> list[str]:
    """Seed-sized bodies that fire no default rule (made once per set of seeds)."""
    return list(_quiet_bodies(tuple(seed.body for seed in seeds)))


@cache
def _quiet_bodies(seed_bodies: tuple[str, ...]) -> tuple[str, ...]:
    """Runs of the seeds' quiet lines, one run starting at each such line, each checked as a
    whole (a rule may join two lines)."""
    classify = default_classifier().classify

    def fires(text: str) -> bool:
        return bool(classify(Article(id="quiet", title="", body=text)))

    lines = [line for body in seed_bodies for line in body.split("\n") if line.strip()]
    quiet = [line for line in lines if not fires(line)]
    bodies = []
    for start in range(len(quiet)):
        run, length = [], 0
        for line in quiet[start:] + quiet[:start]:
            run.append(line)
            length += len(line.encode())
            if length >= QUIET_BYTES:
                break
        body = "\n".join(run)
        if not fires(body):
            bodies.append(body)
    if not bodies:
        raise ValueError("no quiet articles can be made from these seeds")
    return tuple(bodies)


@dataclass
class Workload:
    """A rule set under test: its parsed packs (for the naive baseline) and the compiled set."""

    name: str
    packs: list[RulePack]
    ruleset: RuleSet
    compile_seconds: float

    @property
    def rules(self) -> int:
        return len(self.ruleset.rules)


def rule_texts(count: int | None, seeds: list[Article]) -> list[tuple[str, str]]:
    """(source, YAML) of the default pack (count None) or of a generated pack of ``count``."""
    if count is None:
        return [(str(DEFAULT_PACK), DEFAULT_PACK.read_text(encoding="utf-8"))]
    texts = [f"{a.title}\n{a.body}" for a in seeds]
    return [(f"<generated-{count}>", generate_pack(count, texts, seed=42))]


def load_workload(count: int | None, seeds: list[Article]) -> Workload:
    texts = rule_texts(count, seeds)
    started = time.perf_counter()
    ruleset = compile_texts(texts)
    elapsed = time.perf_counter() - started
    packs = [parse_pack(text, source) for source, text in texts]
    name = "default" if count is None else f"generated-{count}"
    return Workload(name, packs, ruleset, elapsed)
