"""The Grafana dashboard: generated JSON matches the code, and every panel is a usable query."""

from __future__ import annotations

import json
import re

from click.testing import CliRunner

from streams.cli.generated import dashboard as dashboard_command
from streams.tools import dashboard
from streams.tools.dashboard import DASHBOARD_PATH, dashboard_json

from .test_metrics import exposed_names

ISSUE_PANELS = {
    "Alerts per rule",
    "Top rules",
    "Alerts by severity",
    "Articles in / classified / dead-lettered",
    "End-to-end latency",
    "Consumer lag",
    "Rule-set version",
    "Workers up",
    "Precision by rule (from feedback)",
    "Feedback volume",
}


def panels() -> list[dict]:
    return [p for p in json.loads(DASHBOARD_PATH.read_text())["panels"] if p["type"] != "row"]


def test_generated_json_is_what_the_code_builds():
    assert DASHBOARD_PATH.read_text() == dashboard_json(), "stale: run `pantau dashboard`"


def test_check_fails_on_drift_and_passes_once_regenerated(tmp_path, monkeypatch):
    path = tmp_path / "pantau.json"
    monkeypatch.setattr(dashboard, "DASHBOARD_PATH", path)
    path.write_text("{}\n")
    runner = CliRunner()
    assert runner.invoke(dashboard_command, ["--check"]).exit_code == 1
    assert runner.invoke(dashboard_command, []).exit_code == 0
    assert runner.invoke(dashboard_command, ["--check"]).exit_code == 0
    assert path.read_text() == dashboard_json()


def test_every_panel_has_a_title_a_query_and_the_datasource_variable():
    found = panels()
    assert {p["title"] for p in found} >= ISSUE_PANELS
    ids = [p["id"] for p in json.loads(DASHBOARD_PATH.read_text())["panels"]]
    assert len(ids) == len(set(ids))
    for panel in found:
        assert panel["title"] and panel["description"], panel
        assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}
        assert panel["targets"], f"{panel['title']} has no query"
        ref_ids = [t["refId"] for t in panel["targets"]]
        assert len(set(ref_ids)) == len(ref_ids) and all(ref_ids), panel["title"]
        assert all(t["expr"].strip() for t in panel["targets"]), panel["title"]


def test_queries_read_only_metrics_a_worker_exports():
    known = exposed_names()
    for panel in panels():
        for target in panel["targets"]:
            for name in re.findall(r"\bpantau_[a-z0-9_]+", target["expr"]):
                assert name in known, f"{panel['title']}: {name} is not exported"
