"""Every kind of bad record gets a clear, bounded reason; odd but valid input is classified."""

from __future__ import annotations

import json

import pytest

from streams.engine import Classifier
from streams.models import Alert
from streams.rules.packs import compile_texts
from streams.validate import REASONS, BadRecord, parse_record

LIMIT = 1_048_576
# A tab, zero-width space, soft hyphen, BOM, invisible separator, language tag, DEL.
FORMAT_ONLY = "\\t\u200b\u00ad\ufeff\u2063\U000e0001 \x7f"
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


BAD_RECORDS = [  # (record, reason, words of the message)
    (b"not json at all", "not_json", "Expecting value"),
    (b'{"id": "a", "body": "x"', "not_json", "delimiter"),
    (b"[1, 2, 3]", "not_object", "got list"),
    (b'"just a string"', "not_object", "got str"),
    (b'{"title": "no id", "body": "x"}', "invalid_fields", "id: Field required"),
    (b'{"id": 4.2, "body": "x"}', "invalid_fields", "id: Input should be a valid string"),
    (b'{"id": true, "body": "x"}', "invalid_fields", "id: Input should be a valid string"),
    (b'{"id": "", "body": "x"}', "invalid_fields", "id: String should have at least 1"),
    (b'{"id": "a", "body": ["x"]}', "invalid_fields", "body"),
    (b'{"id": "a", "body": "x", "published_at": "kemarin"}', "invalid_fields", "published_at"),
    (b'{"id": "a", "title": "  ", "body": ""}', "empty_text", "both empty"),
    (b'{"id": "x", "title": "\\u0000\\u0000", "body": "\\u0000"}', "empty_text", "control"),
    (f'{{"id": "x", "body": "{FORMAT_ONLY}"}}', "empty_text", "format"),
    (b'{"id": "x", "body": "ab\\ud800"}', "lone_surrogate", "body has a lone surrogate"),
    (b'{"id": "x", "body": "\\udc00 b"}', "lone_surrogate", "(U+DC00) at character 0"),
    (b'{"id": "\\ud800", "body": "text"}', "lone_surrogate", "id has a lone surrogate"),
    (b'{"id": "x", "title": "t", "title": "u"}', "duplicate_key", "'title' appears twice"),
    (b'{"id": "x", "body": "b", "meta": {"a": 1, "a": 2}}', "duplicate_key", "'a' appears"),
    (b'{"id": "a", "body": "caf\xe9"}', "invalid_utf8", "byte 24"),
    (("[" * 100_000 + "]" * 100_000).encode(), "too_deep", "nested"),
]


@pytest.mark.parametrize(("raw", "reason", "words"), BAD_RECORDS)
def test_bad_records_are_refused_with_a_reason(raw, reason, words):
    with pytest.raises(BadRecord) as caught:
        parse_record(raw, LIMIT)
    assert caught.value.reason == reason
    assert words in caught.value.message


def test_every_reason_the_metrics_export_is_one_a_record_can_get():
    reached = {reason for _, reason, _ in BAD_RECORDS} | {"too_large"}  # that one: below
    assert reached == set(REASONS)


def test_text_with_control_characters_and_a_word_is_text():
    article = parse_record(b'{"id": "c", "title": "\\u0000", "body": "\\u200bkata\\u0007"}', LIMIT)
    assert article.body == "\u200bkata\u0007"  # kept as sent: only emptiness is judged


def test_a_byte_order_mark_before_the_json_is_ignored(classifier):
    raw = b"\xef\xbb\xbf" + json.dumps({"id": "bom", "body": "Tentara dikerahkan."}).encode()
    article = parse_record(raw, LIMIT)
    assert article.id == "bom"
    assert [a.rule_id for a in classifier.classify(article)] == ["troop_deployment"]


def test_an_integer_id_is_keyed_as_its_decimal_string(classifier):
    number = parse_record(b'{"id": 12345678901234567890, "body": "Tentara dikerahkan."}', LIMIT)
    text = parse_record(b'{"id": "12345678901234567890", "body": "Tentara dikerahkan."}', LIMIT)
    assert number.id == text.id == "12345678901234567890"
    alerts = classifier.classify(number)
    assert [a.alert_id for a in alerts] == [a.alert_id for a in classifier.classify(text)]
    assert alerts[0].alert_id == Alert.make_id("12345678901234567890", "troop_deployment", "1")
    assert parse_record(b'{"id": -7, "body": "x"}', LIMIT).id == "-7"


def test_an_object_of_100000_fields_is_classified_on_its_known_ones(classifier):
    fields = {f"field_{n}": n for n in range(100_000)}
    raw = json.dumps({**fields, "id": "wide", "body": "Tentara dikerahkan."}).encode()
    article = parse_record(raw, LIMIT)
    assert [a.rule_id for a in classifier.classify(article)] == ["troop_deployment"]


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
