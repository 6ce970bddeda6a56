"""The `pantau` command as a user runs it: real subprocesses, real files."""

from __future__ import annotations

import json
import subprocess
import sys

from streams.tools.replay import articles_from

from .conftest import EXPECTED_SEED_ALERTS, ROOT, SEEDS


def pantau(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "streams", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )


def test_classify_reads_jsonl_from_stdin_and_keeps_input_order():
    events = list(articles_from([SEEDS]))
    lines = [json.dumps({"id": e["id"], "title": e["title"], "body": e["body"]}) for e in events]
    lines.insert(2, json.dumps({"id": "weather", "title": "", "body": "Hujan turun di Bogor."}))
    result = pantau("classify", stdin="\n".join(lines) + "\n")
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["article_id"] for r in rows] == [json.loads(line)["id"] for line in lines]
    assert rows[2]["rule_ids"] == [] and rows[2]["alerts"] == []
    found = {
        (r["article_id"][:3], rule)
        for r in rows
        for rule in r["rule_ids"]
        if rule in {"treaty_ratified", "troop_deployment"}
    }
    assert found == EXPECTED_SEED_ALERTS
    assert all(len(r["alerts"]) == len(r["rule_ids"]) for r in rows)


def test_classify_reports_bad_lines_with_their_number_and_fails(tmp_path):
    path = tmp_path / "in.jsonl"
    path.write_bytes(
        b'{"id": "ok", "body": "Hujan."}\n{"id": 5\n{"id": "e", "body": ""}\n'
        b'{"id": "x", "body": "\xff"}\n{"id": "last", "body": "Hujan."}\n'
    )
    result = pantau("classify", str(path))
    assert result.returncode == 1
    assert f"{path}:2: not_json" in result.stderr and f"{path}:3: empty_text" in result.stderr
    assert f"{path}:4: invalid_utf8" in result.stderr  # a bad line alone, not the file
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r.get("article_id") for r in rows] == ["ok", None, None, None, "last"]


def test_classify_reads_seed_files_and_folders_as_replay_does(tmp_path):
    extra = tmp_path / "extra.jsonl"
    extra.write_text(json.dumps({"id": "weather", "body": "Hujan turun di Bogor."}) + "\n")
    result = pantau("classify", str(SEEDS), str(extra))
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    stems = sorted(path.stem for path in SEEDS.glob("*.txt"))
    assert [r["article_id"] for r in rows] == [*stems, "weather"]
    found = {(r["article_id"][:3], rule) for r in rows for rule in r["rule_ids"]}
    assert found >= EXPECTED_SEED_ALERTS and rows[-1]["rule_ids"] == []


def test_an_unreadable_article_file_is_one_located_line_for_classify_and_replay(
    tmp_path, monkeypatch
):
    empty = tmp_path / "empty.txt"
    empty.write_text("\n  \n")
    good = tmp_path / "good.txt"
    good.write_text("Judul\nIsi berita.\n")
    classified = pantau("classify", str(empty), str(good))
    assert classified.returncode == 1
    assert f"{empty}: the file is empty" in classified.stderr
    rows = [json.loads(line) for line in classified.stdout.splitlines()]
    assert rows[0] == {"article_id": None, "where": str(empty), "error": "the file is empty"}
    assert rows[1]["article_id"] == "good"  # the next file is still classified
    monkeypatch.setenv("PANTAU_BROKER", "kafka://127.0.0.1:1")  # files are read first
    replayed = pantau("replay", str(good), str(empty))
    assert replayed.returncode == 1 and "Traceback" not in replayed.stderr
    assert f"Error: {empty}: the file is empty" in replayed.stderr


def test_rules_check_lists_rules_and_fails_with_a_located_error(tmp_path):
    ok = pantau("rules", "check", str(ROOT / "streams/rules/packs/default.yaml"))
    assert ok.returncode == 0, ok.stderr
    assert "treaty_ratified" in ok.stdout and "troop_deployment" in ok.stdout
    bad = tmp_path / "bad.yaml"
    bad.write_text("rules:\n  - id: broken\n    title: Broken\n    query: 'a AND (b OR'\n")
    result = pantau("rules", "check", str(bad))
    assert result.returncode == 1
    assert f"{bad}:4:" in result.stderr and "expected" in result.stderr


def test_every_command_that_classifies_names_a_bad_packs_error_without_a_traceback(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("rules:\n  - id: broken\n    title: Broken\n    query: 'a AND (b OR'\n")
    runs = [
        pantau("classify", "--rules", str(bad), stdin='{"id": "1", "body": "Hujan."}\n'),
        pantau("rules", "explain", "broken", "a and b", "--rules", str(bad)),
        pantau("eval", str(tmp_path), "--rules", str(bad)),
    ]
    for result in runs:
        assert result.returncode == 1
        assert f"Error: {bad}:4:" in result.stderr and "Traceback" not in result.stderr
        assert result.stdout == ""


def test_a_worker_with_a_bad_pack_fails_at_once_before_waiting_for_a_broker(tmp_path, monkeypatch):
    bad = tmp_path / "bad.yaml"
    bad.write_text("rules:\n  - id: broken\n    title: Broken\n    query: 'a AND (b OR'\n")
    monkeypatch.setenv("PANTAU_BROKER", "kafka://127.0.0.1:1")  # nothing listens there
    monkeypatch.setenv("PANTAU_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("PANTAU_RULE_FILES", json.dumps([str(bad)]))
    result = pantau("worker")
    assert result.returncode == 1
    assert f"Error: {bad}:4:" in result.stderr and "Traceback" not in result.stderr


def test_a_kafka_error_ends_a_command_with_one_line_naming_the_broker(monkeypatch):
    """Unit level: the real path (nothing listening) takes kafka-python's 30 s bootstrap wait."""
    from click.testing import CliRunner
    from kafka.errors import KafkaTimeoutError

    import streams.tools.replay
    from streams.cli import main
    from streams.settings import get_settings

    def unreachable(_settings):
        raise KafkaTimeoutError("Unable to bootstrap from ['127.0.0.1:1']")

    monkeypatch.setenv("PANTAU_BROKER", "kafka://127.0.0.1:1")
    monkeypatch.setattr(streams.tools.replay, "make_producer", unreachable)
    get_settings.cache_clear()  # settings are read once per process
    try:
        result = CliRunner().invoke(main, ["replay", str(SEEDS)])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 1 and result.exception is not None
    assert "Error: Kafka at kafka://127.0.0.1:1: " in result.output
    assert "Unable to bootstrap" in result.output and "Traceback" not in result.output


def test_rules_explain_says_why():
    fired = pantau(
        "rules",
        "explain",
        "treaty_ratified",
        "Parlemen Rusia meratifikasi perjanjian pertahanan dengan Korea Utara.",
    )
    assert fired.returncode == 0, fired.stderr
    assert "FIRED" in fired.stdout and "meratifikasi" in fired.stdout
    silent = pantau("rules", "explain", "treaty_ratified", "Kedua negara menandatangani pakta.")
    assert "did not fire" in silent.stdout


def test_help_lists_every_command():
    result = pantau("--help")
    for command in ("broker", "worker", "replay", "tail", "classify", "demo", "rules"):
        assert command in result.stdout


def test_schemas_are_current():
    assert pantau("schemas", "--check").returncode == 0
