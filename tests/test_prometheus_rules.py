"""Prometheus config and alerting rules: promtool validates them and runs their unit tests."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest
import yaml

from streams.tools.dashboard import JOB

from .conftest import ROOT
from .test_metrics import exposed_names

PROMETHEUS = ROOT / "deploy" / "prometheus"
PROMTOOL = shutil.which("promtool")
needs_promtool = pytest.mark.skipif(
    PROMTOOL is None,
    reason="promtool is not installed (Debian: apt-get install prometheus; .ci/run does it)",
)


def alert_rules() -> list[dict]:
    groups = yaml.safe_load((PROMETHEUS / "alerts.yml").read_text())["groups"]
    return [rule for group in groups for rule in group["rules"] if "alert" in rule]


def promtool(*args: str) -> None:
    done = subprocess.run(
        [PROMTOOL, *args], cwd=PROMETHEUS, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stdout + done.stderr


@needs_promtool
def test_config_and_the_rule_files_it_names_are_valid():
    promtool("check", "config", "prometheus.yml")


@needs_promtool
def test_alerting_rules_are_valid():
    promtool("check", "rules", "alerts.yml")


@needs_promtool
def test_alerting_rules_pass_their_unit_tests():
    promtool("test", "rules", "alerts_test.yml")


def test_every_alert_has_a_firing_unit_test():
    tests = yaml.safe_load((PROMETHEUS / "alerts_test.yml").read_text())["tests"]
    fired = {
        case["alertname"]
        for test in tests
        for case in test.get("alert_rule_test", [])
        if case.get("exp_alerts")
    }
    assert {rule["alert"] for rule in alert_rules()} <= fired


def test_every_alert_has_a_severity_and_says_what_to_do():
    for rule in alert_rules():
        assert rule["labels"]["severity"] in {"warning", "critical"}, rule["alert"]
        assert rule["annotations"]["summary"] and rule["annotations"]["description"]


def test_alerts_read_only_metrics_a_worker_exports():
    known = exposed_names()
    for rule in alert_rules():
        for name in re.findall(r"\bpantau_[a-z0-9_]+", rule["expr"]):
            assert name in known, f"{rule['alert']}: {name} is not exported"


def test_scrape_job_is_the_one_the_dashboard_and_alerts_select():
    config = yaml.safe_load((PROMETHEUS / "prometheus.yml").read_text())
    (job,) = (job["job_name"] for job in config["scrape_configs"])
    selector = f'job="{job}"'
    assert selector == JOB
    assert f"up{{{selector}}}" in (PROMETHEUS / "alerts.yml").read_text()
