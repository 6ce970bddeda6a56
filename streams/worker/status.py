"""The worker's status record: which rule set it runs, so ``pantau rules list`` can say.

Each worker writes a :class:`~streams.models.WorkerStatus` to the compacted status topic (key:
``host:pid``) once it runs, at once when its rule set changes or a pack is refused, and every
``status_interval`` seconds, so a record older than a few intervals is a worker that stopped.
"""

from __future__ import annotations

import asyncio
import os
import socket
from contextlib import suppress

import faust
import structlog
from pydantic import ValidationError

from streams.models import PackStatus, WorkerStatus, utcnow
from streams.settings import Settings
from streams.worker.rules_follower import RulesFollower, read_to_end

log = structlog.get_logger("pantau.worker")
CHECK_SECONDS = 1.0  # how often a change of rule set is looked for


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class StatusReporter:
    """The worker's task that publishes its status."""

    def __init__(self, settings: Settings, rules: RulesFollower, topic: faust.TopicT):
        self.settings, self.rules, self.topic = settings, rules, topic
        self.worker, self.started_at = worker_id(), utcnow()

    def status(self) -> WorkerStatus:
        live = self.rules.rules
        ruleset = live.ruleset
        packs = [
            PackStatus(
                name=name,
                version=pack.version,
                rules=sum(rule.enabled for rule in pack.rules),
                origin=live.origin(name),
            )
            for name, pack in ruleset.packs.items()
        ]
        return WorkerStatus(
            worker=self.worker,
            app_id=self.settings.app_id,
            rules_topic=self.settings.rules_topic,
            rule_set=ruleset.version,
            rules=len(ruleset.rules),
            packs=packs,
            rejected=self.rules.rejected,
            started_at=self.started_at,
            updated_at=utcnow(),
            interval=self.settings.status_interval,
        )

    async def run(self) -> None:
        reported, last = None, 0.0
        loop = asyncio.get_running_loop()
        while True:
            state = (self.rules.rules.ruleset.version, self.rules.rejected)
            if state != reported or loop.time() - last >= self.settings.status_interval:
                value = self.status().model_dump_json().encode()
                try:
                    await self.topic.send(key=self.worker.encode(), value=value)
                except asyncio.CancelledError:
                    raise
                except Exception as error:  # the broker is away: the next check tries again
                    log.warning("status_not_sent", error=str(error) or type(error).__name__)
                else:
                    reported, last = state, loop.time()
            await asyncio.sleep(CHECK_SECONDS)


def read_statuses(settings: Settings, timeout: float = 10.0) -> list[WorkerStatus]:
    """The latest status of every worker that follows this rules topic, newest first."""
    records, _ = read_to_end(settings, settings.status_topic, timeout)
    latest = {record.key: record.value for record in sorted(records, key=lambda r: r.timestamp)}
    statuses = []
    for value in filter(None, latest.values()):
        with suppress(ValidationError):  # not a worker's status: nothing to show
            status = WorkerStatus.model_validate_json(value)
            if status.rules_topic == settings.rules_topic:
                statuses.append(status)
    return sorted(statuses, key=lambda status: status.updated_at, reverse=True)
