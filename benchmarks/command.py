"""``pantau bench``: run the sections, write results.json and results.png, print the tables."""

from __future__ import annotations

import json
import math
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import click
from rich.console import Console

ROOT = Path(__file__).resolve().parents[1]  # the checkout: benchmarks/ sits beside streams/
SECTIONS = ("classifier", "e2e", "memory")
console = Console(highlight=False, width=None if sys.stdout.isatty() else 120)


def _counts(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.replace("_", "").split(",") if part.strip())


def _json_safe(value):
    """NaN is not JSON: write null instead, so any JSON reader can load the result."""
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    return value


@click.command("bench")
@click.option(
    "--quick", is_flag=True, help="Small sizes, few repeats: a smoke test (a few minutes)."
)
@click.option(
    "--only",
    type=click.Choice(SECTIONS),
    multiple=True,
    help="Run only this section (repeatable); default: all.",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=ROOT / "benchmarks" / "results",
    show_default="benchmarks/results",
    help="Folder for results.json, results.png and profiles.",
)
@click.option("--repeats", type=int, help="Repeats per figure (default 5 classifier, 3 e2e).")
@click.option("--articles", type=int, help="Articles per classifier run (default 1000).")
@click.option("--rule-counts", help="Generated pack sizes, comma-separated (default 1000,10000).")
@click.option("--backlog", type=int, help="Articles drained end to end (default 20000).")
@click.option("--rate", type=float, default=500.0, show_default=True, help="Steady articles/s.")
@click.option("--budget", type=float, help="Seconds a system may take to drain (default 45).")
@click.option("--memory-articles", type=int, help="Articles in the memory run (default 100000).")
@click.option("--memory-budget", type=float, help="Seconds the memory run may take (default 240).")
@click.option(
    "--quiet-share",
    type=click.FloatRange(0.0, 1.0),
    default=0.0,
    show_default=True,
    help="Share of articles that fire no rule (classifier and end to end; see workload.py).",
)
@click.option("--profile", is_flag=True, help="Also record py-spy profiles (not in the figures).")
@click.option("--worker-module", default="streams", hidden=True, help="Run `-m MODULE worker`.")
@click.option("--keep", is_flag=True, hidden=True, help="Keep the work folder (process logs).")
def bench(
    quick: bool,
    only: tuple[str, ...],
    out: Path,
    repeats: int | None,
    articles: int | None,
    rule_counts: str | None,
    backlog: int | None,
    rate: float,
    budget: float | None,
    memory_articles: int | None,
    memory_budget: float | None,
    quiet_share: float,
    profile: bool,
    worker_module: str,
    keep: bool,
) -> None:
    """Measure the classifier, the worker end to end and its memory, beside their baselines.

    Every figure is the median of repeated runs, and every comparison (naive regex baseline,
    raw aiokafka loop, no-op Faust agent) is measured in the same run on this machine.
    """
    from benchmarks import report
    from benchmarks.classifier import ClassifierPlan, run_classifier
    from benchmarks.e2e import E2EPlan, run_e2e
    from benchmarks.memory import MemoryPlan, run_memory

    sections = only or SECTIONS
    out.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="pantau-bench-"))
    classifier_plan = ClassifierPlan(
        articles=articles or (100 if quick else 1000),
        rule_counts=_counts(rule_counts) if rule_counts else ((1000,) if quick else (1000, 10000)),
        repeats=repeats or (2 if quick else 5),
        budget=1.0 if quick else 3.0,
        quiet_share=quiet_share,
    )
    e2e_plan = E2EPlan(
        workdir=workdir,
        backlog=backlog or (2000 if quick else 20_000),
        rate=rate,
        steady_seconds=5.0 if quick else 15.0,
        budget=budget or (30.0 if quick else 45.0),
        repeats=repeats or (1 if quick else 3),
        modules={"worker": worker_module},
        quiet_share=quiet_share,
    )
    memory_plan = MemoryPlan(
        articles=memory_articles or (5000 if quick else 100_000),
        budget=memory_budget or (60.0 if quick else 240.0),
    )
    results: dict = {
        "meta": {
            "date": report.now(),
            "quick": quick,
            "quiet_share": quiet_share,
            "sections": list(sections),
            "machine": report.machine(),
            "revision": report.revision(ROOT),
        }
    }

    def log(line: str) -> None:
        console.print(line, markup=False)

    started = time.monotonic()
    try:
        if "classifier" in sections:
            results["classifier"] = run_classifier(classifier_plan, log)
        if "e2e" in sections:
            results["e2e"] = run_e2e(e2e_plan, log)
        if "memory" in sections:
            log(f"memory: feeding up to {memory_plan.articles:,} articles to one worker")
            results["memory"] = run_memory(e2e_plan, memory_plan)
        if profile:
            results["profile"] = run_profiles(out, classifier_plan, e2e_plan, quick, log)
    finally:
        if keep:
            console.print(f"Process logs kept in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    results["meta"]["seconds"] = round(time.monotonic() - started, 1)
    results["meta"]["load_average_end"] = os.getloadavg()
    results["targets"] = report.targets(results)
    (out / "results.json").write_text(json.dumps(_json_safe(results), indent=2) + "\n")
    report.chart(results, out / "results.png")
    report.print_tables(results, console)
    console.print(f"Wrote {out / 'results.json'} and {out / 'results.png'}")


def run_profiles(out: Path, classifier_plan, e2e_plan, quick: bool, log) -> dict:
    """py-spy the classifier alone and the worker draining a backlog (extra, unmeasured runs)."""
    from benchmarks.classifier import profile_classifier
    from benchmarks.e2e import profile_worker

    seconds = 5.0 if quick else 20.0
    log(f"profile: py-spy on the classifier and on a worker, {seconds:.0f} s each")
    return {
        "classifier": profile_classifier(classifier_plan, seconds, out / "profile-classifier.txt"),
        "worker": profile_worker(e2e_plan, seconds, out / "profile-worker.txt"),
    }
