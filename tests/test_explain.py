"""``rules explain``: the rule's own words and phrases, where they are, and why it fired or not."""

from __future__ import annotations

from functools import cache

from click.testing import CliRunner

from streams.cli import main
from streams.models import Article
from streams.rules.compiler import RuleSet
from streams.rules.explain import Explanation, explain
from streams.rules.matcher import match_document
from streams.rules.packs import compile_texts, load_ruleset
from streams.settings import DEFAULT_PACK
from streams.text.document import Document
from streams.tools.replay import parse_seed

from .conftest import SEEDS


@cache
def default_rules() -> RuleSet:
    return load_ruleset([DEFAULT_PACK])


def explained(rule_id: str, text: str) -> Explanation:
    return explain(default_rules(), rule_id, Document.from_article(Article(id="t", body=text)))


MEETING_AMID_PROTEST = (
    "Police fired tear gas at protesters in Tokyo. Japan's foreign minister held talks with "
    "his Chinese counterpart in Beijing on Monday."
)


def test_only_the_explained_rules_terms_are_listed():
    result = explained("diplomatic_meeting", MEETING_AMID_PROTEST)
    assert result.fired
    assert {"counterpart", "beijing"} <= result.found.keys()
    protest_words = {"tear gas", "protest", "protester", "protesters", "police", "fire"}
    assert not protest_words & result.found.keys()  # protest_unrest's words, not this rule's
    assert explained("protest_unrest", MEETING_AMID_PROTEST).found.keys() & protest_words


def test_a_phrase_is_shown_whole_with_its_place():
    found = explained("diplomatic_meeting", MEETING_AMID_PROTEST).found
    [talks] = found["held talks"]
    assert (talks.text, MEETING_AMID_PROTEST[talks.start : talks.end]) == ("held talks",) * 2
    assert "with" not in found  # no phrase word on its own ("held" is a word of the rule)


def test_the_guard_that_stopped_a_rule_is_named_with_both_places():
    text = "Parlemen Rusia belum meratifikasi perjanjian itu."
    result = explained("treaty_ratified", text)
    assert not result.fired and "NOT AFTER/6 @negation stopped every match" in result.reason
    assert {"belum", "ratifikasi", "perjanjian"} <= result.found.keys()
    where = f"body 'belum'@{text.index('belum')} is within 6 words of body 'meratifikasi'@"
    assert [stop for stop in result.stopped if stop.startswith(where)]


def test_terms_too_far_apart_are_not_blamed_on_a_guard():
    text = (
        "Parlemen Rusia meratifikasi undang-undang anggaran tahun depan setelah debat panjang "
        "selama berminggu-minggu tentang pajak, subsidi energi, dan belanja daerah yang besar, "
        "lalu para menteri membahas perjanjian itu."
    )
    result = explained("treaty_ratified", text)
    assert not result.fired and not result.stopped
    assert "both occur, but not within 12 words: the closest" in result.reason


def test_a_firing_rule_reports_no_stop_for_its_match():
    result = explained("treaty_ratified", "Parlemen Rusia meratifikasi perjanjian pertahanan.")
    assert result.fired and result.stopped == []


CONCEPT_AND_WORD = """\
version: "1"
concepts:
  treaty:
    en: [treaty, pact]
    id: [perjanjian]
rules:
  - id: treaty_with_russia
    title: A treaty with Russia
    query: '@treaty NEAR/6 (russia OR rusia)'
"""


def test_terms_are_grouped_under_the_concept_they_came_from():
    ruleset = compile_texts([("pack.yaml", CONCEPT_AND_WORD)])
    text = "Russia signed the pact; the treaty was long."
    result = explain(
        ruleset, "treaty_with_russia", Document.from_article(Article(id="t", body=text))
    )
    assert result.fired
    assert result.concepts == {"@treaty": ["pact", "treaty"]}
    assert {"russia", "pact", "treaty"} == result.found.keys()  # russia: a word of the query


def test_the_command_prints_each_term_under_its_concept():
    printed = CliRunner().invoke(
        main,
        ["rules", "explain", "treaty_ratified", "Parlemen Rusia belum meratifikasi pakta itu."],
    )
    assert printed.exit_code == 0, printed.output
    assert "@negation 'belum': 'belum'@15" in printed.output
    assert "stopped: body 'belum'@15 is within 6 words of body 'meratifikasi'@21" in printed.output


def test_a_field_scope_limits_what_is_listed_and_blamed():
    pack = """\
version: "1"
rules:
  - id: treaty_headline
    title: A treaty in the headline
    query: 'title:(treaty NOT NEAR/3 denied)'
"""
    ruleset = compile_texts([("pack.yaml", pack)])
    article = Article(id="t", title="Treaty signed", body="The treaty was denied.")
    result = explain(ruleset, "treaty_headline", Document.from_article(article))
    assert result.fired
    assert [t.start for t in result.found["treaty"]] == [0]  # the title's, not the body's
    assert result.stopped == []  # the body's denial is outside the rule's scope


def test_explain_agrees_with_the_matcher_on_every_seed_and_rule():
    ruleset = default_rules()
    for path in sorted(SEEDS.glob("*.txt")):
        document = Document.from_article(parse_seed(path))
        fired = {m.rule.rule.id for m in match_document(ruleset, document)}
        verdicts = {r.rule.id for r in ruleset.rules if explain(ruleset, r.rule.id, document).fired}
        assert verdicts == fired, path.name
