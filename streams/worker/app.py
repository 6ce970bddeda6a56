"""The Faust app and its topics, configured from :class:`~streams.settings.Settings`."""

from __future__ import annotations

import faust

from streams.settings import get_settings
from streams.worker import workarounds

settings = get_settings()

app = faust.App(settings.app_id, **settings.faust_options())

articles_topic = app.topic(settings.articles_topic, key_type=bytes, value_type=bytes)
alerts_topic = app.topic(settings.alerts_topic, key_type=bytes, value_type=bytes)
stories_topic = app.topic(settings.stories_topic, key_type=bytes, value_type=bytes)
bursts_topic = app.topic(settings.bursts_topic, key_type=bytes, value_type=bytes)
dead_letter_topic = app.topic(settings.dead_letter_topic, key_type=bytes, value_type=bytes)

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

workarounds.install(
    app,
    [alerts_topic, stories_topic, bursts_topic, dead_letter_topic, matches_topic],
    fetch_max_wait_ms=settings.fetch_max_wait_ms,
)
