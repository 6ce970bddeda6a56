"""``pantau rules list``, and what ``rules push`` shows: the live rule set and the workers'.

The live set is compiled here exactly as a worker compiles it (:class:`LiveRules` over the
rule files, then the rules topic in publish order), and the workers' own reports come from
the status topic, so a difference between the two shows.
"""

from __future__ import annotations

import time
from datetime import timedelta
from typing import TYPE_CHECKING

import click

from streams.cli.output import console, errors
from streams.settings import Settings, get_settings

if TYPE_CHECKING:
    from streams.models import WorkerStatus
    from streams.worker.live_rules import LiveRules

STALE_INTERVALS = 3  # a worker silent for this many of its intervals has stopped
READ_SECONDS = 10.0  # longest wait to read a topic to its end


def current_rules(settings: Settings) -> tuple[LiveRules, list[str]]:
    """The rule files and the rules topic as a worker compiles them, and the topic's packs a
    worker refuses (with the error)."""
    from streams.rules.packs import RulePackError
    from streams.worker.live_rules import LiveRules, record_pack
    from streams.worker.rules_follower import read_rules_topic

    live = LiveRules(settings.rule_files, topic=settings.rules_topic)
    refused: dict[str, str] = {}
    for record in read_rules_topic(settings, READ_SECONDS)[0]:
        name, text = record_pack(record.key, record.value)
        try:
            live.apply(name, text)
            refused.pop(name, None)
        except RulePackError as error:
            refused[name] = str(error)
    return live, [f"{name}: {error}" for name, error in refused.items()]


def print_live_set(live: LiveRules) -> None:
    """The packs of the set, where each comes from, and their rules."""
    ruleset = live.ruleset
    console.print(
        f"live rule set {ruleset.version}: {len(ruleset.rules)} rules in "
        f"{len(ruleset.packs)} pack(s)"
    )
    for name, pack in ruleset.packs.items():
        enabled = [rule.id for rule in pack.rules if rule.enabled]
        where = f"{live.topic} (topic)" if live.origin(name) == "topic" else "rule file"
        console.print(
            f"  {name} v{pack.version} from {where}: {len(enabled)} rules: {', '.join(enabled)}",
            markup=False,
        )


def running(statuses: list[WorkerStatus]) -> list[WorkerStatus]:
    """The workers that reported within a few of their intervals."""
    from streams.models import utcnow

    now = utcnow()
    return [
        s for s in statuses if now - s.updated_at < timedelta(seconds=STALE_INTERVALS * s.interval)
    ]


def print_workers(statuses: list[WorkerStatus], expected: str) -> None:
    """One line per worker: the rule set it runs, and whether it is the live set."""
    if not statuses:
        console.print("no running worker has reported its rule set")
        return
    for status in statuses:
        same = "the live set" if status.rule_set == expected else "[red]not the live set[/]"
        packs = ", ".join(f"{p.name} v{p.version}" for p in status.packs)
        console.print(
            f"worker {status.worker} (app {status.app_id}): rule set {status.rule_set} "
            f"({same}), {status.rules} rules: {packs}; reported "
            f"{status.updated_at:%H:%M:%S}",
            highlight=False,
        )
        if status.rejected:
            console.print(f"  last refused: {status.rejected}", markup=False)


def await_workers(settings: Settings, version: str, wait: float) -> list[WorkerStatus]:
    """The running workers once all of them report ``version``, or as they are after ``wait``
    seconds."""
    from streams.worker.status import read_statuses

    deadline = time.monotonic() + wait
    while True:
        workers = running(read_statuses(settings, READ_SECONDS))
        if all(w.rule_set == version for w in workers) or time.monotonic() >= deadline:
            return workers
        time.sleep(1.0)


@click.command("list")
@click.option("--all", "show_all", is_flag=True, help="Also workers that stopped reporting.")
def rules_list(show_all: bool) -> None:
    """The live rule set: rule files (PANTAU_RULE_FILES) and the packs on the rules topic,
    compiled as a worker compiles them, and the rule set each running worker reports."""
    from streams.worker.status import read_statuses

    settings = get_settings()
    live, refused = current_rules(settings)
    print_live_set(live)
    for line in refused:
        errors.print(f"refused by workers: {line}", markup=False, highlight=False)
    statuses = read_statuses(settings, READ_SECONDS)
    print_workers(statuses if show_all else running(statuses), live.ruleset.version)
