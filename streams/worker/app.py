"""The worker's Faust app, built on request: nothing happens when this module is imported.

:func:`build_app` compiles the rules and wires the app: its topics and tables, the two stages
(:mod:`~streams.worker.classify_stage` and :mod:`~streams.worker.story_stage`), the feedback
agents (:mod:`~streams.worker.feedback_stage`), the rules follower, the broker watch, the
sensor and the client workarounds. :func:`run` is ``pantau worker``: build, wait for the
brokers, read the rules topic, hand over to Faust.
"""

from __future__ import annotations

from dataclasses import dataclass

import faust
import structlog

from streams.settings import Settings, for_broker
from streams.worker import heap, metrics, sensors, workarounds
from streams.worker.broker_watch import BrokerWatch, wait_for_broker
from streams.worker.classify_stage import ClassifyStage
from streams.worker.delivery import DeadLetters
from streams.worker.faust_config import faust_options
from streams.worker.feedback_stage import FeedbackIndex, FeedbackStage
from streams.worker.logs import configure_logging, dict_config
from streams.worker.publish import Publisher
from streams.worker.rules_follower import RulesFollower
from streams.worker.status import StatusReporter
from streams.worker.story_stage import StoryStage

log = structlog.get_logger("pantau.worker")


@dataclass(frozen=True)
class WorkerApp:
    """The app and what :func:`run` needs of it after building."""

    app: faust.App
    rules: RulesFollower


def build_app(settings: Settings, rules: RulesFollower | None = None) -> WorkerApp:
    """The Faust app of a worker, with everything registered; compiles the rules first (unless
    given them), so a bad rule file ends a start before anything else is set up."""
    rules = rules or RulesFollower(settings)
    app = faust.App(settings.app_id, **faust_options(settings))

    def topic(name: str) -> faust.TopicT:
        return app.topic(name, key_type=bytes, value_type=bytes)

    articles_topic = topic(settings.articles_topic)
    alerts_topic = topic(settings.alerts_topic)
    stories_topic = topic(settings.stories_topic)
    bursts_topic = topic(settings.bursts_topic)
    dead_letter_topic = topic(settings.dead_letter_topic)
    status_topic = topic(settings.status_topic)
    # The story stage: alerts re-keyed by rule id, so one worker owns each rule's stories and
    # counts, and the tables partition exactly like this topic (co-partitioned changelogs).
    matches_topic = app.topic(
        f"{settings.app_id}-matches", key_type=str, value_type=bytes, internal=True
    )
    stories_table = app.Table("stories", key_type=str, default=None)
    rule_counts = app.Table("rule-counts", key_type=str, default=int).tumbling(
        settings.burst_window_seconds,
        expires=settings.burst_window_seconds * (settings.burst_history + 2),
    )
    rule_watch = app.Table("rule-watch", key_type=str, default=None)
    # Verdicts on alerts: read from the feedback topic, counted next to an index of the alerts
    # on an internal topic keyed by alert id (see streams.worker.feedback_stage).
    feedback_topic = topic(settings.alert_feedback_topic)
    verdicts_topic = app.topic(
        f"{settings.app_id}-feedback", key_type=str, value_type=bytes, internal=True
    )
    feedback_table = app.Table("alert-feedback", key_type=str, default=None)

    workarounds.install(
        app,
        [
            alerts_topic,
            stories_topic,
            bursts_topic,
            dead_letter_topic,
            matches_topic,
            status_topic,
            verdicts_topic,
        ],
        settings,
    )
    sensors.install(app, lag_topics={articles_topic.get_topic_name()})

    dead_letters = DeadLetters(dead_letter_topic, settings.max_record_bytes)
    classify_stage = ClassifyStage(settings, rules, matches_topic, dead_letters)
    index = FeedbackIndex(verdicts_topic, settings.partitions)
    publisher = Publisher(
        alerts_topic, stories_topic, bursts_topic, settings.publish_new_stories, index
    )
    story_stage = StoryStage(settings, stories_table, rule_counts, rule_watch, publisher)
    feedback_stage = FeedbackStage(verdicts_topic, feedback_table, dead_letters)
    app.agent(articles_topic, name="classify")(classify_stage.run)
    app.agent(matches_topic, name="stories")(story_stage.run)
    app.agent(feedback_topic, name="feedback-relay")(feedback_stage.relay)
    app.agent(verdicts_topic, name="feedback")(feedback_stage.judge)
    app.task(BrokerWatch(settings).run)
    app.task(rules.follow)
    app.task(StatusReporter(settings, rules, status_topic).run)
    return WorkerApp(app, rules)


def run(settings: Settings) -> None:
    """Run a worker until it is stopped: ``pantau worker``."""
    configure_logging(settings.log_format, settings.log_level)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    rules = RulesFollower(settings)
    tuned = for_broker(settings, wait_for_broker(settings))
    if tuned is not settings:
        log.info("broker_profile", profile="tansu", rebalance_timeout=tuned.rebalance_timeout)
    worker = build_app(tuned, rules)
    worker.rules.preload(settings.rules_wait)
    worker.app.conf.logging_config = dict_config(settings.log_format, settings.log_level)
    metrics.serve(settings.metrics_host, settings.metrics_port)
    heap.settle()
    faust.Worker(worker.app, loglevel=settings.log_level).execute_from_commandline()
