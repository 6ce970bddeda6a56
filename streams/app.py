"""The Faust app and its topics, configured from :class:`~streams.settings.Settings`."""

from __future__ import annotations

import faust

from streams.settings import get_settings

settings = get_settings()

app = faust.App(
    settings.app_id,
    broker=settings.broker,
    key_serializer="raw",
    value_serializer="raw",
    web_enabled=False,
    autodiscover=False,
    topic_partitions=4,
    producer_acks=-1,
    consumer_auto_offset_reset="earliest",
    broker_rebalance_timeout=settings.rebalance_timeout,
    broker_session_timeout=settings.session_timeout,
    broker_heartbeat_interval=settings.heartbeat_interval,
    broker_credentials=settings.faust_credentials(),
    # Big enough that an oversized article is fetched and dead-lettered, never left stuck.
    consumer_max_fetch_size=settings.max_record_bytes,
    producer_max_request_size=settings.max_record_bytes,
)

articles_topic = app.topic(settings.articles_topic, key_type=bytes, value_type=bytes)
alerts_topic = app.topic(settings.alerts_topic, key_type=bytes, value_type=bytes)
dead_letter_topic = app.topic(settings.dead_letter_topic, key_type=bytes, value_type=bytes)
