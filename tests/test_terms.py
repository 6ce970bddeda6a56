"""What a term matches, and the warnings for Indonesian terms that are not roots or whose
forms include words of their own (`pantau rules terms`, `rules check`)."""

from __future__ import annotations

from collections import Counter

import pytest
from click.testing import CliRunner

from streams.cli import main
from streams.rules.terms import report, term_warnings
from streams.text.morphology import surface_forms
from streams.text.roots import LEXICALISED, known_roots, roots_of


@pytest.mark.parametrize("form", sorted(LEXICALISED))
def test_each_word_of_its_own_is_a_form_of_its_root_in_the_dictionary(form):
    root, _ = LEXICALISED[form]
    assert root in known_roots()
    assert form in surface_forms(root, "id")


def test_a_derived_term_is_told_the_root_and_the_forms_it_misses():
    [warning] = term_warnings("perluas", "id")
    assert "'perluas' is not a root but a form of 'luas', so it misses memperluas" in warning
    assert roots_of("perluas") == ["luas"]


@pytest.mark.parametrize(
    ("root", "own"), [("kena", "'mengenai' (about"), ("angkat", "'angkatan' (armed forces")]
)
def test_a_root_whose_forms_include_words_of_their_own_is_warned_about(root, own):
    [warning] = term_warnings(root, "id")
    assert f"{root!r} also matches {own}" in warning


@pytest.mark.parametrize("term", ["kirim", "pasukan", "dikerahkan", "pertemuan", "ratif*"])
def test_roots_words_of_their_own_and_verb_forms_are_not_warned_about(term):
    assert term_warnings(term, "id") == []
    assert term_warnings(term, "en") == []


def test_the_report_counts_the_sample_words_a_rule_would_match():
    sample = Counter("mengenai mengenai terkena kenangan dikenai kena".split())
    found = report("kena", "id", sample)
    assert found.matched == [("mengenai", 2), ("dikenai", 1), ("kena", 1), ("terkena", 1)]
    assert "mengenai" in found.forms and "kenangan" not in found.forms
    english = report("deploy", "en", Counter(["deployment", "deployed", "employ"]))
    assert [word for word, _ in english.matched] == ["deployed", "deployment"]


def test_the_command_shows_forms_counts_and_warnings(tmp_path):
    articles = tmp_path / "a.jsonl"
    articles.write_text('{"id": "1", "body": "Pemerintah memperluas sanksi mengenai impor."}\n')
    shown = CliRunner().invoke(
        main, ["rules", "terms", "perluas", "kena", "--sample", str(articles)]
    )
    assert shown.exit_code == 0, shown.output
    assert "perluas (id): an Indonesian/Malay root (not in the dictionary)" in shown.output
    assert "in 1 article(s), 5 words: no word matches" in shown.output  # memperluas is missed
    assert "in 1 article(s), 5 words: mengenai 1" in shown.output
    assert shown.output.count("warning: ") == 2


def test_check_warns_at_the_term_and_still_passes(tmp_path):
    pack = tmp_path / "expand.yaml"
    pack.write_text(
        "concepts:\n  expand:\n    id: [kirim, perluas]\n"
        "rules:\n  - id: expand_sent\n    title: x\n    query: '@expand'\n"
    )
    checked = CliRunner().invoke(main, ["rules", "check", str(pack)])
    assert checked.exit_code == 0, checked.output
    assert f"warning {pack}:3:17: concept 'expand': 'perluas' is not a root" in checked.output
