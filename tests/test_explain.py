"""``rules explain``: the rule's own words and phrases, where they are, and why it fired or not."""

from __future__ import annotations

from functools import cache

from streams.models import Article
from streams.rules.compiler import RuleSet
from streams.rules.matcher import Explanation, explain
from streams.rules.packs import load_ruleset
from streams.settings import DEFAULT_PACK
from streams.text.document import Document


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
    assert "held" not in found and "with" not in found  # no phrase word on its own


def test_the_guard_that_stopped_a_rule_is_named_with_both_places():
    text = "Parlemen Rusia belum meratifikasi perjanjian itu."
    result = explained("treaty_ratified", text)
    assert not result.fired and "guards removed" in result.reason
    assert {"belum", "ratifikasi", "perjanjian"} <= result.found.keys()
    where = f"body 'belum'@{text.index('belum')} is within 4 words of body 'meratifikasi'@"
    assert [stop for stop in result.stopped if stop.startswith(where)]


def test_terms_too_far_apart_are_not_blamed_on_a_guard():
    text = (
        "Parlemen Rusia meratifikasi undang-undang anggaran tahun depan setelah debat panjang "
        "selama berminggu-minggu tentang pajak, subsidi energi, dan belanja daerah yang besar, "
        "lalu para menteri membahas perjanjian itu."
    )
    result = explained("treaty_ratified", text)
    assert not result.fired and not result.stopped
    assert "not close enough" in result.reason


def test_a_firing_rule_reports_no_stop_for_its_match():
    result = explained("treaty_ratified", "Parlemen Rusia meratifikasi perjanjian pertahanan.")
    assert result.fired and result.stopped == []
