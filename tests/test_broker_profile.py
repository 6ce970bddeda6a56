"""A worker takes the fast-join timings on Tansu by itself, and never over explicit ones."""

from __future__ import annotations

from streams.settings import Settings, for_broker


def test_tansu_gets_the_fast_profile_except_where_a_timing_is_set():
    settings = Settings(_env_file=None, rebalance_timeout=7)
    tuned = for_broker(settings, "pantau-embedded")
    assert (tuned.rebalance_timeout, tuned.session_timeout, tuned.fetch_max_wait_ms) == (7, 10, 100)
    assert for_broker(settings, "tansu_cluster").heartbeat_interval == 1


def test_a_kafka_cluster_or_the_kafka_profile_keeps_the_defaults():
    settings = Settings(_env_file=None)
    assert for_broker(settings, "MkU3OEVBNTcwNTJENDM2Qk") is settings
    assert (
        for_broker(
            Settings(_env_file=None, broker_profile="kafka"), "tansu_cluster"
        ).session_timeout
        == 60
    )
    forced = for_broker(Settings(_env_file=None, broker_profile="tansu"), "MkU3OEVBNTcw")
    assert forced.session_timeout == 10
