"""Instructions the classifier spends per article, counted by callgrind: a cost figure that
does not move with the machine's load, for comparing two versions of the rules or the matcher.

    python -m benchmarks.instructions [--articles 200] [--quiet-share 0.8] [--rules FILE]

It runs itself under ``valgrind --tool=callgrind`` (Debian's ``valgrind``) with collection
off, switches it on around the classifying loop only (after a warm-up of 50 articles), and
prints the count divided by the articles. Python's hash seed is fixed, so a repeat gives the
same figure to within a fraction of a percent.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

WARM_UP = 50


def measure(articles: int, quiet_share: float, rules: Path | None) -> int:
    """Instructions per article of classifying ``articles`` articles of the workload."""
    with tempfile.TemporaryDirectory() as folder:
        command = [
            "valgrind",
            "--tool=callgrind",
            "--instr-atstart=no",
            f"--callgrind-out-file={folder}/callgrind.out",
            sys.executable,
            "-m",
            "benchmarks.instructions",
            "--inside",
            f"--articles={articles}",
            f"--quiet-share={quiet_share}",
            *([f"--rules={rules}"] if rules else []),
        ]
        run = subprocess.run(
            command, capture_output=True, text=True, env={**os.environ, "PYTHONHASHSEED": "0"}
        )
    found = re.search(r"Collected : (\d+)", run.stderr)
    if run.returncode or found is None:
        raise SystemExit(f"callgrind run failed:\n{run.stderr[-2000:]}")
    return int(found.group(1)) // articles


def classify_inside(articles: int, quiet_share: float, rules: Path | None) -> None:
    """The measured part, run under callgrind: collection is on only around the loop."""
    from benchmarks.workload import article_events, default_classifier
    from streams.engine import Classifier
    from streams.models import Article
    from streams.rules.packs import load_ruleset

    classifier = Classifier(load_ruleset([rules])) if rules else default_classifier()
    events = article_events(WARM_UP + articles, quiet_share=quiet_share)
    batch = [Article.model_validate(event) for event in events]
    for article in batch[:WARM_UP]:
        classifier.classify(article)
    control = ["callgrind_control", "--instr"]
    subprocess.run([*control, "on", str(os.getpid())], capture_output=True, check=True)
    for article in batch[WARM_UP:]:
        classifier.classify(article)
    subprocess.run([*control, "off", str(os.getpid())], capture_output=True, check=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=200)
    parser.add_argument("--quiet-share", type=float, default=0.8)
    parser.add_argument("--rules", type=Path, help="a rule pack (default: the built-in pack)")
    parser.add_argument("--inside", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.inside:
        classify_inside(args.articles, args.quiet_share, args.rules)
        return
    per_article = measure(args.articles, args.quiet_share, args.rules)
    print(
        f"{per_article:,} instructions per article ({args.articles} articles, "
        f"{args.quiet_share:.0%} quiet)"
    )


if __name__ == "__main__":
    main()
