"""The first stage: articles in, each rule's matches out to its story owner (or a dead letter).

record -> validate (:mod:`streams.validate`) -> document (:mod:`streams.text.document`) ->
match and alert (:mod:`streams.engine`) -> matches records (:mod:`streams.worker.matches`) ->
delivered (:mod:`streams.worker.delivery`). Every consumed article ends in exactly one of two
places before Faust may commit its offset: classified (its matches acknowledged by the broker;
there may be none) or on the dead-letter topic with the reason in its headers, so
``consumed = classified + dead-lettered`` always holds.
"""

from __future__ import annotations

import time

import faust
import structlog

from streams.settings import Settings
from streams.text.document import Document
from streams.validate import BadRecord, parse_record
from streams.worker import metrics
from streams.worker.delivery import RECORD_HEADROOM, DeadLetters, Outgoing, deliver
from streams.worker.matches import Match, article_matches, match_records
from streams.worker.rules_follower import RulesFollower

log = structlog.get_logger("pantau.worker")


class ClassifyStage:
    """The ``classify`` agent, with the rules it follows and where its records go."""

    def __init__(
        self,
        settings: Settings,
        rules: RulesFollower,
        matches_topic: faust.TopicT,
        dead_letters: DeadLetters,
    ):
        self.settings, self.rules = settings, rules
        self.matches_topic, self.dead_letters = matches_topic, dead_letters

    async def run(self, stream) -> None:
        """Classify articles in small batches and send each rule's matches on as one record.

        Articles are taken in small batches (``PANTAU_CLASSIFY_BATCH``, or what has come within
        ``PANTAU_CLASSIFY_BATCH_WAIT_MS``) so that a rule's matches from the whole batch travel to
        its story owner as one record: one story-table write and one count per rule and batch
        instead of per alert. Faust acknowledges the batch's offsets only after this body has
        returned, that is after every match of it is acknowledged by the broker.
        """
        settings = self.settings
        wait = settings.classify_batch_wait_ms / 1000
        max_bytes = settings.max_record_bytes - RECORD_HEADROOM
        async for events in stream.take_events(settings.classify_batch, within=wait):
            matches: list[Match] = []
            classified = 0
            for event in events:
                found = await self.classify_event(event)
                if found is not None:
                    matches.extend(found)
                    classified += 1
            records = [
                Outgoing(self.matches_topic, record.key, record.value)
                for record in match_records(matches, max_bytes)
            ]
            await deliver(records, "matches")
            metrics.ARTICLES_CLASSIFIED.inc(classified)
            metrics.LAST_PROCESSED.set_to_current_time()

    async def classify_event(self, event) -> list[Match] | None:
        """The article's matches (maybe none), or None once it is dead-lettered."""
        metrics.ARTICLES_CONSUMED.inc()
        message = event.message
        started = time.perf_counter()
        try:
            article = parse_record(event.value, self.settings.max_body_bytes)
            document = Document.from_article(article)
            alerts = self.rules.classifier.classify_document(document)
        except BadRecord as error:
            await self.dead_letters.park(message, error.reason, error.message, started)
            return None
        except Exception as error:  # a bug must not stop the partition or lose the record
            log.exception("classify_failed", partition=message.partition, offset=message.offset)
            detail = f"{type(error).__name__}: {error}"
            await self.dead_letters.park(message, "internal_error", detail, started)
            return None
        metrics.CLASSIFY_SECONDS.observe(time.perf_counter() - started)
        return article_matches(document, alerts)
