"""The data path's last step: alerts out, acknowledged, then counted and logged.

Each alert goes to the alerts topic; a story's first alert also to the stories topic, and a
burst to the bursts topic. Metrics and the ``alert`` log line follow the broker's
acknowledgement, so they count what subscribers can actually read.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import faust
import structlog

from streams.bursts import BurstEvent
from streams.models import Alert
from streams.worker import metrics
from streams.worker.delivery import Outgoing, deliver
from streams.worker.feedback_stage import FeedbackIndex

log = structlog.get_logger("pantau.worker")


@dataclass(frozen=True)
class Publisher:
    alerts_topic: faust.TopicT
    stories_topic: faust.TopicT
    bursts_topic: faust.TopicT
    publish_new_stories: bool  # also send each story's first alert to the stories topic
    feedback_index: FeedbackIndex | None = None  # each alert's rule id, for verdicts on it

    async def publish(
        self, alerts: list[Alert], since: list[float | None], burst: BurstEvent | None
    ) -> None:
        """Send the alerts (and each new story's first alert, and a burst); wait for the acks.

        ``since`` holds each alert's article time, for the end-to-end latency.
        """
        outgoing = []
        for alert in alerts:
            key, value = alert.alert_id.encode(), alert.model_dump_json().encode()
            outgoing.append(Outgoing(self.alerts_topic, key, value))
            if self.publish_new_stories and alert.story_status == "new":
                outgoing.append(Outgoing(self.stories_topic, key, value))
        if self.feedback_index is not None:
            outgoing.extend(self.feedback_index.records(alerts))
        if burst is not None:
            value = burst.model_dump_json().encode()
            outgoing.append(Outgoing(self.bursts_topic, burst.rule_id.encode(), value))
            metrics.BURSTS.labels(burst.rule_id).inc()
            log.warning("burst", rule_id=burst.rule_id, count=burst.count, baseline=burst.baseline)
        await deliver(outgoing, "alert")
        now = time.time()
        for alert, published in zip(alerts, since, strict=True):
            latency = None if published is None else max(0.0, now - published)
            metrics.ALERTS_PUBLISHED.labels(alert.rule_id, alert.severity).inc()
            if alert.story_status == "new":
                metrics.STORIES_OPENED.labels(alert.rule_id).inc()
            if latency is not None:
                metrics.END_TO_END_SECONDS.observe(latency)
            log.info(
                "alert",
                alert_id=alert.alert_id,
                rule_id=alert.rule_id,
                rule_version=alert.rule_version,
                article_id=alert.article.id,
                story_id=alert.story.id if alert.story else None,
                story_status=alert.story_status,
                score=alert.score,
                latency_seconds=latency,
            )
