"""Prometheus metrics of a worker: names follow Prometheus conventions, labels stay bounded."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram, Info, start_http_server

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
RULE_RELOADS = Counter("pantau_rule_reloads", "Rule-set reloads.", ["outcome"])
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


def serve(host: str, port: int) -> None:
    """Expose /metrics on its own small HTTP server thread (0 disables it)."""
    if port:
        start_http_server(port, addr=host)
