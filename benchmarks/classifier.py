"""Section 1: the classifier alone, beside the naive baseline, on the same articles in one run.

Runs alternate (Pantau, naive, next rule set, ...) so background load on a shared machine lands
on both sides of each comparison; every reported figure is the median over the repeats.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from benchmarks import profile
from benchmarks.naive import naive_classify, naive_rules
from benchmarks.stats import median, percentile, ratio
from benchmarks.workload import Workload, article_events, load_workload, seed_articles
from streams.engine import Classifier
from streams.models import Article

WARMUP_ARTICLES = 20  # fills the per-rule-set word cache, as the first minutes of a worker do


@dataclass
class ClassifierPlan:
    articles: int = 1000
    rule_counts: tuple[int, ...] = (1000, 10000)
    repeats: int = 5
    budget: float = 3.0  # seconds per timed run; a slow side stops early (at least min_articles)
    min_articles: int = 3
    quiet_share: float = 0.0  # articles that fire no rule (workload.py)


def timed_run(
    classify: Callable[[Article], object], articles: list[Article], budget: float, least: int
) -> dict:
    """Classify articles in order until all are done or ``budget`` seconds have passed."""
    durations: list[float] = []
    clock = time.perf_counter
    started = clock()
    for article in articles:
        before = clock()
        classify(article)
        durations.append(clock() - before)
        if before - started > budget and len(durations) >= least:
            break
    elapsed = clock() - started
    return {
        "articles": len(durations),
        "seconds": elapsed,
        "articles_per_second": len(durations) / elapsed,
        "p50_ms": percentile(durations, 50) * 1000,
        "p99_ms": percentile(durations, 99) * 1000,
    }


def summarise(runs: list[dict]) -> dict:
    return {
        "articles_per_second": median([r["articles_per_second"] for r in runs]),
        "p50_ms": median([r["p50_ms"] for r in runs]),
        "p99_ms": median([r["p99_ms"] for r in runs]),
        "runs": runs,
    }


def plan_articles(plan: ClassifierPlan, seeds: list[Article]) -> list[Article]:
    events = article_events(plan.articles, seeds=seeds, quiet_share=plan.quiet_share)
    return [Article.model_validate(event) for event in events]


def run_classifier(plan: ClassifierPlan, log: Callable[[str], None] = print) -> dict:
    seeds = seed_articles()
    articles = plan_articles(plan, seeds)
    workloads: list[Workload] = []
    for count in (None, *plan.rule_counts):
        workload = load_workload(count, seeds)
        log(f"classifier: {workload.name} compiled in {workload.compile_seconds:.1f} s")
        workloads.append(workload)
    sides = []
    for workload in workloads:
        pantau = Classifier(workload.ruleset).classify
        rules = naive_rules(workload.packs)
        naive = lambda article, rules=rules: naive_classify(rules, article)  # noqa: E731
        for article in articles[:WARMUP_ARTICLES]:
            pantau(article)
        naive(articles[0])
        sides.append((workload, pantau, naive, {"pantau": [], "naive": []}))
    for repeat in range(plan.repeats):
        for workload, pantau, naive, runs in sides:
            for name, classify in (("pantau", pantau), ("naive", naive)):
                run = timed_run(classify, articles, plan.budget, plan.min_articles)
                runs[name].append(run)
                log(
                    f"classifier {repeat + 1}/{plan.repeats} {workload.name:>16} {name:>6}: "
                    f"{run['articles_per_second']:8.1f} articles/s"
                )
    sizes = [len(f"{a.title}\n{a.body}".encode()) for a in articles]
    results = []
    for workload, _, _, runs in sides:
        speedups = [
            ratio(p["articles_per_second"], n["articles_per_second"])
            for p, n in zip(runs["pantau"], runs["naive"], strict=True)
        ]
        results.append(
            {
                "name": workload.name,
                "rules": workload.rules,
                "compile_seconds": workload.compile_seconds,
                "pantau": summarise(runs["pantau"]),
                "naive": summarise(runs["naive"]),
                "speedup_vs_naive": median(speedups),
            }
        )
    default = results[0]["pantau"]["runs"]
    for result in results[1:]:
        result["share_of_default"] = median(
            [
                ratio(r["articles_per_second"], d["articles_per_second"])
                for r, d in zip(result["pantau"]["runs"], default, strict=True)
            ]
        )
    return {
        "articles": plan.articles,
        "article_bytes": [min(sizes), max(sizes)],
        "repeats": plan.repeats,
        "budget_seconds": plan.budget,
        "quiet_share": plan.quiet_share,
        "rulesets": results,
    }


def profile_classifier(plan: ClassifierPlan, seconds: float, output: Path) -> dict:
    """py-spy this process while it classifies with the default pack (an unmeasured run)."""
    seeds = seed_articles()
    articles = plan_articles(plan, seeds)
    classify = Classifier(load_workload(None, seeds).ruleset).classify
    for article in articles[:WARMUP_ARTICLES]:
        classify(article)
    sampler = profile.record(os.getpid(), seconds, output)
    time.sleep(0.5)  # py-spy attaches
    count, started = 0, time.perf_counter()
    while sampler.poll() is None:
        for article in articles[:50]:
            classify(article)
        count += 50
    rate = count / (time.perf_counter() - started)
    return {"articles_per_second_while_profiled": rate, **profile.top_frames(output)}
