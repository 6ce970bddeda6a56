"""Packs compose by explicit names: each pack's concepts are its own, another pack's are used
as ``@pack.concept``, and nothing one pack does changes another's rules. Every problem of a
broken pack is reported at once, located, without a traceback."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from streams.engine import Classifier
from streams.models import Article
from streams.rules.packs import RulePackError, compile_texts, read_packs
from streams.settings import DEFAULT_PACK

from .conftest import ROOT
from .conftest import SANCTIONS as SANCTIONS_PACK

BROKEN = sorted((ROOT / "tests" / "data" / "broken-packs").glob("*.yaml"))
EXPECT = re.compile(r"^# expect (\d+):(\d+): (.*)$", re.M)

SANCTIONS = SANCTIONS_PACK.read_text()


def classifier(*texts: tuple[str, str]) -> Classifier:
    return Classifier(compile_texts(list(texts)))


def fired(classifier: Classifier, text: str) -> set[str]:
    return {a.rule_id for a in classifier.classify(Article(id="t", body=text))}


def default_text() -> tuple[str, str]:
    return str(DEFAULT_PACK), DEFAULT_PACK.read_text(encoding="utf-8")


@pytest.mark.parametrize("path", BROKEN, ids=[p.stem for p in BROKEN])
def test_every_problem_of_a_broken_pack_is_reported_at_once(path):
    """The expected problems are written at the end of each file, as comments."""
    expected = [
        (int(line), int(column), message)
        for line, column, message in EXPECT.findall(path.read_text())
    ]
    assert expected, f"{path.name} states no expected problem"
    with pytest.raises(RulePackError) as caught:
        compile_texts(read_packs([path]))
    found = [(p.line, p.column, p.message) for p in caught.value.problems]
    assert found == expected
    assert {p.source for p in caught.value.problems} == {str(path)}


@pytest.mark.parametrize("name", ["unknown_language", "bad_names", "syntax_errors"])
def test_check_prints_every_problem_and_no_traceback(name):
    path = BROKEN[0].parent / f"{name}.yaml"
    done = subprocess.run(
        [sys.executable, "-m", "streams", "rules", "check", str(path)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    lines = [line for line in done.stderr.splitlines() if line.startswith("error ")]
    assert len(lines) == len(EXPECT.findall(path.read_text())) > 1
    assert all(line.startswith(f"error {path}:") for line in lines)


def test_a_packs_own_concept_does_not_change_another_packs_rules():
    together = classifier(default_text(), ("sanctions.yaml", SANCTIONS))
    alone = classifier(default_text())
    text = "Russia cannot send troops to Ukraine."
    assert "troop_deployment" not in fired(alone, text)
    assert "troop_deployment" not in fired(together, text)  # its @negation is still the default's
    assert fired(together, "The EU will never lift the embargo.") == {"sanctions_never"}


def test_the_default_pack_is_imported_by_name_for_its_concepts_only():
    alone = classifier(("sanctions.yaml", SANCTIONS))
    assert [r.rule.id for r in alone.ruleset.rules] == ["sanctions_imposed", "sanctions_never"]
    assert fired(alone, "The US will impose an embargo on Iran.") == {"sanctions_imposed"}
    assert "sanctions_imposed" not in fired(alone, "The US did not impose an embargo on Iran.")


def test_evidence_names_the_concept_of_each_term_as_the_rule_names_it():
    [alert] = classifier(("sanctions.yaml", SANCTIONS)).classify(
        Article(id="t", body="Washington slapped an embargo on Tehran.")
    )
    assert {(t.text, t.concept) for t in alert.evidence[0].terms} == {
        ("slapped", "impose"),
        ("embargo", "sanction"),
    }


def test_a_rule_id_in_two_packs_is_an_error_at_the_second():
    copy = SANCTIONS.replace("id: sanctions_never", "id: troop_deployment")
    with pytest.raises(RulePackError) as caught:
        compile_texts([default_text(), ("sanctions.yaml", copy)])
    [problem] = caught.value.problems
    assert (problem.source, problem.line) == ("sanctions.yaml", 15)
    assert problem.message.startswith(f"rule id 'troop_deployment' is also in {DEFAULT_PACK}:")


def test_two_packs_of_one_name_are_an_error():
    with pytest.raises(RulePackError) as caught:
        compile_texts([("a/sanctions.yaml", SANCTIONS), ("b/sanctions.yaml", SANCTIONS)])
    messages = [p.message for p in caught.value.problems]
    assert "pack name 'sanctions' is taken by a/sanctions.yaml; give one a 'name:'" in messages


def test_a_pack_may_name_itself_and_be_used_by_that_name():
    named = "name: trade\n" + SANCTIONS
    user = """\
rules:
  - id: embargo_named
    title: An embargo is named
    query: '@trade.sanction'
"""
    both = classifier(("2024-sanctions.v2.yaml", named), ("user.yaml", user))
    assert set(both.ruleset.packs) == {"trade", "user"}
    assert "embargo_named" in fired(both, "An embargo was announced.")
