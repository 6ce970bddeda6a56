"""The second stage: a rule's matches -> stories -> burst count -> publish.

Matches arrive keyed by rule id, so this worker owns the rules of its partitions: their
stories (a table per rule) and their alert counts (a windowed table, see
:func:`streams.bursts.count_alerts`). The tables partition exactly like the matches topic
(co-partitioned changelogs). Alerts are acknowledged before a match's offset is committed.
"""

from __future__ import annotations

from datetime import timedelta

import faust
import structlog

from streams.bursts import BurstThresholds, count_alerts
from streams.models import Alert
from streams.settings import Settings
from streams.stories import alert_time, assign
from streams.worker.matches import Match, read_matches
from streams.worker.publish import Publisher

log = structlog.get_logger("pantau.worker")


class StoryStage:
    """The ``stories`` agent, with its tables and where it publishes."""

    def __init__(
        self,
        settings: Settings,
        stories: faust.Table,
        rule_counts: faust.Table,
        rule_watch: faust.Table,
        publisher: Publisher,
    ):
        self.stories, self.rule_counts, self.rule_watch = stories, rule_counts, rule_watch
        self.publisher = publisher
        self.window = timedelta(hours=settings.story_window_hours)
        self.thresholds = BurstThresholds(
            window_seconds=settings.burst_window_seconds,
            history=settings.burst_history,
            factor=settings.burst_factor,
            min_count=settings.burst_min_count,
            warmup=settings.burst_warmup,
        )

    async def run(self, stream) -> None:
        async for event in stream.events():
            matches = read_matches(event.value)
            alerts = self.group(event.key, matches)
            try:
                burst = count_alerts(
                    self.rule_counts,
                    self.rule_watch,
                    event.key,
                    event.message.timestamp,
                    len(matches),
                    self.thresholds,
                )
            except Exception:  # the alerts still go out, without a burst check, rather than be lost
                log.exception("burst_count_failed", rule_id=event.key)
                burst = None
            await self.publisher.publish(alerts, [m.since for m in matches], burst)

    def group(self, rule_id: str, matches: list[Match]) -> list[Alert]:
        """Put each alert into a story of its rule, in order; the rule's state is written once."""
        state = self.stories.get(rule_id)
        alerts = []
        for match in matches:
            alert = match.alert
            try:
                assignment = assign(
                    state,
                    rule_id=rule_id,
                    alert_id=alert.alert_id,
                    article_id=alert.article.id,
                    source=alert.article.source,
                    signature=match.signature,
                    now=alert_time(alert.article.published_at, alert.detected_at),
                    window=self.window,
                )
            except Exception:  # the alert still goes out, without a story, rather than be lost
                log.exception("story_failed", alert_id=alert.alert_id, rule_id=rule_id)
                alerts.append(alert)
                continue
            state = assignment.state
            update = {"story": assignment.story, "story_status": assignment.status}
            alerts.append(alert.model_copy(update=update))
        if state is not None:
            self.stories[rule_id] = state
        return alerts
