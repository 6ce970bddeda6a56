"""Prometheus metrics of a worker: names follow Prometheus conventions, labels stay bounded.

Counters are declared without ``_total``; prometheus-client appends it on exposition. Every
label value comes from a closed set (rule ids of the loaded packs, dead-letter reasons, topics
and partitions the worker consumes), so a series count never grows with the traffic.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from prometheus_client import Counter, Gauge, Histogram, Info, start_http_server

from streams.models import VERDICTS
from streams.validate import REASONS

if TYPE_CHECKING:
    from streams.rules.compiler import RuleSet

# ---- Pantau ----------------------------------------------------------------------------------
ARTICLES_CONSUMED = Counter("pantau_articles_consumed", "Article records read from the topic.")
ARTICLES_CLASSIFIED = Counter(
    "pantau_articles_classified", "Articles classified (with zero or more alerts)."
)
ARTICLES_DEAD_LETTERED = Counter(
    "pantau_articles_dead_lettered", "Records sent to the dead-letter topic.", ["reason"]
)
ALERTS_PUBLISHED = Counter(
    "pantau_alerts_published", "Alerts acknowledged by the broker.", ["rule_id", "severity"]
)
BURSTS = Counter("pantau_bursts", "Burst events: a rule far above its usual rate.", ["rule_id"])
STORIES_OPENED = Counter("pantau_stories_opened", "Alerts that opened a new story.", ["rule_id"])
SEND_RETRIES = Counter(
    "pantau_send_retries",
    "Records sent again after the broker did not acknowledge them (what: matches, alert, ...).",
    ["what"],
)
RULE_RELOADS = Counter("pantau_rule_reloads", "Rule-set reloads.", ["outcome"])
ALERT_FEEDBACK = Counter(
    "pantau_alert_feedback",
    "Alerts given a verdict: once per alert, again only when a reader changes it (under the "
    "new verdict). Minus pantau_alert_feedback_withdrawn: alerts by their latest verdict.",
    ["rule_id", "verdict"],
)
ALERT_FEEDBACK_WITHDRAWN = Counter(
    "pantau_alert_feedback_withdrawn",
    "Verdicts replaced by a different, later verdict on the same alert.",
    ["rule_id", "verdict"],
)
CLASSIFY_SECONDS = Histogram(
    "pantau_classification_seconds",
    "Time to classify one article.",
    buckets=(0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0),
)
END_TO_END_SECONDS = Histogram(
    "pantau_end_to_end_latency_seconds",
    "From the article's publish (or receipt) time to its alert's acknowledgement.",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 3600),
)
RULES_LOADED = Gauge("pantau_rules_loaded", "Enabled rules in the active rule set.")
RULESET = Info("pantau_ruleset", "The active rule set.")
LAST_PROCESSED = Gauge(
    "pantau_last_processed_timestamp_seconds", "Unix time the last record was processed."
)
BROKER_RESPONDING = Gauge(
    "pantau_broker_responding",
    "1 while the broker answers this worker's metadata probe in time, 0 while it does not.",
)
CONSUMER_LAG = Gauge(
    "pantau_consumer_lag",
    "Records in an assigned partition this worker has not processed yet (highwater - position).",
    ["topic", "partition"],
)

# ---- Faust's own sensor events (streams.worker.sensors.FaustMetrics) ------------------------
FAUST_MESSAGES_RECEIVED = Counter(
    "pantau_faust_messages_received", "Messages Faust handed to streams.", ["topic"]
)
FAUST_MESSAGES_PROCESSED = Counter(
    "pantau_faust_messages_processed", "Messages every stream finished with.", ["topic"]
)
FAUST_TOPIC_BUFFER_FULL = Counter(
    "pantau_faust_topic_buffer_full", "Times a full topic buffer made the consumer wait.", ["topic"]
)
FAUST_COMMIT_SECONDS = Histogram(
    "pantau_faust_commit_latency_seconds",
    "Time to commit consumer offsets.",
    buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
FAUST_SEND_SECONDS = Histogram(
    "pantau_faust_send_latency_seconds",
    "From handing a message to the producer to the broker's acknowledgement.",
    buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
FAUST_SEND_ERRORS = Counter("pantau_faust_send_errors", "Messages the producer failed to send.")
FAUST_REBALANCES = Counter("pantau_faust_rebalances", "Consumer-group rebalances started.")
FAUST_REBALANCE_SECONDS = Histogram(
    "pantau_faust_rebalance_seconds",
    "From a rebalance's start to its end (recovery included).",
    buckets=(0.5, 1, 2.5, 5, 10, 30, 60, 120, 300),
)
FAUST_ASSIGNED_PARTITIONS = Gauge(
    "pantau_faust_assigned_partitions", "Topic partitions assigned to this worker."
)

DEAD_LETTER_REASONS = (*REASONS, "internal_error", "bad_verdict", "unknown_alert")
"""Known reasons, exported at 0 from the start so the first dead letter shows in increase()."""

for _reason in DEAD_LETTER_REASONS:
    ARTICLES_DEAD_LETTERED.labels(_reason)


def rules_loaded(ruleset: RuleSet) -> None:
    """Publish the active rule set, and each rule's alert series at 0.

    A series born at 1 has no earlier sample, so ``increase()`` would miss a rule's first
    alerts; pre-creating them makes bursts right after a (re)load visible too.
    """
    RULES_LOADED.set(len(ruleset.rules))
    RULESET.info({"version": ruleset.version})
    for compiled in ruleset.rules:
        ALERTS_PUBLISHED.labels(compiled.rule.id, compiled.rule.severity)
        BURSTS.labels(compiled.rule.id)
        STORIES_OPENED.labels(compiled.rule.id)
        for verdict in VERDICTS:
            ALERT_FEEDBACK.labels(compiled.rule.id, verdict)
            ALERT_FEEDBACK_WITHDRAWN.labels(compiled.rule.id, verdict)


def serve(host: str, port: int) -> None:
    """Expose /metrics on its own small HTTP server thread (0 disables it)."""
    if port:
        start_http_server(port, addr=host)
