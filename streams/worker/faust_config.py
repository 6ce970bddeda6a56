"""Faust's app options from :class:`~streams.settings.Settings`: for the worker's app and the
benchmark's reference apps, so that both run with the same client settings."""

from __future__ import annotations

import faust

from streams.settings import Settings


def faust_options(settings: Settings) -> dict:
    """Keyword arguments for ``faust.App``."""
    return {
        "broker": settings.broker,
        "key_serializer": "raw",
        "value_serializer": "raw",
        "web_enabled": False,
        "autodiscover": False,
        "topic_partitions": settings.partitions,
        "datadir": str(settings.data_dir / "{conf.id}"),
        "producer_acks": -1,
        "consumer_auto_offset_reset": "earliest",
        "broker_rebalance_timeout": settings.rebalance_timeout,
        "broker_session_timeout": settings.session_timeout,
        "broker_heartbeat_interval": settings.heartbeat_interval,
        "broker_commit_interval": settings.commit_interval,
        "broker_credentials": faust_credentials(settings),
        # Big enough that an oversized article is fetched and dead-lettered, never left stuck.
        "consumer_max_fetch_size": settings.max_record_bytes,
        "broker_max_poll_records": settings.max_poll_records,
        "stream_buffer_maxsize": settings.stream_buffer,
        "producer_max_request_size": settings.max_record_bytes,
        "producer_max_batch_size": settings.producer_batch_bytes,
        "producer_request_timeout": settings.producer_request_timeout,
    }


def faust_credentials(settings: Settings) -> faust.SASLCredentials | faust.SSLCredentials | None:
    """``broker_credentials`` for Faust, or None for plaintext."""
    context = settings.ssl_context()
    if settings.security_protocol.startswith("SASL"):
        password = settings.sasl_password.get_secret_value() if settings.sasl_password else ""
        return faust.SASLCredentials(
            username=settings.sasl_username or "",
            password=password,
            mechanism=settings.sasl_mechanism,
            ssl_context=context,
        )
    return faust.SSLCredentials(context) if context is not None else None
