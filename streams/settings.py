"""All of Pantau's configuration, in one object read from ``PANTAU_*`` environment variables."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_PACK = Path(__file__).parent / "rules" / "packs" / "default.yaml"


class Settings(BaseSettings):
    """Every knob, with the default a developer gets on a laptop.

    Each field is read from ``PANTAU_<FIELD>`` (for example ``PANTAU_BROKER``); lists are JSON
    (``PANTAU_RULE_FILES='["a.yaml","b.yaml"]'``).
    """

    model_config = SettingsConfigDict(env_prefix="PANTAU_", extra="ignore")

    broker: str = Field(
        "kafka://127.0.0.1:9092",
        description="Kafka bootstrap servers, Faust style: kafka://host:port[;host2:port2].",
    )
    app_id: str = Field("pantau", description="Faust app id; also the consumer group id.")
    articles_topic: str = Field("articles", description="Topic the worker consumes.")
    alerts_topic: str = Field("alerts", description="Topic alerts are published to.")
    dlq_topic: str = Field("", description="Dead-letter topic; empty means '<articles>.dlq'.")
    stories_topic: str = Field("alerts.stories", description="Alerts that open a new story.")
    bursts_topic: str = Field("alerts.bursts", description="Burst events.")
    feedback_topic: str = Field(
        "", description="Verdicts on alerts (compacted, key: alert_id); empty: '<alerts>.feedback'."
    )
    publish_new_stories: bool = Field(
        True, description="Also publish each story's first alert to the stories topic."
    )
    story_window_hours: float = Field(72.0, description="A story stays open this long.")
    burst_window_seconds: float = Field(300.0, description="Tumbling window of alert counts.")
    burst_history: int = Field(12, description="Closed windows in a rule's baseline.")
    burst_factor: float = Field(4.0, description="A burst is at least factor x baseline ...")
    burst_min_count: int = Field(5, description="... and at least this many alerts.")
    burst_warmup: int = Field(3, description="Windows a rule is watched before any burst.")
    data_dir: Path = Field(
        Path(".pantau"), description="Faust's local state (table offsets), one folder per app."
    )
    partitions: int = Field(
        8, description="Partitions of the topics Faust creates (story stage, tables)."
    )
    rules_topic: str = Field(
        "pantau.rules", description="Compacted topic of live rule packs (key: pack name)."
    )
    rule_files: list[Path] = Field(
        default_factory=lambda: [DEFAULT_PACK], description="Rule packs (YAML) to load."
    )
    rules_wait: float = Field(
        10.0, description="Seconds a starting worker waits to read the rules topic."
    )
    status_topic: str = Field(
        "pantau.workers",
        description="Compacted topic where each worker reports its rule set (key: worker id).",
    )
    status_interval: float = Field(
        30.0, gt=0, description="Seconds between a worker's reports (and at once on a change)."
    )

    # Kafka security, passed to Faust (aiokafka) and kafka-python alike.
    security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] = "PLAIN"
    sasl_username: str | None = None
    sasl_password: SecretStr | None = None
    ssl_cafile: Path | None = Field(None, description="CA bundle that signed the brokers.")
    ssl_certfile: Path | None = Field(None, description="Client certificate (mutual TLS).")
    ssl_keyfile: Path | None = Field(None, description="Client key (mutual TLS).")

    metrics_host: str = Field("127.0.0.1", description="Address the /metrics endpoint binds.")
    metrics_port: int = Field(9108, description="Port of /metrics; 0 disables it.")
    log_format: Literal["json", "console"] = Field("json", description="Worker log renderer.")
    log_level: str = Field("info", description="Log level of the worker.")

    max_body_bytes: int = Field(1_048_576, description="Articles with a larger body are refused.")
    max_record_bytes: int = Field(
        8_388_608,
        description="Largest record the worker fetches and produces; keep the broker's "
        "max.message.bytes in step. Larger dead letters are kept truncated.",
    )

    # Consumer-group timing. Defaults suit a production Kafka; on Tansu (the embedded broker)
    # a worker takes the fast-join profile by itself, as Tansu makes the first JoinGroup wait a
    # whole rebalance timeout (see ``broker_profile``).
    broker_profile: Literal["auto", "kafka", "tansu"] = Field(
        "auto",
        description="'tansu' applies TANSU_PROFILE to the timings not set explicitly; 'auto' "
        "does so when the broker reports a Tansu cluster id; 'kafka' never.",
    )
    rebalance_timeout: float = Field(60.0, description="Seconds (broker_rebalance_timeout).")
    session_timeout: float = Field(60.0, description="Seconds (broker_session_timeout).")
    heartbeat_interval: float = Field(3.0, description="Seconds (broker_heartbeat_interval).")
    producer_batch_bytes: int = Field(
        16_384, description="Producer batch size in bytes (1: one record per batch)."
    )
    max_poll_records: int = Field(
        100,
        description="Records one fetch hands to the agents. Small, so the stories stage gets "
        "its matches between articles instead of after a whole fetched backlog.",
    )
    classify_batch: int = Field(
        100,
        ge=1,
        description="Articles classified together; each rule's matches from them go to the "
        "stories stage as one record (one story-table write per rule and batch).",
    )
    classify_batch_wait_ms: int = Field(
        20,
        ge=1,
        description="Longest a partial batch waits for more articles before it is classified.",
    )
    stream_buffer: int = Field(
        32,
        ge=1,
        description="Records an agent may have fetched but not yet processed (Faust's "
        "stream_buffer_maxsize, 4,096 by default): a bound on the worker's memory, as a "
        "matches record holds a whole batch's alerts of one rule.",
    )
    fetch_max_wait_ms: int = Field(
        1500,
        ge=1,
        description="Longest a fetch waits at the broker for records. Kafka answers as soon as "
        "records arrive; Tansu holds every fetch this long (the Tansu profile sets 100).",
    )
    commit_interval: float = Field(
        0.2,
        gt=0,
        description="Seconds between commits of the offsets whose output is acknowledged "
        "(Faust's broker_commit_interval, 2.8 by default): about what a crash processes again.",
    )
    producer_request_timeout: float = Field(
        30.0,
        description="Seconds before an unacknowledged send fails and the worker sends it again "
        "(Faust's default, 20 minutes, would hold a partition that long).",
    )

    @property
    def dead_letter_topic(self) -> str:
        return self.dlq_topic or f"{self.articles_topic}.dlq"

    @property
    def alert_feedback_topic(self) -> str:
        return self.feedback_topic or f"{self.alerts_topic}.feedback"

    @property
    def bootstrap_servers(self) -> list[str]:
        """The broker URL as the host:port list kafka-python wants."""
        hosts = self.broker.split("://", 1)[-1]
        return [h.strip() for h in hosts.replace(",", ";").split(";") if h.strip()]

    def ssl_context(self):
        """A TLS context from the CA and client files, or None for plaintext."""
        if "SSL" not in self.security_protocol:
            return None
        import ssl

        context = ssl.create_default_context(cafile=self.ssl_cafile)
        if self.ssl_certfile:
            context.load_cert_chain(self.ssl_certfile, self.ssl_keyfile)
        return context

    def kafka_client_options(self, **options) -> dict:
        """Keyword arguments for every kafka-python or aiokafka client Pantau opens: the brokers
        and the security settings (both libraries take the same names), plus ``options``."""
        return {"bootstrap_servers": self.bootstrap_servers, **self.kafka_security(), **options}

    def kafka_security(self) -> dict:
        """The security part of :meth:`kafka_client_options`."""
        options: dict = {"security_protocol": self.security_protocol}
        context = self.ssl_context()
        if context is not None:
            options["ssl_context"] = context
        if self.security_protocol.startswith("SASL"):
            options["sasl_mechanism"] = self.sasl_mechanism
            options["sasl_plain_username"] = self.sasl_username
            options["sasl_plain_password"] = (
                self.sasl_password.get_secret_value() if self.sasl_password else None
            )
        return options


TANSU_CLUSTER_IDS = ("tansu_cluster", "pantau-embedded")  # Tansu's default, `pantau broker`'s
TANSU_PROFILE = {
    "PANTAU_REBALANCE_TIMEOUT": "5",
    "PANTAU_SESSION_TIMEOUT": "10",
    "PANTAU_HEARTBEAT_INTERVAL": "1",
    "PANTAU_FETCH_MAX_WAIT_MS": "100",
}
"""Environment for the embedded Tansu broker (demo, tests, benchmarks, and a worker that finds
itself on Tansu): a quick first join (about 7 s instead of 30 s), and fetches that return
within 100 ms (Tansu holds a waiting fetch for its whole wait instead of answering when records
arrive). Tansu's short end offsets are not a setting: the worker reads past them
(:mod:`streams.worker.workarounds`, item 6).
"""


def profile_fields(profile: dict[str, str]) -> dict[str, str]:
    """PANTAU_* variables as Settings field names."""
    return {name.removeprefix("PANTAU_").lower(): value for name, value in profile.items()}


def for_broker(settings: Settings, cluster_id: str | None) -> Settings:
    """The settings a worker runs with on the broker it found: :data:`TANSU_PROFILE`'s timings
    on Tansu (by ``broker_profile``), except those set explicitly."""
    profile = settings.broker_profile
    if profile == "kafka" or (profile == "auto" and cluster_id not in TANSU_CLUSTER_IDS):
        return settings
    explicit = settings.model_fields_set
    fields = profile_fields(TANSU_PROFILE)
    chosen = {name: value for name, value in fields.items() if name not in explicit}
    return settings.model_validate({**settings.model_dump(), **chosen}) if chosen else settings


@cache
def get_settings() -> Settings:
    return Settings()
