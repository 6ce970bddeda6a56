"""Guards that look one way (NOT BEFORE / NOT AFTER), guards that cover the word they guard,
and the built-in @country concept: each as an analyst would write and read it."""

from __future__ import annotations

import pytest

from streams.engine import Classifier
from streams.models import Article
from streams.rules.explain import explain
from streams.rules.packs import compile_texts
from streams.rules.query import NotNear, Word, parse_query
from streams.text.document import Document


def pack(*queries: str) -> Classifier:
    rules = "\n".join(
        f"  - id: r{n}\n    title: rule {n}\n    query: '{query}'"
        for n, query in enumerate(queries)
    )
    return Classifier(compile_texts([("test.yaml", f'version: "1"\nrules:\n{rules}\n')]))


def fires(classifier: Classifier, text: str) -> bool:
    return bool(classifier.classify(Article(id="t", body=text, language="en")))


def test_not_after_and_not_before_parse_to_one_sided_guards():
    assert parse_query("hit NOT AFTER/3 no") == NotNear(Word("hit"), Word("no"), 3, "before")
    assert parse_query("meet NOT BEFORE/2 demands") == NotNear(
        Word("meet"), Word("demands"), 2, "after"
    )
    assert parse_query("hit NOT NEAR/3 no") == NotNear(Word("hit"), Word("no"), 3, "either")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The rocket hit the school.", True),
        ("The rocket did not hit the school.", False),  # the negation comes first
        ("The rocket hit the school, but no one was hurt.", True),  # it negates what follows
    ],
)
def test_not_after_lets_a_negation_silence_only_what_it_precedes(text, expected):
    assert fires(pack("rocket NEAR/4 (hit NOT AFTER/3 (not OR no))"), text) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The ministers will meet on Monday.", True),
        ("Expectations are high as the ministers meet.", True),
        ("The offer does not meet expectations.", False),
    ],
)
def test_not_before_drops_a_word_only_when_the_guard_follows_it(text, expected):
    classifier = pack("(meet NOT BEFORE/2 expectations) NOT NEAR/3 not")
    assert fires(classifier, text.replace("does not ", "fails to ")) is expected


def test_a_guard_phrase_that_covers_the_guarded_word_silences_it():
    classifier = pack('treaty NEAR/6 (signed NOT NEAR/0 "signed into law")')
    assert fires(classifier, "The two states signed the treaty in Oslo.")
    assert not fires(classifier, "The president signed into law the treaty with Norway.")


def test_a_guard_word_inside_the_guarded_phrase_is_part_of_it():
    classifier = pack('"no confidence" NOT NEAR/3 no')
    assert fires(classifier, "The cabinet lost a no-confidence vote.")
    assert not fires(classifier, "There will be no vote of no confidence.")


def test_country_matches_names_capitals_and_short_forms_as_written():
    classifier = pack("visit NEAR/6 @country")
    for text in (
        "The minister ended a visit to Lithuania on Monday.",
        "Her visit to Pyongyang was the first in decades.",
        "A visit by US officials is planned.",
    ):
        assert fires(classifier, text), text
    for text in ("A visit to the museum was long.", "Let us visit the china shop in turkey."):
        assert not fires(classifier, text), text


def test_country_is_evidence_in_alerts_and_in_explain():
    classifier = pack("visit NEAR/6 @country")
    article = Article(id="t", body="Kunjungan Presiden ke Korea Utara berakhir.", language="id")
    (alert,) = classifier.classify(Article(id="t", body="A visit to Korea Utara."))
    assert [(t.term, t.text) for t in alert.evidence[0].terms][-2:] == [
        ("@country", "Korea"),
        ("@country", "Utara"),
    ]
    result = explain(classifier.ruleset, "r0", Document.from_article(article))
    assert [t.text for t in result.found["@country"]] == ["Korea Utara"]


def test_a_pack_may_define_its_own_country_concept():
    text = """version: "1"
concepts:
  country:
    en: [atlantis]
rules:
  - id: own
    title: own
    query: visit NEAR/4 @country
"""
    classifier = Classifier(compile_texts([("own.yaml", text)]))
    assert fires(classifier, "A visit to atlantis.")
    assert not fires(classifier, "A visit to France.")


def test_a_rule_of_countries_alone_is_tried_on_every_article():
    classifier = pack("@country")
    assert fires(classifier, "Talks in Jakarta.")
    assert not fires(classifier, "Talks in the hall.")
