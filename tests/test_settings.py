"""One settings object, read from PANTAU_* environment variables."""

from __future__ import annotations

from pathlib import Path

from streams.settings import DEFAULT_PACK, Settings
from streams.worker.faust_config import faust_credentials, faust_options


def test_defaults_are_usable_on_a_laptop(monkeypatch):
    for key in list(__import__("os").environ):
        if key.startswith("PANTAU_"):
            monkeypatch.delenv(key)
    settings = Settings()
    assert settings.broker == "kafka://127.0.0.1:9092"
    assert settings.articles_topic == "articles" and settings.alerts_topic == "alerts"
    assert settings.dead_letter_topic == "articles.dlq"
    assert settings.rule_files == [DEFAULT_PACK] and DEFAULT_PACK.exists()


def test_environment_overrides(monkeypatch):
    monkeypatch.setenv("PANTAU_BROKER", "kafka://k1:9092;k2:9093")
    monkeypatch.setenv("PANTAU_ARTICLES_TOPIC", "news")
    monkeypatch.setenv("PANTAU_RULE_FILES", '["a.yaml", "b.yaml"]')
    monkeypatch.setenv("PANTAU_METRICS_PORT", "9200")
    settings = Settings()
    assert settings.bootstrap_servers == ["k1:9092", "k2:9093"]
    assert settings.dead_letter_topic == "news.dlq"
    assert settings.rule_files == [Path("a.yaml"), Path("b.yaml")]
    assert settings.metrics_port == 9200


def test_sasl_ssl_settings_reach_both_kafka_clients(monkeypatch, tmp_path):
    import ssl

    import faust

    monkeypatch.setenv("PANTAU_SECURITY_PROTOCOL", "SASL_SSL")
    monkeypatch.setenv("PANTAU_SASL_MECHANISM", "SCRAM-SHA-512")
    monkeypatch.setenv("PANTAU_SASL_USERNAME", "pantau")
    monkeypatch.setenv("PANTAU_SASL_PASSWORD", "s3cret")
    settings = Settings()
    client = settings.kafka_security()
    assert client["security_protocol"] == "SASL_SSL"
    assert client["sasl_mechanism"] == "SCRAM-SHA-512"
    assert (client["sasl_plain_username"], client["sasl_plain_password"]) == ("pantau", "s3cret")
    assert isinstance(client["ssl_context"], ssl.SSLContext)
    credentials = faust_credentials(settings)
    assert isinstance(credentials, faust.SASLCredentials)
    assert credentials.username == "pantau" and credentials.ssl_context is not None
    assert "s3cret" not in repr(settings)  # the password is a secret, not logged


def test_plaintext_needs_no_credentials(monkeypatch):
    monkeypatch.delenv("PANTAU_SECURITY_PROTOCOL", raising=False)
    settings = Settings()
    assert faust_credentials(settings) is None
    assert settings.kafka_security() == {"security_protocol": "PLAINTEXT"}


def test_fetch_batches_stay_small_enough_to_interleave_the_two_stages(monkeypatch):
    """A fetch of a whole backlog would hold back the stories stage's matches behind it."""
    import faust

    monkeypatch.setenv("PANTAU_MAX_POLL_RECORDS", "7")
    app = faust.App("settings-test", **faust_options(Settings()))
    assert app.conf.broker_max_poll_records == 7
    assert Settings.model_fields["max_poll_records"].default <= 500


def test_each_agent_holds_few_fetched_records_whatever_their_size(monkeypatch):
    """A matches record holds a batch's alerts of one rule: Faust's 4,096 of them is 100s of MB."""
    import faust

    monkeypatch.setenv("PANTAU_STREAM_BUFFER", "7")
    app = faust.App("settings-test", **faust_options(Settings()))
    assert app.conf.stream_buffer_maxsize == 7
    assert Settings.model_fields["stream_buffer"].default <= 64
