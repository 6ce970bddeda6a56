"""What runs is what `rules push` and `rules list` say, on a real broker with a real worker:
the live set compiled as a worker compiles it, each worker's own report, and a worker that
joins the embedded broker in seconds without any timing setting."""

from __future__ import annotations

import json
import time

import pytest

from streams.tools.replay import make_producer

from .conftest import SANCTIONS, read_topic, send, settings_for
from .test_guarantees import cli_env, pantau

pytestmark = pytest.mark.integration

USES_SANCTIONS = """\
rules:
  - id: embargo_named
    title: An embargo is named
    query: '@sanctions.sanction'
"""


def test_push_shows_the_live_set_the_worker_runs_and_list_agrees(
    broker_url, topics, tmp_path, start_worker
):
    env = cli_env(broker_url, topics)
    started = time.monotonic()
    rules_topic = env["PANTAU_RULES_TOPIC"]
    worker = start_worker(profile=False, PANTAU_STATUS_INTERVAL="2", PANTAU_RULES_TOPIC=rules_topic)
    worker.wait_ready(timeout=25)  # the default timings take over 30 s on Tansu
    assert time.monotonic() - started < 25
    assert '"profile": "tansu"' in worker.log()

    pushed = pantau(env, "rules", "push", str(SANCTIONS))
    assert pushed.returncode == 0, pushed.stderr
    version = pushed.stdout.split("live rule set ")[1].split(":")[0]
    assert "12 rules in 2 pack(s)" in pushed.stdout
    assert "sanctions v2 from " in pushed.stdout
    assert f"rule set {version} (the live set), 12 rules: default v3, sanctions v2" in (
        pushed.stdout
    )

    # A second pack uses the first's concept; deleting the first would break it: refused.
    (tmp_path / "user.yaml").write_text(USES_SANCTIONS)
    user = pantau(env, "rules", "push", str(tmp_path / "user.yaml"))
    assert user.returncode == 0, user.stdout + user.stderr
    deleted = pantau(env, "rules", "push", "--delete", str(SANCTIONS))
    assert deleted.returncode == 1
    assert "refers to @sanctions.sanction, but no pack is named 'sanctions'" in deleted.stderr
    assert "Traceback" not in deleted.stderr

    # A rule id the default pack has is refused before anything is sent.
    clash = tmp_path / "clash.yaml"
    clash.write_text(USES_SANCTIONS.replace("embargo_named", "troop_deployment"))
    refused = pantau(env, "rules", "push", str(clash))
    assert refused.returncode == 1
    assert f"refused {clash}:2:9: rule id 'troop_deployment' is also in " in refused.stderr

    # A bad pack that reaches the topic anyway: the worker refuses it and says so.
    producer = make_producer(settings_for(broker_url, topics))
    producer.send(env["PANTAU_RULES_TOPIC"], key=b"evil", value=b"rules: [ {id: x")
    producer.flush()
    producer.close()
    listed = pantau(env, "rules", "list")
    deadline = time.monotonic() + 20
    while "last refused: evil" not in listed.stdout and time.monotonic() < deadline:
        time.sleep(1)
        listed = pantau(env, "rules", "list")
    assert listed.returncode == 0, listed.stderr
    assert "13 rules in 3 pack(s)" in listed.stdout
    assert "(the live set), 13 rules: default v3, sanctions v2, user v1" in listed.stdout
    assert "refused by workers: evil: " in listed.stderr
    assert "last refused: evil: " in listed.stdout

    settings = settings_for(broker_url, topics)
    send(settings, [json.dumps({"id": "s1", "body": "The EU will slap an embargo."}).encode()])
    alerts = read_topic(settings, settings.alerts_topic, until=lambda r: len(r) >= 2)
    rules = {json.loads(r.value)["rule_id"] for r in alerts}
    assert rules == {"sanctions_imposed", "embargo_named"}
