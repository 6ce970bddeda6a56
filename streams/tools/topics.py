"""Create the topics Pantau uses, with explicit partition counts, where they are missing."""

from __future__ import annotations

from contextlib import suppress

from kafka.admin import KafkaAdminClient, NewTopic
from kafka.errors import TopicAlreadyExistsError

from streams.settings import Settings


def ensure_topics(settings: Settings, topics: dict[str, tuple[int, dict[str, str]]]) -> None:
    """name -> (partitions, configs); existing topics are left as they are."""
    admin = KafkaAdminClient(**settings.kafka_client_options())
    try:
        existing = set(admin.list_topics())
        missing = [
            NewTopic(name, partitions, 1, topic_configs=configs)
            for name, (partitions, configs) in topics.items()
            if name not in existing
        ]
        if missing:
            with suppress(TopicAlreadyExistsError):  # another process created it meanwhile
                admin.create_topics(missing)
    finally:
        admin.close()


def pipeline_topics(settings: Settings) -> dict[str, tuple[int, dict[str, str]]]:
    """Every topic of a deployment, as the demo creates them on the embedded broker."""
    partitions = settings.partitions
    return {
        settings.articles_topic: (partitions, {}),
        settings.alerts_topic: (partitions, {}),
        settings.stories_topic: (partitions, {}),
        settings.bursts_topic: (partitions, {}),
        settings.dead_letter_topic: (1, {}),
        settings.rules_topic: (1, {"cleanup.policy": "compact"}),
        settings.status_topic: (1, {"cleanup.policy": "compact"}),
        settings.alert_feedback_topic: (partitions, {"cleanup.policy": "compact"}),
    }
