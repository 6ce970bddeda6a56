"""Every kind of bad record gets a clear, bounded reason; odd but valid input is classified."""

from __future__ import annotations

import json

import pytest

from streams.engine import Classifier
from streams.rules.packs import compile_texts
from streams.validate import BadRecord, parse_record

LIMIT = 1_048_576
PACK = """
concepts:
  troops: {id: [pasukan, tentara], en: [troops]}
  deploy: {id: [kirim, kerah], en: [deploy, send]}
rules:
  - id: troop_deployment
    title: Troops deployed
    query: '@troops NEAR/6 @deploy'
"""


@pytest.fixture(scope="module")
def classifier() -> Classifier:
    return Classifier(compile_texts([("pack.yaml", PACK)]))


@pytest.mark.parametrize(
    ("raw", "reason", "words"),
    [
        (b"not json at all", "not_json", "Expecting value"),
        (b'{"id": "a", "body": "x"', "not_json", "delimiter"),
        (b"[1, 2, 3]", "not_object", "got list"),
        (b'"just a string"', "not_object", "got str"),
        (b'{"title": "no id", "body": "x"}', "invalid_fields", "id: Field required"),
        (b'{"id": 42, "body": "x"}', "invalid_fields", "id: Input should be a valid string"),
        (b'{"id": "a", "body": ["x"]}', "invalid_fields", "body"),
        (b'{"id": "a", "body": "x", "published_at": "kemarin"}', "invalid_fields", "published_at"),
        (b'{"id": "a", "title": "  ", "body": ""}', "empty_text", "both empty"),
        (b'{"id": "a", "body": "caf\xe9"}', "invalid_utf8", "byte 24"),
        (("[" * 100_000 + "]" * 100_000).encode(), "too_deep", "nested"),
    ],
)
def test_bad_records_are_refused_with_a_reason(raw, reason, words):
    with pytest.raises(BadRecord) as caught:
        parse_record(raw, LIMIT)
    assert caught.value.reason == reason
    assert words in caught.value.message


def test_a_body_over_the_limit_is_refused_before_any_work():
    raw = json.dumps({"id": "big", "body": "x" * (LIMIT + 1)}).encode()
    with pytest.raises(BadRecord) as caught:
        parse_record(raw, LIMIT)
    assert caught.value.reason == "too_large"
    assert parse_record(json.dumps({"id": "ok", "body": "x" * LIMIT}), LIMIT).id == "ok"


def test_unknown_fields_are_ignored_not_fatal():
    article = parse_record(b'{"id": "a", "body": "x", "section": "world", "tags": [1]}', LIMIT)
    assert not hasattr(article, "section")


def test_an_html_body_is_cleaned_and_classified(classifier):
    body = (
        "<html><head><style>p {color: red}</style><script>var pasukan = 1;</script></head>"
        "<body><p>Rusia <b>mengirim</b> <i>pasukan</i> ke perbatasan.</p></body></html>"
    )
    alerts = classifier.classify(parse_record(json.dumps({"id": "h", "body": body}), LIMIT))
    assert [a.rule_id for a in alerts] == ["troop_deployment"]
    snippet = alerts[0].evidence[0].snippet
    assert snippet == "Rusia mengirim pasukan ke perbatasan."
    assert "<" not in snippet and "var" not in snippet


def test_a_duplicate_article_gives_the_same_alert_ids(classifier):
    raw = json.dumps({"id": "dup", "body": "Tentara dikerahkan ke utara."})
    first = [a.alert_id for a in classifier.classify(parse_record(raw, LIMIT))]
    again = [a.alert_id for a in classifier.classify(parse_record(raw, LIMIT))]
    assert first and first == again


@pytest.mark.parametrize(
    "body",
    [
        ("pasukan " * 140_000)[:LIMIT],  # one word, a mebibyte of it
        "Pasukan dikirim. " * 60_000,  # 60,000 short sentences that all match
        "A. " * 100_000,  # 100,000 sentences that match nothing
    ],
)
def test_pathological_articles_give_bounded_alerts(classifier, body):
    alerts = classifier.classify(parse_record(json.dumps({"id": "p", "body": body}), LIMIT))
    for alert in alerts:
        assert len(alert.model_dump_json()) < 20_000
        assert all(len(e.snippet) <= 400 for e in alert.evidence)
