"""Rule examples as tests: the default pack's pass, a broken rule fails with a readable report,
and `rules check` and `rules push` run them too."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter

import pytest

from streams.models import RuleExample
from streams.rules.packs import RulePackError, compile_texts, parse_pack
from streams.schemas import generated
from streams.settings import DEFAULT_PACK
from streams.text.language import article_language

from .conftest import ROOT
from .test_guarantees import cli_env

DENIAL_GUARD = "NOT NEAR/4 (@denial OR @withdraw OR @exercise OR @custody OR @ban)))"
RIOTS = "        OR (@riot NOT NEAR/0 @riot_police NOT NEAR/6 @bombing)\n"


def pantau(*args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "streams", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        env={**os.environ, **env},
    )


def broken_copy(tmp_path):
    """The default pack with the denial guard of troop_deployment and the riot branch of
    protest_unrest taken out: one quiet example now fires, two firing ones stay quiet."""
    text = DEFAULT_PACK.read_text()
    assert text.count(DENIAL_GUARD) == 1 and text.count(RIOTS) == 1
    broken = text.replace(DENIAL_GUARD, DENIAL_GUARD.replace("@denial OR ", "")).replace(RIOTS, "")
    path = tmp_path / "default.yaml"
    path.write_text(broken)
    return path, broken


def line_of(text: str, fragment: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), 1) if fragment in line)


def test_the_default_pack_passes_all_its_examples():
    result = pantau("rules", "test", str(DEFAULT_PACK))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "examples, 0 failed: OK" in result.stdout
    assert "FAIL" not in result.stdout and "no examples" not in result.stdout


def test_every_default_rule_has_three_of_each_kind_in_english_and_indonesian():
    for rule in parse_pack(DEFAULT_PACK.read_text(), str(DEFAULT_PACK)).rules:
        for kind in ("fires", "quiet"):
            examples = [
                e if isinstance(e, RuleExample) else RuleExample(body=e)
                for e in getattr(rule.examples, kind)
            ]
            languages = Counter(e.language or article_language(e.title, e.body) for e in examples)
            # One Indonesian sentence often reads as Malay to the detector (docs/rules.md).
            indonesian = languages["id"] + languages["ms"]
            assert languages["en"] >= 3 and indonesian >= 3, (rule.id, kind, languages)


def test_a_broken_rule_fails_with_the_rule_the_example_and_why(tmp_path):
    path, text = broken_copy(tmp_path)
    result = pantau("rules", "test", str(path))
    assert result.returncode == 1
    report = result.stdout
    denied = "The defence ministry denied sending troops across the border."
    riots = "Riots broke out in the port city after the election results were announced."
    kerusuhan = "Kerusuhan pecah di kota itu setelah pengumuman hasil pemilu."
    expected_heads = [
        f"FAIL {path}:{line_of(text, denied)}:11: rule troop_deployment must not fire but did",
        f"FAIL {path}:{line_of(text, riots)}:11: rule protest_unrest must fire but did not",
        f"FAIL {path}:{line_of(text, kerusuhan)}:11: rule protest_unrest must fire but did not",
    ]
    assert [line for line in report.splitlines() if line.startswith("FAIL")] == expected_heads
    fired = report.split(expected_heads[0])[1].split("FAIL")[0]
    assert f"  body: {denied}" in fired
    assert "  @troops 'troop': 'troops'@36" in fired and "  @deploy 'send': 'sending'@28" in fired
    assert "  why: fired with score 2.0" in fired and f"  evidence: {denied}" in fired
    quiet = report.split(expected_heads[2])[1]
    assert f"  body: {kerusuhan}" in quiet
    assert "  why: no alternative holds: @protest is absent: none of its terms occur" in quiet
    assert report.rstrip().endswith("examples, 3 failed: FAILED")


def test_rules_check_runs_the_examples_too(tmp_path):
    path, _ = broken_copy(tmp_path)
    result = pantau("rules", "check", str(path))
    assert result.returncode == 1
    assert "rule troop_deployment must not fire but did" in result.stdout


@pytest.mark.integration
def test_rules_push_refuses_a_pack_whose_examples_fail_and_sends_nothing(
    broker_url, topics, tmp_path
):
    """The examples run against the live set the workers would compile; a failure leaves the
    rules topic as it was."""
    env = cli_env(broker_url, topics)
    path, _ = broken_copy(tmp_path)
    result = pantau("rules", "push", str(path), **env)
    assert result.returncode == 1
    assert "rule protest_unrest must fire but did not" in result.stdout
    assert "refused: the examples above fail; nothing was sent" in result.stderr
    listed = pantau("rules", "list", **env)
    assert listed.returncode == 0, listed.stderr
    assert "10 rules in 1 pack(s)" in listed.stdout and "(topic)" not in listed.stdout


def test_an_example_is_a_string_or_an_article_and_a_bad_one_is_located():
    pack = """\
rules:
  - id: riot_named
    title: A riot
    query: riot OR kerusuhan
    examples:
      fires:
        - Riots in the capital.
        - {title: Kerusuhan di ibu kota, body: "Polisi berjaga.", language: id}
      quiet:
        - Riot police stood guard.
"""
    (rule,) = parse_pack(pack, "ok.yaml").rules
    assert rule.examples.fires[1] == RuleExample(
        title="Kerusuhan di ibu kota", body="Polisi berjaga.", language="id"
    )
    bad = pack.replace("{title: Kerusuhan", "{titel: Kerusuhan")
    with pytest.raises(RulePackError) as caught:
        compile_texts([("bad.yaml", bad)])
    assert (caught.value.line, caught.value.column) == (8, 11), str(caught.value)
    assert "examples.fires.1.article.titel: Extra inputs" in str(caught.value)
    empty = pack.replace("- Riot police stood guard.", '- {title: "", body: " "}')
    with pytest.raises(RulePackError, match="both empty"):
        compile_texts([("empty.yaml", empty)])


def test_the_rule_pack_schema_covers_examples():
    schema = json.loads(generated()["rule-pack.schema.json"])
    examples = schema["$defs"]["RuleExamples"]["properties"]
    assert set(examples) == {"fires", "quiet"}
    kinds = examples["fires"]["items"]["oneOf"]
    assert {"type": "string", "minLength": 1} in kinds
    assert {"$ref": "#/$defs/RuleExample"} in kinds
    assert set(schema["$defs"]["RuleExample"]["properties"]) == {"title", "body", "language"}


def test_the_readme_walk_through_fails_as_shown_and_passes_once_guarded(tmp_path):
    """The pack of the README's 'Write your first rule' fails its lifted-embargo example with
    the report printed there; the guard the README suggests makes every example pass."""
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Write your first rule", 1)[1]
    pack = section.split("```yaml\n", 1)[1].split("```", 1)[0]
    shown = section.split("```console\n", 1)[1].split("```", 1)[0]
    pack = "\n".join(line.removeprefix("   ") for line in pack.splitlines())
    path = tmp_path / "sanctions.yaml"
    path.write_text(pack)
    result = pantau("rules", "test", str(path))
    assert result.returncode == 1
    for line in shown.strip().splitlines():
        line = line.strip().replace("sanctions.yaml", str(path))
        assert line in result.stdout, (line, result.stdout)
    guarded = pack.replace("@default.negation)'", "@default.negation) NOT NEAR/6 (lift OR cabut)'")
    path.write_text(guarded)
    result = pantau("rules", "test", str(path))
    assert result.returncode == 0 and "3 examples, 0 failed: OK" in result.stdout, result.stdout
